"""Helpers of the SR tests: a tiny CT series written with pydicom, and the two DICOM validators."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

DSRDUMP = shutil.which("dsrdump") or "/usr/bin/dsrdump"
DCIODVFY = shutil.which("dciodvfy") or "/usr/bin/dciodvfy"


def write_ct_series(
    folder: Path,
    *,
    patient_id: str = "SRT-001",
    study_date: str = "20260102",
    n_slices: int = 6,
    rows: int = 24,
    columns: int = 20,
    spacing_mm: tuple[float, float, float] = (2.5, 0.8, 0.7),
    origin_mm: tuple[float, float, float] = (-50.0, -40.0, 100.0),
) -> list[Dataset]:
    """Write an axial CT series (z, y, x spacing ``spacing_mm``) into ``folder``; its datasets.

    Slices are written in reverse order of position so that a reader must sort them.
    """
    folder.mkdir(parents=True, exist_ok=True)
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    datasets = []
    for k in range(n_slices):
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
        ds.SOPClassUID = CTImageStorage
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.PatientID = patient_id
        ds.PatientName = "Test^SR"
        ds.PatientBirthDate = ""
        ds.PatientSex = "O"
        ds.StudyInstanceUID = study
        ds.SeriesInstanceUID = series
        ds.FrameOfReferenceUID = frame
        ds.StudyDate = study_date
        ds.SeriesDate = study_date
        ds.StudyTime = "120000"
        ds.AccessionNumber = ""
        ds.ReferringPhysicianName = ""
        ds.StudyID = "1"
        ds.Modality = "CT"
        ds.SeriesNumber = 3
        ds.InstanceNumber = k + 1
        ds.Manufacturer = "lesion-tool tests"
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [origin_mm[0], origin_mm[1], origin_mm[2] + k * spacing_mm[0]]
        ds.PixelSpacing = [spacing_mm[1], spacing_mm[2]]
        ds.SliceThickness = spacing_mm[0]
        ds.Rows = rows
        ds.Columns = columns
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated = 16
        ds.BitsStored = 16
        ds.HighBit = 15
        ds.PixelRepresentation = 1
        ds.RescaleIntercept = 0
        ds.RescaleSlope = 1
        ds.RescaleType = "HU"
        ds.KVP = 120
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.PixelData = np.full((rows, columns), 40, np.int16).tobytes()
        ds.save_as(folder / f"{n_slices - k:04d}.dcm", enforce_file_format=True)
        datasets.append(ds)
    return datasets


def validate_sr(path: Path) -> tuple[str, str]:
    """Run DCMTK ``dsrdump`` and dicom3tools ``dciodvfy`` on ``path``; fail on any error.

    Returns both outputs, for a test that wants to look further. ``dsrdump`` must exit 0 and
    print no ``E:``/``F:`` line; ``dciodvfy`` must print no line containing ``Error``.
    """
    dump = subprocess.run([DSRDUMP, str(path)], capture_output=True, text=True, check=False)
    dump_out = dump.stdout + dump.stderr
    assert dump.returncode == 0, f"dsrdump {path} exit {dump.returncode}:\n{dump_out}"
    bad = [line for line in dump_out.splitlines() if line.startswith(("E:", "F:"))]
    assert not bad, f"dsrdump {path}:\n" + "\n".join(bad)
    assert "Measurement Group" in dump.stdout
    verify = subprocess.run([DCIODVFY, str(path)], capture_output=True, text=True, check=False)
    verify_out = verify.stdout + verify.stderr
    errors = [line for line in verify_out.splitlines() if "Error" in line]
    assert not errors, f"dciodvfy {path}:\n" + "\n".join(errors)
    return dump_out, verify_out


def iter_content(items: object) -> Iterator[Dataset]:
    """Every content item of a content tree, depth first (an independent walk for the tests)."""
    for item in items or []:  # type: ignore[attr-defined]
        yield item
        yield from iter_content(item.get("ContentSequence"))


def num_values(path: Path, meanings: set[str]) -> list[tuple[str, float, str]]:
    """(concept meaning, value, unit code) of every NUM whose name is in ``meanings`` (lower)."""
    ds = pydicom.dcmread(path)
    out = []
    for item in iter_content(ds.get("ContentSequence")):
        if item.get("ValueType") != "NUM" or "ConceptNameCodeSequence" not in item:
            continue
        meaning = str(item.ConceptNameCodeSequence[0].CodeMeaning)
        if meaning.lower() not in meanings or not item.get("MeasuredValueSequence"):
            continue
        mv = item.MeasuredValueSequence[0]
        out.append(
            (meaning, float(mv.NumericValue), str(mv.MeasurementUnitsCodeSequence[0].CodeValue))
        )
    return out


# The helpers' own tests: the validators must really fail on a broken report.


@pytest.mark.realdata
def test_validate_sr_rejects_a_report_dsrdump_cannot_parse(shared_data: Path) -> None:
    broken = shared_data / "sr-seg" / "dcmjs" / "structured_report.dcm"  # NUM without a value
    with pytest.raises(AssertionError, match="dsrdump"):
        validate_sr(broken)


@pytest.mark.realdata
def test_num_values_walks_the_whole_tree(shared_data: Path) -> None:
    path = shared_data / "sr-seg" / "highdicom" / "sr_document_with_multiple_groups.dcm"
    assert sorted(v for _, v, _ in num_values(path, {"diameter"})) == [10.0, 20.0]
