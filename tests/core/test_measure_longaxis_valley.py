"""A lesion delineated from its necrotic core ends at the fat plane at the liver's surface
(longaxis_valley.py, issue 11, w17-hyper02).

IRCADb tumour 02 made arterial with a necrotic core (stress variant "necrotic core", no noise, so
the image is the same on every seed): seed 1's random click in its core, (75, 325, 177), crossed
the thin fat plane between the liver and the bowel (smoothed to the core's 0-45 HU) and measured
32.8 mm for 29.4 along an axis ending in the bowel, Dice 0.41 against the expert mask, 41 % of
the outline outside the liver (now 27.7 mm, Dice 0.74, 12 %: a sliver of rim at the surface).
"""

from __future__ import annotations

import numpy as np
import pytest
from _ircadb import variant

from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement.evaluation import tolerance_mm
from lesion_tool.measurement.longaxis_valley import valley_stops

CORE_CLICK = (75, 325, 177)


def test_valleys_stop_every_delineation_darker_than_the_liver() -> None:
    assert valley_stops(-1.0, False)  # a hypo lesion, or a necrotic core on an arterial image
    assert not valley_stops(1.0, False)  # an enhancing lesion's rim
    assert not valley_stops(-1.0, True)  # texture: the profile is a local SD, not HU


@pytest.mark.realdata
def test_tumour_02_core_click_stays_in_the_liver(ircadb, ircadb_arterial) -> None:
    vol, experts, liver, _ = variant(ircadb, ircadb_arterial("necrotic"))
    t02 = next(t for t in experts if t.name.endswith("02"))
    res = measure_lesion(vol, LesionPrompt(seed=CORE_CLICK), phase="arterial")
    assert abs(res.whole.length_mm - t02.diameter_mm) <= tolerance_mm(t02.diameter_mm), (
        res.whole.length_mm,
        res.flags,
    )
    full = np.zeros(t02.mask.shape, dtype=bool)
    o, m = res.offset, res.mask
    full[o[0] : o[0] + m.shape[0], o[1] : o[1] + m.shape[1], o[2] : o[2] + m.shape[2]] = m
    dice = 2 * (full & t02.mask).sum() / (full.sum() + t02.mask.sum())
    assert dice >= 0.65, dice  # 0.41 before (0.74 now)
    outside_liver = (full & ~liver).sum() / full.sum()
    assert outside_liver < 0.2, outside_liver  # 0.41 before: the bowel and its fat (0.12 now)
