"""5 mm slabs (issue 11): the liver's surface cut obliquely by a slab is not lesion.

A slab averages what it spans, so where it cuts the liver's surface at a slant (the dome, a
fissure) a band about as wide as the slab reads between the liver and the fat or lung beside it:
darker than the liver, like a hypo-attenuating lesion. :func:`segment._surface_rim_mm` keeps a
rim of SLAB_RIM_FRACTION of the slab's thickness around fat and air out of the lesion on slabs
(RIM_MM, 1.5 mm, on thinner slices). Checked on an analytic phantom (a 10 mm sphere 1-2 mm
under an oblique lung surface) and on IRCADb patient 1 in 5 mm slabs (the stress benchmark's
"5 mm" variant) against its expert masks transformed the same way; the figures asserted are
those measured by ``benchmarks/bench_stress.py --only "5 mm" [--seed 1]`` minus one prompt (on
seed 0 still above the 12 of before the rule).
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

RADIUS_MM = 5.0


def _under_the_dome(gap_mm: float, tilt_deg: float) -> tuple[CTVolume, np.ndarray, float]:
    """A 90 HU sphere of radius 5 mm in 110 HU liver (1 mm slices, 0.7 mm pixels, noise 8 HU)
    whose top lies ``gap_mm`` under a plane surface tilted ``tilt_deg`` from the axial plane,
    lung (-800 HU) above it; averaged into 5 mm slabs: the slab volume, the sphere's slab mask
    (kept at >= 50 %) and its longest axial diameter (mm)."""
    shape = (60, 90, 90)
    z, y, x = np.ogrid[: shape[0], : shape[1], : shape[2]]
    zz, yy, xx = (z - 30) * 1.0, (y - 45) * 0.7, (x - 45) * 0.7
    sphere = zz**2 + yy**2 + xx**2 <= RADIUS_MM**2
    tilt = np.radians(tilt_deg)
    lung = zz * np.cos(tilt) - yy * np.sin(tilt) > RADIUS_MM + gap_mm
    arr = np.where(sphere, 90.0, np.where(lung, -800.0, 110.0)).astype(np.float32)
    arr += np.random.default_rng(0).normal(0.0, 8.0, shape).astype(np.float32)
    thick, [mask] = thick_slices(CTVolume(arr, (1.0, 0.7, 0.7), (0.0, 0.0, 0.0)), [sphere], 5.0)
    [truth] = expert_tumours([mask_from_array(mask.astype(np.uint8), thick)], thick)
    return thick, mask, truth.diameter_mm


def _centre_clicks(vol: CTVolume, mask: np.ndarray) -> list[float]:
    """The diameter measured from the centre of the sphere's section on each of its slabs."""
    out = []
    for z in np.nonzero(mask.any(axis=(1, 2)))[0]:
        yy, xx = np.nonzero(mask[z])
        seed = (int(z), round(float(yy.mean())), round(float(xx.mean())))
        out.append(measure_lesion(vol, LesionPrompt(seed=seed), phase="portal-venous"))
    return [m.whole.length_mm for m in out]


@pytest.mark.parametrize("tilt_deg", [45.0, 60.0, 75.0])
@pytest.mark.parametrize("gap_mm", [1.0, 2.0])
def test_an_oblique_lung_surface_does_not_widen_a_small_lesion(
    gap_mm: float, tilt_deg: float
) -> None:
    vol, mask, truth_mm = _under_the_dome(gap_mm, tilt_deg)
    far = _centre_clicks(*_under_the_dome(20.0, tilt_deg)[:2])  # the same sphere, no surface
    near = _centre_clicks(vol, mask)
    assert len(near) == len(far) == 2
    for d_near, d_far in zip(near, far, strict=True):
        # Before the rule: 12.0-13.0 mm, up to 1.3 mm more than away from the surface (the
        # band along the surface grown as lesion); with it at most 0.3 mm more.
        assert abs(d_near - truth_mm) <= tolerance_mm(truth_mm), (near, far, truth_mm)
        assert d_near <= d_far + 0.6, (near, far)


