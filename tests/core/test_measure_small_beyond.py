"""A larger region past a click's open end refuses the click only when it grows beyond that end
(small_beyond.py, issue 11, w17-small06): analytic stacks of sections, and IRCADb 06 (10 mm)
made hyper-enhancing in 2.5 mm slices with 30 HU noise, against its expert mask."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from _ircadb import variant

from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement.evaluation import tolerance_mm
from lesion_tool.measurement.small_beyond import grows_beyond


def _stack(radii: list[float], z0: int) -> SimpleNamespace:
    """A region of disks of ``radii`` (pixels) on slices z0, z0 + 1, ... (volume indices)."""
    yy, xx = np.mgrid[-30:31, -30:31]
    mask = np.stack([yy**2 + xx**2 <= r * r for r in radii])
    return SimpleNamespace(mask=mask, offset=(z0, 0, 0))


def test_a_body_beyond_the_cap_grows_past_it() -> None:
    # A cap on slices 10-12, widest on 10 (its open end, stepping down): the body below it
    # widens on slices 9, 8, 7 (a lesion's nested sections).
    first = _stack([6, 4, 2], 10)
    body = _stack([20, 16, 12, 9, 7], 5)  # slices 5-9, largest on 5
    assert grows_beyond(first, body, 10, -1)


def test_a_region_largest_on_the_far_side_is_no_body_beyond() -> None:
    # Re-clicked on slice 9, the region spreads back over the first one and is largest on
    # slice 16, past the first region's other end: not the lesion going on below slice 10.
    first = _stack([6, 4, 2], 10)
    leak = _stack([9, 6, 9, 12, 16, 20, 25, 28], 9)
    assert not grows_beyond(first, leak, 10, -1)


def test_a_region_with_a_neck_past_the_end_is_no_body_beyond() -> None:
    # Largest past the end (slice 5), but pinched to a 2-pixel neck on slice 8: a leak along a
    # vessel, not the lesion's body widening away from its cap.
    first = _stack([6, 4, 2], 10)
    necked = _stack([20, 16, 12, 2, 8], 5)
    assert not grows_beyond(first, necked, 10, -1)


def test_06_clicked_beside_a_leak_on_its_far_side_is_measured(ircadb) -> None:
    # IRCADb 06 (10.0 mm, slices 68-70) on hyper 2.5 mm 30 HU, seed 0's random clicks on slice
    # 70: 9.5 and 9.8 mm, widest on slice 69. The re-click on slice 68 grows a 42.9 mm
    # low-contrast region largest on slice 74, past the lesion's other end. Before: refused as
    # "a larger region goes on beyond it".
    v = variant(ircadb, enhance="hyper", thickness_mm=2.5, noise_sd_hu=30.0, seed=0)
    t06 = v.experts[5]
    assert t06.name.endswith("06") and np.isclose(t06.diameter_mm, 10.0, atol=0.3)
    for click in ((70, 177, 109), (70, 170, 105)):
        assert v.masks[5][click]
        m = measure_lesion(v.volume, LesionPrompt(seed=click), phase="arterial")
        assert abs(m.whole.length_mm - t06.diameter_mm) <= tolerance_mm(t06.diameter_mm)
