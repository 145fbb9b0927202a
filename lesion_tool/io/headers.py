"""Fast, lenient reading of the DICOM header fields lesion-tool needs (never pixel data).

One function, :func:`read_header`, turns a file into a :class:`FileHeader` (or raises
:class:`NotDicomError` with the reason), so folder discovery (:mod:`lesion_tool.io.scan`) and
volume loading (:mod:`lesion_tool.io.series`) read headers the same way. Only the listed tags are
parsed (``specific_tags``) and reading stops before the pixel data, which is what makes a folder
scan fast.

Single-frame little-endian headers are read by a minimal raw parser
(:mod:`lesion_tool.io._rawheader`, about ten times faster than pydicom); everything else goes
through ``pydicom.dcmread``. Multi-frame (Enhanced CT) objects are expanded into one
:class:`FrameGeometry` per frame from their per-frame and shared functional groups.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lesion_tool.io._rawheader import RawDataset, read_raw

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

__all__ = [
    "DICOMDIR_SOP_CLASS",
    "FileHeader",
    "FrameGeometry",
    "InvalidHeaderError",
    "NotDicomError",
    "parse_dicom_time",
    "read_header",
]

log = logging.getLogger(__name__)

DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"

_KEYWORDS = (
    "SOPClassUID",
    "SOPInstanceUID",
    "Modality",
    "PatientID",
    "PatientName",
    "StudyInstanceUID",
    "StudyDate",
    "StudyTime",
    "StudyDescription",
    "SeriesInstanceUID",
    "SeriesNumber",
    "SeriesDescription",
    "SeriesDate",
    "SeriesTime",
    "AcquisitionDate",
    "AcquisitionTime",
    "AcquisitionDateTime",
    "ContentTime",
    "ImageType",
    "FrameOfReferenceUID",
    "ImagePositionPatient",
    "ImageOrientationPatient",
    "PixelSpacing",
    "SliceThickness",
    "SpacingBetweenSlices",
    "Rows",
    "Columns",
    "NumberOfFrames",
    "RescaleSlope",
    "RescaleIntercept",
    "InstanceNumber",
    "AcquisitionNumber",
    "ContrastBolusAgent",
    "ContrastBolusStartTime",
    "ContrastBolusRoute",
    "ContrastBolusVolume",
    "GantryDetectorTilt",
    "BitsAllocated",
    "BitsStored",
    "PixelRepresentation",
    "SamplesPerPixel",
    "PhotometricInterpretation",
    "ProtocolName",
    "BodyPartExamined",
    "SharedFunctionalGroupsSequence",
    "PerFrameFunctionalGroupsSequence",
)


@functools.cache
def _specific_tags() -> list[Any]:
    """The tags of :data:`_KEYWORDS` for ``dcmread(specific_tags=...)`` (imports pydicom: only
    the fallback reader and the tests need it)."""
    from pydicom.tag import Tag

    return [Tag(k) for k in _KEYWORDS]


def __getattr__(name: str) -> Any:
    # SPECIFIC_TAGS stays importable without making every importer of this module pay for pydicom
    if name == "SPECIFIC_TAGS":
        return _specific_tags()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if TYPE_CHECKING:
    _Header = Dataset | RawDataset


class NotDicomError(Exception):
    """A file is not a readable DICOM object; ``str(err)`` is the reason (no path)."""


class InvalidHeaderError(NotDicomError):
    """A DICOM image whose header values are impossible (NaN, zero or negative spacing...).

    ``series_instance_uid`` names the series it claims to belong to, so that loading that series
    can refuse it (a skipped slice would otherwise surface as a puzzling "missing slice").
    """

    def __init__(self, reason: str, series_instance_uid: str = "") -> None:
        super().__init__(reason)
        self.series_instance_uid = series_instance_uid


MAX_ABS_POSITION_MM = 1.0e6
"""Largest |coordinate| accepted for ImagePositionPatient (1 km: anything larger is corrupt and
overflows distance arithmetic)."""
MAX_ABS_SLOPE = 1.0e6
"""Largest |RescaleSlope|: 65535 stored values times this still fit float32 HU."""
MAX_FRAMES = 100_000
"""Most frames accepted in one object (a whole-body multi-frame CT has a few thousand)."""
MAX_PIXEL_SPACING_MM = 1.0e4
"""Largest PixelSpacing accepted (10 m per pixel)."""


# Plain (not frozen) slotted records: a frozen dataclass's __init__ costs about 5 us more per
# file, a third of a folder scan's per-file budget. Treat them as read-only.
@dataclass(slots=True)
class FrameGeometry:
    """Geometry and rescale of one frame (one slice) of an image object.

    ``position_mm`` is ImagePositionPatient (LPS mm of the centre of the first voxel),
    ``orientation`` is ImageOrientationPatient (row cosine then column cosine),
    ``pixel_spacing_mm`` is ``(row spacing, column spacing)`` = ``(y, x)`` in mm.
    """

    position_mm: tuple[float, float, float] | None
    orientation: tuple[float, float, float, float, float, float] | None
    pixel_spacing_mm: tuple[float, float] | None
    slice_thickness_mm: float | None
    rescale_slope: float
    rescale_intercept: float
    frame_type: tuple[str, ...] = ()


@dataclass(slots=True)
class FileHeader:
    """The header fields of one DICOM file that discovery and loading use."""

    path: Path
    sop_class_uid: str
    sop_instance_uid: str
    modality: str
    patient_id: str
    patient_name: str
    study_instance_uid: str
    study_date: dt.date | None
    study_time: str
    study_description: str
    series_instance_uid: str
    series_number: int | None
    series_description: str
    series_time: str
    acquisition_time: str
    content_time: str
    image_type: tuple[str, ...]
    frame_of_reference_uid: str
    rows: int | None
    columns: int | None
    number_of_frames: int
    instance_number: int | None
    acquisition_number: int | None
    contrast_agent: str
    contrast_start_time: str
    contrast_route: str
    contrast_volume_ml: float | None
    contrast_administered: bool | None
    """From the Enhanced CT Contrast/Bolus Usage sequence (``YES`` / ``NO``), else None."""
    gantry_tilt_deg: float | None
    spacing_between_slices_mm: float | None
    bits_allocated: int | None
    bits_stored: int | None
    pixel_representation: int | None
    samples_per_pixel: int | None
    transfer_syntax_uid: str
    protocol_name: str
    body_part: str
    frames: tuple[FrameGeometry, ...]
    """One entry per frame (a single entry for a single-frame image; empty for non-images)."""
    enhanced: bool
    """True when geometry came from functional groups (Enhanced / multi-frame objects)."""

    @property
    def is_image(self) -> bool:
        """True for objects with pixel rows and columns and at least one frame."""
        return bool(self.rows and self.columns and self.frames)


def _str(ds: _Header, keyword: str) -> str:
    value = ds.get(keyword)
    if value is None:
        return ""
    return str(value).strip()


def _int(ds: _Header, keyword: str) -> int | None:
    value = ds.get(keyword)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _float(ds: _Header | None, keyword: str) -> float | None:
    if ds is None:
        return None
    value = ds.get(keyword)
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _positive(ds: _Header | None, keyword: str) -> float | None:
    """A thickness or spacing in mm, None unless finite and positive (only ever a fallback)."""
    value = _float(ds, keyword)
    return value if value is not None and math.isfinite(value) and 0 < value < 1e4 else None


def _rescale(ds: _Header | None, keyword: str, default: float) -> float:
    """A rescale value; ``default`` when absent. An unparseable value is refused, not replaced
    (a slope silently taken as 1 would give wrong HU)."""
    if ds is None:
        return default
    value = ds.get(keyword)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InvalidHeaderError(f"{keyword} {value!r} is not a number") from None


def _floats(ds: _Header | None, keyword: str, n: int) -> tuple[float, ...] | None:
    if ds is None:
        return None
    value = ds.get(keyword)
    if value is None or value == "":
        return None
    try:
        values = tuple(map(float, value))
    except (TypeError, ValueError):
        return None
    return values if len(values) == n else None


def _multi(ds: _Header | None, keyword: str) -> tuple[str, ...]:
    if ds is None:
        return ()
    value = ds.get(keyword)
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return (value.strip().upper(),)
    return tuple(str(v).strip().upper() for v in value)


@functools.lru_cache(maxsize=4096)
def _date(value: str) -> dt.date | None:
    """The date of a DICOM DA value (cached: a folder repeats a few dates thousands of times)."""
    value = value.strip()
    if len(value) >= 8 and value[:8].isdigit():
        try:
            return dt.date(int(value[:4]), int(value[4:6]), int(value[6:8]))
        except ValueError:
            return None
    return None


def parse_dicom_time(value: str) -> float | None:
    """Seconds since midnight of a DICOM TM value (``HHMMSS.frac``, ``HH:MM:SS``), or None."""
    text = value.strip().replace(":", "")
    if not text:
        return None
    main, _, frac = text.partition(".")
    if not main.isdigit() or len(main) < 2:
        return None
    hours = int(main[0:2])
    minutes = int(main[2:4]) if len(main) >= 4 else 0
    seconds = int(main[4:6]) if len(main) >= 6 else 0
    fraction = float("0." + frac) if frac.isdigit() else 0.0
    if hours > 23 or minutes > 59 or seconds > 60:
        return None
    return hours * 3600.0 + minutes * 60.0 + seconds + fraction


def _item(ds: _Header | None, keyword: str) -> Dataset | None:
    if ds is None:
        return None
    seq = ds.get(keyword)
    if not seq:
        return None
    try:
        return seq[0]
    except (IndexError, TypeError):
        return None


def _frame_geometry(ds: _Header) -> tuple[tuple[FrameGeometry, ...], bool, bool | None]:
    """Per-frame geometry; (frames, enhanced, contrast_administered)."""
    n_frames = _int(ds, "NumberOfFrames") or 1
    if n_frames > MAX_FRAMES:
        # Checked before one record per frame is built: 99,999,999 frames took minutes and GBs.
        raise InvalidHeaderError(f"NumberOfFrames (0028,0008) {n_frames} exceeds {MAX_FRAMES}")
    shared = _item(ds, "SharedFunctionalGroupsSequence")
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    if shared is None and not per_frame:
        frame = FrameGeometry(
            position_mm=_floats(ds, "ImagePositionPatient", 3),  # type: ignore[arg-type]
            orientation=_floats(ds, "ImageOrientationPatient", 6),  # type: ignore[arg-type]
            pixel_spacing_mm=_floats(ds, "PixelSpacing", 2),  # type: ignore[arg-type]
            slice_thickness_mm=_positive(ds, "SliceThickness"),
            rescale_slope=_rescale(ds, "RescaleSlope", 1.0),
            rescale_intercept=_rescale(ds, "RescaleIntercept", 0.0),
            frame_type=_multi(ds, "ImageType"),
        )
        if n_frames > 1:
            # A legacy multi-frame object without functional groups has no per-frame position;
            # report frames without positions so loading fails with a clear message.
            blank = FrameGeometry(
                None,
                frame.orientation,
                frame.pixel_spacing_mm,
                frame.slice_thickness_mm,
                frame.rescale_slope,
                frame.rescale_intercept,
                frame.frame_type,
            )
            return (blank,) * n_frames, True, None
        return (frame,), False, None

    def lookup(frame_item: Dataset | None, seq_keyword: str) -> Dataset | None:
        return _item(frame_item, seq_keyword) or _item(shared, seq_keyword)

    frames = []
    for i in range(n_frames):
        frame_item = per_frame[i] if per_frame is not None and i < len(per_frame) else None
        position = lookup(frame_item, "PlanePositionSequence")
        orientation = lookup(frame_item, "PlaneOrientationSequence")
        measures = lookup(frame_item, "PixelMeasuresSequence")
        transform = lookup(frame_item, "PixelValueTransformationSequence")
        frame_type = lookup(frame_item, "CTImageFrameTypeSequence")
        frames.append(
            FrameGeometry(
                position_mm=_floats(position, "ImagePositionPatient", 3),  # type: ignore[arg-type]
                orientation=_floats(orientation, "ImageOrientationPatient", 6),  # type: ignore[arg-type]
                pixel_spacing_mm=_floats(measures, "PixelSpacing", 2),  # type: ignore[arg-type]
                slice_thickness_mm=_positive(measures, "SliceThickness"),
                rescale_slope=_rescale(
                    transform, "RescaleSlope", _rescale(ds, "RescaleSlope", 1.0)
                ),
                rescale_intercept=_rescale(
                    transform, "RescaleIntercept", _rescale(ds, "RescaleIntercept", 0.0)
                ),
                frame_type=_multi(frame_type, "FrameType") or _multi(ds, "ImageType"),
            )
        )
    usage = _item(shared, "ContrastBolusUsageSequence")
    administered = None
    if usage is not None and usage.get("ContrastBolusAgentAdministered"):
        administered = str(usage.ContrastBolusAgentAdministered).upper() == "YES"
    return tuple(frames), True, administered


def _looks_like_dicom(path: Path) -> bool:
    """Cheap check: a 'DICM' prefix at byte 128, or a raw little-endian group 0x0008 start."""
    with open(path, "rb") as fh:
        head = fh.read(132)
    if len(head) == 132 and head[128:132] == b"DICM":
        return True
    return len(head) >= 8 and head[:2] in (b"\x08\x00", b"\x02\x00")


def read_header(path: str | os.PathLike[str], *, all_tags: bool = False) -> FileHeader:
    """Read the header of one file (never its pixel data).

    Parameters
    ----------
    path
        A file (any name: DICOM files often have no extension).
    all_tags
        Parse the whole header instead of only the tags lesion-tool uses (slower).

    Returns
    -------
    FileHeader
        The fields discovery and loading need, with per-frame geometry.

    Raises
    ------
    NotDicomError
        The file is not DICOM, is truncated or cannot be parsed; the message is the reason.
    """
    path = path if isinstance(path, Path) else Path(path)
    if not all_tags:
        try:
            raw = read_raw(str(path), _KEYWORDS)
        except OSError as err:
            raise NotDicomError(f"unreadable ({type(err).__name__}: {err})") from None
        if raw is not None:
            return header_from_dataset(raw, path)
    try:
        if not _looks_like_dicom(path):
            raise NotDicomError("not a DICOM file (no 'DICM' prefix at byte 128)")
    except OSError as err:
        raise NotDicomError(f"unreadable ({type(err).__name__}: {err})") from None
    import pydicom  # here: the raw reader above reads most files without it
    from pydicom.errors import InvalidDicomError

    try:
        ds = pydicom.dcmread(
            path,
            stop_before_pixels=True,
            specific_tags=None if all_tags else _specific_tags(),
            force=True,
        )
    except InvalidDicomError as err:
        raise NotDicomError(f"not a DICOM file ({err})") from None
    except (OSError, EOFError) as err:
        raise NotDicomError(f"unreadable ({type(err).__name__}: {err})") from None
    except Exception as err:  # noqa: BLE001 - pydicom raises many types on corrupt files
        raise NotDicomError(f"corrupt DICOM header ({type(err).__name__}: {err})") from None
    return header_from_dataset(ds, path)


def header_from_dataset(ds: _Header, path: Path) -> FileHeader:
    """Build a :class:`FileHeader` from an already-read dataset.

    Raises
    ------
    NotDicomError
        The dataset lacks a SOP Class or SOP Instance UID (not a usable DICOM object) or a value
        cannot be parsed (a truncated file).
    """
    meta = getattr(ds, "file_meta", None)
    try:
        sop_class = _str(ds, "SOPClassUID") or (
            str(meta.get("MediaStorageSOPClassUID", "")) if meta is not None else ""
        )
        sop_instance = _str(ds, "SOPInstanceUID") or (
            str(meta.get("MediaStorageSOPInstanceUID", "")) if meta is not None else ""
        )
        if sop_class == DICOMDIR_SOP_CLASS:
            frames: tuple[FrameGeometry, ...] = ()
            enhanced, administered = False, None
        else:
            if not sop_class or not sop_instance:
                raise NotDicomError("not a DICOM object (no SOP Class / SOP Instance UID)")
            frames, enhanced, administered = _frame_geometry(ds)
        rows, columns = _int(ds, "Rows"), _int(ds, "Columns")
        if not (rows and columns):
            frames = ()
        header = FileHeader(
            path=path,
            sop_class_uid=sop_class,
            sop_instance_uid=sop_instance,
            modality=_str(ds, "Modality").upper(),
            patient_id=_str(ds, "PatientID"),
            patient_name=_str(ds, "PatientName"),
            study_instance_uid=_str(ds, "StudyInstanceUID"),
            study_date=_date(_str(ds, "StudyDate")),
            study_time=_str(ds, "StudyTime"),
            study_description=_str(ds, "StudyDescription"),
            series_instance_uid=_str(ds, "SeriesInstanceUID"),
            series_number=_int(ds, "SeriesNumber"),
            series_description=_str(ds, "SeriesDescription"),
            series_time=_str(ds, "SeriesTime"),
            acquisition_time=_str(ds, "AcquisitionTime")
            or _str(ds, "AcquisitionDateTime")[8:].strip(),
            content_time=_str(ds, "ContentTime"),
            image_type=_multi(ds, "ImageType"),
            frame_of_reference_uid=_str(ds, "FrameOfReferenceUID"),
            rows=rows,
            columns=columns,
            number_of_frames=_int(ds, "NumberOfFrames") or (1 if rows else 0),
            instance_number=_int(ds, "InstanceNumber"),
            acquisition_number=_int(ds, "AcquisitionNumber"),
            contrast_agent=_str(ds, "ContrastBolusAgent"),
            contrast_start_time=_str(ds, "ContrastBolusStartTime"),
            contrast_route=_str(ds, "ContrastBolusRoute"),
            contrast_volume_ml=_float(ds, "ContrastBolusVolume"),
            contrast_administered=administered,
            gantry_tilt_deg=_float(ds, "GantryDetectorTilt"),
            spacing_between_slices_mm=_positive(ds, "SpacingBetweenSlices"),
            bits_allocated=_int(ds, "BitsAllocated"),
            bits_stored=_int(ds, "BitsStored"),
            pixel_representation=_int(ds, "PixelRepresentation"),
            samples_per_pixel=_int(ds, "SamplesPerPixel"),
            transfer_syntax_uid=str(meta.get("TransferSyntaxUID", "")) if meta is not None else "",
            protocol_name=_str(ds, "ProtocolName"),
            body_part=_str(ds, "BodyPartExamined"),
            frames=frames,
            enhanced=enhanced,
        )
    except InvalidHeaderError as err:
        try:
            series = _str(ds, "SeriesInstanceUID")
        except Exception:  # noqa: BLE001 - the UID itself may be the corrupt value
            series = ""
        raise InvalidHeaderError(str(err), series) from None
    except NotDicomError:
        raise
    except Exception as err:  # noqa: BLE001 - a truncated value surfaces here, lazily parsed
        raise NotDicomError(f"corrupt DICOM header ({type(err).__name__}: {err})") from None
    if header.is_image:
        problem = image_header_problem(header)
        if problem:
            raise InvalidHeaderError(problem, header.series_instance_uid)
    return header


def _bad(values: tuple[float, ...] | None, *, positive: bool, limit: float) -> bool:
    if values is None:
        return False
    for v in values:  # a loop, not all(genexpr): three calls per file of a folder scan
        if not (math.isfinite(v) and abs(v) <= limit and (v > 0 or not positive)):
            return True
    return False


def image_header_problem(h: FileHeader) -> str:
    """Why an image header cannot describe real pixels ('' when its values are plausible).

    The single check of geometry and pixel-format values for every reader (scan, load, plugin):
    spacing finite and positive, positions and orientation finite, rescale finite with a non-zero
    slope, Rows / Columns / bit depths in the ranges DICOM allows. Missing values are left to the
    loaders, whose messages say what to do.
    """
    for k, g in enumerate(h.frames):
        where = f" (frame {k + 1})" if len(h.frames) > 1 else ""
        if _bad(g.pixel_spacing_mm, positive=True, limit=MAX_PIXEL_SPACING_MM):
            return (
                f"PixelSpacing (0028,0030) {list(g.pixel_spacing_mm or ())}{where} is not finite "
                f"and positive (0 < spacing <= {MAX_PIXEL_SPACING_MM:g} mm)"
            )
        if _bad(g.position_mm, positive=False, limit=MAX_ABS_POSITION_MM):
            return (
                f"ImagePositionPatient (0020,0032) {list(g.position_mm or ())}{where} is not "
                f"finite (or beyond {MAX_ABS_POSITION_MM:g} mm)"
            )
        o = g.orientation
        if o is not None and (
            _bad(o, positive=False, limit=1.5)
            or math.hypot(*o[:3]) < 0.5
            or math.hypot(*o[3:]) < 0.5
        ):
            return (
                f"ImageOrientationPatient (0020,0037) {list(o)}{where} is not two finite unit "
                "vectors"
            )
        if not (math.isfinite(g.rescale_slope) and 0 < abs(g.rescale_slope) <= MAX_ABS_SLOPE):
            # -1e308 is finite but overflows float32 HU to -inf (found by the tag fuzzer)
            return (
                f"RescaleSlope (0028,1053) {g.rescale_slope}{where} is not finite, non-zero and "
                f"within +-{MAX_ABS_SLOPE:g}"
            )
        if not math.isfinite(g.rescale_intercept) or abs(g.rescale_intercept) > 1e9:
            return f"RescaleIntercept (0028,1052) {g.rescale_intercept}{where} is not finite"
    if not (0 < (h.rows or 0) <= 65535 and 0 < (h.columns or 0) <= 65535):
        return f"Rows x Columns {h.rows} x {h.columns} is out of range (1-65535)"
    if h.number_of_frames < 1:
        return f"NumberOfFrames {h.number_of_frames} is not positive"
    bits, stored = h.bits_allocated, h.bits_stored
    if bits is not None and bits not in (1, 8, 16, 32, 64):
        return f"BitsAllocated (0028,0100) {bits} is not 1, 8, 16, 32 or 64"
    if stored is not None and (stored < 1 or (bits is not None and stored > bits)):
        return f"BitsStored (0028,0101) {stored} is not between 1 and BitsAllocated ({bits})"
    if h.pixel_representation not in (None, 0, 1):
        return f"PixelRepresentation (0028,0103) {h.pixel_representation} is not 0 or 1"
    if (h.samples_per_pixel or 1) not in (1, 3, 4):
        return f"SamplesPerPixel (0028,0002) {h.samples_per_pixel} is not 1, 3 or 4"
    return ""
