"""Masks to measure: numpy label arrays, NIfTI (or any SimpleITK image file) and DICOM SEG.

A :class:`MaskVolume` is a list of segments (binary or fractional ``(z, y, x)`` arrays) with the
geometry of their grid. DICOM SEG files are read with highdicom (``Segmentation.get_volume``),
which sorts the frames spatially and checks their spacing; NIfTI files with SimpleITK, taking the
geometry from the file.

Reading is lenient where no millimetre changes: SEG encodings highdicom does not decode itself
(Explicit VR Big Endian, Deflated Image Frame Compression, RLE of 1-bit frames) are decoded here
with pydicom and handed to highdicom as native little-endian pixels. Everything else that cannot
be read raises :class:`~lesion_tool.errors.SeriesError` naming the file and the reason (e.g. a
vendor SEG without the mandatory Segmented Property codes).
"""

from __future__ import annotations

import logging
import os
import warnings
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.encaps import generate_frames
from pydicom.errors import InvalidDicomError
from pydicom.pixels import pack_bits, unpack_bits
from pydicom.uid import UID, ExplicitVRLittleEndian

from lesion_tool.errors import HeaderWarning, LesionToolError, MeasurementError, SeriesError
from lesion_tool.measurement.diameter import (
    SPECK_MM3,
    Geometry,
    HasGeometry,
    measure_fraction,
    measure_labels,
)
from lesion_tool.measurement.models import LabelMeasurement

__all__ = [
    "ITK_SUFFIXES",
    "MaskSegment",
    "MaskVolume",
    "load_mask",
    "load_mask_series",
    "mask_from_array",
    "measure_mask",
]

logger = logging.getLogger(__name__)

MAX_LABEL = 65535
"""Largest label value of a mask (DICOM segment numbers are 16-bit). Labels index per-label
tables, so a label of 2**31 - 1 would need gigabytes for one tumour."""

ITK_SUFFIXES = (".nii", ".nii.gz", ".nrrd", ".nhdr", ".mha", ".mhd")
"""File name endings read with SimpleITK."""

_SEG_SOP_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.66.4": "Segmentation Storage",
    "1.2.840.10008.5.1.4.1.1.66.7": "Label Map Segmentation Storage",
}
_DEFLATED_FRAMES = UID("1.2.840.10008.1.2.8.1")
_RLE = UID("1.2.840.10008.1.2.5")
_BIG_ENDIAN = UID("1.2.840.10008.1.2.2")


@dataclass(frozen=True, eq=False)
class MaskSegment:
    """One segment (label) of a mask.

    Attributes
    ----------
    label
        Label value or SEG segment number.
    name
        Label or segment name ("" when the file has none).
    array
        ``(z, y, x)``: boolean for a binary segment, float fractions in ``[0, 1]`` for a
        fractional one.
    """

    label: int
    name: str
    array: np.ndarray

    @property
    def fractional(self) -> bool:
        """True for a fractional (partial-volume) segment."""
        return self.array.dtype != bool


@dataclass(frozen=True, eq=False)
class MaskVolume:
    """Segments on one voxel grid, with where they came from.

    Attributes
    ----------
    geometry
        The grid (``(z, y, x)`` spacing, LPS origin, direction).
    segments
        The segments; they may overlap (DICOM SEG allows it).
    labels
        The integer ``(z, y, x)`` label map when the source was one (NIfTI, numpy), else None;
        measuring it directly is faster than measuring every segment.
    source
        File name or ``"<memory>"``.
    frame_of_reference_uid
        From a DICOM SEG, else "".
    """

    geometry: Geometry
    segments: tuple[MaskSegment, ...]
    labels: np.ndarray | None = None
    source: str = "<memory>"
    frame_of_reference_uid: str = ""

    @property
    def shape(self) -> tuple[int, ...]:
        """``(z, y, x)`` shape of the grid."""
        if self.labels is not None:
            return tuple(self.labels.shape)
        return tuple(self.segments[0].array.shape) if self.segments else ()


