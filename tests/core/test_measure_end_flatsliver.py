"""A click's region that is a flat sliver on thin slices, measured again one slice on
(:mod:`lesion_tool.measurement.end_flatsliver`; issue 11, w29-ends).

IRCADb made hyper-enhancing (1.6 mm slices, no noise: the same image whatever the bench's seed).
Seed 7's random click in 04 (99, 235, 193), next to its end, grew a 22.4 mm region on two slices
(04: 18.5 mm); seed 9's random click in 03 (96, 135, 267) one of 18.8 mm on two slices (03:
23.2 mm). Measured from the same point one slice on, each is its lesion whole.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from _ircadb import variant

from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement import end_flatsliver as fs
from lesion_tool.measurement.evaluation import _dice, tolerance_mm


@pytest.fixture(scope="module")
def hyper(ircadb, ircadb_arterial):
    """The "hyper" variant with its expert tumours (the session's arterial image)."""
    return variant(ircadb, ircadb_arterial("hyper"))


def _measure(v, click):
    return measure_lesion(v.volume, LesionPrompt(seed=click), phase="arterial")


@pytest.mark.parametrize(
    ("index", "click", "min_dice"),
    [(3, (99, 235, 193), 0.5), (2, (96, 135, 267), 0.6)],
    ids=["04-seed7", "03-seed9"],
)
def test_a_click_next_to_a_lesions_end_measures_it_whole(
    hyper, index, click, min_dice, monkeypatch
) -> None:
    expert = hyper.experts[index]
    assert hyper.masks[index][click]
    after = _measure(hyper, click)
    assert abs(after.whole.length_mm - expert.diameter_mm) <= tolerance_mm(expert.diameter_mm)
    assert _dice(after.mask, after.offset, hyper.masks[index]) >= min_dice
    assert after.flags[0].startswith(f"the click on Im {click[0]} gave a")
    assert after.seed_voxel == click
    # Switched off: the flat sliver on two slices, off by more than the tolerance.
    monkeypatch.setattr(fs, "ENABLED", False)
    before = _measure(hyper, click)
    assert fs.is_flat_sliver(hyper.volume, before)
    assert abs(before.whole.length_mm - expert.diameter_mm) > tolerance_mm(expert.diameter_mm)


def test_a_click_in_the_lesions_middle_is_left_as_it_was(hyper, monkeypatch) -> None:
    # 04's deepest point: its region spans its slices, no sliver: the rule does not act.
    click = (100, 241, 200)
    after = _measure(hyper, click)
    assert not fs.is_flat_sliver(hyper.volume, after)
    monkeypatch.setattr(fs, "ENABLED", False)
    before = _measure(hyper, click)
    assert before.whole.length_mm == pytest.approx(after.whole.length_mm)
    assert before.flags == after.flags


def _stub(zs: int, length_mm: float) -> SimpleNamespace:
    mask = np.zeros((zs + 2, 4, 4), dtype=bool)
    mask[1 : 1 + zs, 1:3, 1:3] = True
    return SimpleNamespace(mask=mask, offset=(10, 0, 0), whole=SimpleNamespace(length_mm=length_mm))


def test_flat_only_on_thin_slices_and_two_slices_at_most() -> None:
    thin = SimpleNamespace(spacing_mm=(1.6, 0.7, 0.7))
    slab = SimpleNamespace(spacing_mm=(2.5, 0.7, 0.7))
    assert fs.is_flat_sliver(thin, _stub(2, 18.8))  # 3.2 mm deep, 18.8 wide
    assert fs.is_flat_sliver(thin, _stub(1, 14.0))
    assert not fs.is_flat_sliver(thin, _stub(2, 10.0))  # a 10 mm lesion's end: 3.2 >= 2.5
    assert not fs.is_flat_sliver(thin, _stub(3, 30.0))  # three slices: a lesion's own
    assert not fs.is_flat_sliver(slab, _stub(2, 30.0))  # slabs: 06 is rightly on two
