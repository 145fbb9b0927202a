"""A region whose sections narrow to a neck between two bodies through the slices is flagged
(:mod:`lesion_tool.measurement.necked_region`; issue 11, thirtieth pass).

A plain-liver click on IRCADb's "noise 25 HU" (noise seed 1), (109, 216, 291), 10 mm and more
from every tumour and vessel, came back a 16.6 mm region of noise with no flag: sections of 268,
373, 328, 117, 135, 72, 154 and 221 pixels on Im 107-114.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pytest
from _ircadb import variant

from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement import necked_region as nr
from lesion_tool.measurement import part_of_more as pm

LIVER_CLICK = (109, 216, 291)
"""Plain liver, no tumour or vessel within 10 mm (the no-tumour census's extra click)."""


@pytest.fixture(scope="module")
def noisy(ircadb):
    """IRCADb's "noise 25 HU" as the bench's noise seed 1 draws it."""
    return variant(ircadb, noise_sd_hu=25.0, seed=1)


def test_a_noise_region_in_plain_liver_is_flagged(noisy, monkeypatch) -> None:
    assert noisy.liver[LIVER_CLICK] and not any(t[LIVER_CLICK] for t in noisy.masks)
    m = measure_lesion(noisy.volume, LesionPrompt(seed=LIVER_CLICK), phase="portal-venous")
    assert len(m.flags) == 1 and m.flags[0].startswith(nr.NECK_FLAG)
    _, share = nr.neck(m.mask.reshape(m.mask.shape[0], -1).sum(axis=1))
    assert share < 0.85 * nr.NECK
    # Switched off, the same result comes back, caught only by the last rule, which reads any
    # result every other rule left unflagged (part_of_more.flag_dark_more: on Im 108 the liver's
    # noise at the region's value joins it, 7.4 times its area, and 0.63 of the ring round it
    # reads on its side of the threshold) ...
    monkeypatch.setattr(nr, "ENABLED", False)
    before = measure_lesion(noisy.volume, LesionPrompt(seed=LIVER_CLICK), phase="portal-venous")
    assert before.whole.length_mm == pytest.approx(m.whole.length_mm)
    assert len(before.flags) == 1 and before.flags[0].startswith(pm.DARK_FLAG)
    # ... and with that rule off too, with no flag at all.
    monkeypatch.setattr(pm, "DARK_ENABLED", False)
    bare = measure_lesion(noisy.volume, LesionPrompt(seed=LIVER_CLICK), phase="portal-venous")
    assert bare.whole.length_mm == pytest.approx(m.whole.length_mm)
    assert bare.flags == ()


def test_the_tumours_from_their_deepest_points_are_not_flagged(noisy) -> None:
    for t in noisy.experts:
        m = measure_lesion(noisy.volume, LesionPrompt(seed=t.deepest), phase="portal-venous")
        assert not [f for f in m.flags if f.startswith(nr.NECK_FLAG)], t.name


@dataclass
class _Result:
    """The fields of a measurement the rule reads."""

    mask: np.ndarray
    offset: tuple[int, int, int]
    flags: tuple[str, ...] = ()
    whole: SimpleNamespace = field(default_factory=lambda: SimpleNamespace(length_mm=15.0))


def _result(areas: list[int], flags: tuple[str, ...] = ()) -> _Result:
    """A result whose sections hold ``areas`` pixels (the first ``a`` pixels of a 30 x 30 grid)."""
    mask = np.zeros((len(areas), 30, 30), bool)
    for k, a in enumerate(areas):
        mask[k].flat[:a] = True
    return _Result(mask, (0, 0, 0), flags)


def test_sections_that_grow_and_shrink_are_not_a_neck() -> None:
    volume = SimpleNamespace(metadata={}, shape=(8, 30, 30))
    # The noise region above: two bodies (373, 221) joined by a neck of 72 pixels.
    noise = _result([268, 373, 328, 117, 135, 72, 154, 221])
    k, share = nr.neck(noise.mask.sum(axis=(1, 2)))
    assert k == 5 and share == pytest.approx(72 / 221)
    assert nr.flag_necked(volume, noise).flags[0].startswith(nr.NECK_FLAG)
    # A lesion's sections, a dip of noise within them, and a small piece at an end: no neck.
    for areas in ([40, 200, 420, 500, 470, 300, 90], [300, 420, 330, 480, 390, 200],
                  [120, 20, 380, 640, 700, 500, 200]):  # fmt: skip
        m = _result(areas)
        found = nr.neck(m.mask.sum(axis=(1, 2)))
        assert found is None or found[1] >= nr.NECK
        assert nr.flag_necked(volume, m) is m
    # A result flagged already is left as it is.
    flagged = _result([268, 373, 328, 117, 135, 72, 154, 221], flags=("other",))
    assert nr.flag_necked(volume, flagged) is flagged