def mask_from_array(
    labels: np.ndarray,
    volume_or_geometry: HasGeometry,
    *,
    names: Mapping[int, str] | None = None,
    source: str = "<memory>",
) -> MaskVolume:
    """A :class:`MaskVolume` from an integer ``(z, y, x)`` label array (0 = background).

    A float array with values in ``[0, 1]`` that are not all whole is taken as one fractional
    segment (label 1).

    Raises
    ------
    MeasurementError
        When the array is not 3-D, or holds negative or non-whole values outside ``[0, 1]``.
    """
    arr = np.asarray(labels)
    geometry = Geometry.of(volume_or_geometry)
    if arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim != 3:
        raise MeasurementError(f"{source}: a mask must be 3-D (z, y, x), got shape {arr.shape}.")
    names = dict(names or {})
    if arr.dtype == bool:
        arr = arr.astype(np.uint8)
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.isfinite(arr)):
            raise MeasurementError(f"{source}: the mask holds NaN or infinite values.")
        if np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        elif arr.min() >= 0 and arr.max() <= 1:
            segment = MaskSegment(1, names.get(1, ""), arr.astype(np.float32))
            return MaskVolume(geometry, (segment,), None, source)
        else:
            raise MeasurementError(
                f"{source}: the mask holds non-whole values outside [0, 1]; it is neither a label "
                "map nor a fractional mask."
            )
    if arr.size and arr.min() < 0:
        raise MeasurementError(f"{source}: the mask holds negative labels.")
    if arr.size and arr.max() > MAX_LABEL:
        raise MeasurementError(
            f"{source}: the mask holds label {int(arr.max())}, above {MAX_LABEL} (the largest "
            "DICOM segment number); renumber its labels 1, 2, ... and measure it again."
        )
    present = np.unique(arr)
    segments = tuple(
        MaskSegment(int(v), names.get(int(v), ""), arr == v) for v in present if v != 0
    )
    return MaskVolume(geometry, segments, arr, source)


def measure_mask(
    mask: MaskVolume,
    *,
    separate_components: bool = True,
    image: HasGeometry | None = None,
    min_component_mm3: float = SPECK_MM3,
) -> list[LabelMeasurement]:
    """Measure every segment of a mask, per tumour (see :func:`measure_labels`,
    :func:`measure_fraction`).

    A label of a real mask often holds several separate tumours; its longest diameter "across"
    them measures nothing, so each 3-D connected component is measured on its own by default.

    Parameters
    ----------
    mask
        The mask.
    separate_components
        True (default): one result per connected component of each label, numbered
        ``component`` of ``component_count``. False: each label as one object (its diameter
        may span separate pieces; ``component_count`` says how many).
    image
        Optional ``CTVolume`` the mask was drawn on. When it is on the mask's grid (same shape,
        spacing, origin and direction within 0.01 mm), binary segments are measured on the
        sub-pixel edge the image shows (see :func:`measure_labels`); otherwise it is not used.
    min_component_mm3
        Components smaller than this are specks (annotation slips), counted in
        ``LabelMeasurement.specks`` and not measured on their own.

    Returns
    -------
    list[LabelMeasurement]
        Per segment (and per connected component when ``separate_components``), in segment
        order. Empty segments are left out.
    """
    pixels = _image_on_grid(mask, image)
    if mask.labels is not None:
        names = {s.label: s.name for s in mask.segments}
        return measure_labels(
            mask.labels,
            mask.geometry,
            separate_components=separate_components,
            names=names,
            image=pixels,
            min_component_mm3=min_component_mm3,
        )
    results: list[LabelMeasurement] = []
    for seg in mask.segments:
        if seg.fractional:
            results += measure_fraction(
                seg.array,
                mask.geometry,
                label=seg.label,
                name=seg.name,
                separate_components=separate_components,
                min_component_mm3=min_component_mm3,
            )
        else:
            found = measure_labels(
                seg.array,
                mask.geometry,
                separate_components=separate_components,
                image=pixels,
                min_component_mm3=min_component_mm3,
            )
            results += [replace(m, label=seg.label, name=seg.name) for m in found]
    return results


def on_image_grid(mask: MaskVolume, image: HasGeometry | None) -> bool:
    """Whether ``image`` lies on the mask's grid (same shape, spacing, origin and direction): the
    rule by which a mask is measured with its image's pixels and named by its slices."""
    if image is None or not hasattr(image, "array"):
        return False
    g = Geometry.of(image)
    return bool(
        tuple(np.shape(image.array)) == tuple(mask.shape)
        and np.allclose(g.spacing_mm, mask.geometry.spacing_mm, atol=0.01)
        and np.allclose(g.origin_mm, mask.geometry.origin_mm, atol=0.01)
        and np.allclose(g.direction, mask.geometry.direction, atol=1e-4)
    )


