"""Write synthetic CT slices as CT Image Storage files, the way a scanner would.

Every identifier is derived from the generator's seed with
``pydicom.uid.generate_uid(entropy_srcs=[...])``, so a fixed seed gives byte-identical files.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import itertools
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset, write_file_meta_info
from pydicom.pixels import get_encoder
from pydicom.uid import (
    UID,
    CTImageStorage,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLSLossless,
    RLELossless,
    generate_uid,
)

from lesion_tool.synth.shapes import SliceGrid

TRANSFER_SYNTAXES: dict[str, UID] = {
    "explicit": ExplicitVRLittleEndian,
    "rle": RLELossless,
    "jpeg-ls": JPEGLSLossless,
    "jpeg2000": JPEG2000Lossless,
}
"""Transfer syntaxes the generator can write (all lossless)."""

HU_OFFSET = 1024
"""Stored value = HU + 1024 (RescaleIntercept -1024, RescaleSlope 1), 12 bits stored."""

IMPLEMENTATION_VERSION = "LESIONTOOL_SYN1"


def uid(*parts: object) -> str:
    """A deterministic UID from ``parts`` (pydicom's root, SHA-512 of the parts)."""
    return generate_uid(entropy_srcs=[str(p) for p in parts])


def format_date(d: dt.date) -> str:
    """DICOM DA."""
    return d.strftime("%Y%m%d")


def format_time(t: dt.datetime) -> str:
    """DICOM TM with whole seconds."""
    return t.strftime("%H%M%S")


@dataclass(frozen=True)
class PatientInfo:
    """Patient module values (synthetic)."""

    patient_id: str
    name: str
    birth_date: dt.date
    sex: str


@dataclass(frozen=True)
class StudyInfo:
    """General study values."""

    study_instance_uid: str
    date: dt.date
    time: dt.datetime
    accession: str
    study_id: str
    description: str = "CT ABDOMEN LIVER MULTIPHASE"


@dataclass(frozen=True)
class SeriesInfo:
    """Series-level values of one phase of one study."""

    series_instance_uid: str
    frame_of_reference_uid: str
    number: int
    description: str
    acquisition_time: dt.datetime | None
    contrast_agent: str | None
    """None: no Contrast/Bolus module (unenhanced, or a scanner that leaves it out); ``""``:
    ContrastBolusAgent present but empty (as many anonymised exports have it)."""
    contrast_start: dt.datetime | None
    window: tuple[tuple[float, float], ...] = ((60.0, 160.0), (40.0, 400.0))
    window_names: tuple[str, ...] = ("LIVER", "ABDOMEN")
    image_type: tuple[str, ...] = ("ORIGINAL", "PRIMARY", "AXIAL")


def slice_dataset(
    pixels_hu: np.ndarray,
    grid: SliceGrid,
    k: int,
    instance_number: int,
    sop_instance_uid: str,
    patient: PatientInfo,
    study: StudyInfo,
    series: SeriesInfo,
    transfer_syntax: UID = ExplicitVRLittleEndian,
    spacing_between_slices: float | None = None,
    gantry_tilt_deg: float | None = None,
) -> Dataset:
    """One CT Image Storage dataset: slice ``k`` of ``grid`` holding ``pixels_hu`` (rows, cols)."""
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = list(series.image_type)
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = sop_instance_uid
    ds.StudyDate = format_date(study.date)
    ds.SeriesDate = format_date(study.date)
    acq = series.acquisition_time
    if acq is not None:
        ds.AcquisitionDate = format_date(study.date)
        ds.ContentDate = format_date(study.date)
        ds.AcquisitionDateTime = acq.strftime("%Y%m%d%H%M%S")
    ds.StudyTime = format_time(study.time)
    ds.SeriesTime = format_time(acq or study.time)
    if acq is not None:
        ds.AcquisitionTime = format_time(acq)
        ds.ContentTime = format_time(acq)
    ds.AccessionNumber = study.accession
    ds.Modality = "CT"
    ds.Manufacturer = "lesion-tool synthetic"
    ds.InstitutionName = "Synthetic"
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = study.description
    ds.SeriesDescription = series.description
    ds.ManufacturerModelName = "lesion_tool.synth"
    ds.PatientName = patient.name
    ds.PatientID = patient.patient_id
    ds.PatientBirthDate = format_date(patient.birth_date)
    ds.PatientSex = patient.sex
    age = (study.date - patient.birth_date).days // 365
    ds.PatientAge = f"{age:03d}Y"
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = "Synthetic data: no patient was imaged"
    if series.contrast_agent == "":  # the module's type 2 attribute present but empty
        ds.ContrastBolusAgent = ""
    elif series.contrast_agent is not None:
        ds.ContrastBolusAgent = series.contrast_agent
        ds.ContrastBolusRoute = "IV"
        ds.ContrastBolusVolume = "100"
        if series.contrast_start is not None:
            ds.ContrastBolusStartTime = format_time(series.contrast_start)
    ds.BodyPartExamined = "ABDOMEN"
    ds.SliceThickness = _ds(grid.slice_thickness_mm)
    ds.KVP = "120"
    if spacing_between_slices is not None:
        ds.SpacingBetweenSlices = _ds(spacing_between_slices)
    ds.SoftwareVersions = IMPLEMENTATION_VERSION
    ds.GantryDetectorTilt = _ds(gantry_tilt_deg or 0.0)
    ds.ConvolutionKernel = "STANDARD"
    ds.PatientPosition = "HFS"
    ds.StudyInstanceUID = study.study_instance_uid
    ds.SeriesInstanceUID = series.series_instance_uid
    ds.StudyID = study.study_id
    ds.SeriesNumber = series.number
    ds.AcquisitionNumber = 1
    ds.InstanceNumber = instance_number
    position, location = slice_position(grid, k)
    ds.ImagePositionPatient = position
    ds.ImageOrientationPatient = [_ds(v, 8) for v in (*grid.row_dir, *grid.col_dir)]
    ds.FrameOfReferenceUID = series.frame_of_reference_uid
    ds.PositionReferenceIndicator = ""
    ds.SliceLocation = location
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = pixels_hu.shape
    ds.PixelSpacing = [_ds(v) for v in grid.pixel_spacing_mm]
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.WindowCenter = [_ds(c) for c, _ in series.window]
    ds.WindowWidth = [_ds(w) for _, w in series.window]
    ds.WindowCenterWidthExplanation = list(series.window_names)
    ds.RescaleIntercept = str(-HU_OFFSET)
    ds.RescaleSlope = "1"
    ds.RescaleType = "HU"
    ds.ImageComments = (
        "Synthetic image generated by lesion-tool (lesion_tool.synth); not a patient."
    )
    stored = to_stored(pixels_hu)
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = sop_instance_uid
    ds.file_meta.ImplementationVersionName = IMPLEMENTATION_VERSION
    ds.file_meta.TransferSyntaxUID = transfer_syntax
    ds.update(pixel_element(stored, transfer_syntax))
    return ds


VARYING_TAGS: tuple[int, ...] = (0x00080018, 0x00200013, 0x00200032, 0x00201041, 0x7FE00010)
"""Elements that differ between the slices of one series (SOPInstanceUID, InstanceNumber,
ImagePositionPatient, SliceLocation, PixelData); all else is encoded once per series."""


def _encode(ds: Dataset) -> bytes:
    """Explicit VR little endian encoding of ``ds``'s elements (no preamble, no meta)."""
    fp = DicomBytesIO()
    fp.is_little_endian = True
    fp.is_implicit_VR = False
    write_dataset(fp, ds)
    return fp.getvalue()


class SeriesWriter:
    """Writes the slices of one series fast: the elements shared by all slices are encoded once
    (from the first slice's dataset, by pydicom) and each file is assembled from those bytes and
    the few per-slice elements, encoded here, in ascending tag order. The files are identical to
    ``save_as`` output (tested).
    """

    def __init__(self, first: Dataset) -> None:
        bounds = [0, *VARYING_TAGS, 0xFFFFFFFF]
        self.chunks: list[bytes] = []
        for lo, hi in itertools.pairwise(bounds):
            part = Dataset()
            for elem in first:
                if lo < elem.tag < hi:
                    part.add(elem)
            self.chunks.append(_encode(part))
        # The meta header as pydicom writes it, split around MediaStorageSOPInstanceUID.
        meta = FileMetaDataset(first.file_meta)
        write_file_meta_info(DicomBytesIO(), meta, enforce_standard=True)
        before, after = Dataset(), Dataset()
        for elem in meta:
            if 0x00020000 < elem.tag < 0x00020003:
                before.add(elem)
            elif elem.tag > 0x00020003:
                after.add(elem)
        self.meta_before = _encode(before)
        self.meta_after = _encode(after)

    def write(
        self,
        path: Path,
        *,
        sop_instance_uid: str,
        instance_number: int,
        position: Sequence[str],
        slice_location: str,
        pixel_element: Dataset | bytes,
    ) -> None:
        """Write one slice; ``pixel_element`` is a dataset holding just its PixelData, or the
        native pixel bytes (little-endian uint16)."""
        uid_bytes = sop_instance_uid.encode("ascii")
        if isinstance(pixel_element, bytes):
            pixels = struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OW", 0, len(pixel_element))
            pixels += pixel_element
        else:
            pixels = _encode(pixel_element)
        pieces = [
            _short(0x0008, 0x0018, b"UI", uid_bytes, b"\x00"),
            _short(0x0020, 0x0013, b"IS", str(instance_number).encode("ascii"), b" "),
            _short(0x0020, 0x0032, b"DS", "\\".join(position).encode("ascii"), b" "),
            _short(0x0020, 0x1041, b"DS", slice_location.encode("ascii"), b" "),
            pixels,
        ]
        meta_uid = _short(0x0002, 0x0003, b"UI", uid_bytes, b"\x00")
        group = len(self.meta_before) + len(meta_uid) + len(self.meta_after)
        out = [
            b"\x00" * 128,
            b"DICM",
            struct.pack("<HH2sHI", 0x0002, 0x0000, b"UL", 4, group),
            self.meta_before,
            meta_uid,
            self.meta_after,
        ]
        for chunk, piece in zip(self.chunks[:-1], pieces, strict=True):
            out.append(chunk)
            out.append(piece)
        out.append(self.chunks[-1])
        write_whole(path, b"".join(out))


def _short(group: int, element: int, vr: bytes, value: bytes, pad: bytes) -> bytes:
    """An explicit VR little endian element with a 2-byte length, padded to even length."""
    if len(value) % 2:
        value += pad
    return struct.pack("<HH2sH", group, element, vr, len(value)) + value


def pixel_element(stored: np.ndarray, transfer_syntax: UID) -> Dataset:
    """A dataset holding only the PixelData of ``stored`` (uint16 rows x cols), native or
    encapsulated (one fragment per frame) for a compressed transfer syntax."""
    ds = Dataset()
    if transfer_syntax == ExplicitVRLittleEndian:
        ds.PixelData = stored.tobytes()
        ds["PixelData"].VR = "OW"
        return ds
    frame = get_encoder(transfer_syntax).encode(
        stored,
        rows=stored.shape[0],
        columns=stored.shape[1],
        samples_per_pixel=1,
        bits_allocated=16,
        bits_stored=12,
        pixel_representation=0,
        photometric_interpretation="MONOCHROME2",
        number_of_frames=1,
    )
    ds.PixelData = encapsulate([frame])
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    return ds


def slice_position(grid: SliceGrid, k: int) -> tuple[list[str], str]:
    """ImagePositionPatient and SliceLocation strings of slice ``k`` (mm)."""
    position = grid.positions[k]
    return [_ds(v) for v in position], _ds(float(position @ grid.normal))


def to_stored(pixels_hu: np.ndarray) -> np.ndarray:
    """Round HU to integers, clip to the 12-bit stored range and add the offset (uint16)."""
    return (np.clip(np.rint(pixels_hu), -HU_OFFSET, 4095 - HU_OFFSET) + HU_OFFSET).astype(np.uint16)


def write_whole(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file renamed over it when complete.

    A full disk (or any write error) leaves no truncated file behind: the partial temporary
    file is removed and ``path`` is never created half-written. Not fsynced (a synthetic study
    is cheap to regenerate, and an fsync per slice would make ``synth`` several times slower).
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def save_dataset(ds: Dataset, path: Path) -> None:
    """Write ``ds`` as a DICOM Part 10 file (preamble, meta header), never half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    write_whole(path, buf.getvalue())


def _ds(value: float, digits: int = 6) -> str:
    """A DS string with at most 16 characters (rounded, no trailing zeros)."""
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    while len(text) > 16 and digits > 0:
        digits -= 1
        text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return text


def instance_numbers(n: int) -> Sequence[int]:
    """Scanner-style numbering: instance 1 is the most superior slice (array index n - 1)."""
    return [n - k for k in range(n)]