# ---------------------------------------------------------------------------------------------
# IRCADb in 5 mm slabs, against the expert masks transformed the same way

# Measured (deepest + 2 random + a line per tumour, 28 prompts; docs/measurement-accuracy.md "Kept
# (w8-slab)"): seed 0
# 12 -> 14 within (06 from a random click and from its line), seed 1 16 -> 17 (06's line);
# deepest 5/7 on both; median Dice 0.73-0.74; no unflagged result more than 30 % off before or
# after. Asserted: one prompt below.
# w9-over's septum rule: 14 -> 15 and 17 -> 18 (02's line).
# w10-slab (a click on a pale margin followed to the core, a portal-venous core needing a rim all
# around, a click's outline re-cast until its centre settles): 15 -> 18 and 18 -> 20.
MIN_WITHIN = {0: 17, 1: 19}
MIN_DEEPEST = 5
MIN_DICE = 0.70


@pytest.mark.realdata
@pytest.mark.parametrize("seed", [0, 1])
def test_five_mm_slabs_hold_their_accuracy(ircadb_slabbed, seed: int) -> None:
    # Without noise the slabs are the same whatever the seed (built once per session, measured
    # by test_measure_thick too): the seed picks the random clicks and the line's jitter.
    vol, experts, liv, _ = ircadb_slabbed(5.0)
    res = evaluate_clicks(
        vol, experts, clicks=2, line=True, phase="portal-venous", seed=seed, liver=liv
    )
    s = summarise(res)
    report = [(r.tumour, r.kind, r.measured_mm) for r in res]
    deepest = [r for r in res if r.kind == "deepest"]
    assert s.clicks == 28
    assert s.within >= MIN_WITHIN[seed], report
    assert sum(r.within for r in deepest) >= MIN_DEEPEST, report
    assert s.dangerous_unflagged == 0, [r.to_dict() for r in res if r.dangerous and not r.flags]
    assert s.median_dice is not None and s.median_dice >= MIN_DICE


# ---------------------------------------------------------------------------------------------
# A click on a graded lesion's pale margin (issue 11, w10-slab; lesion_tool.measurement.margin)


def _graded(core_hu: float) -> tuple[CTVolume, np.ndarray, float]:
    """A sphere of radius 12 mm in 115 HU liver: 95 HU margin around a core of radius 7 mm reading
    ``core_hu`` (1 mm slices, 0.7 mm pixels, noise 8 HU), averaged into 5 mm slabs: the slab
    volume, the sphere's slab mask and its longest axial diameter (mm)."""
    shape = (50, 80, 80)
    z, y, x = np.ogrid[: shape[0], : shape[1], : shape[2]]
    r = np.sqrt(((z - 25) * 1.0) ** 2 + ((y - 40) * 0.7) ** 2 + ((x - 40) * 0.7) ** 2)
    sphere = r <= 12.0
    arr = np.where(r <= 7.0, core_hu, np.where(sphere, 95.0, 115.0)).astype(np.float32)
    arr += np.random.default_rng(0).normal(0.0, 8.0, shape).astype(np.float32)
    thick, [mask] = thick_slices(CTVolume(arr, (1.0, 0.7, 0.7), (0.0, 0.0, 0.0)), [sphere], 5.0)
    [truth] = expert_tumours([mask_from_array(mask.astype(np.uint8), thick)], thick)
    return thick, mask, truth.diameter_mm


def test_a_click_on_a_graded_lesions_pale_margin_measures_the_whole() -> None:
    vol, mask, truth_mm = _graded(45.0)
    z = int(np.argmax(mask.sum(axis=(1, 2))))
    # On the margin, 9.5 mm from the centre (the core ends at 7 mm): it reads 95 HU against the
    # liver's 115, and the 45 HU core lies beyond its floor (75 HU).
    click = (z, 40, 40 + round(9.5 / 0.7))
    m = measure_lesion(vol, LesionPrompt(seed=click), phase="portal-venous")
    assert abs(m.whole.length_mm - truth_mm) <= tolerance_mm(truth_mm), (m.whole, truth_mm)
    assert any("core beside it" in f for f in m.flags), m.flags
    assert m.seed_voxel == click


