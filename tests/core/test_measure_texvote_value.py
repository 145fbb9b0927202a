"""A click's region by texture gives way to a sound region by value its own re-clicks find
holding the click (issue 11, w37-05, ``texvote_value.py``).

IRCADb 05 (32.45 mm over Im 106-123) clicked at (116, 207, 221), 2.4 mm inside the expert's
outline on a middle slice (the random click of stress seed 31 on "original", "noise 15 HU"), reads
110 HU, the commonest value around: refused by value, it was delineated by texture as the
lesion's edge band, 26.7 mm (tolerance 3.2 mm). ``tex_vote``'s re-clicks inside that region (Im
113, 118) find the lesion by value with plain contrast, no flag, holding the voxel clicked.
Checked against 05's expert mask; 04, measured right by texture, keeps its texture outline.
"""

from __future__ import annotations

import pytest
from _ircadb import variant

from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement import texvote_value as tvv
from lesion_tool.measurement.evaluation import _dice, tolerance_mm

MARGIN_CLICK = (116, 207, 221)
"""05's margin click (stress seed 31's random click), read as the liver by value."""
T04_CLICK = (96, 240, 198)
"""An upper click on 04, a faint mottled lesion measured by texture (test_measure_tex_vote)."""


@pytest.fixture(scope="module")
def original(ircadb):
    """The original image with its expert tumours (built once for this module's tests)."""
    return variant(ircadb)


def _measure(v, click: tuple[int, int, int]):
    return measure_lesion(v.volume, LesionPrompt(seed=click), phase="portal-venous")


def test_a_margin_click_on_05_measures_05_by_value(original, monkeypatch) -> None:
    v = original
    t05 = v.experts[4]
    assert t05.name.endswith("05") and 32.0 < t05.diameter_mm < 33.0
    assert v.masks[4][MARGIN_CLICK]
    tol = tolerance_mm(t05.diameter_mm)
    m = _measure(v, MARGIN_CLICK)
    assert abs(m.whole.length_mm - t05.diameter_mm) <= tol
    assert m.evidence.texture_sd_hu is None
    assert m.flags[0].startswith("the click on Im 116 reads like the liver (the lesion's margin?)")
    assert m.seed_voxel == MARGIN_CLICK
    dice = _dice(m.mask, m.offset, v.masks[4])
    # Without the rule: the edge band by texture, more than the tolerance short, less like 05.
    monkeypatch.setattr(tvv, "ENABLED", False)
    before = _measure(v, MARGIN_CLICK)
    assert before.evidence.texture_sd_hu is not None
    assert t05.diameter_mm - before.whole.length_mm > tol
    assert dice > _dice(before.mask, before.offset, v.masks[4]) + 0.1


def test_04_by_texture_is_left_to_the_vote(original) -> None:
    # 04's texture outline from its upper slice: its re-clicks are by texture too (voted on).
    v = original
    t04 = v.experts[3]
    m = _measure(v, T04_CLICK)
    assert abs(m.whole.length_mm - t04.diameter_mm) <= tolerance_mm(t04.diameter_mm)
    assert m.evidence.texture_sd_hu is not None
    assert not m.flags[0].startswith("the click on")
