"""Real HCC_006 arterial series with a stray coronal reformat and a scout injected into its folder.

The series is copied to a temporary folder and two files generated from one of its real slices
are added under the same SeriesInstanceUID (what three of four real HCC folders hold): a coronal
reformat and a localizer of another size. Every path that loads a series (``load_series``, the
CLI, ``scan``, SR export) must load the 109 axial slices and name the two files left out.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import generate_uid

from lesion_tool.cli import main
from lesion_tool.errors import StrayImagesWarning
from lesion_tool.io import load_series, scan_folders
from lesion_tool.model import Assessment, Lesion, Line, Timepoint
from lesion_tool.storage.sr import export_sr

pytestmark = pytest.mark.realdata

HCC_006_AP = (
    "hcc-tace-seg/HCC_006/08-06-1999-NA-ABDPEL LIVER-65146/103.000000-LIVER 3 PHASE AP-45033"
)


def _derived(source: Path, out: Path, *, image_type: list[str], rows: int | None = None) -> str:
    """Write a coronal image made from one real slice into the same series; its SOP UID."""
    ds = pydicom.dcmread(source)
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.ImageType = image_type
    ds.InstanceNumber = 900
    ds.ImageOrientationPatient = [1, 0, 0, 0, 0, -1]
    x0, y0, _z = (float(v) for v in ds.ImagePositionPatient)
    ds.ImagePositionPatient = [x0, y0 + 200.0, 40.0]
    if rows is not None:
        ds.PixelData = ds.pixel_array[:rows].tobytes()
        ds.Rows = rows
    ds.save_as(out, enforce_file_format=True)
    return str(ds.SOPInstanceUID)


@pytest.fixture(scope="module")
def stray_folder(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    src = shared_data / HCC_006_AP
    folder = tmp_path_factory.mktemp("hcc006-stray") / "103 LIVER 3 PHASE AP"
    shutil.copytree(src, folder)
    reformat = _derived(
        src / "1-055.dcm",
        folder / "1-110.dcm",
        image_type=["DERIVED", "SECONDARY", "REFORMATTED"],
    )
    scout = _derived(
        src / "1-001.dcm",
        folder / "1-000.dcm",
        image_type=["ORIGINAL", "PRIMARY", "LOCALIZER"],
        rows=256,
    )
    return {"src": src, "folder": folder, "stray_sops": {reformat, scout}}


def test_load_series_loads_the_axial_stack_and_names_the_strays(stray_folder: dict) -> None:
    with pytest.warns(StrayImagesWarning) as record:
        volume = load_series(stray_folder["folder"])
    [message] = [str(w.message) for w in record if w.category is StrayImagesWarning]
    assert "loaded its 109 axial 512x512 image(s)" in message
    assert "1 coronal 512x512 image(s): 1-110.dcm" in message
    assert "1 localizer 256x512 image(s): 1-000.dcm" in message
    assert volume.shape == (109, 512, 512)
    assert sorted(Path(f).name for f in volume.metadata["left_out_files"]) == [
        "1-000.dcm",
        "1-110.dcm",
    ]
    assert not stray_folder["stray_sops"] & set(volume.sop_instance_uids)
    clean = load_series(stray_folder["src"])
    np.testing.assert_array_equal(volume.array, clean.array)
    assert volume.spacing_mm == clean.spacing_mm and volume.origin_mm == clean.origin_mm


def test_scan_reports_the_strays_and_measures_on_the_axial_stack(
    stray_folder: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    [study] = scan_folders(stray_folder["folder"], use_pixels=False).studies
    by_index = {s.stack_index: s for s in study.series}
    assert (by_index[0].slice_count, by_index[0].orientation_label) == (109, "axial")
    assert by_index[1].orientation_label == "coronal"
    assert by_index[1].stray is not None and "1-110.dcm" in by_index[1].stray
    assert by_index[2].role == "localizer"
    assert study.arterial_series is by_index[0]
    assert main(["scan", "--no-pixels", str(stray_folder["folder"])]) == 0
    out = capsys.readouterr().out
    assert "stray coronal stack of 1 image(s)" in out and "localizer / scout" in out


def test_cli_measure_on_the_folder_warns_in_one_line(
    stray_folder: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = np.zeros((109, 512, 512), dtype=np.uint8)
    labels[50:53, 200:220, 300:316] = 1  # 20 x 16 pixels of 0.78125 mm
    np.save(tmp_path / "mask.npy", labels)
    code = main(
        ["measure", "--image", str(stray_folder["folder"]), "--mask", str(tmp_path / "mask.npy")]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "label 1" in captured.out
    [line] = [x for x in captured.err.splitlines() if "left out" in x]
    assert line.startswith("lesion-tool: warning: Series ")
    assert "1-110.dcm" in line and "1-000.dcm" in line
    assert "warnings.warn" not in captured.err and "StrayImagesWarning" not in captured.err


def test_sr_export_references_only_the_axial_stack(stray_folder: dict, tmp_path: Path) -> None:
    head = pydicom.dcmread(stray_folder["src"] / "1-001.dcm", stop_before_pixels=True)
    date = dt.date(1999, 8, 6)
    assessment = Assessment(
        patient_id=str(head.PatientID),
        treatment_start=date,
        reader="R1",
        timepoints=(
            Timepoint(
                label="baseline",
                date=date,
                series_instance_uid=str(head.SeriesInstanceUID),
                lesions=(
                    Lesion(
                        id="T1",
                        category="target",
                        state="measured",
                        kind="viable",
                        viable_diameter_mm=32.8,
                        longest_diameter_mm=32.8,
                        line=Line((50.0, 200.0, 300.0), (50.0, 230.0, 330.0)),
                    ),
                ),
            ),
        ),
    )
    with pytest.warns(StrayImagesWarning, match="1-110.dcm"):
        [path] = export_sr(assessment, stray_folder["folder"], tmp_path, criteria=("mrecist",))
    sr = pydicom.dcmread(path)
    referenced = {
        item.ReferencedSOPInstanceUID
        for study in sr.CurrentRequestedProcedureEvidenceSequence
        for series in study.ReferencedSeriesSequence
        for item in series.ReferencedSOPSequence
    }
    assert len(referenced) == 109
    assert not referenced & stray_folder["stray_sops"]