def _image_on_grid(mask: MaskVolume, image: HasGeometry | None) -> np.ndarray | None:
    """The image's pixels when it lies on the mask's grid, else None."""
    if image is None or not hasattr(image, "array"):
        return None
    if not on_image_grid(mask, image):
        logger.info("%s: the image is not on the mask's grid; measured alone", mask.source)
        return None
    return np.asarray(image.array)


# --------------------------------------------------------------------------------------------
# Files


def _is_itk(path: Path) -> bool:
    name = path.name.lower()
    return any(name.endswith(s) for s in ITK_SUFFIXES)


def load_mask(path: str | os.PathLike[str], image: HasGeometry | None = None) -> MaskVolume:
    """Read a mask file: DICOM SEG, NIfTI (or NRRD/MHA via SimpleITK) or a ``.npy`` label array;
    or a folder holding a mask series (one DICOM image per slice, :func:`load_mask_series`).

    Parameters
    ----------
    path
        The file, or the folder of a mask series.
    image
        The image the mask belongs to. Files without geometry (``.npy``) take its grid; a DICOM
        SEG is placed on its grid by the frames' plane positions (see :func:`_place_on_image`);
        other files keep their own geometry.

    Returns
    -------
    MaskVolume

    Raises
    ------
    SeriesError
        The file cannot be read as a mask; the message names the file and says why.
    """
    p = Path(path)
    if p.is_dir():
        return load_mask_series(p, image)
    if not p.is_file():
        raise SeriesError(f"{p}: no such file.")
    try:
        if _is_itk(p):
            return _load_itk(p)
        if p.suffix.lower() == ".npy":
            if image is None:
                raise SeriesError(
                    f"{p}: a .npy mask has no geometry; give the image it was drawn on (--image)."
                )
            return mask_from_array(_load_npy(p, image), image, source=str(p))
        return _load_seg(p, image)
    except LesionToolError as err:
        if str(p) in str(err):
            raise
        raise SeriesError(f"{p}: {err}") from err


def load_mask_series(
    folder: str | os.PathLike[str], image: HasGeometry | None = None
) -> MaskVolume:
    """Read a folder of per-slice DICOM mask images (e.g. IRCADb's ``MASKS_DICOM/<organ>/``) as
    one binary segment (label 1 where the pixel is > 0).

    Such masks are stored as ordinary images (CT Image Storage, 0/255) with their own UIDs and
    often no FrameOfReferenceUID, so they are paired with ``image`` by position: every mask
    slice must lie on an image slice (ImagePositionPatient within 0.01 mm, same in-plane grid);
    image slices without a mask slice are background.

    Parameters
    ----------
    folder
        The folder (searched like an image series).
    image
        The image the mask was drawn on; without it the mask keeps its own grid.

    Returns
    -------
    MaskVolume
        On the image's grid (``(z, y, x)``) when ``image`` is given, else on the mask's own.

    Raises
    ------
    SeriesError
        The folder is not one readable image series, or its slices do not lie on the image's.
    """
    from lesion_tool.io.series import load_series

    p = Path(folder)
    series = load_series(p)
    fg = np.asarray(series.array) > 0
    if image is None:
        return mask_from_array(fg, series, names={1: p.name}, source=str(p))
    g = Geometry.of(image)
    shape = tuple(np.asarray(image.array).shape) if hasattr(image, "array") else None
    # Each mask slice's first voxel, and the ends of its first row and column, in image indices.
    n = fg.shape
    probes = np.array(
        [[z, 0, 0] for z in range(n[0])] + [[0, n[1] - 1, 0], [0, 0, n[2] - 1]], dtype=float
    )
    idx = g.patient_to_index(Geometry.of(series).index_to_patient(probes))
    z_idx = np.round(idx[: n[0], 0])
    expected_yx = np.vstack([np.zeros((n[0], 2)), [[n[1] - 1, 0], [0, n[2] - 1]]])
    ok = bool(
        np.allclose(idx[:, 0], np.round(idx[:, 0]), atol=0.01 / g.spacing_mm[0])
        and np.allclose(idx[:, 1:], expected_yx, atol=0.01)
        and z_idx.min() >= 0
    )
    if shape is not None:
        ok = ok and n[1:] == shape[1:] and z_idx.max() < shape[0]
    if not ok:
        raise SeriesError(
            f"{p}: the mask slices do not lie on the image's slices (ImagePositionPatient, "
            "pixel spacing or size differ); give the image the mask was drawn on."
        )
    n_z = shape[0] if shape is not None else int(z_idx.max()) + 1
    labels = np.zeros((n_z, n[1], n[2]), dtype=np.uint8)
    labels[z_idx.astype(int)] = fg
    return mask_from_array(labels, g, names={1: p.name}, source=str(p))


