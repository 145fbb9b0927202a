"""Engineer C's generator plants each defect in a real series folder; every reader check fires."""

from __future__ import annotations

from pathlib import Path

import pytest

from lesion_tool.errors import GeometryError, SeriesError, StrayImagesWarning
from lesion_tool.io import Phase, load_series, scan_folders

synth = pytest.importorskip("lesion_tool.synth")


@pytest.fixture(scope="module")
def broken_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small arterial-only patient per defect."""
    root = tmp_path_factory.mktemp("broken")
    for case in synth.BROKEN_CASES:
        synth.generate_patient(
            root,
            patient_id=case.upper(),
            seed=5,
            n_timepoints=1,
            shape=(12, 64, 64),
            spacing_mm=(2.5, 4.0, 4.0),
            phases=("arterial",),
            broken=(case,),
            broken_series=(0, "arterial"),
            supersample=(1, 1, 1),
        )
    return root


def _arterial(root: Path, case: str) -> Path:
    return next((root / case.upper()).glob("*/arterial"))


@pytest.mark.parametrize(
    ("case", "error", "pattern"),
    [
        ("missing_slice", GeometryError, r"1 slice\(s\) missing"),
        ("duplicate_position", GeometryError, "duplicate slice position"),
        ("gantry_tilt", GeometryError, r"sheared by 12\.00 deg.*GantryDetectorTilt 12"),
        ("truncated_file", SeriesError, r"0\d+\.dcm.*truncated"),
    ],
)
def test_load_series_rejects_each_defect(
    broken_root: Path, case: str, error: type[Exception], pattern: str
) -> None:
    with pytest.raises(error, match=pattern):
        load_series(_arterial(broken_root, case))


def test_load_series_leaves_out_the_coronal_reformat(broken_root: Path) -> None:
    # Was refused ("different sizes|mixed slice orientation"); now the axial stack loads.
    with pytest.warns(StrayImagesWarning, match=r"left out 3 coronal 7x64 image\(s\)"):
        volume = load_series(_arterial(broken_root, "coronal_reformat"))
    assert volume.shape == (12, 64, 64)
    assert len(volume.metadata["left_out_files"]) == 3


def test_non_dicom_file_is_skipped_and_reported(broken_root: Path) -> None:
    folder = _arterial(broken_root, "non_dicom_file")
    volume = load_series(folder)
    assert volume.shape[0] == 12
    assert any("notes.txt" in s for s in volume.metadata["skipped_files"])
    result = scan_folders(folder, use_pixels=False)
    assert [p.path.name for p in result.problems] == ["notes.txt"]


def test_scan_splits_the_coronal_reformat_and_keeps_the_axial_stack(broken_root: Path) -> None:
    [study] = scan_folders(broken_root / "CORONAL_REFORMAT", use_pixels=False).studies
    axial, coronal = sorted(study.image_stacks, key=lambda s: -s.slice_count)
    assert axial.series_instance_uid == coronal.series_instance_uid
    assert (axial.orientation_label, axial.slice_count) == ("axial", 12)
    assert (coronal.orientation_label, coronal.slice_count) == ("coronal", 3)
    assert study.arterial_series is axial
    assert coronal.stray is not None and axial.stray is None
    assert coronal.stray.startswith("stray coronal stack of 3 image(s) beside the series' 12 axial")
    assert "left out when the series is loaded: 0014.dcm, 0015.dcm, 0016.dcm" in coronal.stray
    assert axial.phase is not None and axial.phase.phase is Phase.ARTERIAL
    assert axial.load().shape == (12, 64, 64)


def test_scan_reports_geometry_problems_without_failing(broken_root: Path) -> None:
    [study] = scan_folders(broken_root / "MISSING_SLICE", use_pixels=False).studies
    [stack] = study.image_stacks
    assert stack.geometry_problem is not None and "missing" in stack.geometry_problem
    assert study.arterial_series is None
    assert "geometry problem" in study.arterial_reason
