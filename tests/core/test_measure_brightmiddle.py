"""An enhancing lesion clicked on its pale margin is measured again from its bright middle
(:mod:`lesion_tool.measurement.brightmiddle`; issue 11, twenty-ninth pass).

IRCADb 07 (20.9 mm) made hyper-enhancing, in 5 mm slabs with 25 HU of noise (the stress bench's
"hyper 5 mm 25 HU", noise seed 4), clicked on its left margin on slab 36: the click reads 167 HU,
the lesion's middle 185-203 HU lies over the region's 187 HU ceiling, and the region was a crescent
of margin carried on to the dark tissue past the liver's surface, 14.2 mm, Dice 0.32, unflagged.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from _ircadb import variant

from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement import brightmiddle as pm
from lesion_tool.measurement.evaluation import DANGEROUS_FRACTION, _dice, tolerance_mm

MARGIN_CLICK = (36, 157, 236)
"""On 07's left margin on slab 36, inside the expert mask (census click, noise seed 4)."""
MIDDLE_CLICK = (36, 156, 246)
"""07's deepest point on slab 36: measured whole already, not this rule's."""


@pytest.fixture(scope="module")
def slabbed(ircadb):
    """IRCADb's "hyper 5 mm 25 HU" as the bench's noise seed 4 draws it."""
    return variant(ircadb, enhance="hyper", thickness_mm=5.0, noise_sd_hu=25.0, seed=4)


def _measure(v, click):
    return measure_lesion(v.volume, LesionPrompt(seed=click), phase="arterial")


def test_a_margin_click_on_07_measures_07_whole(slabbed, monkeypatch) -> None:
    t07 = slabbed.experts[6]
    assert t07.name.endswith("07") and slabbed.masks[6][MARGIN_CLICK]
    m = _measure(slabbed, MARGIN_CLICK)
    assert abs(m.whole.length_mm - t07.diameter_mm) <= tolerance_mm(t07.diameter_mm)
    assert _dice(m.mask, m.offset, slabbed.masks[6]) >= 0.7
    assert m.flags[0].startswith(pm.NOTE) and m.seed_voxel == MARGIN_CLICK
    # Without the rule: the crescent, more than 30 % short, with no flag at all.
    monkeypatch.setattr(pm, "ENABLED", False)
    before = _measure(slabbed, MARGIN_CLICK)
    assert before.whole.length_mm < (1 - DANGEROUS_FRACTION) * t07.diameter_mm
    assert before.flags == ()


def test_a_middle_click_and_a_line_are_left_alone(slabbed, monkeypatch) -> None:
    t07 = slabbed.experts[6]
    a, b = t07.long_axis
    prompts = [LesionPrompt(seed=MIDDLE_CLICK), LesionPrompt(line=(a, b))]
    on = [measure_lesion(slabbed.volume, p, phase="arterial") for p in prompts]
    monkeypatch.setattr(pm, "ENABLED", False)
    off = [measure_lesion(slabbed.volume, p, phase="arterial") for p in prompts]
    for new, old in zip(on, off, strict=True):
        assert new.whole.length_mm == pytest.approx(old.whole.length_mm)
        assert not [f for f in new.flags if f.startswith(pm.NOTE)]
    assert abs(on[0].whole.length_mm - t07.diameter_mm) <= tolerance_mm(t07.diameter_mm)


def _case(image: np.ndarray, region: np.ndarray) -> tuple[SimpleNamespace, SimpleNamespace]:
    """A one-slice 0.5 mm grid ``image`` and ``region`` (a mask of it) as a result by value of a
    lesion read at 160 HU against liver at 100 HU (ceiling 190 HU, vessels from 235 HU)."""
    volume = SimpleNamespace(
        array=image[None].astype(np.float32), spacing_mm=(5.0, 0.5, 0.5), shape=(1, *image.shape)
    )
    evidence = SimpleNamespace(
        liver_hu=100.0, lesion_hu=160.0, contrast_hu=60.0, threshold_hu=130.0, noise_sd_hu=4.0
    )
    m = SimpleNamespace(mask=region[None], offset=(0, 0, 0), evidence=evidence, seed_voxel=(0,))
    m.seed_voxel = (0, *np.argwhere(region)[0])
    return volume, m


def _disc(cy: float, cx: float, r: float, shape: tuple[int, int] = (160, 160)) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= r**2


def test_the_bright_middle_beside_a_crescent_is_found() -> None:
    # A 30 mm lesion: a 6 mm pale margin at 160 HU round a 205 HU middle; the region holds
    # a crescent of the margin on the left.
    lesion, middle = _disc(80, 80, 30), _disc(80, 80, 18)
    image = np.where(middle, 205.0, np.where(lesion, 160.0, 100.0))
    crescent = lesion & ~middle & (np.mgrid[:160, :160][1] < 66)
    volume, m = _case(image, crescent)
    z, y, x = pm.middle_click(volume, m)
    assert z == 0 and middle[y, x] and np.hypot(y - 80, x - 80) <= 4
    # The whole lesion delineated: no bright middle outside it.
    volume, m = _case(image, lesion)
    assert pm.middle_click(volume, m) is None


def test_vessels_thin_tissue_and_small_specks_are_not_a_middle() -> None:
    lesion = _disc(80, 80, 16)
    for bright, value in (
        # a contrast-filled vessel 8 mm wide beside the lesion, brighter than any lesion part
        (_disc(80, 110, 8), 260.0),
        # a vessel 8 mm wide at the lesion's own brightest values, wrapped in liver
        (_disc(80, 108, 16), 205.0),
        # a bright tube 3 mm wide touching it (a small vessel at the lesion's own brightness)
        ((np.abs(np.mgrid[:160, :160][0] - 80) <= 3) & (np.mgrid[:160, :160][1] > 90), 205.0),
        # a bright speck 2 mm across
        (_disc(80, 98, 2), 205.0),
    ):
        image = np.where(lesion, 160.0, np.where(bright, value, 100.0))
        volume, m = _case(image, lesion)
        assert pm.middle_click(volume, m) is None