def _image_shape(image: HasGeometry) -> tuple[int, ...] | None:
    """The ``(z, y, x)`` shape of the image a mask belongs to, when it has pixels."""
    shape = getattr(image, "shape", None)
    if shape is None:
        shape = getattr(getattr(image, "array", None), "shape", None)
    return None if shape is None else tuple(int(n) for n in shape)


def _load_npy(path: Path, image: HasGeometry) -> np.ndarray:
    """A ``.npy`` label array, refused unless it is readable and has the image's shape.

    A ``.npy`` file has no geometry, so its voxels are the image's only when the shapes agree:
    a transposed array or one with fewer slices would be measured on the wrong voxels.
    """
    try:
        arr = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise SeriesError(f"{path}: not a readable .npy array ({err}).") from None
    if not isinstance(arr, np.ndarray):
        raise SeriesError(f"{path}: holds several arrays, not one label array.")
    shape = _image_shape(image)
    squeezed = arr.shape[:3] if arr.ndim == 4 and arr.shape[-1] == 1 else arr.shape
    if shape is not None and tuple(squeezed) != shape:
        raise SeriesError(
            f"{path}: the mask's shape {tuple(arr.shape)} is not the image's (z, y, x) shape "
            f"{shape}; a .npy mask has no geometry of its own, so it must match voxel for voxel "
            "(a transposed array or missing slices would be measured in the wrong place)."
        )
    return arr


def _check_nifti_length(path: Path) -> None:
    """Refuse a NIfTI-1/2 file (``.nii`` or ``.nii.gz``) whose voxel data is cut short.

    SimpleITK reads a truncated ``.nii.gz`` without an error and fills the missing voxels with
    zeros (half a file gave 9.55 mL instead of 16.60 mL), so the whole stream is read here and
    its length compared with ``vox_offset + voxels x bitpix / 8`` from the header.
    """
    import gzip
    import struct

    name = path.name.lower()
    opener = gzip.open if name.endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            head = fh.read(540)
            total = len(head)
            while chunk := fh.read(1 << 20):
                total += len(chunk)
    except (OSError, EOFError, zlib.error) as err:
        raise SeriesError(
            f"{path}: the file is damaged or cut short ({err}); its voxels would be read as "
            "zeros. Copy or export it again."
        ) from None
    for endian in ("<", ">"):
        if len(head) >= 348 and struct.unpack_from(endian + "i", head)[0] == 348:
            dims = struct.unpack_from(endian + "8h", head, 40)
            bitpix = struct.unpack_from(endian + "h", head, 72)[0]
            offset = int(struct.unpack_from(endian + "f", head, 108)[0])
            break
        if len(head) >= 540 and struct.unpack_from(endian + "i", head)[0] == 540:
            dims = struct.unpack_from(endian + "8q", head, 16)
            bitpix = struct.unpack_from(endian + "h", head, 14)[0]
            offset = int(struct.unpack_from(endian + "q", head, 168)[0])
            break
    else:
        return  # not NIfTI-1/2 (e.g. an NRRD named .nii): SimpleITK decides
    ndim = dims[0]
    if not 1 <= ndim <= 7 or any(d < 1 for d in dims[1 : ndim + 1]) or bitpix < 1:
        raise SeriesError(f"{path}: the NIfTI header's dimensions {dims} are impossible.")
    expected = offset + (int(np.prod(dims[1 : ndim + 1], dtype=object)) * bitpix + 7) // 8
    if total < expected:
        raise SeriesError(
            f"{path}: holds {total} bytes of header and voxels but its header promises "
            f"{expected}; the file is cut short and its missing voxels would read as zeros. "
            "Copy or export it again."
        )


