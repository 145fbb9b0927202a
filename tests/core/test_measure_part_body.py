"""An unflagged region that is a small part of a larger area of its own value on an inner slice
is flagged (:mod:`lesion_tool.measurement.part_body`; issue 11, thirtieth pass).

IRCADb 01 (78 mm) on the stress bench's "necrotic 5 mm 25 HU" (noise seed 6), clicked in its
enhancing rim at (22, 131, 141): 44.2 mm, Dice 0.30, and before this rule no flag; on its widest
slab the area at its value reads 1.7 times the region's (``part_of_more`` flags from 2), on its
inner slabs 15-19 3.6-8.3 times.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pytest
from _ircadb import variant

from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement import part_body as pb
from lesion_tool.measurement import part_of_more as pm
from lesion_tool.measurement.evaluation import DANGEROUS_FRACTION

CLICK = (22, 131, 141)
"""In 01's enhancing rim on slab 22, inside the expert mask (census click, noise seed 6)."""
GOOD = (22, 138, 191)
"""01 on slab 22, the same census: the whole lesion, within tolerance, left alone."""


@pytest.fixture(scope="module")
def slabbed(ircadb):
    """IRCADb's "necrotic 5 mm 25 HU" as the bench's noise seed 6 draws it."""
    return variant(ircadb, enhance="necrotic", thickness_mm=5.0, noise_sd_hu=25.0, seed=6)


def test_01s_rim_strip_is_flagged(slabbed, monkeypatch) -> None:
    expert = slabbed.experts[0]
    assert slabbed.masks[0][CLICK]
    m = measure_lesion(slabbed.volume, LesionPrompt(seed=CLICK), phase="arterial")
    assert m.whole.length_mm < (1 - DANGEROUS_FRACTION) * expert.diameter_mm
    assert len(m.flags) == 1 and m.flags[0].startswith(pm.PART_FLAG)
    # On its widest slice it reads under part_of_more's GROW; inside, twice BODY_GROW.
    assert pm.spread_ratio(slabbed.volume, m)[1] < pm.GROW
    z, ratio = pb.body_spread(slabbed.volume, m)
    assert ratio >= 2 * pb.BODY_GROW and z < CLICK[0]
    # Switched off, the same result comes back with no flag at all.
    monkeypatch.setattr(pb, "ENABLED", False)
    before = measure_lesion(slabbed.volume, LesionPrompt(seed=CLICK), phase="arterial")
    assert before.whole.length_mm == pytest.approx(m.whole.length_mm)
    assert before.flags == ()


def test_the_whole_lesion_is_not_flagged(slabbed) -> None:
    expert = slabbed.experts[0]
    m = measure_lesion(slabbed.volume, LesionPrompt(seed=GOOD), phase="arterial")
    assert abs(m.whole.length_mm - expert.diameter_mm) <= 0.1 * expert.diameter_mm
    _, ratio = pb.body_spread(slabbed.volume, m)
    assert ratio < 0.5 * pb.BODY_GROW
    assert not [f for f in m.flags if f.startswith(pm.PART_FLAG)]


@dataclass
class _Result:
    """The fields of a measurement the rule reads."""

    mask: np.ndarray
    offset: tuple[int, int, int]
    evidence: SimpleNamespace
    flags: tuple[str, ...]
    whole: SimpleNamespace = field(default_factory=lambda: SimpleNamespace(length_mm=30.0))


def _disc(cy: float, cx: float, r: float, shape: tuple[int, int] = (160, 160)) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= r**2


def _stack(bright: list[np.ndarray], region: list[np.ndarray], flags: tuple[str, ...] = ()):
    """A 1 mm grid, 5 mm slices, of liver at 100 HU with ``bright`` at 160 HU per slice, and
    ``region`` (per slice) as a result delineated by value."""
    image = np.stack([np.where(b, 160.0, 100.0) for b in bright]).astype(np.float32)
    volume = SimpleNamespace(
        array=image, spacing_mm=(5.0, 1.0, 1.0), shape=image.shape, metadata={}
    )
    evidence = SimpleNamespace(
        contrast_hu=60.0, noise_sd_hu=5.0, threshold_hu=130.0, lesion_hu=160.0, texture_sd_hu=None
    )
    return volume, _Result(np.stack(region), (0, 0, 0), evidence, flags)


def test_a_strip_of_a_ring_inside_the_region_is_flagged_a_whole_lesion_not() -> None:
    disc = _disc(80, 80, 12)
    ring = _disc(80, 80, 30) & ~_disc(80, 80, 22)
    strip = ring & (np.mgrid[:160, :160][1] < 62)
    # Widest on a slice where the lesion is a whole disc, a strip of a ring on the next: the
    # widest reads 1, the strip over BODY_GROW; the end slices are not judged.
    end = _disc(80, 80, 6)
    volume, m = _stack([end, disc, ring, end], [end, disc, strip, end])
    assert pm.spread_ratio(volume, m)[1] == pytest.approx(1.0)
    z, ratio = pb.body_spread(volume, m)
    assert z == 2 and ratio >= pb.BODY_GROW
    assert pb.flag_part_body(volume, m).flags[0].startswith(pm.PART_FLAG)
    # The whole lesion on every slice: nothing at its value past its outline.
    volume, m = _stack([end, disc, disc, end], [end, disc, disc, end])
    assert pb.body_spread(volume, m)[1] == pytest.approx(1.0)
    assert pb.flag_part_body(volume, m) is m
    # The strip on an end slice is not judged, and a result flagged already is left alone.
    volume, m = _stack([end, disc, ring], [end, disc, strip])
    assert pb.body_spread(volume, m)[1] == pytest.approx(1.0)
    volume, m = _stack([end, disc, ring, end], [end, disc, strip, end], flags=("other",))
    assert pb.flag_part_body(volume, m) is m
