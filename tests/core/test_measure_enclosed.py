"""Liver-like specks enclosed by a patchy hypo-attenuating tumour are tumour (w12-surface01).

IRCADb tumour 01 (80 mm, 63 HU against 106, at the liver's surface) holds islets of 2-6 mm
reading above the half-way value: every ray that met one stopped there, and the outline on a
slice was a star of about half the tumour (the rough line 60.8 mm for 79.8, Dice 0.08; a
random click 68.4 mm, Dice 0.52). :mod:`lesion_tool.measurement.enclosed` counts a small patch
the lesion's values surround on the slice, away from fat, as lesion.
"""

from __future__ import annotations

import numpy as np
import pytest

from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement.enclosed import enclosed_patches
from lesion_tool.measurement.evaluation import expert_tumours, tolerance_mm
from lesion_tool.measurement.masks import mask_from_array

SP_YX = (0.6, 0.6)


def _disk(shape: tuple[int, int], cy: float, cx: float, r_mm: float) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return np.hypot((yy - cy) * SP_YX[0], (xx - cx) * SP_YX[1]) <= r_mm


def test_enclosed_patches_on_an_analytic_map() -> None:
    shape = (160, 160)
    lesion = _disk(shape, 80, 80, 30.0)
    speck = _disk(shape, 70, 75, 1.5)  # 7 mm^2, deep inside: lesion
    large = _disk(shape, 95, 90, 4.0)  # 50 mm^2: a lobe of liver, not a speck
    notch = np.zeros(shape, dtype=bool)
    notch[78:82, 120:] = True  # liver reaching in from outside: open, not enclosed
    near_fat = _disk(shape, 80, 45, 1.5)  # a speck 2 mm from a fat cleft
    fat = _disk(shape, 80, 38, 1.0)
    side = lesion & ~(speck | large | notch | near_fat | fat)
    got = enclosed_patches(side, fat, SP_YX)
    assert got is not None
    assert got[speck].all()
    assert not got[large | notch | near_fat | fat | side].any()
    # Without the fat cleft the speck beside it counts too.
    got = enclosed_patches(side | fat, np.zeros(shape, dtype=bool), SP_YX)
    assert got is not None and got[near_fat].all()
    # Nothing enclosed: None.
    assert enclosed_patches(lesion, np.zeros(shape, dtype=bool), SP_YX) is None


# Seed 0's and held-out seed 1's rough lines on tumour 01 (bench_stress.py, the original image),
# and seed 0's random click that stopped short. Before: 60.8 / 58.5 mm (flagged) and 68.4 mm.
LINES_01 = (
    ((62.0, 108.1, 218.6), (62.0, 198.7, 93.4)),
    ((62.0, 106.7, 216.5), (62.0, 202.8, 86.2)),
)
CLICK_01 = (74, 127, 194)


@pytest.fixture(scope="module")
def tumours(ircadb):
    names = [f"livertumor0{i}" for i in range(1, 8)]
    masks = [
        mask_from_array(m.astype(np.uint8), ircadb.image, names={1: n})
        for m, n in zip(ircadb.tumours, names, strict=True)
    ]
    return {t.name: t for t in expert_tumours(masks, ircadb.image)}


def _against(got, mask: np.ndarray) -> tuple[float, float]:
    """Share of the result inside the expert mask, and Dice."""
    z0, y0, x0 = got.offset
    dz, dy, dx = got.mask.shape
    sub = mask[z0 : z0 + dz, y0 : y0 + dy, x0 : x0 + dx]
    inside = float(sub[got.mask].mean())
    dice = 2.0 * float((sub & got.mask).sum()) / (float(got.mask.sum()) + float(mask.sum()))
    return inside, dice


@pytest.mark.realdata
@pytest.mark.parametrize(
    "prompt",
    [LesionPrompt(line=LINES_01[0]), LesionPrompt(line=LINES_01[1]), LesionPrompt(seed=CLICK_01)],
    ids=["line-seed0", "line-seed1", "click"],
)
def test_the_patchy_tumour_at_the_surface_is_measured_whole(ircadb, tumours, prompt) -> None:
    t01 = tumours["livertumor01"]
    got = measure_lesion(ircadb.image, prompt, phase="portal-venous")
    assert abs(got.whole.length_mm - t01.diameter_mm) <= tolerance_mm(t01.diameter_mm), (
        got.whole.length_mm,
        got.flags,
    )
    inside, dice = _against(got, t01.mask)
    # 0.88-0.91 inside and Dice 0.64-0.69 since; Dice 0.08 (line) and 0.52 (click) before.
    assert inside >= 0.85, inside
    assert dice >= 0.6, dice


@pytest.mark.realdata
def test_specks_in_the_bowel_wall_beside_tumour_02_are_not_lesion(ircadb, tumours) -> None:
    # 02 (29.4 mm) touches the bowel, whose wall encloses liver-valued patches near its fat:
    # counting them ran the region on into the loop (40.2 mm); kept out by ENCLOSED_FAT_MM.
    t02 = tumours["livertumor02"]
    got = measure_lesion(ircadb.image, LesionPrompt(seed=t02.deepest), phase="portal-venous")
    assert got.whole.length_mm <= t02.diameter_mm + tolerance_mm(t02.diameter_mm) + 1.0
    inside, _ = _against(got, t02.mask)
    assert inside >= 0.65, inside
