"""Per-tumour measurement: a mask label holding several tumours is measured per 3-D component.

Synthetic labels check the numbering, specks and the ``--whole-label`` option; the real IRCADb
expert masks of two tumours put into one label check that each gets the expert's diameter.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from lesion_tool.cli import main
from lesion_tool.io import load_series, to_sitk
from lesion_tool.measurement import mask_from_array, measure_mask
from lesion_tool.measurement.diameter import Geometry

IRCADB = "ircadb/3Dircadb1.1"


def _ball(shape: tuple[int, int, int], centre: tuple[float, float, float], r: float) -> np.ndarray:
    z, y, x = np.indices(shape)
    return (z - centre[0]) ** 2 + (y - centre[1]) ** 2 + (x - centre[2]) ** 2 <= r * r


def _two_tumours_and_a_speck() -> np.ndarray:
    shape = (30, 80, 120)
    labels = np.zeros(shape, dtype=np.uint8)
    labels[_ball(shape, (15, 40, 30), 10)] = 1  # 21 voxels across
    labels[_ball(shape, (15, 40, 90), 6)] = 1  # 13 voxels across
    labels[2, 2, 2] = 1  # one voxel: an annotation slip
    return labels


def test_a_label_with_two_tumours_is_measured_per_tumour_largest_first() -> None:
    mask = mask_from_array(_two_tumours_and_a_speck(), Geometry((1.0, 1.0, 1.0)))
    first, second = measure_mask(mask)
    assert (first.label, first.component, first.component_count) == (1, 1, 2)
    assert (second.label, second.component, second.component_count) == (1, 2, 2)
    assert first.specks == second.specks == 1
    assert first.longest_diameter_mm == pytest.approx(21.0, abs=1.0)
    assert second.longest_diameter_mm == pytest.approx(13.0, abs=1.0)
    assert first.centroid_voxel == pytest.approx((15, 40, 30), abs=0.01)


def test_whole_label_keeps_the_old_measurement_and_says_it_spans_pieces() -> None:
    mask = mask_from_array(_two_tumours_and_a_speck(), Geometry((1.0, 1.0, 1.0)))
    [whole] = measure_mask(mask, separate_components=False)
    assert whole.component is None
    assert (whole.component_count, whole.specks) == (2, 1)
    assert whole.longest_diameter_mm > 70  # from one tumour's far edge to the other's
    assert whole.voxel_count == int(_two_tumours_and_a_speck().sum())


def test_a_label_made_only_of_specks_is_still_measured() -> None:
    labels = np.zeros((3, 10, 10), dtype=np.uint8)
    labels[1, 2, 2] = labels[1, 7, 7] = 1
    results = measure_mask(mask_from_array(labels, Geometry((1.0, 1.0, 1.0))))
    assert [(r.component, r.component_count, r.specks) for r in results] == [(1, 2, 0), (2, 2, 0)]


def _write_nifti(path: Path, labels: np.ndarray, spacing_zyx: tuple[float, ...]) -> None:
    img = sitk.GetImageFromArray(labels)
    img.SetSpacing(tuple(float(s) for s in reversed(spacing_zyx)))
    sitk.WriteImage(img, str(path))


def test_cli_states_the_grouping_and_whole_label_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_nifti(tmp_path / "m.nii.gz", _two_tumours_and_a_speck(), (1.0, 1.0, 1.0))
    assert main(["measure", "--mask", str(tmp_path / "m.nii.gz")]) == 0
    out = capsys.readouterr().out
    assert "label 1 component 1 of 2 (1 speck(s) under 14 mm3 not measured alone)" in out
    assert "label 1 component 2 of 2" in out
    assert main(["measure", "--whole-label", "--mask", str(tmp_path / "m.nii.gz")]) == 0
    out = capsys.readouterr().out
    assert "label 1 (whole label: 2 components, 1 speck(s) under 14 mm3)" in out
    assert "component 1" not in out
    assert main(["measure", "--json", "--mask", str(tmp_path / "m.nii.gz")]) == 0
    [measured] = json.loads(capsys.readouterr().out)["measured"]
    grouping = [(x["component"], x["component_count"], x["specks"]) for x in measured["labels"]]
    assert grouping == [(1, 2, 1), (2, 2, 1)]


@pytest.mark.realdata
def test_two_real_expert_tumours_in_one_label_get_their_own_diameters(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """IRCADb tumours 01 (80.1 mm) and 02 (29.6 mm), merged into one label as a SEG would."""
    root = shared_data / IRCADB
    truth = json.loads((root / "truth.json").read_text())["tumours"]
    parts = [load_series(root / "MASKS_DICOM" / name) for name in ("livertumor01", "livertumor02")]
    labels = ((parts[0].array > 0) | (parts[1].array > 0)).astype(np.uint8)
    image = sitk.Cast(to_sitk(parts[0]), sitk.sitkUInt8)
    nifti = sitk.GetImageFromArray(labels)
    nifti.CopyInformation(image)
    sitk.WriteImage(nifti, str(tmp_path / "tumours.nii.gz"))
    assert main(["measure", "--json", "--mask", str(tmp_path / "tumours.nii.gz")]) == 0
    [measured] = json.loads(capsys.readouterr().out)["measured"]
    diameters = [x["longest_diameter_mm"] for x in measured["labels"]]
    expected = [truth[name]["long_axis_mm"] for name in ("livertumor01", "livertumor02")]
    assert diameters == pytest.approx(expected, abs=0.5)
    assert (
        main(["measure", "--json", "--whole-label", "--mask", str(tmp_path / "tumours.nii.gz")])
        == 0
    )
    [whole] = json.loads(capsys.readouterr().out)["measured"][0]["labels"]
    assert whole["component_count"] == 2
    assert whole["longest_diameter_mm"] > expected[0] + 5  # the old answer spans both tumours
