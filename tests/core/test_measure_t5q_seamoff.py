"""A seam click refused as not surrounded by liver is measured from the core beside it
(t5q_seamoff, issue 11, w26-t5q).

Real: IRCADb tumour 05 given a necrotic core (40-60 HU) inside an enhancing rim (140-190 HU) in
5 mm slabs with 25 HU noise (the stress benchmark's "necrotic 5 mm 25 HU", seed 8), clicked on
the seam at (36, 217, 199) (123 HU smoothed, between core and rim): the whole lesion within the
expert's tolerance (31.7 mm for 31.8), flagged as measured from the core; with the rule
switched off the click is refused as "not surrounded by liver". Negatives: a region outside the
liver estimate (:class:`NotInLiver`: the kidney's pole), a line, another error, or the switch
off never look for a core.
"""

from __future__ import annotations

import pytest
from _ircadb import variant

from lesion_tool.errors import MeasurementError
from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement import t5q_seamoff as t5q
from lesion_tool.measurement.evaluation import tolerance_mm
from lesion_tool.measurement.offliver import NotInLiver, OffLiver


def _never() -> None:
    raise AssertionError("the core beside the click was looked for")


@pytest.mark.parametrize(
    ("err", "prompt"),
    [
        (NotInLiver("not in the liver"), LesionPrompt(seed=(5, 5, 5))),
        (MeasurementError("a speck"), LesionPrompt(seed=(5, 5, 5))),
        (OffLiver("not surrounded"), LesionPrompt(line=((5, 5, 2), (5, 5, 30)))),
    ],
)
def test_only_a_click_refused_as_not_surrounded_looks_for_a_core(err, prompt) -> None:
    assert t5q.core_beside_refused(err, prompt, _never) is None


def test_switched_off_it_does_not_look(monkeypatch) -> None:
    monkeypatch.setattr(t5q, "ENABLED", False)
    assert t5q.core_beside_refused(OffLiver("x"), LesionPrompt(seed=(5, 5, 5)), _never) is None


@pytest.mark.realdata
def test_ircadb_05_necrotic_5mm_seam_click_is_measured_from_its_core(ircadb, monkeypatch) -> None:
    v = variant(ircadb, enhance="necrotic", thickness_mm=5.0, noise_sd_hu=25.0, seed=8)
    expert = v.experts[4]
    assert expert.name == "livertumor05"
    tol = tolerance_mm(expert.diameter_mm)
    click = (36, 217, 199)
    m = measure_lesion(v.volume, LesionPrompt(seed=click), phase="arterial")
    assert abs(m.whole.length_mm - expert.diameter_mm) <= tol, m.whole.length_mm
    assert any("measured from the dark core" in f for f in m.flags), m.flags
    monkeypatch.setattr(t5q, "ENABLED", False)
    with pytest.raises(OffLiver, match="not surrounded by liver"):
        measure_lesion(v.volume, LesionPrompt(seed=click), phase="arterial")
