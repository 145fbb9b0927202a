"""A necrotic lesion measured to its enhancing rim's outer edge (issue 11, ``rimedge_outer.py``).

IRCADb 01 given a necrotic core (arterial stand-in) has a 65-75 HU core inside a 150-170 HU rim
up to 15 mm thick; the seam from core to rim is a ramp through the liver's values, and the whole
by the rim's value stopped on it: 62-64 mm for the expert's 79.8 on three of its four prompts.
Rays from the core now climb the ramp to the rim and put the border where the rim falls back
to the liver.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _ircadb import variant
from scipy import ndimage

from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement.evaluation import tolerance_mm
from lesion_tool.measurement.rimedge_outer import rim_edges

SP = (0.7, 0.7)
LIVER, RIM, CORE = 115.0, 160.0, 65.0
R_CORE, R_RAMP, R_RIM = 12.0, 16.0, 26.0  # mm: core, end of the ramp to the rim, rim's edge


def _plane(seed: int, rim: bool = True, vessel: bool = False) -> np.ndarray:
    """A necrotic lesion on one smoothed slice: a 65 HU core of 12 mm radius, a linear ramp to
    the 160 HU rim by 16 mm, the rim out to 26 mm, then a 115 HU liver (6 HU noise, smoothed
    by 1 mm); without ``rim`` the ramp goes to the liver and stays there; ``vessel``: a 300 HU
    vessel 4 mm wide runs past the rim's edge on the right."""
    n = 120
    y, x = np.mgrid[:n, :n]
    r = np.hypot((y - n / 2) * SP[0], (x - n / 2) * SP[1])
    top = RIM if rim else LIVER
    ramp = CORE + (top - CORE) * np.clip((r - R_CORE) / (R_RAMP - R_CORE), 0.0, 1.0)
    arr = np.where(r <= R_RIM, ramp, LIVER) if rim else ramp
    if vessel:
        xv = (x - n / 2) * SP[1]
        arr = np.where((xv > R_RIM) & (xv < R_RIM + 4.0), 300.0, arr)
    arr = arr + np.random.default_rng(seed).normal(0.0, 6.0, arr.shape)
    return ndimage.gaussian_filter(arr, 1.0 / SP[0])


def _disk(n: int, radius_mm: float) -> np.ndarray:
    y, x = np.mgrid[:n, :n]
    return np.hypot((y - n / 2) * SP[0], (x - n / 2) * SP[1]) <= radius_mm


def _radius(mask: np.ndarray) -> float:
    return math.sqrt(mask.sum() * SP[0] * SP[1] / math.pi)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_region_stopped_on_the_ramp_is_widened_to_the_rims_outer_edge(seed: int) -> None:
    plane = _plane(seed)
    core = plane < LIVER - 15.0
    region = _disk(plane.shape[0], 14.5)  # stopped on the seam from core to rim
    wide = rim_edges(plane, core, region, LIVER, RIM, LIVER + 15.0, SP)
    assert wide is not None
    # The rim's edge at 26 mm (half-way from rim to liver): before, 14.5 mm.
    assert abs(_radius(wide) - R_RIM) <= 1.0, _radius(wide)
    assert (wide | region).sum() == wide.sum()  # never narrowed


@pytest.mark.parametrize("seed", [0, 1])
def test_a_dark_region_without_a_rim_is_left_alone(seed: int) -> None:
    plane = _plane(seed, rim=False)
    core = plane < LIVER - 15.0
    region = _disk(plane.shape[0], 14.5)
    assert rim_edges(plane, core, region, LIVER, RIM, LIVER + 15.0, SP) is None


def test_a_vessel_past_the_rim_is_not_taken() -> None:
    plane = _plane(0, vessel=True)
    core = plane < LIVER - 15.0
    region = _disk(plane.shape[0], 14.5)
    wide = rim_edges(plane, core, region, LIVER, RIM, LIVER + 15.0, SP)
    assert wide is not None
    # Nothing past the vessel's blurred near edge (1 mm into it) is taken.
    n = plane.shape[0]
    xv = (np.mgrid[:n, :n][1] - n / 2) * SP[1]
    assert not (wide & (xv > R_RIM + 1.0)).any()
    assert abs(_radius(wide) - R_RIM) <= 1.0, _radius(wide)


@pytest.mark.realdata
@pytest.mark.parametrize("click", [(74, 127, 194), (68, 177, 188)])
def test_ircadb_01_necrotic_is_measured_to_its_rims_edge(ircadb, ircadb_arterial, click) -> None:
    # The "necrotic core" variant (no noise: any seed); two of the bench's random clicks on 01
    # (seed 0) that measured 63.0 and 62.0 mm for the expert's 79.8 (the rays stopped on the
    # ramp from core to rim; 01 is widest on Im 61-63, below where the region stopped).
    vol, experts, _liv, masks = variant(ircadb, ircadb_arterial("necrotic"))
    t = next(t for t in experts if t.name == "livertumor01")
    res = measure_lesion(vol, LesionPrompt(seed=click), phase="arterial")
    assert abs(res.whole.length_mm - t.diameter_mm) <= tolerance_mm(t.diameter_mm), (
        res.whole.length_mm,
        res.flags,
    )
    assert any("rim's outer edge" in f for f in res.flags), res.flags
    # The widened lesion stays in the tumour: >= 90 % of it lies in the expert's mask.
    full = np.zeros(vol.shape, dtype=bool)
    box = tuple(slice(o, o + n) for o, n in zip(res.offset, res.mask.shape, strict=True))
    full[box] = res.mask
    expert = masks[0].astype(bool)
    assert (full & expert).sum() >= 0.9 * full.sum()
    # mRECIST: the viable diameter not across the necrosis is shorter than the whole.
    assert res.viable is not None and 0.0 < res.viable.length_mm < res.whole.length_mm


def test_a_region_already_past_the_ramp_is_not_widened() -> None:
    # The bundled SYN-001's T1 (arterial, 2.5 mm) has its necrosis at one side, not ringed by
    # rim: from that core the rays cross the whole enhancing body, whose border is not a seam
    # between core and rim. Before the guard the whole was widened 44.8 -> 48.8 mm for the
    # truth's 43.2 (13 % over); now it keeps the delineation's border, within tolerance.
    import json
    from pathlib import Path

    from lesion_tool.io import load_series

    root = Path(__file__).resolve().parents[2] / "test_images" / "synthetic" / "SYN-001"
    truth = json.loads((root / "truth.json").read_text())["timepoints"][0]["lesions"][0]
    volume = load_series(root / "baseline" / "arterial")
    m = measure_lesion(volume, LesionPrompt(seed=tuple(truth["seed_voxel"])), phase="arterial")
    whole = float(truth["longest_diameter_mm"])
    assert abs(m.whole.length_mm - whole) <= tolerance_mm(whole)
    assert not any(f.startswith("the whole was widened") for f in m.flags)
