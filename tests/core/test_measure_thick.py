"""Thick slices (2.5 and 5 mm slabs, issue 11): the measurement follows a lesion through slabs.

Two partial-volume rules of :mod:`lesion_tool.measurement.segment`, checked on analytic phantoms
(a sphere in liver, averaged into slabs by :func:`lesion_tool.measurement.stress.thick_slices`,
its truth the slab mask kept at >= 50 %): a click on a lesion's end slab, whose value is diluted
by the liver, is followed to the lesion's middle; a darker neighbour under the lesion (the
gallbladder) averaged into its end slab is not measured as lesion. And on real anatomy: IRCADb
patient 1 in 2.5 and 5 mm slabs (benchmarks/bench_stress.py's variants) against its expert masks
transformed the same way; the figures asserted are those measured (docs/measurement-accuracy.md,
"Kept
(w7-thick)"), minus one prompt each, and above the figures before these rules.
"""

from __future__ import annotations

import numpy as np
import pytest

from lesion_tool.io.volume import CTVolume
from lesion_tool.measurement import measure_lesion
from lesion_tool.measurement.evaluation import (
    evaluate_clicks,
    expert_tumours,
    summarise,
    tolerance_mm,
)
from lesion_tool.measurement.masks import mask_from_array
from lesion_tool.measurement.segment import LesionPrompt
from lesion_tool.measurement.stress import thick_slices

RADIUS_MM = 12.0


def _slabbed(thickness_mm: float, fluid_below: bool) -> tuple[CTVolume, np.ndarray, float]:
    """A 60 HU sphere of radius 12 mm in 110 HU liver (1 mm slices, 0.8 mm pixels, noise 12 HU),
    optionally with a 10 HU fluid-filled ellipsoid right under it, averaged into slabs: the
    slab volume, the sphere's slab mask and its longest axial diameter (mm)."""
    shape = (80, 100, 100)
    z, y, x = np.ogrid[: shape[0], : shape[1], : shape[2]]
    zz, yy, xx = (z - 40) * 1.0, (y - 50) * 0.8, (x - 50) * 0.8
    sphere = zz**2 + yy**2 + xx**2 <= RADIUS_MM**2
    arr = np.where(sphere, 60.0, 110.0).astype(np.float32)
    if fluid_below:
        fluid = ((zz - RADIUS_MM - 6.0) ** 2 / 36.0 + (yy**2 + xx**2) / 400.0 <= 1.0) & ~sphere
        arr[fluid] = 10.0
    arr += np.random.default_rng(0).normal(0.0, 12.0, shape).astype(np.float32)
    thick, [mask] = thick_slices(
        CTVolume(arr, (1.0, 0.8, 0.8), (0.0, 0.0, 0.0)), [sphere], thickness_mm
    )
    [truth] = expert_tumours([mask_from_array(mask.astype(np.uint8), thick)], thick)
    return thick, mask, truth.diameter_mm


@pytest.mark.parametrize("thickness_mm", [2.5, 5.0])
def test_a_click_on_the_end_slab_is_followed_to_the_lesions_middle(thickness_mm: float) -> None:
    vol, mask, truth_mm = _slabbed(thickness_mm, fluid_below=False)
    slabs = np.nonzero(mask.any(axis=(1, 2)))[0]
    for z in (slabs[0], slabs[-1]):
        res = measure_lesion(vol, LesionPrompt(seed=(int(z), 50, 50)), phase="portal-venous")
        # Before: the end slab's diluted value set a floor the lesion's middle lay beyond, and
        # the end slab alone was measured (13-15 mm for 25 mm, flagged "seen on 1 slice").
        assert abs(res.whole.length_mm - truth_mm) <= tolerance_mm(truth_mm), (z, res.flags)
        assert res.mask.shape[0] >= len(slabs) - 1


def test_a_fluid_neighbour_under_the_lesion_is_not_measured_as_lesion() -> None:
    vol, mask, truth_mm = _slabbed(5.0, fluid_below=True)
    slabs = np.nonzero(mask.any(axis=(1, 2)))[0]
    # Clicked on any slab but the one against the fluid, the end slab (lesion averaged with the
    # fluid to a lesion-like value) is held within the slab inside it. Before: 28.0-28.5 mm,
    # widest on the end slab.
    for z in slabs[:-1]:
        res = measure_lesion(vol, LesionPrompt(seed=(int(z), 50, 50)), phase="portal-venous")
        assert abs(res.whole.length_mm - truth_mm) <= tolerance_mm(truth_mm), (z, res.flags)
        assert res.whole.length_mm <= truth_mm + 1.5


# ---------------------------------------------------------------------------------------------
# IRCADb in slabs, against the expert masks transformed the same way

# Measured (seed 0, deepest + 2 random + a line per tumour, 28 prompts;
# docs/measurement-accuracy.md "Kept
# (w7-thick)"): 2.5 mm 14 -> 17 within (deepest 5 -> 6/7), 5 mm 12 -> 13 (5/7), no unflagged
# dangerous result before or after. Asserted: each variant at most one prompt below what was
# measured, and the two together above what they were before (26 of 56). Since w9-over's
# septum rule (docs/measurement-accuracy.md "Kept (w9-over)"): 2.5 mm 18 -> 21 (deepest 6 -> 7/7),
# 5 mm 14 -> 15;
# tumour 02 from its deepest point and its line on 2.5 mm slabs 32.5 and 32.5 mm for 28.8 ->
# within (test_measure_septum checks the rule on a phantom).
MIN_WITHIN = {2.5: 20, 5.0: 14}
MIN_WITHIN_BOTH = 35
MIN_DEEPEST = {2.5: 6, 5.0: 5}
SEPTUM_TUMOUR = {2.5: "livertumor02"}
MIN_DICE = {2.5: 0.70, 5.0: 0.65}


@pytest.mark.realdata
def test_thick_slab_variants_hold_their_accuracy(ircadb_slabbed) -> None:
    total = 0
    # 5 mm first: test_measure_slab's 5 mm image is still kept by the session (no noise).
    for thickness_mm in (5.0, 2.5):
        vol, experts, liv, _ = ircadb_slabbed(thickness_mm)
        res = evaluate_clicks(vol, experts, clicks=2, line=True, phase="portal-venous", liver=liv)
        s = summarise(res)
        report = [(r.tumour, r.kind, r.measured_mm) for r in res]
        deepest = [r for r in res if r.kind == "deepest"]
        assert s.within >= MIN_WITHIN[thickness_mm], (thickness_mm, report)
        assert sum(r.within for r in deepest) >= MIN_DEEPEST[thickness_mm], thickness_mm
        assert s.dangerous_unflagged == 0, [r.to_dict() for r in res if r.dangerous and not r.flags]
        assert s.median_dice is not None and s.median_dice >= MIN_DICE[thickness_mm]
        if thickness_mm in SEPTUM_TUMOUR:  # not grown across the fat plane into the bowel
            t02 = [r for r in res if r.tumour == SEPTUM_TUMOUR[thickness_mm]]
            assert all(r.within for r in t02 if r.kind in ("deepest", "line")), report
        total += s.within
    assert total >= MIN_WITHIN_BOTH, total