def _load_itk(path: Path) -> MaskVolume:
    import SimpleITK as sitk

    if path.name.lower().endswith((".nii", ".nii.gz")):
        _check_nifti_length(path)

    from lesion_tool.io.sitk import from_sitk

    try:
        img = sitk.ReadImage(str(path))
    except RuntimeError as err:
        first = str(err).strip().splitlines()[-1] if str(err).strip() else "unreadable"
        raise SeriesError(f"{path}: SimpleITK cannot read it ({first}).") from err
    if img.GetDimension() != 3 or img.GetNumberOfComponentsPerPixel() != 1:
        raise SeriesError(
            f"{path}: expected a 3-D single-component label image, got {img.GetDimension()}-D "
            f"with {img.GetNumberOfComponentsPerPixel()} components."
        )
    # The one place where SimpleITK's (x, y, z) meets lesion-tool's (z, y, x).
    volume = from_sitk(img)
    return mask_from_array(volume.array, volume, source=str(path))


def _packbits_decode(data: bytes) -> bytes:
    """Decode one RLE (PackBits) segment, DICOM PS3.5 Annex G."""
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        header = data[i]
        i += 1
        if header < 128:
            out += data[i : i + header + 1]
            i += header + 1
        elif header > 128:
            out += bytes([data[i]]) * (257 - header)
            i += 1
    return bytes(out)


def _native_frames(ds: pydicom.Dataset, path: Path) -> np.ndarray:
    """Decode the 1-bit frames of encodings highdicom does not read: ``(frames, rows, cols)``."""
    ts = ds.file_meta.TransferSyntaxUID
    n = int(getattr(ds, "NumberOfFrames", 1) or 1)
    rows, cols = int(ds.Rows), int(ds.Columns)
    if ts == _BIG_ENDIAN:
        return np.asarray(ds.pixel_array).reshape(n, rows, cols)
    frames = list(generate_frames(ds.PixelData, number_of_frames=n))
    out = np.empty((n, rows, cols), dtype=np.uint8)
    for k, frame in enumerate(frames):
        if ts == _DEFLATED_FRAMES:
            raw = zlib.decompress(frame, -15)
        else:  # RLE with one segment of packed bits
            offsets = np.frombuffer(frame[:64], "<u4")
            if offsets[0] != 1:
                raise SeriesError(
                    f"{path}: RLE frame {k + 1} has {offsets[0]} segments, expected 1 for 1-bit."
                )
            raw = _packbits_decode(frame[int(offsets[1]) :])
        bits = unpack_bits(raw)
        if bits.size < rows * cols:
            raise SeriesError(f"{path}: frame {k + 1} holds {bits.size} pixels, not {rows * cols}.")
        out[k] = bits[: rows * cols].reshape(rows, cols)
    return out


SEG_GRID_TOL = 0.02
"""Largest misalignment, in voxels (and direction cosine), of a SEG frame from the image grid."""


def _place_on_image(vol: Any, image: HasGeometry, path: Path) -> Any:
    """A SEG's highdicom volume moved onto the image's voxel grid, by its frames' plane positions.

    The frames were already sorted by their ImagePositionPatient (highdicom's ``get_volume``),
    never by their source-image references, which real exporters often get wrong (every frame
    pointing at one slice). Matching the grid only permutes, flips, pads and crops
    (``highdicom.Volume.match_geometry``), never resamples. The volume is returned unchanged
    when the image has no shape, another frame of reference (with a warning) or a grid the
    frames do not lie on (they are then measured on their own grid, as before).

    Raises
    ------
    SeriesError
        Segmented voxels lie outside the image (the SEG belongs to another series).
    """
    import highdicom as hd

    shape = getattr(image, "shape", None)
    if shape is None or len(shape) != 3:
        return vol
    image_for = str(getattr(image, "frame_of_reference_uid", "") or "")
    if image_for and vol.frame_of_reference_uid and image_for != vol.frame_of_reference_uid:
        warnings.warn(
            f"{path}: the SEG's FrameOfReferenceUID differs from the image's; it is measured on "
            "its own grid, not placed on the image.",
            HeaderWarning,
            stacklevel=3,
        )
        return vol
    g = Geometry.of(image)
    affine = np.eye(4)
    affine[:3, :3] = np.asarray(g.direction, dtype=float) * np.asarray(g.spacing_mm, dtype=float)
    affine[:3, 3] = g.origin_mm
    target = hd.VolumeGeometry(affine, tuple(int(n) for n in shape), "PATIENT", image_for or None)
    try:
        placed = vol.match_geometry(target, tol=SEG_GRID_TOL)
    except RuntimeError as err:
        logger.info("%s: not on the image's grid (%s); measured on its own grid", path, err)
        return vol
    before = int(np.count_nonzero(vol.array))
    lost = before - int(np.count_nonzero(placed.array))
    if lost:
        raise SeriesError(
            f"{path}: {lost} of {before} segmented voxels lie outside the image it is measured "
            "with; give the series the SEG was drawn on (--image)."
        )
    return placed


