"""A rough line on thick noisy slabs whose every delineation ran far past it takes the faint rim
pinned at its ends at the bar the line vouches for (issue 11, w18-hyper04:
:mod:`lesion_tool.measurement.slabhyper_line`).

IRCADb patient 1's tumour 04 (17.1 mm) made arterial (an enhancing rim 15-20 HU above the liver
around a core 10-20 HU below it) on 5 mm slabs with 25 HU of noise (stress variant "hyper 5 mm
25 HU"), with the benchmark's rough lines of seeds 0 and 1 (jittered, 12-16 % short): every
region by value ran to 1.9-2.2 times the line and was refused; the faint rim through the line's
ends is confirmed at 3.1-3.8 standard errors on the mean of its neighbouring slabs but only 0.7-2.1
against the tissue outside it. Checked against the expert mask transformed the same way.
"""

from __future__ import annotations

import numpy as np
import pytest
from _ircadb import Ircadb, variant

from lesion_tool.errors import MeasurementError
from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement import segment as sg
from lesion_tool.measurement.evaluation import tolerance_mm
from lesion_tool.measurement.linereach import PastLine
from lesion_tool.measurement.ring import RING_Z_SCORE
from lesion_tool.measurement.slabhyper_line import LINE_RING_Z, vouched_flag, vouched_z

LINES = {
    0: ((32.0, 237.95, 211.18), (32.0, 238.72, 184.67)),
    1: ((32.0, 241.54, 211.28), (32.0, 239.03, 186.28)),
}
"""The benchmark's rough line across tumour 04 on its widest slab, by noise seed."""


@pytest.fixture(scope="module", params=[0, 1])
def hyper_5mm(request, ircadb: Ircadb):
    seed = request.param
    return seed, variant(ircadb, enhance="hyper", thickness_mm=5.0, noise_sd_hu=25.0, seed=seed)


def _dice(r, expert: np.ndarray) -> float:
    got = r.full_mask(expert.shape)
    return 2.0 * float((got & expert).sum()) / float(got.sum() + expert.sum())


def test_a_refused_line_on_thick_noisy_slabs_is_measured_by_its_rim(hyper_5mm, monkeypatch):
    seed, (vol, experts, _, masks) = hyper_5mm
    expert = masks[3]
    truth = next(t for t in experts if "livertumor04" in t.name).diameter_mm
    prompt = LesionPrompt(line=LINES[seed])
    # With the click's bar the line is refused: every region ran far past it.
    with monkeypatch.context() as m:
        m.setattr(sg, "vouched_z", lambda slab_mm: None)
        with pytest.raises(PastLine, match="times the line"):
            measure_lesion(vol, prompt, phase="arterial")
    r = measure_lesion(vol, prompt, phase="arterial")
    assert abs(r.whole.length_mm - truth) <= tolerance_mm(truth), (r.whole.length_mm, truth)
    assert _dice(r, expert) >= 0.6
    assert vouched_flag(5.0) in r.flags  # flagged: never returned as if it were sound
    assert any(f.startswith("delineated by its enhancing rim") for f in r.flags)


def test_the_line_middle_clicked_does_not_get_the_lowered_bar(hyper_5mm) -> None:
    seed, (vol, _, _, _) = hyper_5mm
    a, b = (np.asarray(p) for p in LINES[seed])
    click = tuple(round(v) for v in (a + b) / 2.0)
    try:
        r = measure_lesion(vol, LesionPrompt(seed=click), phase="arterial")
    except MeasurementError:  # refused, as before: a click must show that a lesion is there
        return
    assert vouched_flag(5.0) not in r.flags


def test_the_bar_is_lowered_only_on_thick_slabs() -> None:
    assert LINE_RING_Z < RING_Z_SCORE
    assert vouched_z(5.0) == LINE_RING_Z
    assert vouched_z(2.5) is None and vouched_z(1.6) is None
