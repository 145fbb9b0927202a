"""scan_folders and `lesion-tool scan`: grouping, stacks, problems, the series chosen to measure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _dicom_factory import CORONAL, write_series, write_sr
from pydicom.fileset import FileSet

from lesion_tool.cli import main
from lesion_tool.io import Phase, scan_folders

HCC_006 = "hcc-tace-seg/HCC_006"
HCC_048 = "hcc-tace-seg/HCC_048_PV"


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """A PACS-like export: arterial (+ coronal reformat), PV, PRE, scout, SR and junk files."""
    root = tmp_path / "export"
    write_series(
        root / "s3", n=12, description="LIVER LATE ARTERIAL", series_number=3, series_key="art"
    )
    write_series(
        root / "s3",
        n=4,
        description="LIVER LATE ARTERIAL",
        series_number=3,
        series_key="art",
        orientation=CORONAL,
        origin_mm=(-10.0, 30.0, 10.0),
        image_type=("DERIVED", "SECONDARY", "REFORMATTED"),
        name="COR{:03d}",
    )
    write_series(root / "s4", n=12, description="PORTAL VENOUS", series_number=4)
    write_series(root / "s2", n=1, description="PRE LIVER", series_number=2)
    write_series(
        root / "s1",
        n=1,
        rows=20,
        description="TOPOGRAM",
        series_number=1,
        image_type=("ORIGINAL", "PRIMARY", "LOCALIZER"),
    )
    write_sr(root / "sr" / "dose")
    (root / "README.txt").write_text("exported from PACS\n")
    truncated = root / "s4" / "BROKEN"
    truncated.write_bytes((root / "s4" / "IM0001").read_bytes()[:300])
    return root


def test_groups_studies_series_and_stacks(export: Path) -> None:
    result = scan_folders([export], use_pixels=False)
    assert len(result.patients) == 1
    [study] = result.studies
    by_desc = {(s.description, s.stack_index): s for s in study.series}
    axial = by_desc[("LIVER LATE ARTERIAL", 0)]
    coronal = by_desc[("LIVER LATE ARTERIAL", 1)]
    assert axial.series_instance_uid == coronal.series_instance_uid
    assert (axial.slice_count, axial.orientation_label) == (12, "axial")
    assert (coronal.slice_count, coronal.orientation_label) == (4, "coronal")
    assert coronal.stack_id.endswith("#1")
    assert axial.spacing_mm == pytest.approx((2.5, 0.7, 0.8))
    # files are in slice order
    assert [p.name for p in axial.files] == [f"IM{k:04d}" for k in range(1, 13)]
    assert by_desc[("TOPOGRAM", 0)].role == "localizer"
    assert by_desc[("DOSE REPORT", 0)].role == "non-image"
    assert by_desc[("PRE LIVER", 0)].not_measurable == "only 1 slice(s)"


def test_every_unusable_file_is_reported_once(export: Path) -> None:
    result = scan_folders([export, export / "s4"], use_pixels=False)
    reasons = {p.path.name: p.reason for p in result.problems}
    assert len(result.problems) == 2
    assert "not a DICOM file" in reasons["README.txt"]
    assert "BROKEN" in reasons
    assert result.files_scanned == 12 + 4 + 12 + 1 + 1 + 1 + 2


def test_arterial_series_is_chosen_with_reason(export: Path) -> None:
    [study] = scan_folders(export, use_pixels=False).studies
    chosen = study.arterial_series
    assert chosen is not None
    assert (chosen.description, chosen.stack_index) == ("LIVER LATE ARTERIAL", 0)
    assert chosen.phase is not None
    assert (chosen.phase.phase, chosen.phase.subphase) == (Phase.ARTERIAL, "late")
    assert "arterial (late) by description" in study.arterial_reason
    # The coronal reformat inside the arterial series is a stray: never a candidate (until
    # issue 11 the reason listed it as "only 4 slice(s)"), named on its own stack instead.
    coronal = next(s for s in study.series if s.stack_index == 1)
    assert coronal.stray is not None and "COR001" in coronal.stray
    assert "only 4 slice(s)" not in study.arterial_reason
    pre = next(s for s in study.series if s.description == "PRE LIVER")
    assert pre.phase is not None and pre.phase.phase is Phase.NON_CONTRAST
    volume = chosen.load()
    assert volume.shape == (12, 12, 10)
    assert volume.metadata["phase"]["phase"] == "arterial"


def test_dicomdir_is_ignored_and_its_files_scanned(tmp_path: Path) -> None:
    paths = write_series(tmp_path / "src", n=3, description="ART")
    fs = FileSet()
    for p in paths:
        fs.add(p)
    fs.write(tmp_path / "media")
    result = scan_folders(tmp_path / "media", use_pixels=False)
    assert [p.path.name for p in result.ignored] == ["DICOMDIR"]
    assert result.problems == ()
    assert result.stacks[0].slice_count == 3


def test_cli_table_and_json(export: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(export), "--no-pixels"]) == 0
    out = capsys.readouterr().out
    assert "measure on: 'LIVER LATE ARTERIAL'" in out
    star = [line for line in out.splitlines() if line.startswith("  *")]
    assert len(star) == 1 and "LIVER LATE ARTERIAL" in star[0] and "arterial (late)" in star[0]
    assert "README.txt: not a DICOM file" in out

    assert main(["scan", str(export), "--no-pixels", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    [study] = data["patients"][0]["studies"]
    chosen = next(s for s in study["series"] if s["stack_id"] == study["arterial_series"])
    assert chosen["description"] == "LIVER LATE ARTERIAL"
    assert chosen["phase"]["phase"] == "arterial"
    assert {p["path"].rsplit("/", 1)[-1] for p in data["problems"]} == {"README.txt", "BROKEN"}


def test_cli_without_dicom_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.txt").write_text("x")
    assert main(["scan", str(tmp_path)]) == 1
    assert "no DICOM series found" in capsys.readouterr().err


@pytest.mark.realdata
def test_real_hcc_006_arterial_found_and_flagged(shared_data: Path) -> None:
    result = scan_folders([shared_data / HCC_006, shared_data / HCC_048])
    studies = {s.patient_id: s for s in result.studies}
    study = studies["HCC_006"]
    chosen = study.arterial_series
    assert chosen is not None and chosen.description == "LIVER 3 PHASE (AP)"
    assert chosen.phase is not None
    assert chosen.phase.phase is Phase.ARTERIAL and chosen.phase.source == "description"
    assert chosen.slice_count == 109
    # its pixels look portal venous: said plainly, in the study and the stack
    [warning] = study.warnings
    assert "labelled arterial but its pixels look portal venous" in warning
    assert chosen.enhancement is not None and chosen.enhancement.liver_hu is not None
    assert 90 <= chosen.enhancement.liver_hu <= 120
    assert chosen.enhancement.aorta_hu is not None and 120 <= chosen.enhancement.aorta_hu <= 240
    # the one-slice PRE series is reported and not chosen
    pre = next(s for s in study.series if s.description == "PRE LIVER")
    assert pre.slice_count == 1 and pre.not_measurable == "only 1 slice(s)"
    assert pre.phase is not None and pre.phase.phase is Phase.NON_CONTRAST


@pytest.mark.realdata
def test_real_hcc_048_c_a_p_is_not_arterial(shared_data: Path) -> None:
    [study] = scan_folders(shared_data / HCC_048).studies
    [stack] = study.image_stacks
    assert stack.description == "Recon 3: LIVER 2 PHASE (C/A/P)"
    assert stack.phase is not None and stack.phase.phase is not Phase.ARTERIAL
    assert stack.phase.phase is Phase.PORTAL_VENOUS  # from its pixels
    assert study.arterial_series is None
    assert "no arterial-phase series" in study.arterial_reason
    [problem] = scan_folders(shared_data / HCC_048, use_pixels=False).problems
    assert problem.path.name == "LICENSE"


def test_pixels_read_only_where_the_headers_do_not_decide(tmp_path: Path) -> None:
    """Portal venous / delayed series whose description and contrast timing agree are decided by
    their headers (no pixel read, said in the evidence); the arterial and the non-contrast
    series (description alone) are still checked against their pixels."""
    import shutil

    from lesion_tool.io.scan import headers_decide

    sample = Path(__file__).resolve().parents[2] / "test_images" / "synthetic" / "SYN-001"
    shutil.copytree(sample / "baseline", tmp_path / "baseline")
    [study] = scan_folders(tmp_path).studies
    stacks = {s.files[0].parent.name: s for s in study.image_stacks}
    assert sorted(stacks) == ["arterial", "delayed", "non_contrast", "portal_venous"]
    for name in ("portal_venous", "delayed"):
        s = stacks[name]
        assert headers_decide(s) is Phase(name)
        assert s.enhancement is None
        assert s.phase is not None and s.phase.phase is Phase(name)
        assert "pixels not read: the description and the contrast timing agree" in (
            s.phase.evidence
        )
    for name in ("arterial", "non_contrast"):
        s = stacks[name]
        assert headers_decide(s) is None
        assert s.enhancement is not None and s.enhancement.aorta_hu is not None
        assert s.phase is not None and any("pixels agree" in e for e in s.phase.evidence)
    assert study.arterial_series is stacks["arterial"]
