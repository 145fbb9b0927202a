"""Tiny writers of CT DICOM series for the I/O tests (each test builds exactly the case it checks).

Everything is deterministic: UIDs derive from the arguments, pixel values from ``values`` or from a
fixed ramp. Files have no extension, as PACS exports often do.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import (
    CTImageStorage,
    EnhancedCTImageStorage,
    ExplicitVRLittleEndian,
    generate_uid,
)

AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
CORONAL = (1.0, 0.0, 0.0, 0.0, 0.0, -1.0)


def uid(*parts: object) -> str:
    """A deterministic UID from ``parts``."""
    return generate_uid(entropy_srcs=[str(p) for p in parts])


def ramp(n: int, rows: int, cols: int, offset: int = 1000) -> np.ndarray:
    """Stored values ``(n, rows, cols)`` uint16 that differ on every voxel (slice k adds 100 k)."""
    z, y, x = np.indices((n, rows, cols))
    return (offset + 100 * z + 3 * y + x).astype(np.uint16)


def _base(
    *,
    patient_id: str,
    study_uid: str,
    series_uid: str,
    description: str,
    series_number: int,
    sop_class: str = CTImageStorage,
    modality: str = "CT",
) -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = sop_class
    ds.Modality = modality
    ds.PatientID = patient_id
    ds.PatientName = f"TEST^{patient_id}"
    ds.StudyInstanceUID = study_uid
    ds.StudyDate = "20240105"
    ds.StudyTime = "101500"
    ds.StudyDescription = "CT ABDOMEN"
    ds.StudyID = "1"
    ds.AccessionNumber = ""
    ds.SeriesInstanceUID = series_uid
    ds.SeriesNumber = series_number
    ds.SeriesDescription = description
    ds.FrameOfReferenceUID = uid("for", study_uid)
    return ds


def _finish(ds: Dataset, path: Path, transfer_syntax: str) -> None:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    if transfer_syntax != ExplicitVRLittleEndian:
        ds.compress(transfer_syntax, encoding_plugin="")
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)


def write_series(
    folder: Path,
    *,
    n: int = 6,
    rows: int = 12,
    cols: int = 10,
    spacing_mm: tuple[float, float, float] = (2.5, 0.7, 0.8),
    origin_mm: tuple[float, float, float] = (-10.0, -20.0, -30.0),
    orientation: Sequence[float] = AXIAL,
    positions: Sequence[Sequence[float]] | None = None,
    values: np.ndarray | None = None,
    slope: float = 1.0,
    intercept: float = -1024.0,
    slice_thickness_mm: float | None = None,
    pixel_spacing: bool = True,
    description: str = "TEST SERIES",
    series_number: int = 2,
    patient_id: str = "PAT1",
    study_key: str = "study1",
    series_key: str | None = None,
    image_type: Sequence[str] = ("ORIGINAL", "PRIMARY", "AXIAL"),
    transfer_syntax: str = ExplicitVRLittleEndian,
    instance_numbers: Sequence[int] | None = None,
    extra: dict[str, object] | None = None,
    name: str = "IM{:04d}",
) -> list[Path]:
    """Write a single-frame CT series; returns the paths in slice (position) order.

    ``positions`` overrides the regular stack ``origin + k * spacing_z * normal`` (to build
    missing slices, duplicates, tilt); ``values`` are stored values ``(n, rows, cols)``.
    """
    study_uid = uid("study", patient_id, study_key)
    series_uid = uid("series", patient_id, study_key, series_key or description, series_number)
    o = np.asarray(orientation, dtype=float)
    normal = np.cross(o[:3], o[3:])
    if positions is None:
        positions = [np.asarray(origin_mm) + k * spacing_mm[0] * normal for k in range(n)]
    n = len(positions)
    if values is None:
        values = ramp(n, rows, cols)
    paths = []
    for k, pos in enumerate(positions):
        ds = _base(
            patient_id=patient_id,
            study_uid=study_uid,
            series_uid=series_uid,
            description=description,
            series_number=series_number,
        )
        ds.SOPInstanceUID = uid("sop", series_uid, name.format(k + 1), *pos)
        ds.ImageType = list(image_type)
        ds.InstanceNumber = instance_numbers[k] if instance_numbers else k + 1
        ds.ImagePositionPatient = [f"{v:.6f}" for v in pos]
        ds.ImageOrientationPatient = [f"{v:.6f}" for v in o]
        if pixel_spacing:
            ds.PixelSpacing = [spacing_mm[1], spacing_mm[2]]
        ds.SliceThickness = slice_thickness_mm if slice_thickness_mm is not None else spacing_mm[0]
        ds.RescaleSlope = slope
        ds.RescaleIntercept = intercept
        ds.RescaleType = "HU"
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows, ds.Columns = values.shape[1], values.shape[2]
        ds.BitsAllocated = 16
        ds.BitsStored = 16
        ds.HighBit = 15
        ds.PixelRepresentation = 1 if values.dtype == np.int16 else 0
        ds.PixelData = np.ascontiguousarray(values[k]).tobytes()
        for key, value in (extra or {}).items():
            setattr(ds, key, value)
        path = folder / name.format(k + 1)
        _finish(ds, path, transfer_syntax)
        paths.append(path)
    return paths


def write_enhanced_ct(
    path: Path,
    *,
    n: int = 5,
    rows: int = 12,
    cols: int = 10,
    spacing_mm: tuple[float, float, float] = (3.0, 0.6, 0.9),
    origin_mm: tuple[float, float, float] = (5.0, 6.0, 7.0),
    orientation: Sequence[float] = AXIAL,
    frame_order: Sequence[int] | None = None,
    values: np.ndarray | None = None,
    intercept: float = -1024.0,
    transfer_syntax: str = ExplicitVRLittleEndian,
    positions: bool = True,
) -> np.ndarray:
    """Write an Enhanced CT multi-frame file whose frames are stored in ``frame_order``.

    Returns the stored values ``(n, rows, cols)`` in slice (position) order.
    """
    o = np.asarray(orientation, dtype=float)
    normal = np.cross(o[:3], o[3:])
    order = list(frame_order) if frame_order is not None else list(range(n))
    if values is None:
        values = ramp(n, rows, cols)
    key = hashlib.sha1(str(path).encode()).hexdigest()[:8]
    ds = _base(
        patient_id="PATMF",
        study_uid=uid("mfstudy", key),
        series_uid=uid("mfseries", key),
        description="ENHANCED CT",
        series_number=7,
        sop_class=EnhancedCTImageStorage,
    )
    ds.SOPInstanceUID = uid("mfsop", key)
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL", "NONE"]
    ds.InstanceNumber = 1
    ds.NumberOfFrames = n
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = rows, cols
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    shared = Dataset()
    measures = Dataset()
    measures.PixelSpacing = [spacing_mm[1], spacing_mm[2]]
    measures.SliceThickness = spacing_mm[0]
    shared.PixelMeasuresSequence = DicomSequence([measures])
    plane = Dataset()
    plane.ImageOrientationPatient = [f"{v:.6f}" for v in o]
    shared.PlaneOrientationSequence = DicomSequence([plane])
    transform = Dataset()
    transform.RescaleSlope = 1
    transform.RescaleIntercept = intercept
    transform.RescaleType = "HU"
    shared.PixelValueTransformationSequence = DicomSequence([transform])
    ds.SharedFunctionalGroupsSequence = DicomSequence([shared])
    per_frame = []
    for k in order:
        item = Dataset()
        pos = Dataset()
        pos.ImagePositionPatient = [
            f"{v:.6f}" for v in np.asarray(origin_mm) + k * spacing_mm[0] * normal
        ]
        if positions:
            item.PlanePositionSequence = DicomSequence([pos])
        per_frame.append(item)
    ds.PerFrameFunctionalGroupsSequence = DicomSequence(per_frame)
    ds.PixelData = np.ascontiguousarray(values[order]).tobytes()
    _finish(ds, path, transfer_syntax)
    return values


def write_sr(path: Path, *, patient_id: str = "PAT1", study_key: str = "study1") -> None:
    """A minimal Basic Text SR in the given study (a non-image object for discovery tests)."""
    study_uid = uid("study", patient_id, study_key)
    ds = _base(
        patient_id=patient_id,
        study_uid=study_uid,
        series_uid=uid("sr", study_uid),
        description="DOSE REPORT",
        series_number=999,
        sop_class="1.2.840.10008.5.1.4.1.1.88.11",
        modality="SR",
    )
    del ds.FrameOfReferenceUID
    ds.SOPInstanceUID = uid("srsop", study_uid)
    ds.ValueType = "CONTAINER"
    _finish(ds, path, ExplicitVRLittleEndian)


def read_values(path: Path) -> np.ndarray:
    """Decoded stored values of one file (pydicom, for comparisons)."""
    return pydicom.dcmread(path).pixel_array
