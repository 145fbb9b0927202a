"""measure_lesion on real CT against expert masks (3D-IRCADb-01 patient 1, ../shared/data).

Seven tumours of 10-80 mm (six hypo-attenuating, one hyper) on a portal-venous-looking image.
The figures asserted here are the ones measured when the method was written, minus a margin, so
that a change that makes real-CT accuracy worse fails; the issue's target (6 of 7 from the
deepest point) is reached (7 of 7 now) and tested as such.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import numpy as np
import pytest

from lesion_tool.cli import main
from lesion_tool.errors import MeasurementError, SeriesError
from lesion_tool.io.volume import CTVolume
from lesion_tool.measurement import LesionPrompt, load_mask, measure_lesion
from lesion_tool.measurement.evaluation import (
    ExpertTumour,
    evaluate_clicks,
    expert_tumours,
    summarise,
    tolerance_mm,
)
from lesion_tool.measurement.masks import mask_from_array

CASE = "ircadb/3Dircadb1.1"
TUMOURS = [f"livertumor0{i}" for i in range(1, 8)]
# Measured when the method was written: 4 of 7 deepest-point clicks within tolerance, median Dice
# 0.70 of the measured ones, 5 of 7 lines within tolerance. Since rays cross 1.5 mm of non-lesion
# tissue (septa inside tumour 01): 5 of 7 deepest-point clicks, Dice 0.71, lines 5 of 7. Since a
# click whose value is the liver's is delineated by texture (ring tumour 04) and a graded border
# (halo, tumour 05) is followed to its foot: 7 of 7, Dice 0.73; lines 6 of 7 since a line the
# value-based result disagrees with is tried by texture (04's line, 8 mm before); the 01 line,
# 61 mm for 80 before, is now refused as leaving the liver.
MIN_DEEPEST_WITHIN = 7
MIN_MEDIAN_DICE = 0.68
MIN_LINES_WITHIN = 6


@pytest.fixture(scope="module")
def case(shared_data: Path) -> Path:
    return shared_data / CASE


@pytest.fixture(scope="module")
def image(ircadb) -> CTVolume:
    """The CT, read once per session by load_series (tests/core/conftest.py)."""
    return ircadb.image


@pytest.fixture(scope="module")
def tumours(ircadb) -> list[ExpertTumour]:
    """The seven expert tumours: their masks as the session read them with load_mask (each
    MASKS_DICOM series once; tests/core/_ircadb.py), named by their series."""
    masks = [
        mask_from_array(m.astype(np.uint8), ircadb.image, names={1: name})
        for m, name in zip(ircadb.tumours, TUMOURS, strict=True)
    ]
    return expert_tumours(masks, ircadb.image)


@pytest.fixture(scope="module")
def liver(ircadb) -> np.ndarray:
    return ircadb.liver


@pytest.fixture(scope="module")
def deepest_and_lines(image: CTVolume, tumours: list[ExpertTumour]):
    """Each tumour's deepest-point click and rough line, measured once for the module (the
    deepest points were measured twice before: once alone, once with the lines)."""
    return evaluate_clicks(image, tumours, clicks=0, line=True, phase="portal-venous")


@pytest.fixture(scope="module")
def deepest(deepest_and_lines):
    out = [r for r in deepest_and_lines if r.kind == "deepest"]
    assert [r.tumour for r in out] == TUMOURS
    return out


def test_mask_series_are_read_on_the_image_grid(case: Path, tumours, liver) -> None:
    truth = json.loads((case / "truth.json").read_text())["tumours"]
    assert [t.name for t in tumours] == TUMOURS
    for t in tumours:
        assert int(t.mask.sum()) == truth[t.name]["voxels"]
        assert tuple(t.deepest) == tuple(truth[t.name]["deepest_point_zyx"])
        # Edge-midpoint convention here, pixel corners in truth.json: within one pixel.
        assert t.diameter_mm == pytest.approx(truth[t.name]["long_axis_mm"], abs=0.6)
        assert (t.mask & ~liver).sum() == 0


def test_mask_series_off_the_image_grid_is_refused(case: Path, image: CTVolume) -> None:
    shifted = CTVolume(image.array[:, :-1], image.spacing_mm, image.origin_mm, image.direction)
    with pytest.raises(SeriesError, match="do not lie on the image"):
        load_mask(case / "MASKS_DICOM" / "livertumor06", shifted)


def test_deepest_point_clicks_hold_their_accuracy(deepest) -> None:
    s = summarise(deepest)
    report = [(r.tumour, r.measured_mm, round(r.expert_mm, 1), r.refused[:40]) for r in deepest]
    assert s.within >= MIN_DEEPEST_WITHIN, report
    # Never a dangerous (> 30 % off) result without a flag.
    assert s.dangerous_unflagged == 0, report
    dice = [r.dice for r in deepest if r.dice is not None]
    assert statistics.median(dice) >= MIN_MEDIAN_DICE, dice


def test_deepest_point_target_of_issue_11(deepest) -> None:
    # The issue's target: 6 of the 7 tumours within max(3 mm, 10 %) from the deepest point.
    assert summarise(deepest).within >= 6


def test_hypo_attenuating_halo_is_included(image: CTVolume, tumours) -> None:
    # Tumour 05: a dark core with a 3-4 mm graded halo the expert includes; the half-way value
    # alone gave 27.0 mm for 32.5.
    t = next(t for t in tumours if t.name == "livertumor05")
    r = measure_lesion(image, LesionPrompt(seed=t.deepest), phase="portal-venous")
    assert abs(r.whole.length_mm - t.diameter_mm) <= tolerance_mm(t.diameter_mm)
    assert r.evidence.contrast_hu < 0


def test_ring_lesion_is_delineated_by_texture_and_flagged(image: CTVolume, tumours) -> None:
    # Tumour 04: a faint enhancing ring (about +12 HU) around a core as dense as the liver; the
    # click's value is the liver's, its texture is not.
    t = next(t for t in tumours if t.name == "livertumor04")
    r = measure_lesion(image, LesionPrompt(seed=t.deepest), phase="portal-venous")
    assert abs(r.whole.length_mm - t.diameter_mm) <= tolerance_mm(t.diameter_mm)
    assert r.evidence.texture_sd_hu is not None
    lesion_sd, liver_sd = r.evidence.texture_sd_hu
    assert lesion_sd > 1.3 * liver_sd
    assert any("texture" in f for f in r.flags)


def test_rough_lines_hold_their_accuracy(deepest_and_lines) -> None:
    results = [r for r in deepest_and_lines if r.kind == "line"]
    assert [r.tumour for r in results] == TUMOURS
    s = summarise(results)
    assert s.within >= MIN_LINES_WITHIN, [(r.tumour, r.measured_mm, r.refused) for r in results]
    assert s.dangerous_unflagged == 0


def test_no_viable_tissue_on_a_portal_venous_image(image: CTVolume, tumours, deepest) -> None:
    assert all(r.viable_mm is None for r in deepest)
    hypo = next(t for t in tumours if t.name == "livertumor03")
    r = measure_lesion(image, LesionPrompt(seed=hypo.deepest), phase="portal-venous")
    assert r.viable is None
    assert "portal-venous" in r.viable_reason
    assert r.evidence.contrast_hu < 0


def test_results_stay_in_the_liver(deepest) -> None:
    for r in deepest:
        if r.dice is not None:
            assert r.dice > 0.3 or r.flags, (r.tumour, r.dice)


def test_click_in_normal_liver_is_refused(image: CTVolume, liver, tumours) -> None:
    # The deepest point of the liver away from every tumour (by at least 20 mm).
    from scipy import ndimage

    z = 90
    away = liver[z] & ~ndimage.binary_dilation(
        np.any([t.mask[z] for t in tumours], axis=0), iterations=35
    )
    depth = ndimage.distance_transform_edt(away)
    y, x = np.unravel_index(int(np.argmax(depth)), depth.shape)
    with pytest.raises(MeasurementError, match="Click inside"):
        measure_lesion(image, LesionPrompt(seed=(z, int(y), int(x))), phase="portal-venous")


def test_click_in_a_vessel_is_refused_or_flagged(ircadb, image: CTVolume, liver) -> None:
    from scipy import ndimage

    vein = ircadb.vessels[0] & liver  # the expert's portal vein (MASKS_DICOM/portalvein)
    z = int(np.argmax(vein.sum(axis=(1, 2))))
    depth = ndimage.distance_transform_edt(vein[z])
    y, x = np.unravel_index(int(np.argmax(depth)), depth.shape)
    try:
        r = measure_lesion(image, LesionPrompt(seed=(z, int(y), int(x))), phase="portal-venous")
    except MeasurementError:
        return
    assert r.flags, r.whole.length_mm


def test_cli_measure_and_evaluate_on_real_ct(case: Path, capsys) -> None:
    series = str(case / "PATIENT_DICOM")
    args = ["measure", "--image", series, "--seed", "94,140,269", "--phase", "portal-venous"]
    assert main([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    expert = 23.2
    assert abs(out["longest_diameter_mm"] - expert) <= tolerance_mm(expert)
    assert out["viable_diameter_mm"] is None
    assert isinstance(out["flags"], list)
    mask = str(case / "MASKS_DICOM" / "livertumor03")
    assert main(["evaluate", "--image", series, "--mask", mask, "--clicks", "1", "--line"]) == 0
    text = capsys.readouterr().out
    assert "livertumor03" in text
    assert "within" in text


def test_click_in_the_kidney_is_refused_as_not_in_the_liver(hcc006_measured) -> None:
    # HCC_006 (arterial): the upper pole of the right kidney, bright like an enhancing HCC and
    # touching the liver's visceral surface; it was measured as a 38 mm "lesion" (flagged only).
    # Measured once per session (test_measure_offliver clicks it too).
    err = hcc006_measured(LesionPrompt(seed=(62, 305, 150)), "arterial")
    assert isinstance(err, MeasurementError), err
    assert "not in the liver" in str(err)
    assert "Click inside a liver tumour" in str(err)


def test_tumours_at_the_liver_surface_are_not_refused(image: CTVolume, tumours) -> None:
    # Tumour 01 bulges from the liver's surface (80 mm), 06 lies beside a fat-filled fissure:
    # both are in the liver and must be measured, not refused as outside it.
    for name in ("livertumor01", "livertumor06"):
        t = next(t for t in tumours if t.name == name)
        r = measure_lesion(image, LesionPrompt(seed=t.deepest), phase="portal-venous")
        assert abs(r.whole.length_mm - t.diameter_mm) <= tolerance_mm(t.diameter_mm), name
