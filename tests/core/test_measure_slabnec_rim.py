"""An enhancing rim's border on a thick slab (slabnec_rim): the rim's mean reach through the slab,
not the half-way point at the start of the slab's partial-volume shoulder. On analytic profiles
of a sphere's wall averaged through a 5 mm slab off its equator (truth: where half of the slab
is lesion), and on IRCADb tumour 03 given a necrotic core on 5 mm slabs with 25 HU noise against
its expert mask."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _ircadb import variant

from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement.evaluation import tolerance_mm
from lesion_tool.measurement.ring import RING_STEP_MM, _thin_rim_edge
from lesion_tool.measurement.slabnec_rim import slab_rim_edge

R_MM = 11.6
"""The sphere's radius (IRCADb 03 is 23.2 mm across)."""
SLAB_MM = 5.0
LIVER_HU = 120.0
RIM_HU = 40.0
"""The enhancing rim's height above the liver (IRCADb 03 on necrotic slabs: 158 against 120)."""
RAYS = 72


def _occupancy(r: np.ndarray, z_lo: float, z_hi: float) -> np.ndarray:
    """Share of the slab [z_lo, z_hi] (mm from the equator) inside the sphere at radius ``r``."""
    inside = np.sqrt(np.clip(R_MM**2 - r**2, 0.0, None))
    return np.clip((np.minimum(inside, z_hi) - z_lo) / (z_hi - z_lo), 0.0, 1.0)


def _profiles(z_mid: float, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Signed profiles (rim low, as find_ring passes them) of RAYS rays from the sphere's axis
    on a slab centred ``z_mid`` off its equator, the path on the rim's top (where the rim
    still fills the slab), and the truth: the radius where half of the slab is lesion."""
    z_lo, z_hi = z_mid - SLAB_MM / 2.0, z_mid + SLAB_MM / 2.0
    r = np.arange(0.0, 30.0, RING_STEP_MM)
    value = LIVER_HU + RIM_HU * _occupancy(r, z_lo, z_hi)
    rng = np.random.default_rng(seed)
    prof = -(value[None, :] + rng.normal(0.0, noise, (RAYS, r.size)))
    full = math.sqrt(R_MM**2 - z_hi**2)  # the rim fills the slab out to here
    j_top = round((full - 1.0) / RING_STEP_MM)
    path = np.full(RAYS, j_top)
    truth = math.sqrt(R_MM**2 - z_mid**2) - r[j_top]
    return prof, path, truth


def test_edge_on_a_wide_shoulder_is_where_half_the_slab_is_lesion() -> None:
    # 6 mm off the equator the wall crosses the 5 mm slab over 3.2 mm in-plane. Over 20 noise
    # draws (25 HU per sample) the half-way point back to the tissue 2-5 mm beyond (itself the
    # shoulder) falls 0.9 mm short on average; the rim's mean reach through the slab (kept where
    # the shoulder stands out of the noise, SHOULDER_Z) comes 0.3 mm nearer at least, within
    # 0.6 mm of where half the slab is lesion on average and each draw within 1 mm.
    thins, edges = [], []
    for seed in range(20):
        prof, path, truth = _profiles(6.0, noise=25.0, seed=seed)
        thin = _thin_rim_edge(prof, path)
        edge = slab_rim_edge(prof, path, RING_STEP_MM, SLAB_MM, thin)
        assert thin is not None and edge is not None
        assert abs(edge - truth) <= 1.0, (seed, edge, truth)
        thins.append(thin)
        edges.append(edge)
    assert float(np.mean(thins)) < truth - 0.6, (np.mean(thins), truth)
    assert float(np.mean(edges)) >= float(np.mean(thins)) + 0.3, (np.mean(edges), np.mean(thins))
    assert abs(float(np.mean(edges)) - truth) <= 0.6, (np.mean(edges), truth)


def test_edge_near_the_equator_stays_where_the_half_way_point_is() -> None:
    # At the equator the slab cuts the wall square: no shoulder, both rules agree (noise-free).
    prof, path, truth = _profiles(0.5, noise=0.0, seed=0)
    thin = _thin_rim_edge(prof, path)
    edge = slab_rim_edge(prof, path, RING_STEP_MM, SLAB_MM, thin)
    assert thin is not None and edge is not None
    assert abs(edge - truth) <= 0.4 and abs(edge - thin) <= 0.4, (edge, thin, truth)


@pytest.mark.parametrize(
    ("seed", "prompt"),
    [
        (3, LesionPrompt(seed=(30, 143, 268))),
        (1, LesionPrompt(line=((30.0, 159.394, 267.648), (30.0, 127.511, 281.163)))),
    ],
)
def test_tumour_03_with_a_necrotic_core_on_noisy_5mm_slabs_reaches_its_expert_border(
    ircadb, seed: int, prompt: LesionPrompt
) -> None:
    # The stress bench's "necrotic 5 mm 25 HU" prompts (seed 3's deepest click, seed 1's rough
    # line): delineated by the enhancing rim, they measured 19.5 and 19.2 mm for the expert's
    # 23.2, the outline 1.5-3 mm inside its border on every ray; now 21.7 and 21.2 mm.
    v = variant(ircadb, enhance="necrotic", thickness_mm=SLAB_MM, noise_sd_hu=25.0, seed=seed)
    t = next(t for t in v.experts if t.name == "livertumor03")
    r = measure_lesion(v.volume, prompt, phase="arterial")
    assert abs(r.whole.length_mm - t.diameter_mm) <= tolerance_mm(t.diameter_mm), (
        r.whole.length_mm,
        t.diameter_mm,
    )
    assert any("enhancing rim" in f for f in r.flags), r.flags
