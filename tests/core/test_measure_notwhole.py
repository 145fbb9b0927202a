"""A click's region that the image shows is not the whole lesion is refused, not returned flagged
(notwhole.py, issue 11, w16-off30): IRCADb patient 1 read in place, original and under the stress
degradations, against its expert masks. The same lesions' deepest clicks are still measured
within tolerance (the refusals do not take good results)."""

from __future__ import annotations

import numpy as np
import pytest
from _ircadb import variant

from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement.evaluation import tolerance_mm
from lesion_tool.measurement.notwhole import GROWTH, NotWhole, goes_on


def _within(vol, expert, phase: str) -> None:
    m = measure_lesion(vol, LesionPrompt(seed=expert.deepest), phase=phase)
    assert abs(m.whole.length_mm - expert.diameter_mm) <= tolerance_mm(expert.diameter_mm)


def test_goes_on_needs_a_larger_region_over_the_first() -> None:
    assert goes_on(10.0, GROWTH * 10.0, 0.71)
    assert not goes_on(10.0, 1.4 * 10.0, 1.0)  # about its own length again: the same lesion
    assert not goes_on(10.0, 20.0, 0.3)  # beside it: a neighbour


def test_a_click_on_a_capped_lesions_top_is_refused_and_its_middle_measured(ircadb) -> None:
    # IRCADb 04 (18.5 mm, slices 90-104, widest on 100) is as dense as the liver but for a bright
    # focus on its top slices: clicked there (seed 1's random click, six variants) the region is
    # that top (9.5 mm, widest on its last slice, Dice 0.09); one slice on, 15.9 mm holding 71 %
    # of it, delineated by texture. Before: 9.5 mm returned, flagged.
    v = variant(ircadb)
    t04 = v.experts[3]
    assert t04.name.endswith("04") and 17.0 < t04.diameter_mm < 20.0
    with pytest.raises(NotWhole, match="largest slice"):
        measure_lesion(v.volume, LesionPrompt(seed=(92, 246, 200)), phase="portal-venous")
    _within(v.volume, t04, "portal-venous")


def test_a_slab_cap_over_a_larger_body_is_refused(ircadb_slabbed) -> None:
    # 04 in 5 mm slabs clicked on its end slab (seed 1): 9.5 mm on that slab only; on the next a
    # bright 26.2 mm region under the click (two slabs, not accepted). Neither is 04 (17.1 mm).
    v = ircadb_slabbed(5.0)
    assert v.masks[3][29, 244, 197]
    with pytest.raises(NotWhole, match="goes on beyond it"):
        measure_lesion(v.volume, LesionPrompt(seed=(29, 244, 197)), phase="portal-venous")
    # 06 (9.8 mm) in the same slabs is widest on its last slab and of low contrast, yet whole:
    # nothing larger lies beyond it, and it is measured.
    t06 = v.experts[5]
    assert np.isclose(t06.diameter_mm, 9.8, atol=0.5)
    _within(v.volume, t06, "portal-venous")
