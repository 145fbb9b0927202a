"""The 3-D refinement by a random walker (issue 11, w9-refine).

:func:`lesion_tool.measurement.refine.refine_3d` re-decides a delineation's border in 3-D;
:func:`~lesion_tool.measurement.refine.refine_where_doubtful` applies it only to flagged results
for hyper-attenuating lesions on arterial slabs. Checked on an analytic phantom (an enhancing
sphere in 2.5 mm slabs with 25 HU noise, its outline eroded on purpose) and on IRCADb patient
1 made hyper-enhancing in 2.5 mm slabs with 30 HU noise (the stress benchmark's "hyper 2.5 mm
30 HU", seed 0: 14 within of 28 before, 19 with the refinement; asserted with a margin).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from _ircadb import variant
from scipy import ndimage

from lesion_tool.io.phase import Phase
from lesion_tool.io.volume import CTVolume
from lesion_tool.measurement import LesionPrompt
from lesion_tool.measurement.diameter import boundary_points, longest_axial_diameter
from lesion_tool.measurement.evaluation import evaluate_clicks, summarise, tolerance_mm
from lesion_tool.measurement.refine import refine_3d, refine_where_doubtful
from lesion_tool.measurement.segment import LesionMeasurement, _measure_lesion
from lesion_tool.measurement.stress import thick_slices

RADIUS_MM = 10.0


def _sphere(slice_mm: float) -> tuple[CTVolume, np.ndarray]:
    """A 20 mm enhancing sphere (150 HU) in liver (100 HU), 1 mm slices and 0.7 mm pixels
    blurred, noise 25 HU, averaged into ``slice_mm`` slabs: the slab volume and its mask."""
    shape = (60, 80, 80)
    z, y, x = np.ogrid[: shape[0], : shape[1], : shape[2]]
    ball = ((z - 30) * 1.0) ** 2 + ((y - 40) * 0.7) ** 2 + ((x - 40) * 0.7) ** 2 <= RADIUS_MM**2
    arr = np.where(ball, 150.0, 100.0).astype(np.float32)
    arr = ndimage.gaussian_filter(arr, (0.5, 0.7, 0.7))
    arr += np.random.default_rng(0).normal(0.0, 25.0, shape).astype(np.float32)
    vol, [mask] = thick_slices(CTVolume(arr, (1.0, 0.7, 0.7), (0.0, 0.0, 0.0)), [ball], slice_mm)
    return vol, mask


def _cut_short(vol: CTVolume, m: LesionMeasurement) -> LesionMeasurement:
    """``m`` with its mask eroded 3.5 mm in-plane (an outline stopped short all round), flagged,
    its diameter re-measured."""
    ring = ndimage.generate_binary_structure(2, 1)
    mask = np.stack([ndimage.binary_erosion(k, ring, iterations=5) for k in m.mask])
    whole, perp = longest_axial_diameter(boundary_points(mask, m.offset), vol)
    return replace(m, mask=mask, whole=whole, whole_perpendicular=perp, flags=("cut short",))


def test_an_outline_cut_short_is_completed_in_3d() -> None:
    vol, truth = _sphere(2.5)
    zc = int(np.argmax(truth.sum(axis=(1, 2))))
    truth_mm = longest_axial_diameter(boundary_points(truth[zc : zc + 1], (zc, 0, 0)), vol)[0]
    m = _measure_lesion(vol, LesionPrompt(seed=(zc, 40, 40)), phase="arterial")
    cut = _cut_short(vol, m)
    assert cut.whole.length_mm < truth_mm.length_mm - tolerance_mm(truth_mm.length_mm)
    r = refine_3d(vol, cut)
    assert r is not None
    err = abs(r.whole.length_mm - truth_mm.length_mm)
    assert err <= tolerance_mm(truth_mm.length_mm), (r.whole.length_mm, truth_mm.length_mm)
    full = r.full_mask(vol.shape)
    dice = 2.0 * (full & truth).sum() / (full.sum() + truth.sum())
    assert dice >= 0.8, dice
    assert "cut short" in r.flags  # flags are kept
    assert any("3-D refinement" in f for f in r.flags)  # and the move is flagged


def test_refinement_is_only_where_the_rays_are_in_doubt_on_arterial_slabs() -> None:
    vol, _ = _sphere(2.5)
    zc = vol.shape[0] // 2
    m = _measure_lesion(vol, LesionPrompt(seed=(zc, 40, 40)), phase="arterial")
    cut = _cut_short(vol, m)
    assert refine_where_doubtful(vol, cut) is not cut  # flagged, arterial, hyper, slabs
    assert refine_where_doubtful(vol, replace(cut, flags=())).mask is cut.mask  # no doubt
    pv = replace(cut, phase=Phase.PORTAL_VENOUS)
    assert refine_where_doubtful(vol, pv) is pv
    thin = CTVolume(np.asarray(vol.array), (1.6, *vol.spacing_mm[1:]), (0.0, 0.0, 0.0))
    assert refine_where_doubtful(thin, cut) is cut


# hyper 2.5 mm 30 HU, seed 0, deepest + 2 random + a line per tumour (28 prompts): 14 within
# before w9-refine, 19 with it; no unflagged result more than 30 % off before or after.
HYPER_SLAB_MIN_WITHIN = 17


@pytest.mark.realdata
def test_noisy_hyper_slabs_gain_from_the_refinement(ircadb) -> None:
    vol, experts, liv, _ = variant(
        ircadb, enhance="hyper", thickness_mm=2.5, noise_sd_hu=30.0, seed=0
    )
    res = evaluate_clicks(vol, experts, clicks=2, line=True, phase="arterial", seed=0, liver=liv)
    s = summarise(res)
    assert s.clicks == 28
    assert s.dangerous_unflagged == 0, [r.to_dict() for r in res if r.dangerous and not r.flags]
    assert s.within >= HYPER_SLAB_MIN_WITHIN, [(r.tumour, r.kind, r.measured_mm) for r in res]