def _load_seg(path: Path, image: HasGeometry | None = None) -> MaskVolume:
    import highdicom as hd

    try:
        ds = pydicom.dcmread(path)
    except InvalidDicomError as err:
        raise SeriesError(
            f"{path}: not a DICOM file and not a NIfTI/NRRD/MHA/.npy mask ({err})."
        ) from err
    sop = str(getattr(ds, "SOPClassUID", ""))
    if sop not in _SEG_SOP_CLASSES:
        name = UID(sop).name if sop else "no SOP Class UID"
        raise SeriesError(
            f"{path}: not a DICOM Segmentation (SOP class {name}, modality "
            f"{getattr(ds, 'Modality', '?')}); give a SEG, NIfTI or .npy mask."
        )
    ts = ds.file_meta.TransferSyntaxUID
    needs_decoding = ts in (_BIG_ENDIAN, _DEFLATED_FRAMES) or (
        ts == _RLE and int(getattr(ds, "BitsAllocated", 8)) == 1
    )
    if needs_decoding:
        if int(getattr(ds, "BitsAllocated", 8)) != 1 and ts != _BIG_ENDIAN:
            raise SeriesError(f"{path}: cannot decode {ts.name} with BitsAllocated != 1.")
        try:
            frames = _native_frames(ds, path)
        except (ValueError, RuntimeError, zlib.error) as err:
            raise SeriesError(f"{path}: cannot decode its {ts.name} pixel data ({err}).") from err
        if int(ds.BitsAllocated) == 1:
            ds.PixelData = pack_bits(frames.ravel())
            ds["PixelData"].VR = "OB"
        else:
            ds.PixelData = frames.astype(f"<u{int(ds.BitsAllocated) // 8}").tobytes()
            ds["PixelData"].VR = "OW" if int(ds.BitsAllocated) > 8 else "OB"
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        logger.info("%s: decoded %s pixel data for highdicom", path, ts.name)
    try:
        seg = hd.seg.Segmentation.from_dataset(ds, copy=False)
    except AttributeError as err:
        raise SeriesError(
            f"{path}: not a conformant DICOM Segmentation: {str(err).rstrip('.')}. "
            "Re-export it with a tool that writes the mandatory segment attributes."
        ) from err
    except (ValueError, KeyError, TypeError) as err:
        raise SeriesError(f"{path}: highdicom cannot read this Segmentation ({err}).") from err
    try:
        vol = seg.get_volume(combine_segments=False, rescale_fractional=True)
    except RuntimeError as err:
        reason = str(err).strip().splitlines()
        raise SeriesError(
            f"{path}: its {ts.name} pixel data cannot be decoded ({' '.join(reason[:3])})."
        ) from err
    except ValueError as err:
        raise SeriesError(
            f"{path}: its frames do not form a regularly spaced volume ({err})."
        ) from err
    if image is not None:
        vol = _place_on_image(vol, image, path)
    affine = np.asarray(vol.affine, dtype=float)
    spacing = np.linalg.norm(affine[:3, :3], axis=0)
    geometry = Geometry(
        spacing_mm=tuple(spacing),
        origin_mm=tuple(affine[:3, 3]),
        direction=affine[:3, :3] / spacing,
    )
    numbers = [int(v) for v in vol.get_channel_values(vol.channel_descriptors[0])]
    fractional = seg.segmentation_type == hd.seg.SegmentationTypeValues.FRACTIONAL
    arr = np.asarray(vol.array)
    segments = []
    for k, number in enumerate(numbers):
        data = arr[..., k]
        data = data.astype(np.float32) if fractional else data > 0
        name = seg.get_segment_description(number).segment_label
        segments.append(MaskSegment(number, str(name), data))
    return MaskVolume(
        geometry,
        tuple(segments),
        None,
        str(path),
        str(getattr(ds, "FrameOfReferenceUID", "")),
    )
