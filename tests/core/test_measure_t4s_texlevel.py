"""A texture outline on slabs reads the lesion's texture level where the window is all lesion
(issue 11, w23-t4s, ``t4s_texlevel.py``).

IRCADb 04 (17.1 mm on 5 mm slabs, 17.3 on 2.5 mm) is mottled, its mean the liver's: random
clicks in it are delineated by texture. Before the rule the stress bench's seed-3 and seed-4
clicks gave 23.2 / 20.4 mm on 5 mm slabs and 20.4 mm on 2.5 mm (tolerance 3 mm): the lesion's
level, read inside the first outline's spread, came out low and the outline widened. Checked
against 04's expert mask; analytic checks of the level itself.
"""

from __future__ import annotations

import numpy as np
import pytest

from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement import t4s_texlevel as tl
from lesion_tool.measurement.evaluation import _dice, tolerance_mm
from lesion_tool.measurement.segment import SLAB_MM, TEXTURE_SIGMA_MM, _Levels

SLAB5 = (32, 237, 198)
"""Seed 3's random click in 04 on 5 mm slabs: on its lower end slab (slice 32)."""
SLAB25 = (64, 240, 189)
"""Seed 3's random click in 04 on 2.5 mm slabs (slice 64)."""


@pytest.mark.parametrize(("thick", "click"), [(5.0, SLAB5), (2.5, SLAB25)], ids=["5mm", "2.5mm"])
def test_04s_texture_outline_on_slabs_measures_04(
    ircadb_slabbed, thick, click, monkeypatch
) -> None:
    v = ircadb_slabbed(thick)
    t04 = v.experts[3]
    assert t04.name.endswith("04") and 16.0 < t04.diameter_mm < 18.0
    assert v.masks[3][click]
    m = measure_lesion(v.volume, LesionPrompt(seed=click), phase="portal-venous")
    assert m.evidence.texture_sd_hu is not None  # delineated by texture
    assert abs(m.whole.length_mm - t04.diameter_mm) <= tolerance_mm(t04.diameter_mm)
    assert _dice(m.mask, m.offset, v.masks[3]) >= 0.5
    # Without the rule: the outline runs into the texture's spread, over the tolerance.
    monkeypatch.setattr(tl, "ENABLED", False)
    before = measure_lesion(v.volume, LesionPrompt(seed=click), phase="portal-venous")
    assert before.whole.length_mm - t04.diameter_mm > tolerance_mm(t04.diameter_mm)
    assert before.whole.length_mm > m.whole.length_mm + 1.0


def _levels(texture: bool, lesion: float = 16.0) -> _Levels:
    return _Levels(10.0, lesion, 1.5, 0.0, texture=texture)


def _spread_disk() -> tuple[np.ndarray, np.ndarray]:
    """A 16 mm disk of texture 24 HU SD whose outline took 5 mm of spread at 14 HU SD around
    it (0.6 mm pixels): the median inside the outline is pulled down by the spread."""
    yy, xx = np.mgrid[-30:31, -30:31] * 0.6
    r = np.hypot(yy, xx)
    plane = np.where(r <= 8.0, 24.0, np.where(r <= 13.0, 14.0, 10.0)).astype(np.float32)
    return r <= 13.0, plane


def test_the_level_is_raised_on_slabs_by_texture_only() -> None:
    mask, plane = _spread_disk()
    assert float(np.median(plane[mask])) < 20.0  # the level as read before
    up = tl.raise_texture_level(_levels(True), mask, plane, (5.0, 0.6, 0.6), SLAB_MM, 2.0)
    assert up.lesion == pytest.approx(24.0)
    # Not on thin slices, not by value, not on an arterial image, never lowered.
    for lv, sp in ((_levels(True), (1.6, 0.6, 0.6)), (_levels(False), (5.0, 0.6, 0.6))):
        assert tl.raise_texture_level(lv, mask, plane, sp, SLAB_MM, 2.0) is lv
    lv = _levels(True)
    assert tl.raise_texture_level(lv, mask, plane, (5.0, 0.6, 0.6), SLAB_MM, 2.0, True) is lv
    high = _levels(True, lesion=30.0)
    assert tl.raise_texture_level(high, mask, plane, (5.0, 0.6, 0.6), SLAB_MM, 2.0) is high


def test_a_region_narrower_than_the_spread_keeps_its_level() -> None:
    # A 7 mm outline: eroded by 4 mm nothing is left, the level stays as read.
    yy, xx = np.mgrid[-15:16, -15:16] * 0.6
    mask = np.hypot(yy, xx) <= 3.5
    plane = np.full(mask.shape, 20.0, np.float32)
    assert tl.deep_level(mask, plane, (0.6, 0.6), TEXTURE_SIGMA_MM) is None
    lv = _levels(True)
    assert tl.raise_texture_level(lv, mask, plane, (5.0, 0.6, 0.6), SLAB_MM, 2.0) is lv
