"""The demo pipeline end to end on a small generated cohort (3 patients, default volumes).

Runs ``lesion-tool demo`` once per module, then checks every output and the measurements
against the generator's exact truth.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import sys
from pathlib import Path

import pytest
from pydicom import dcmread

from lesion_tool.cli import main
from lesion_tool.pipeline import LesionComparison, cohort_plan, error_summary
from lesion_tool.response import PATIENT_COLUMNS, PRESETS, TIMEPOINT_COLUMNS
from lesion_tool.storage import load_assessment

N_PATIENTS = 3
COMPREHENSIVE_3D_SR = "1.2.840.10008.5.1.4.1.1.88.34"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, test_output: Path) -> dict[str, object]:
    out = tmp_path_factory.mktemp("demo")
    patch = pytest.MonkeyPatch()
    stdout, stderr = io.StringIO(), io.StringIO()
    patch.setattr(sys, "stdout", stdout)
    patch.setattr(sys, "stderr", stderr)
    try:
        code = main(["demo", "--out", str(out), "--patients", str(N_PATIENTS), "--no-sample"])
    finally:
        patch.undo()
    kept = test_output / "demo-report"  # for people to look at (the DICOM is not kept)
    shutil.rmtree(kept, ignore_errors=True)
    if (out / "report").is_dir():
        shutil.copytree(out / "report", kept)
    return {"out": out, "code": code, "stdout": stdout.getvalue(), "stderr": stderr.getvalue()}


@pytest.mark.slow
def test_demo_succeeds_and_prints_where_outputs_are(demo) -> None:
    assert demo["code"] == 0, demo["stderr"]
    out: Path = demo["out"]
    text = demo["stdout"]
    for path in (
        out / "images",
        out / "assessments",
        out / "sr",
        out / "timepoints.csv",
        out / "patients.csv",
        out / "report" / "report.html",
        out / "report" / "report.pdf",
    ):
        assert path.exists(), path
        assert str(path) in text, path
    assert f"Patients processed: {N_PATIENTS} of {N_PATIENTS}" in text
    for label in ("mRECIST", "mRECIST-1.1", "RECIST 1.1"):
        assert f"  {label}" in text and "ORR" in text
    for stage in ("generate", "scan", "measure", "export SR", "rescore", "report", "total"):
        assert f"  {stage}" in text, stage


def _truth(out: Path, patient_id: str) -> dict:
    return json.loads((out / "images" / patient_id / "truth.json").read_text("utf-8"))


@pytest.mark.slow
def test_assessments_are_measured_on_the_arterial_series(demo) -> None:
    out: Path = demo["out"]
    files = sorted((out / "assessments").glob("*.json"))
    assert [f.stem for f in files] == [
        p.patient_id for p in cohort_plan(N_PATIENTS, include_sample=False)
    ]
    from lesion_tool.storage.audit import verify_audit

    for f in files:
        assessment = load_assessment(f)
        report = verify_audit(f)  # the demo writes through the audit trail
        assert report.intact, report.problems
        assert [e["action"] for e in report.events] == ["demo measurement"]
        truth = _truth(out, assessment.patient_id)
        assert len(assessment.timepoints) == len(truth["timepoints"])
        for tp, ttp in zip(assessment.timepoints, truth["timepoints"], strict=True):
            assert tp.series_instance_uid == ttp["series"]["arterial"]["series_instance_uid"]
            assert tp.study_instance_uid == ttp["study_instance_uid"]


@pytest.mark.slow
def test_measured_diameters_are_within_2_mm_of_truth(demo) -> None:
    out: Path = demo["out"]
    checked = 0
    for f in sorted((out / "assessments").glob("*.json")):
        assessment = load_assessment(f)
        truth = _truth(out, assessment.patient_id)
        for tp, ttp in zip(assessment.timepoints, truth["timepoints"], strict=True):
            true = {les["id"]: les for les in ttp["lesions"]}
            for lesion in tp.lesions:
                if lesion.category == "target" and lesion.state == "measured":
                    assert lesion.seed is not None
                    t = true[lesion.id]
                    assert lesion.viable_diameter_mm == pytest.approx(
                        t["viable_diameter_mm"], abs=2.0
                    ), (f.name, tp.label, lesion.id, "viable")
                    assert lesion.longest_diameter_mm == pytest.approx(
                        t["longest_diameter_mm"], abs=2.0
                    ), (f.name, tp.label, lesion.id, "whole")
                    checked += 1
                elif lesion.category == "new" and lesion.seed is not None:
                    t = true[lesion.id]
                    assert lesion.longest_diameter_mm == pytest.approx(
                        t["longest_diameter_mm"], abs=2.0
                    ), (f.name, tp.label, lesion.id, "new")
                    checked += 1
    assert checked >= 2 * N_PATIENTS


@pytest.mark.slow
def test_csvs_hold_every_timepoint_under_every_preset(demo) -> None:
    out: Path = demo["out"]
    n_timepoints = sum(
        len(load_assessment(f).timepoints) for f in (out / "assessments").glob("*.json")
    )
    with open(out / "timepoints.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == tuple(TIMEPOINT_COLUMNS)
    assert len(rows) - 1 == n_timepoints * len(PRESETS)
    with open(out / "patients.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == tuple(PATIENT_COLUMNS)
    assert len(rows) - 1 == N_PATIENTS * len(PRESETS)


@pytest.mark.slow
def test_one_sr_per_timepoint(demo) -> None:
    out: Path = demo["out"]
    for f in sorted((out / "assessments").glob("*.json")):
        assessment = load_assessment(f)
        srs = sorted((out / "sr" / assessment.patient_id).glob("*"))
        assert len(srs) == len(assessment.timepoints)
        for path in srs:
            ds = dcmread(path)
            assert ds.Modality == "SR"
            assert ds.SOPClassUID == COMPREHENSIVE_3D_SR
            assert ds.PatientID == assessment.patient_id


@pytest.mark.slow
def test_report_covers_every_patient(demo) -> None:
    report = demo["out"] / "report"
    html = (report / "report.html").read_text("utf-8")
    for plan in cohort_plan(N_PATIENTS, include_sample=False):
        assert f'id="patient-{plan.patient_id}"' in html
        assert (report / "patients" / f"{plan.patient_id}_sums.png").is_file()
    for kind in ("waterfall", "spider", "swimmer", "km"):
        for preset in PRESETS:
            assert (report / "plots" / f"{kind}_{preset}.png").is_file()


def test_error_summary_hand_computed() -> None:
    comparisons = [
        LesionComparison("P", "baseline", "T1", "target", 20.0, 21.0, 30.0, 29.0),
        LesionComparison("P", "fu1", "T1", "target", 10.0, 13.0, 28.0, 28.5),
        LesionComparison("P", "fu1", "N1", "new", None, None, 12.0, 12.0),
    ]
    summary = error_summary(comparisons)
    assert summary["viable"]["n"] == 2
    assert summary["viable"]["mean_mm"] == pytest.approx(-2.0)
    assert summary["viable"]["max_abs_mm"] == pytest.approx(3.0)
    assert summary["viable"]["within_2mm"] == pytest.approx(0.5)
    assert summary["whole"]["n"] == 3
    assert summary["whole"]["mean_abs_mm"] == pytest.approx(0.5)
    assert summary["whole"]["within_2mm"] == 1.0


def test_cohort_plan_is_deterministic_and_mixes_trajectories() -> None:
    from lesion_tool.synth import TRAJECTORIES

    plan = cohort_plan(36, seed=7, include_sample=False)
    assert plan == cohort_plan(36, seed=7, include_sample=False)
    assert {p.trajectory for p in plan} == set(TRAJECTORIES)
    assert len({p.seed for p in plan}) == 36
    assert any(not p.named_descriptions for p in plan)
    with pytest.raises(ValueError, match="n_patients"):
        cohort_plan(-1)


def test_demo_rejects_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--out", str(tmp_path), "--patients", "-2"]) == 1
    assert "--patients" in capsys.readouterr().err
    assert main(["demo", "--out", str(tmp_path), "--workers", "0"]) == 1
    assert "--workers" in capsys.readouterr().err


def test_failed_click_falls_back_to_hand_drawn_lines() -> None:
    # The reader draws the diameters where the truth says; lengths come from the geometry:
    # in-plane spacing 0.5 (y) x 0.8 (x) mm, so a 30-voxel x line is 24 mm, 20-voxel y 10 mm.
    import numpy as np

    from lesion_tool.io import CTVolume
    from lesion_tool.model import Kind, Lesion
    from lesion_tool.pipeline import _manual_lesion

    volume = CTVolume(np.zeros((4, 64, 64), np.int16), (2.5, 0.5, 0.8), (0.0, 0.0, 0.0))
    truth = {
        "viable_line": {"start": [2, 10, 10], "end": [2, 30, 10]},
        "longest_line": {"start": [2, 20, 5], "end": [2, 20, 35]},
    }
    target = Lesion(
        "T1",
        "target",
        "measured",
        kind=Kind.VIABLE,
        viable_diameter_mm=1.0,
        longest_diameter_mm=1.0,
    )
    drawn = _manual_lesion(target, truth, volume)
    assert drawn.viable_diameter_mm == 10.0 and drawn.longest_diameter_mm == 24.0
    assert drawn.line.start == (2.0, 10.0, 10.0) and drawn.longest_line.end == (2.0, 20.0, 35.0)
    scar = _manual_lesion(target, {**truth, "viable_line": None}, volume)
    assert scar.viable_diameter_mm == 0.0 and scar.line is None
    new = Lesion("N1", "new", "unequivocal", organ="lung", longest_diameter_mm=1.0)
    assert _manual_lesion(new, truth, volume).longest_diameter_mm == 24.0
    assert _manual_lesion(target, {}, volume) is None


def test_rerun_refuses_files_it_did_not_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder with files no demo run recorded is refused and left as it was (issue 12: the
    demo used to empty images/, assessments/ and sr/, a reader's reading included)."""
    names = ("images/OLD-001/x.dcm", "assessments/OLD-001.json", "sr/OLD-001/a.dcm", "notes.txt")
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("stale", "utf-8")
    assert main(["demo", "--out", str(tmp_path), "--patients", "0", "--no-sample"]) == 1
    assert "did not write" in capsys.readouterr().err
    for name in names:
        assert (tmp_path / name).read_text("utf-8") == "stale"
