"""Load one DICOM image series into a geometry-exact :class:`~lesion_tool.io.volume.CTVolume`.

Slices are ordered by their position along the slice normal (never by InstanceNumber) and the
stack is checked before any pixel is read:

Errors (:class:`~lesion_tool.errors.SeriesError` / :class:`~lesion_tool.errors.GeometryError`),
because each would change a millimetre measured on the volume:

- missing ImagePositionPatient / ImageOrientationPatient / PixelSpacing,
- more than one series (name one), or two full stacks of comparable size in one series (choose one
  with ``stack``),
- duplicate slice positions, missing slices or otherwise irregular slice spacing,
- a stack sheared along the slice plane (gantry tilt),
- different frames of reference.

Warnings (``CTVolume.warnings`` and a :class:`~lesion_tool.errors.HeaderWarning`) for what changes
no millimetre: slice thickness different from the slice spacing, a one-slice series, a gantry tilt
that the orientation already describes, and (:class:`~lesion_tool.errors.StrayImagesWarning`)
the files of a stray reformat, scout or lone slice left out of the series' main stack (see
:mod:`lesion_tool.io.stacks`; listed in ``CTVolume.metadata["left_out_files"]``).

Pixel warnings (:class:`~lesion_tool.errors.PixelDataWarning`, also in ``CTVolume.warnings``): a
decoder that complained about a file another decoder then read, and slices that disagree grossly
with both neighbours, as a corrupted compressed slice does (:mod:`lesion_tool.io.plausibility`;
listed in ``CTVolume.metadata["suspect_slices"]``). Files beside
the series that are not DICOM images are skipped and listed in
``CTVolume.metadata["skipped_files"]``.

The tolerances follow highdicom's volume checks (relative spacing tolerance 1 %), but lesion-tool
does the checks itself so that every message names the series, the files and the fix.

Memory: the output array is allocated once, ``(z, y, x)``, ``int16`` when every slice's rescale
keeps integers within the int16 range (the common CT case) and ``float32`` otherwise, and filled
slice by slice, so peak memory stays below twice the volume's size.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import threading
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from lesion_tool.errors import (
    GeometryError,
    HeaderWarning,
    PixelDataWarning,
    SeriesError,
    StrayImagesWarning,
)
from lesion_tool.io.headers import (
    FileHeader,
    FrameGeometry,
    InvalidHeaderError,
    NotDicomError,
    read_header,
)
from lesion_tool.io.plausibility import describe_suspects, find_inconsistent_slices
from lesion_tool.io.stacks import StackGroup, choose_stack, split_stacks
from lesion_tool.io.volume import CTVolume

__all__ = [
    "SPACING_RTOL",
    "FrameRef",
    "StackGeometry",
    "frames_of",
    "list_files",
    "load_series",
    "output_dtype",
    "read_frame",
    "series_stacks",
    "stack_geometry",
    "volume_from_geometry",
]

log = logging.getLogger(__name__)

SPACING_RTOL = 0.01
"""Largest relative deviation of a slice gap from the median gap (highdicom's default)."""
POSITION_ATOL_MM = 0.01
"""Absolute tolerance in mm added to every position comparison (rounding of DS values)."""
ORIENTATION_ATOL = 1e-4
"""Largest difference between direction cosines of slices of one stack."""
SHEAR_ATOL_MM = 0.05
"""Largest in-plane offset of a slice from the stack axis before it counts as gantry tilt."""


@dataclass(frozen=True, slots=True)
class FrameRef:
    """One slice: the file (and frame index for multi-frame objects) and its geometry."""

    header: FileHeader
    frame_index: int | None
    geometry: FrameGeometry

    @property
    def label(self) -> str:
        """The file name, with the frame number for multi-frame objects."""
        name = self.header.path.name
        return name if self.frame_index is None else f"{name} frame {self.frame_index + 1}"


@dataclass(frozen=True, slots=True)
class StackGeometry:
    """The checked geometry of a sorted slice stack.

    ``frames`` are in array order (increasing position along ``normal``); ``spacing_mm``,
    ``origin_mm`` and ``direction`` follow :mod:`lesion_tool.io.volume` conventions.
    """

    frames: tuple[FrameRef, ...]
    spacing_mm: tuple[float, float, float]
    origin_mm: tuple[float, float, float]
    direction: np.ndarray
    warnings: tuple[str, ...]


def list_files(
    path: str | os.PathLike[str], skipped: list[tuple[Path, str]] | None = None
) -> list[Path]:
    """All regular files under ``path`` (recursive, sorted, hidden files skipped).

    FIFOs, sockets, devices and broken links are left out (opening a FIFO blocks forever) and,
    when ``skipped`` is given, appended to it as ``"path: reason"``. Symbolic links to folders
    are not followed (as :func:`os.walk`).
    """
    root = Path(path)
    if root.is_file():
        return [root]
    files: list[Path] = []

    def walk(folder: Path) -> None:
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            return
        subdirs = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir():
                    if not entry.is_symlink():
                        subdirs.append(Path(entry.path))
                elif entry.is_file():
                    files.append(Path(entry.path))
                elif skipped is not None:
                    skipped.append((Path(entry.path), f"{_special_kind(entry)}, not read"))
            except OSError:
                if skipped is not None:
                    skipped.append((Path(entry.path), "cannot be examined, not read"))
        for sub in subdirs:
            walk(sub)

    if root.is_dir():
        walk(root)
    elif root.exists() and skipped is not None:
        skipped.append((root, "not a regular file or folder, not read"))
    return files


def _special_kind(entry: os.DirEntry[str]) -> str:
    """What a non-regular directory entry is (for the note saying it was not read)."""
    import stat

    try:
        mode = entry.stat(follow_symlinks=False).st_mode
    except OSError:
        return "not a regular file"
    if entry.is_symlink():
        return "a broken symbolic link"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _series_name(header: FileHeader) -> str:
    desc = f' "{header.series_description}"' if header.series_description else ""
    return f"Series {header.series_instance_uid or '(no SeriesInstanceUID)'}{desc}"


def stack_geometry(
    frames: Sequence[FrameRef],
    *,
    spacing_rtol: float = SPACING_RTOL,
    position_atol_mm: float = POSITION_ATOL_MM,
    orientation_atol: float = ORIENTATION_ATOL,
    shear_atol_mm: float = SHEAR_ATOL_MM,
    name: str = "Series",
) -> StackGeometry:
    """Sort slices along their normal and check them; returns the stack's geometry.

    Parameters
    ----------
    frames
        The slices of one stack, in any order.
    spacing_rtol
        Largest relative deviation of any slice gap from the median gap.
    position_atol_mm
        Absolute position tolerance in mm (duplicates are closer than this).
    orientation_atol
        Largest difference between direction cosines of two slices.
    shear_atol_mm
        Largest in-plane offset of a slice from the stack axis (gantry tilt).
    name
        How messages name the series (e.g. ``'Series 1.2.3 "ART"'``).

    Raises
    ------
    SeriesError
        A slice lacks position, orientation or pixel spacing; sizes differ.
    GeometryError
        Mixed orientation or pixel spacing, duplicates, missing slices, irregular spacing, tilt,
        mixed frames of reference.
    """
    if not frames:
        raise SeriesError(f"{name}: no image slices to load.")
    notes: list[str] = []
    for ref in frames:
        g = ref.geometry
        if g.pixel_spacing_mm is None:
            raise SeriesError(
                f"{name}: PixelSpacing (0028,0030) is missing in {ref.header.path} "
                f"({ref.label}), so no distance in this series can be measured in millimetres. "
                "Re-export the series from the scanner or PACS with complete headers, or choose "
                "another reconstruction."
            )
        if g.orientation is None or g.position_mm is None:
            missing = "ImageOrientationPatient" if g.orientation is None else "ImagePositionPatient"
            raise SeriesError(
                f"{name}: {missing} is missing in {ref.header.path} ({ref.label}); the slice "
                "cannot be placed in patient space. Choose a series exported with full geometry."
            )
    first = frames[0]
    sizes = {(f.header.rows, f.header.columns) for f in frames}
    if len(sizes) > 1:
        raise SeriesError(
            f"{name}: images have different sizes {sorted(sizes)} (rows, columns); it mixes "
            "several stacks. Load one stack (see `lesion-tool scan`)."
        )
    orientations = np.array([f.geometry.orientation for f in frames], dtype=float)
    if np.abs(orientations - orientations[0]).max() > orientation_atol:
        odd = next(
            f
            for f, o in zip(frames, orientations, strict=True)
            if np.abs(o - orientations[0]).max() > orientation_atol
        )
        raise GeometryError(
            f"{name}: mixed slice orientation ({first.label}: {first.geometry.orientation}, "
            f"{odd.label}: {odd.geometry.orientation}); it holds more than one stack (e.g. a "
            "reformat). Load one stack (see `lesion-tool scan`)."
        )
    spacings = np.array([f.geometry.pixel_spacing_mm for f in frames], dtype=float)
    if np.abs(spacings - spacings[0]).max() > 1e-4 * max(1.0, float(spacings[0].max())):
        raise GeometryError(
            f"{name}: pixel spacing differs between slices "
            f"({sorted({tuple(s) for s in spacings.tolist()})} mm); millimetres would differ from "
            "slice to slice. Choose a consistently reconstructed series."
        )
    fors = {f.header.frame_of_reference_uid for f in frames}
    if len(fors) > 1:
        raise GeometryError(
            f"{name}: slices belong to {len(fors)} frames of reference; they are not one volume."
        )

    row_cos = orientations[0, :3]
    col_cos = orientations[0, 3:]
    if abs(np.linalg.norm(row_cos) - 1) > 1e-3 or abs(np.linalg.norm(col_cos) - 1) > 1e-3:
        raise GeometryError(
            f"{name}: ImageOrientationPatient {tuple(orientations[0])} is not made of unit vectors."
        )
    if abs(float(row_cos @ col_cos)) > 1e-3:
        raise GeometryError(
            f"{name}: ImageOrientationPatient {tuple(orientations[0])} has non-orthogonal "
            "row and column directions."
        )
    row_cos = row_cos / np.linalg.norm(row_cos)
    col_cos = col_cos / np.linalg.norm(col_cos)
    normal = np.cross(row_cos, col_cos)
    normal /= np.linalg.norm(normal)

    positions = np.array([f.geometry.position_mm for f in frames], dtype=float)
    along = positions @ normal
    instance = np.array(
        [(f.header.instance_number or 0) * 100000 + (f.frame_index or 0) for f in frames]
    )
    order = np.lexsort((instance, along))
    frames_sorted = tuple(frames[i] for i in order)
    positions = positions[order]
    along = along[order]

    n = len(frames_sorted)
    pixel_yx = (float(spacings[0][0]), float(spacings[0][1]))
    thickness = first.geometry.slice_thickness_mm
    if n == 1:
        spacing_z = first.header.spacing_between_slices_mm or thickness or 1.0
        notes.append(
            f"{name} has a single slice; its slice spacing ({spacing_z:g} mm) is taken from "
            "SpacingBetweenSlices / SliceThickness and no 3-D measurement is possible."
        )
    else:
        gaps = np.diff(along)
        dup = np.flatnonzero(gaps <= position_atol_mm)
        if dup.size:
            i = int(dup[0])
            raise GeometryError(
                f"{name}: {dup.size} duplicate slice position(s), e.g. {frames_sorted[i].label} "
                f"and {frames_sorted[i + 1].label} both at {along[i]:.3f} mm along the normal. "
                "The folder may hold two acquisitions or copies; remove the duplicates or "
                "choose another series."
            )
        spacing_z = _median(gaps.tolist())
        tol = spacing_rtol * spacing_z + position_atol_mm
        bad = np.flatnonzero(np.abs(gaps - spacing_z) > tol)
        if bad.size:
            i = int(bad[0])
            ratio = gaps[i] / spacing_z
            if abs(ratio - round(ratio)) * spacing_z <= tol and round(ratio) >= 2:
                missing = int(sum(round(g / spacing_z) - 1 for g in gaps[bad]))
                raise GeometryError(
                    f"{name}: {missing} slice(s) missing: gap of {gaps[i]:.3f} mm between "
                    f"{frames_sorted[i].label} and {frames_sorted[i + 1].label} where the spacing "
                    f"is {spacing_z:.3f} mm. Distances across the gap would be wrong; re-export "
                    "the complete series."
                )
            raise GeometryError(
                f"{name}: irregular slice spacing {gaps.min():.3f}-{gaps.max():.3f} mm "
                f"(median {spacing_z:.3f} mm, tolerance {tol:.3f} mm), first at "
                f"{frames_sorted[i].label}. Choose a uniformly spaced reconstruction."
            )
        # Gantry tilt: successive slice origins move off the slice normal.
        offsets = positions - positions[0]
        in_plane = offsets - np.outer(offsets @ normal, normal)
        shear = float(np.linalg.norm(in_plane, axis=1).max())
        if shear > shear_atol_mm:
            total = float(along[-1] - along[0])
            angle = math.degrees(math.atan2(float(np.linalg.norm(in_plane[-1])), total))
            tag = first.header.gantry_tilt_deg
            tag_text = f" (GantryDetectorTilt {tag:g} deg)" if tag else ""
            raise GeometryError(
                f"{name}: slices are sheared by {angle:.2f} deg relative to their normal"
                f"{tag_text}: gantry tilt. Voxels are not on a rectangular grid, so distances "
                "would be wrong; choose a tilt-corrected reconstruction or resample it first."
            )
        if first.header.gantry_tilt_deg:
            notes.append(
                f"{name}: GantryDetectorTilt is {first.header.gantry_tilt_deg:g} deg but the "
                "slices lie on a regular grid along their normal; geometry is exact."
            )
    if thickness is not None and n > 1 and abs(thickness - spacing_z) > 0.01 * spacing_z + 0.01:
        kind = "overlapping" if thickness > spacing_z else "gapped"
        notes.append(
            f"{name}: SliceThickness {thickness:g} mm differs from the slice spacing "
            f"{spacing_z:.4g} mm ({kind} reconstruction); the spacing is used for geometry."
        )
    direction = np.column_stack([normal, col_cos, row_cos])
    return StackGeometry(
        frames=frames_sorted,
        spacing_mm=(spacing_z, pixel_yx[0], pixel_yx[1]),
        origin_mm=tuple(float(v) for v in positions[0]),  # type: ignore[arg-type]
        direction=direction,
        warnings=tuple(notes),
    )


def _median(values: list[float]) -> float:
    """``np.median`` of a non-empty list, to the last bit (the middle value, or the mean of the
    two middle ones as ``(a + b) / 2``), without the ``numpy.ma`` import ``np.median`` pays."""
    if any(v != v for v in values):
        return math.nan
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2


def frames_of(headers: Iterable[FileHeader]) -> list[FrameRef]:
    """One reference per 2-D frame of the headers (a multi-frame file gives several), unsorted.

    With :func:`stack_geometry` and :func:`output_dtype` this is what :func:`load_series` does
    before reading pixels, public so that a lazy loader (the napari plugin) matches it exactly.
    """
    refs = []
    for h in headers:
        if len(h.frames) == 1 and not h.enhanced:
            refs.append(FrameRef(h, None, h.frames[0]))
        else:
            refs.extend(FrameRef(h, i, g) for i, g in enumerate(h.frames))
    return refs


def series_stacks(headers: Iterable[FileHeader]) -> list[StackGroup]:
    """The stacks of one series: :func:`~lesion_tool.io.stacks.split_stacks`, except that image
    stacks which together pass :func:`stack_geometry` stay one stack.

    A series whose slices differ only in a header the split looks at (ImageType, rounding of
    the orientation) but lie on one regular grid is one volume, loaded whole as before; only
    images off that grid (a reformat, a lone slice) become stacks of their own.
    """
    groups = split_stacks(headers)
    images = [g for g in groups if g.role == "image"]
    if len(images) < 2:
        return groups
    together = tuple(h for g in images for h in g.headers)
    try:
        stack_geometry(frames_of(together))
    except SeriesError:
        return groups
    return [StackGroup("image", together), *(g for g in groups if g.role != "image")]


def output_dtype(frames: Sequence[FrameRef]) -> np.dtype:
    """int16 when every slice's rescale maps its stored range to integers within int16."""
    for ref in frames:
        g = ref.geometry
        if g.rescale_slope != int(g.rescale_slope) or g.rescale_intercept != int(
            g.rescale_intercept
        ):
            return np.dtype(np.float32)
    return np.dtype(np.int16)


_INVALID_FIX = (
    "Its slices cannot be placed or converted to HU; re-export the series from the scanner or "
    "PACS, or remove that file and load the rest."
)
_NATIVE_LE = ("1.2.840.10008.1.2.1", "1.2.840.10008.1.2")  # explicit / implicit VR little endian


def _read_native(h: FileHeader) -> np.ndarray | None:
    """Uncompressed 16-bit little-endian pixels read straight from the end of the file.

    Most CT files end with their Pixel Data element. When the 8 or 12 bytes before the last
    ``rows * columns * 2`` bytes are exactly that element's tag and length, the pixels are read
    with one ``numpy.fromfile`` instead of a full parse (about twice as fast). Anything else
    (compression, other bit depths, trailing elements, stored values that pydicom would mask or
    sign-extend) returns None and goes through pydicom.
    """
    if h.transfer_syntax_uid not in _NATIVE_LE or h.bits_allocated != 16 or h.number_of_frames > 1:
        return None
    if (h.samples_per_pixel or 1) != 1 or not h.rows or not h.columns:
        return None
    count = h.rows * h.columns
    nbytes = count * 2
    length = nbytes.to_bytes(4, "little")
    with open(h.path, "rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        if size < nbytes + 12:
            return None
        fh.seek(size - nbytes - 12)
        head = fh.read(12)
        explicit = head in (
            b"\xe0\x7f\x10\x00OW\x00\x00" + length,
            b"\xe0\x7f\x10\x00OB\x00\x00" + length,
        )
        implicit = head[4:] == b"\xe0\x7f\x10\x00" + length
        if not (explicit or implicit):
            return None
        signed = h.pixel_representation == 1
        arr = np.fromfile(fh, dtype="<i2" if signed else "<u2", count=count)
    if arr.size != count:
        return None
    bits = h.bits_stored or 16
    if bits < 16:
        lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
        if arr.min() < lo or arr.max() > hi:
            return None  # pydicom would mask / sign-extend: let it
    return arr.reshape(h.rows, h.columns)


_UNCOMPRESSED = (
    "1.2.840.10008.1.2",
    "1.2.840.10008.1.2.1",
    "1.2.840.10008.1.2.2",
    "1.2.840.10008.1.2.1.99",
)
"""Transfer syntaxes whose Pixel Data length is fixed by Rows x Columns x frames x bits."""


def expected_pixel_bytes(h: FileHeader) -> int | None:
    """Bytes of uncompressed pixel data the header promises (None when it cannot say)."""
    if not (h.rows and h.columns and h.bits_allocated):
        return None
    bits = h.rows * h.columns * max(h.number_of_frames, 1) * (h.samples_per_pixel or 1)
    return (bits * h.bits_allocated + 7) // 8


def check_pixel_data_size(h: FileHeader, name: str, *, exact: bool = False) -> None:
    """Refuse an uncompressed file whose Pixel Data cannot hold what its header promises.

    Without ``exact`` only the file size is compared (a ``stat``, before any array is allocated:
    Rows = Columns = 65535 in a small file must not try to allocate gigabytes). With ``exact``
    the Pixel Data element's length is read (deferred, not decoded) and must match too: a
    BitsAllocated of 8 on 16-bit data leaves twice the expected bytes, which pydicom would read
    silently as wrong values.

    Raises
    ------
    SeriesError
        Pixel Data shorter or longer than Rows x Columns x frames x samples x BitsAllocated.
    """
    if h.transfer_syntax_uid not in _UNCOMPRESSED:
        return
    expected = expected_pixel_bytes(h)
    if expected is None:
        return
    what = (
        f"Rows x Columns x frames x samples x BitsAllocated = {h.rows} x {h.columns} x "
        f"{h.number_of_frames} x {h.samples_per_pixel or 1} x {h.bits_allocated} bits "
        f"= {expected} bytes"
    )
    try:
        size = os.stat(h.path).st_size
        if size < expected and h.transfer_syntax_uid != "1.2.840.10008.1.2.1.99":
            raise SeriesError(
                f"{name}: {h.path} is {size} bytes long but its header promises {what} of pixel "
                "data; the header is corrupt or the file truncated. Re-export it or remove it."
            )
        if not exact:
            return
        import pydicom  # here: a headers-only scan never needs it

        ds = pydicom.dcmread(h.path, defer_size=1024, force=True)
        elem = ds.get_item(0x7FE00010, keep_deferred=True)
    except SeriesError:
        raise
    except Exception as err:  # noqa: BLE001 - a corrupt file: the decoder will say more
        raise SeriesError(
            f"{name}: {h.path} cannot be read ({type(err).__name__}: {err})."
        ) from None
    if elem is None:
        raise SeriesError(f"{name}: {h.path} has no Pixel Data.")
    length = getattr(elem, "length", None)
    if length is None or length == 0xFFFFFFFF:
        length = len(elem.value or b"")
    if not expected <= length <= expected + 1:
        raise SeriesError(
            f"{name}: Pixel Data of {h.path} holds {length} bytes but {what}; the header does not "
            "describe the pixels (e.g. BitsAllocated 8 on 16-bit data), so every value would be "
            "wrong. Re-export the file."
        )


def _read_pixels(ref: FrameRef, name: str) -> np.ndarray:
    path = ref.header.path
    if ref.frame_index is None:
        try:
            fast = _read_native(ref.header)
        except OSError:
            fast = None
        if fast is not None:
            return fast
    check_pixel_data_size(ref.header, name, exact=True)
    import pydicom.pixels  # here: a headers-only scan never needs it

    with _decoding(ref, name):
        if ref.frame_index is None:
            return pydicom.pixels.pixel_array(path)
        return pydicom.pixels.pixel_array(path, index=ref.frame_index)


class _PixelWarning(Exception):
    """A warning of pydicom's pixel decoding, raised as an error inside :func:`_decoding`."""


DECODER_LOGGERS = (
    "pydicom",
    "pydicom.pixels.decoders.base",
    "pydicom.pixels.decoders.rle",
    "pydicom.pixels.utils",
    "pydicom.pixels.processing",
    "openjpeg",
    "openjpeg.utils",
    "openjpeg.decode",
    "libjpeg",
    "libjpeg.utils",
    "rle",
    "rle.utils",
    "pylibjpeg",
    "pylibjpeg.utils",
    "jpeg_ls",
    "gdcm",
)
"""Loggers on which pydicom's pixel handlers and the decoder plugins complain."""


class _DecoderComplaints(logging.Filter):
    """Collects (and keeps off the console) the decoders' log records of one thread's decode.

    pydicom tries its decoding plugins in turn and only *logs* the failure of one when another
    succeeds; those records are the only sign that a damaged codestream was read leniently.
    Records of other threads pass untouched.
    """

    def __init__(self) -> None:
        super().__init__()
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        if record.thread != self.thread or record.levelno < logging.WARNING:
            return True
        text = " ".join(record.getMessage().split())
        if text and text not in self.messages:
            self.messages.append(text)
        return False


@contextlib.contextmanager
def _decoding(ref: FrameRef, name: str) -> Iterator[None]:
    """Turn pydicom's decoding failures into a SeriesError naming the file and the fix.

    A decoder's warning is an error (the values may be wrong); a decoder's logged complaint
    about a file that another decoder then read is a :class:`PixelDataWarning` naming the file.
    """
    path = ref.header.path
    complaints = _DecoderComplaints()
    loggers = [logging.getLogger(n) for n in DECODER_LOGGERS]
    for logger in loggers:
        logger.addFilter(complaints)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
        for w in caught:
            if "pydicom" in (w.filename or "") and "pixels" in (w.filename or ""):
                # A decoder's or pixel handler's warning means the values may be wrong.
                raise _PixelWarning(str(w.message))
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    except _PixelWarning as err:
        raise SeriesError(
            f"{name}: pixel data of {path} does not match its header ({err}); its values cannot "
            "be trusted. Re-export the file."
        ) from None
    except NotImplementedError as err:
        raise SeriesError(
            f"{name}: cannot decode {path} (transfer syntax {ref.header.transfer_syntax_uid}): "
            f"{err}. Install the pylibjpeg / pyjpegls decoders or decompress the file."
        ) from None
    except BaseException as err:
        # pydicom raises many types on broken pixel data; a Rust decoder (pylibjpeg-rle)
        # panics with pyo3's PanicException, which is not an Exception.
        if not isinstance(err, Exception) and type(err).__name__ != "PanicException":
            raise
        raise SeriesError(
            f"{name}: pixel data of {path} cannot be read ({type(err).__name__}: "
            f"{' '.join(str(err).split())}); the file may be truncated or damaged. Re-export it "
            "or remove it and load the rest."
        ) from None
    finally:
        for logger in loggers:
            logger.removeFilter(complaints)
    if complaints.messages:
        said = "; ".join(complaints.messages[:3])
        warnings.warn(
            f"{name}: a decoder failed on the pixel data of {path} ({said}) and another decoder "
            "read it; its values may be wrong. Look at that slice, and re-export the file if it "
            "looks damaged.",
            PixelDataWarning,
            stacklevel=3,
        )


def read_frame(ref: FrameRef, dtype: np.dtype | str, name: str = "") -> np.ndarray:
    """One slice ``(y, x)`` in HU, decoded from its own file and rescaled as :func:`load_series`.

    ``dtype`` is the volume's :func:`output_dtype`. Only ``ref``'s file (and, for a multi-frame
    object, only its frame) is decoded, so a lazy loader (the napari plugin) can read the slice
    it shows and get exactly the values of the eager load. When the rescaled values do not fit
    ``int16`` the result is ``float32``, as :func:`load_series` switches the whole volume then.

    Raises
    ------
    SeriesError
        Undecodable or truncated pixel data, or a slice of the wrong shape.
    """
    rows, cols = int(ref.header.rows or 0), int(ref.header.columns or 0)
    name = name or _series_name(ref.header)
    out = np.empty((1, rows, cols), dtype=np.dtype(dtype))
    return _store(out, 0, _read_pixels(ref, name), ref, name)[0]


def load_series(
    source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    series_uid: str | None = None,
    stack: int | None = None,
    spacing_rtol: float = SPACING_RTOL,
    position_atol_mm: float = POSITION_ATOL_MM,
    orientation_atol: float = ORIENTATION_ATOL,
    shear_atol_mm: float = SHEAR_ATOL_MM,
    lazy: bool = False,
) -> CTVolume:
    """Load one image series (or one stack of it) as a volume in HU with exact geometry.

    Parameters
    ----------
    source
        A folder holding one series (searched recursively; files that are not DICOM images are
        skipped and listed in ``metadata["skipped_files"]``), a list of files, or one
        (multi-frame) file.
    series_uid
        Load only this SeriesInstanceUID when the folder holds several series.
    stack
        Load this stack of the series (0 = the largest; ``lesion-tool scan`` numbers them
        ``series.k``). By default the series' main stack is loaded and its strays (a reformat,
        scout or lone slice of another orientation, size or pixel spacing) are left out with a
        :class:`~lesion_tool.errors.StrayImagesWarning` naming their files; two full stacks of
        comparable size are refused.
    spacing_rtol, position_atol_mm, orientation_atol, shear_atol_mm
        Tolerances of the geometry checks (see :func:`stack_geometry`).
    lazy
        Decode pixels only when they are read: every header and geometry check (and its
        warnings) runs on the whole series as in the eager load, but ``array`` is a
        :class:`~lesion_tool.io.lazy.LazySlices` that decodes, and screens for corruption, only
        the slices indexed (with their neighbours), with the eager load's exact values. For work
        that reads a few slices (one click's measurement); a suspect slice is warned about when
        it is first read, and ``volume.warnings`` then lacks that warning.

    Returns
    -------
    CTVolume
        ``array`` ``(z, y, x)`` in HU (rescale applied; int16 when exact, else float32), slices
        sorted by increasing position along the slice normal, spacing ``(z, y, x)`` mm, origin
        (LPS mm of voxel ``(0, 0, 0)``), direction (columns = LPS unit vectors of z, y, x), UIDs,
        study date, SOPInstanceUID per slice, and the warnings found. ``metadata`` holds
        ``files`` (path per slice), ``frame_indices``, ``series_number``, ``image_type``,
        ``transfer_syntax_uid``, ``study_description``, ``contrast_agent``, ``skipped_files``,
        ``left_out_files`` (the stray stacks' files), ``suspect_slices`` (labels of slices
        that disagree grossly with their neighbours, named in a ``PixelDataWarning``) and
        ``instance_numbers`` (InstanceNumber of each slice's file, None where it has none).

    Raises
    ------
    SeriesError
        No DICOM image in ``source``, several series (name ``series_uid``), missing PixelSpacing
        or position, undecodable or truncated pixel data.
    GeometryError
        Tilt, missing or duplicate slices, irregular spacing, two full stacks in the series
        (choose ``stack``).
    """
    special: list[tuple[Path, str]] = []
    if isinstance(source, (str, os.PathLike)):
        root = Path(source)
        if not root.exists():
            raise SeriesError(f"{root}: no such file or folder.")
        paths = list_files(root, special)
        where = str(root)
    else:
        paths = [Path(p) for p in source]
        where = f"{len(paths)} files" if paths else "an empty file list"
    headers: list[FileHeader] = []
    skipped: list[str] = [f"{p}: {reason}" for p, reason in special]
    invalid: list[tuple[Path, InvalidHeaderError]] = []
    for p in paths:
        try:
            h = read_header(p)
        except InvalidHeaderError as err:
            invalid.append((p, err))
            continue
        except NotDicomError as err:
            skipped.append(f"{p}: {err}")
            continue
        except FileNotFoundError:
            skipped.append(f"{p}: no such file")
            continue
        if h.is_image:
            headers.append(h)
        else:
            skipped.append(f"{p}: not an image ({h.modality or h.sop_class_uid})")
    if not headers and invalid:
        p, err = invalid[0]
        raise SeriesError(f"{where}: {p} has an impossible header: {err}. {_INVALID_FIX}")
    if not headers:
        detail = f" ({skipped[0]})" if skipped else ""
        raise SeriesError(f"{where}: no DICOM image found{detail}.")
    uids = {h.series_instance_uid for h in headers}
    if series_uid is not None:
        headers = [h for h in headers if h.series_instance_uid == series_uid]
        if not headers:
            raise SeriesError(f"{where}: no image of series {series_uid} (found {sorted(uids)}).")
    elif len(uids) > 1:
        counts: dict[str, list[FileHeader]] = {}
        for h in headers:
            counts.setdefault(h.series_instance_uid, []).append(h)
        listing = "; ".join(
            f'{u} ({len(hs)} files, "{hs[0].series_description}")'
            for u, hs in sorted(counts.items())
        )
        raise SeriesError(
            f"{where}: holds {len(uids)} series ({listing}); pass series_uid or one series' files."
        )
    name = _series_name(headers[0])
    for p, err in invalid:
        # A slice of this series (or of unknown series) with impossible values: refuse, naming
        # it, rather than load around it (its absence would read as a missing slice).
        if err.series_instance_uid in (headers[0].series_instance_uid, ""):
            raise SeriesError(f"{name}: {p} has an impossible header: {err}. {_INVALID_FIX}")
        skipped.append(f"{p}: {err}")
    sops = {}
    for h in headers:
        if h.sop_instance_uid in sops:
            raise GeometryError(
                f"{name}: {h.path} and {sops[h.sop_instance_uid]} are the same image "
                f"(SOPInstanceUID {h.sop_instance_uid}); remove one copy."
            )
        sops[h.sop_instance_uid] = h.path
    choice = choose_stack(series_stacks(headers), name=name, stack=stack)
    left_out = choice.message(name)
    frames = frames_of(choice.chosen.headers)
    geometry = stack_geometry(
        frames,
        spacing_rtol=spacing_rtol,
        position_atol_mm=position_atol_mm,
        orientation_atol=orientation_atol,
        shear_atol_mm=shear_atol_mm,
        name=name,
    )
    found = list(geometry.warnings)
    for text in skipped:
        # Other files beside a series (licences, notes) change nothing: logged, not warned.
        log.info("%s: skipped %s", name, text)
    for h in {f.header.path: f.header for f in geometry.frames}.values():
        check_pixel_data_size(h, name)  # before the volume is allocated
    suspect_labels: list[str] = []
    array: Any
    if lazy:
        from lesion_tool.io.lazy import LazySlices

        array = LazySlices(geometry.frames, output_dtype(geometry.frames), name, suspect_labels)
    else:
        array = _fill(geometry.frames, name)
        suspects = find_inconsistent_slices(array)
        suspect_labels = [geometry.frames[x.index].label for x in suspects]
        implausible = describe_suspects(suspects, [f.label for f in geometry.frames], name)
        if implausible is not None:
            warnings.warn(implausible, PixelDataWarning, stacklevel=2)
            geometry = replace(geometry, warnings=(*geometry.warnings, implausible))
    if left_out is not None:
        warnings.warn(left_out, StrayImagesWarning, stacklevel=2)
        geometry = replace(geometry, warnings=(left_out, *geometry.warnings))
    for text in found:
        warnings.warn(text, HeaderWarning, stacklevel=2)
    volume = volume_from_geometry(geometry, array)
    volume.metadata["skipped_files"] = skipped
    volume.metadata["left_out_files"] = [
        str(h.path) for group in choice.left_out for h in group.headers
    ]
    volume.metadata["suspect_slices"] = suspect_labels
    volume.metadata["instance_numbers"] = [f.header.instance_number for f in geometry.frames]
    return volume


def volume_from_geometry(geometry: StackGeometry, array: Any) -> CTVolume:
    """The :class:`CTVolume` of a checked stack over ``array`` (``(z, y, x)``, in its order).

    The one place a stack's header geometry and identity become a volume: :func:`load_series`
    uses it with the decoded pixels, and a lazy loader (the napari plugin) with a lazy array.
    """
    first = geometry.frames[0].header
    return CTVolume(
        array=array,
        spacing_mm=geometry.spacing_mm,
        origin_mm=geometry.origin_mm,
        direction=geometry.direction,
        series_instance_uid=first.series_instance_uid,
        study_instance_uid=first.study_instance_uid,
        frame_of_reference_uid=first.frame_of_reference_uid,
        study_date=first.study_date,
        patient_id=first.patient_id,
        series_description=first.series_description,
        modality=first.modality or "CT",
        slice_thickness_mm=geometry.frames[0].geometry.slice_thickness_mm,
        sop_instance_uids=tuple(f.header.sop_instance_uid for f in geometry.frames),
        sop_class_uid=first.sop_class_uid,
        warnings=tuple(geometry.warnings),
        metadata={
            "files": [str(f.header.path) for f in geometry.frames],
            "frame_indices": [f.frame_index for f in geometry.frames],
            "series_number": first.series_number,
            "image_type": list(first.image_type),
            "transfer_syntax_uid": first.transfer_syntax_uid,
            "study_description": first.study_description,
            "contrast_agent": first.contrast_agent,
        },
    )


def _fill(frames: Sequence[FrameRef], name: str) -> np.ndarray:
    """Decode every slice into one preallocated ``(z, y, x)`` array with rescale applied.

    Multi-frame objects are decoded frame by frame (``pydicom.pixels.iter_pixels``), so no more
    than one decoded frame exists beside the output array.
    """
    first = frames[0].header
    rows, cols = int(first.rows or 0), int(first.columns or 0)
    out = np.empty((len(frames), rows, cols), dtype=output_dtype(frames))
    slots: dict[Path, dict[int, int]] = {}
    for k, ref in enumerate(frames):
        if ref.frame_index is not None and ref.header.number_of_frames > 1:
            slots.setdefault(ref.header.path, {})[ref.frame_index] = k
        else:
            out = _store(out, k, _read_pixels(ref, name), ref, name)
    for by_frame in slots.values():
        some = frames[next(iter(by_frame.values()))]
        for index, raw in _iter_frames(some, name):
            k = by_frame.get(index)
            if k is not None:
                out = _store(out, k, raw, frames[k], name)
    return out


def _store(out: np.ndarray, k: int, raw: np.ndarray, ref: FrameRef, name: str) -> np.ndarray:
    """Put one decoded slice, rescaled, at ``out[k]``; returns ``out`` (float32 if it had to be)."""
    rows, cols = out.shape[1:]
    if raw.ndim != 2 or raw.shape != (rows, cols):
        raise SeriesError(
            f"{name}: {ref.label} decodes to shape {raw.shape}, expected ({rows}, {cols}) "
            "single-channel pixels; colour or malformed images cannot be measured."
        )
    slope, intercept = ref.geometry.rescale_slope, ref.geometry.rescale_intercept
    if out.dtype == np.int16:
        info = np.iinfo(np.int16)
        lo = int(raw.min()) * int(slope) + int(intercept)
        hi = int(raw.max()) * int(slope) + int(intercept)
        if slope < 0:
            lo, hi = hi, lo
        if lo < info.min or hi > info.max:
            # Values exceed int16: switch the whole volume to float32 once.
            out = out.astype(np.float32)
    if out.dtype == np.int16:
        if slope == 1:
            np.add(raw, np.int32(intercept), out=out[k], casting="unsafe")
        else:
            np.multiply(raw, np.int32(slope), out=out[k], casting="unsafe")
            out[k] += np.int16(intercept)
    else:
        np.multiply(raw, np.float32(slope), out=out[k], casting="unsafe")
        out[k] += np.float32(intercept)
    return out


def _iter_frames(ref: FrameRef, name: str) -> Iterator[tuple[int, np.ndarray]]:
    """``(frame index, stored values)`` of every frame of a multi-frame file, in file order."""
    import pydicom.pixels  # here: a headers-only scan never needs it

    with _decoding(ref, name):
        yield from enumerate(pydicom.pixels.iter_pixels(ref.header.path))
