"""A cap click on a slab at the liver's dome is measured under the point, one slab further when
the next slab's region slides off it, and keeps that region's own outline (issue 11, w17-t05:
:mod:`lesion_tool.measurement.dome_capslab`).

IRCADb patient 1's 32 mm tumour 05 in 5 mm slabs made hyper-enhancing with 25 HU of noise
(stress variant "hyper 5 mm 25 HU", seed 0), clicked on its top slab (the seeded random click):
that slab is the dome's parenchyma averaged with the lung (109 HU, the window's commonest value),
so the click is refused there; one slab down the point lies at the edge of the tumour's section
and the region grown from it slides into the vena cava beside it; two slabs down the point lies
well inside the tumour. Checked against the expert mask (diameter within max(3 mm, 10 %), Dice).
"""

from __future__ import annotations

import numpy as np
import pytest
from _ircadb import Ircadb, variant

from lesion_tool.errors import MeasurementError
from lesion_tool.measurement import (
    LesionPrompt,
    capclick,
    dome_capslab,
    measure_lesion,
    t5s_halokeep,
)
from lesion_tool.measurement import refine as rf
from lesion_tool.measurement.evaluation import tolerance_mm

TOP_SLAB_CLICK = (39, 221, 204)
"""Inside tumour 05's expert mask, on its top slab (seed 0's random click)."""


@pytest.fixture(scope="module")
def hyper_5mm(ircadb: Ircadb):
    return variant(ircadb, enhance="hyper", thickness_mm=5.0, noise_sd_hu=25.0, seed=0)


def _dice(r, expert: np.ndarray) -> float:
    got = r.full_mask(expert.shape)
    return 2.0 * float((got & expert).sum()) / float(got.sum() + expert.sum())


def test_top_slab_click_is_measured_two_slabs_on(hyper_5mm, monkeypatch) -> None:
    vol, experts, _, masks = hyper_5mm
    expert = masks[4]
    assert expert[TOP_SLAB_CLICK]
    assert TOP_SLAB_CLICK[0] == np.nonzero(expert.any(axis=(1, 2)))[0][-1]  # the top slab
    truth = next(t for t in experts if "livertumor05" in t.name).diameter_mm
    prompt = LesionPrompt(seed=TOP_SLAB_CLICK)
    with monkeypatch.context() as m:
        m.setattr(capclick, "farther_steps", lambda *a: [])  # the next slab only, as before
        with pytest.raises(MeasurementError, match="commonest"):
            measure_lesion(vol, prompt, phase="arterial")
    with monkeypatch.context() as m:
        m.setattr(rf, "outline_doubts", lambda flags: flags)  # every flag an outline doubt
        m.setattr(t5s_halokeep, "ENABLED", False)  # the walker itself, not the halo it would cut
        walked = measure_lesion(vol, prompt, phase="arterial")
        assert truth - walked.whole.length_mm > tolerance_mm(truth)  # the walker's cut: short
    r = measure_lesion(vol, prompt, phase="arterial")
    assert abs(r.whole.length_mm - truth) <= tolerance_mm(truth), (r.whole.length_mm, truth)
    assert _dice(r, expert) >= 0.6
    assert dome_capslab.CAP_NOTE in r.flags[0]
    assert r.flags[0].endswith("check that this is the lesion clicked")
    assert r.seed_voxel == TOP_SLAB_CLICK
    # The same outline as a click on that slab gets (unflagged, so never refined).
    direct = measure_lesion(vol, LesionPrompt(seed=(37, 221, 204)), phase="arterial")
    assert not direct.flags
    assert r.whole.length_mm == pytest.approx(direct.whole.length_mm, abs=0.05)


def test_farther_steps() -> None:
    """One slab further in each direction whose region slid off the point; slabs only."""
    assert dome_capslab.farther_steps(5.0, {-1}) == [-2]
    assert dome_capslab.farther_steps(5.0, {-1, 1}) == [-2, 2]
    assert dome_capslab.farther_steps(2.5, set()) == []
    assert dome_capslab.farther_steps(1.6, {-2}) == []  # thin slices: CAP_MM spans two


def test_outline_doubts_drop_the_cap_note_only() -> None:
    note = (
        f"the click on slice 39 reads like the liver {dome_capslab.CAP_NOTE} slice 37; "
        "check that this is the lesion clicked"
    )
    other = "low contrast: lesion 116 HU against liver 103 HU"
    assert dome_capslab.outline_doubts((note,)) == ()
    assert dome_capslab.outline_doubts((note, other)) == (other,)
