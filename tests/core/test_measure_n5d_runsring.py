"""A click's region that runs on through the slabs gives way to the small ring closing round a
dark core at the click (issue 11, w22-n5, ``n5d_runsring.py``).

IRCADb 06 (9.8 mm) made necrotic on 5 mm slabs with 25 HU noise, clicked at its deepest point on
development seed 6: the region by value (97 HU against the liver's 105) runs on through slabs
34-37 (27.5 mm, flagged), while a rim of 116 HU closes round a 4 mm core at the click.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from _ircadb import variant

from lesion_tool.io.volume import CTVolume
from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement import n5d_runsring as n5d
from lesion_tool.measurement.evaluation import tolerance_mm
from lesion_tool.measurement.n5s_slabring import ring_near_click
from lesion_tool.measurement.reseed import RUNS_ON_FLAG, runs_on

PX = 0.57
N = 161
C = N // 2
RUNS_ON = f"{RUNS_ON_FLAG} beyond slice 3 (more than 1 times its width from the click)"


def _volume(rng: np.random.Generator, ring: bool, slab_mm: float = 5.0) -> CTVolume:
    """Three slabs of liver (100 HU, 20 HU noise); with ``ring``, on the middle slab a 9 mm
    lesion: a 3.5 mm core at 85 HU in a rim at 120 HU."""
    yy, xx = np.mgrid[:N, :N]
    r = np.hypot(yy - C, xx - C) * PX
    vol = np.full((3, N, N), 100.0)
    if ring:
        vol[1][(r >= 1.75) & (r <= 4.5)] = 120.0
        vol[1][r < 1.75] = 85.0
    vol += rng.normal(0.0, 20.0, vol.shape)
    return CTVolume(vol.astype(np.float32), (slab_mm, PX, PX), (0.0, 0.0, 0.0))


def _runaway(vol: CTVolume, click: tuple[int, int, int], flags: tuple[str, ...]):
    """A stand-in for a region by value 30 mm long at ``click`` with ``flags`` (the ring's own
    measurement on the synthetic ring, lengthened)."""
    at = LesionPrompt(seed=(1, C + 1, C))
    base = ring_near_click(_volume(np.random.default_rng(9), True), at, "arterial")
    assert base is not None
    whole = replace(base.whole, length_mm=30.0)
    return replace(base, whole=whole, flags=flags, seed_voxel=click)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_runaway_region_gives_way_to_the_ring_at_the_click(seed: int) -> None:
    vol = _volume(np.random.default_rng(seed), True)
    click = (1, C + 1, C)
    first = _runaway(vol, click, (RUNS_ON,))
    got = n5d.ring_for_runaway(vol, LesionPrompt(seed=click), "arterial", first)
    assert got is not first
    assert abs(got.whole.length_mm - 9.0) <= tolerance_mm(9.0)
    assert got.flags[0].startswith("the region grown by value from the click (30.0 mm)")
    assert got.flagged


@pytest.mark.parametrize("seed", [0, 1])
def test_not_without_runs_on_nor_a_ring_nor_on_a_line_or_thin_slices(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ring, plain = _volume(rng, True), _volume(rng, False)
    click = (1, C + 1, C)
    p = LesionPrompt(seed=click)
    # A region not flagged as running on is not second-guessed.
    other = _runaway(ring, click, ("low contrast: lesion 97 HU against liver 105 HU",))
    assert n5d.ring_for_runaway(ring, p, "arterial", other).whole.length_mm == 30.0
    # A region hardly longer than the ring (a larger lesion's one slab): it stands.
    near = replace(other, whole=replace(other.whole, length_mm=11.0), flags=(RUNS_ON,))
    assert n5d.ring_for_runaway(ring, p, "arterial", near).whole.length_mm == 11.0
    # Plain liver: no ring, the region stands (flagged as it was).
    for dy, dx in ((0, 0), (3, -2), (-4, 4)):
        q = LesionPrompt(seed=(1, C + dy, C + dx))
        first = _runaway(plain, q.seed, (RUNS_ON,))
        assert n5d.ring_for_runaway(plain, q, "arterial", first).whole.length_mm == 30.0
    # Off the arterial phase, on thin slices: untouched.
    first = _runaway(ring, click, (RUNS_ON,))
    assert n5d.ring_for_runaway(ring, p, "portal-venous", first).whole.length_mm == 30.0
    # A line keeps its region (it gives the lesion's extent).
    line = LesionPrompt(line=((1, C + 1, C - 10), (1, C + 1, C + 10)))
    assert n5d.ring_for_runaway(ring, line, "arterial", first).whole.length_mm == 30.0
    thin = _volume(rng, True, slab_mm=1.6)
    assert n5d.ring_for_runaway(thin, p, "arterial", first).whole.length_mm == 30.0


def test_switched_off_the_region_stands(monkeypatch) -> None:
    vol = _volume(np.random.default_rng(0), True)
    click = (1, C + 1, C)
    first = _runaway(vol, click, (RUNS_ON,))
    monkeypatch.setattr(n5d, "ENABLED", False)
    assert n5d.ring_for_runaway(vol, LesionPrompt(seed=click), "arterial", first) is first


@pytest.mark.realdata
def test_ircadb_06_necrotic_5mm_deepest_click_seed6(ircadb, monkeypatch) -> None:
    vol, experts, _, _ = variant(
        ircadb, enhance="necrotic", thickness_mm=5.0, noise_sd_hu=25.0, seed=6
    )
    t = next(t for t in experts if t.name.startswith("livertumor06"))
    click = LesionPrompt(seed=(34, 172, 106))
    res = measure_lesion(vol, click, phase="arterial")
    assert abs(res.whole.length_mm - t.diameter_mm) <= tolerance_mm(t.diameter_mm), res.flags
    assert res.flags[0].startswith("the region grown by value from the click")
    # Without the rule: the region by value, running on through the slabs, 27.5 mm.
    monkeypatch.setattr(n5d, "ENABLED", False)
    off = measure_lesion(vol, click, phase="arterial")
    assert off.whole.length_mm > t.diameter_mm + tolerance_mm(t.diameter_mm)
    assert runs_on(off)