def test_a_lesion_beside_a_cyst_is_not_grown_into_it() -> None:
    # The same geometry with a 5 HU core: a cyst (or the gallbladder) as dark as fluid, whose
    # region stops at the 95 HU tissue (on the liver's side of its half-way value): the click's
    # region is not replaced by the cyst's, and the cyst is not added to it.
    vol, mask, truth_mm = _graded(5.0)
    z = int(np.argmax(mask.sum(axis=(1, 2))))
    click = (z, 40, 40 + round(9.5 / 0.7))
    m = measure_lesion(vol, LesionPrompt(seed=click), phase="portal-venous")
    assert not any("core beside it" in f for f in m.flags), m.flags
    assert m.whole.length_mm <= truth_mm + tolerance_mm(truth_mm), (m.whole, truth_mm)


@pytest.mark.realdata
def test_ircadb_five_mm_margin_click_and_portal_venous_core(ircadb_slabbed) -> None:
    # Seed 0's random clicks (benchmarks/bench_stress.py --only "5 mm"), against the expert
    # masks in the same slabs.
    vol, experts, _, masks = ircadb_slabbed(5.0)
    truth = {t.name: t for t in experts}
    # 02, clicked on its pale margin (89 HU; liver 114, core 45-65): 11.7 mm for 27.8 before,
    # the region a crescent held between the liver and the core; the core clicked again after.
    m02 = measure_lesion(vol, LesionPrompt(seed=(24, 315, 184)), phase="portal-venous")
    d02 = truth["livertumor02"].diameter_mm
    assert abs(m02.whole.length_mm - d02) <= tolerance_mm(d02), (m02.whole, d02)
    assert any("core beside it" in f for f in m02.flags), m02.flags
    # 05 on a portal-venous image, its brighter neighbour along 56 % of it: read as a necrotic
    # core in an enhancing rim before, 59.4 mm for 31.8; the dark region itself after, flagged
    # (since t5p_halorim: as ringed by a halo of brighter liver, the tissue beyond reading alike;
    # since shell_settle the liver is read as that brighter liver, 05 a plain dark lesion).
    m05 = measure_lesion(vol, LesionPrompt(seed=(36, 227, 224)), phase="portal-venous")
    d05 = truth["livertumor05"].diameter_mm
    assert abs(m05.whole.length_mm - d05) <= tolerance_mm(d05), (m05.whole, d05)
    assert m05.evidence.contrast_hu < 0, m05.evidence
    assert not any("necrotic" in f or "enhancing rim" in f for f in m05.flags), m05.flags
    assert m05.evidence.liver_hu >= 118.0, (m05.flags, m05.evidence.liver_hu)
    # 03, clicked near its edge in mottled tissue: the rays stopped at its liver-like specks and
    # one re-cast from the outline's centre left it at 16.6 mm for 23.2; re-cast until the centre
    # settles, the outline creeps to the middle.
    m03 = measure_lesion(vol, LesionPrompt(seed=(30, 130, 281)), phase="portal-venous")
    d03 = truth["livertumor03"].diameter_mm
    assert abs(m03.whole.length_mm - d03) <= tolerance_mm(d03), (m03.whole, d03)
    # Their outlines are the expert's on the clicked slab (Dice measured 0.8x, asserted 0.6).
    for m, name, z in ((m02, "livertumor02", 24), (m05, "livertumor05", 36)):
        got = np.zeros(vol.shape[1:], dtype=bool)
        zi, (h, w) = z - m.offset[0], m.mask.shape[1:]
        got[m.offset[1] : m.offset[1] + h, m.offset[2] : m.offset[2] + w] = m.mask[zi]
        ref = masks[int(name[-1]) - 1][z]
        dice = 2.0 * (got & ref).sum() / (got.sum() + ref.sum())
        assert dice >= 0.6, (name, dice)
