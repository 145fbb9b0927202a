"""A click on a mottled lesion's end slice whose region by value drifted off it is measured as
the lesion's textured body on a portal-venous image (issue 11, w25-t4t, ``t4t_driftbody.py``).

IRCADb 04 (18.5 mm over Im 90-104) clicked on its last slice (the stress bench's seed-9 random
click (104, 240, 201), 117 HU against a liver of ~115 HU): the region by value ran into the
liver and was refused as drifted ("lies 6 mm away from the click"). Its textured body, found
two slices up at the click's point, is 04. Checked against 04's expert mask; a click in smooth
liver stays refused, and arterial images are left to their own steps.
"""

from __future__ import annotations

import numpy as np
import pytest
from _ircadb import variant

from lesion_tool.io.volume import CTVolume
from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement import segment as seg
from lesion_tool.measurement import t4t_driftbody as db
from lesion_tool.measurement.driftclick import Drifted
from lesion_tool.measurement.evaluation import _dice, tolerance_mm
from lesion_tool.measurement.segment import MeasurementError

END = (104, 240, 201)
"""Seed 9's random click in 04: on its last slice, Im 104 (expert 9.8 mm wide there)."""


@pytest.mark.realdata
def test_a_click_on_04s_end_slice_measures_04(ircadb, monkeypatch) -> None:
    v = variant(ircadb)
    t04 = v.experts[3]
    assert t04.name.endswith("04") and 17.0 < t04.diameter_mm < 20.0
    assert v.masks[3][END]
    m = measure_lesion(v.volume, LesionPrompt(seed=END), phase="portal-venous")
    assert abs(m.whole.length_mm - t04.diameter_mm) <= tolerance_mm(t04.diameter_mm), m.whole
    # 04 itself: it overlaps 04's expert mask and holds the click.
    assert _dice(m.mask, m.offset, v.masks[3]) >= 0.5
    assert m.flags and m.flags[0].startswith(db.DRIFTBODY_FLAG)
    # Without the rule: refused as a region that drifted off the click.
    monkeypatch.setattr(db, "ENABLED", False)
    with pytest.raises(Drifted):
        measure_lesion(v.volume, LesionPrompt(seed=END), phase="portal-venous")


@pytest.mark.realdata
def test_not_on_arterial_images(ircadb) -> None:
    # The arterial drift steps (smallles_blob, t06_ringclick, n5s_slabring) judge it there.
    v = variant(ircadb)
    prompt = LesionPrompt(seed=END)
    assert db.body_of_drifted(v.volume, prompt, True, "arterial", seg._texture_at) is None


def test_smooth_liver_has_no_textured_body() -> None:
    # A click in smooth liver (110 HU, 12 HU white noise, 1.6 mm slices): no body by texture,
    # the click stays refused.
    sp, shape = (1.6, 0.7, 0.7), (30, 140, 140)
    img = 110.0 + np.random.default_rng(0).normal(0.0, 12.0, shape)
    vol = CTVolume(img.astype(np.float32), sp, (0.0, 0.0, 0.0))
    prompt = LesionPrompt(seed=(15, 70, 70))
    assert db.body_of_drifted(vol, prompt, False, "portal-venous", seg._texture_at) is None
    with pytest.raises(MeasurementError):
        measure_lesion(vol, prompt, phase="portal-venous")
