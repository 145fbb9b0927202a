"""w17-speed: the faster paths give the old paths' results exactly (issue 11: time per click,
results unchanged). The old paths are kept verbatim in benchmarks/bench_speedprims.py, which
times both; here they are compared on more and more awkward inputs than the bench's. (The
stress prompts' records, dumped before and after, were byte-identical: see the branch's
readme.)"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from lesion_tool.measurement import necrosis, texturetrim
from lesion_tool.measurement.segment import _outline

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_speedprims.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_speedprims", BENCH)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bench_speedprims"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_longest_chord_within_is_the_old_one(bench) -> None:
    """The coarse first pass finds the same chord (length, slice and ends, to the bit) on rims
    around necrosis, rims broken into arcs, noise, single pixels and anisotropic pixels."""
    rng = np.random.default_rng(21)
    cases = bench.rim_masks(rng, 2)
    for k in range(80):
        nz, ny, nx = int(rng.integers(1, 5)), int(rng.integers(3, 80)), int(rng.integers(3, 80))
        _zz, yy, xx = np.ogrid[:nz, :ny, :nx]
        cy, cx, big = rng.uniform(0, ny), rng.uniform(0, nx), rng.uniform(2, 40)
        r = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2) + 0 * _zz
        m = (r <= big) & (r >= big - rng.uniform(1, 8))
        if k % 3 == 0:
            m &= ~(ndimage.gaussian_filter(rng.normal(size=m.shape), (0, 2, 2)) > 0.3)
        if k % 5 == 0:
            m = rng.random(m.shape) < 0.4
        cases.append(m)
    cases += [np.zeros((2, 5, 5), bool), np.pad(np.ones((1, 1, 1), bool), ((0, 0), (2, 2), (2, 2)))]
    for k, m in enumerate(cases):
        sp = (2.5, 0.7, 0.7) if k % 2 else (1.6, 0.78, 0.5)
        assert necrosis.longest_chord_within(m, sp) == bench.old_longest_chord_within(m, sp), k


def test_trimmed_radii_is_the_old_loop(bench) -> None:
    """All rays at once give the per-ray loop's radii on star outlines with tongues, centres on
    and off pixel centres and near the border, zero rays, both trim radii."""
    rng = np.random.default_rng(22)
    for k in range(300):
        sp = (0.7, 0.7) if k % 3 else (0.57, 0.8)
        shape = (int(rng.integers(15, 150)), int(rng.integers(15, 150)))
        cy, cx = rng.uniform(-3, shape[0] + 3), rng.uniform(-3, shape[1] + 3)
        if k % 4 == 0:
            cy, cx = float(round(cy)), float(round(cx))
        radii = rng.uniform(1, 25) + rng.uniform(0, 35, 72) * (rng.random(72) < 0.3)
        if k % 7 == 0:
            radii[rng.integers(0, 72, 3)] = 0.0
        mask = _outline(cy, cx, radii, sp, shape)[1]
        for mm in (texturetrim.TRIM_RADIUS_MM, 1.5):
            new = texturetrim.trimmed_radii(radii, cy, cx, mask, sp, mm)
            old = bench.old_trimmed_radii(radii, cy, cx, mask, sp, mm)
            assert (new is None) == (old is None), k
            assert new is None or np.array_equal(new, old), k
