"""On thick slabs a diameter's end on a wide border goes out to the border's foot, where IRCADb's
expert draws (issue 11, w34-foot, :mod:`lesion_tool.measurement.slab_foot`).

Against the IRCADb expert masks on "necrotic 5 mm 25 HU" (noise seed 0, as the stress benchmark
builds it): 03 and 01 clicked where their borders fall slowly through the slab measure within the
tolerance with the rule (21.4 / 73.7 mm for 23.2 / 78.2) and not without it (20.1 / 70.2).
Negatives: on noiseless 5 mm slabs 03 and 07, whose borders are sharp, are unchanged; two liver
clicks stay refused; on the CT's own 1.6 mm slices the rule leaves a result as it was. Analytic
profiles: a blurred sharp step, an end high on the border, a profile that rises again on the way
(another structure) do not move; a wide ramp moves to its foot, for either attenuation.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _ircadb import variant

from lesion_tool.errors import MeasurementError
from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement import slab_foot as S
from lesion_tool.measurement.evaluation import tolerance_mm
from lesion_tool.measurement.lowcnr_border import STEP_MM
from lesion_tool.measurement.stress import degrade

NECROTIC_5MM = {"enhance": "necrotic", "thickness_mm": 5.0, "noise_sd_hu": 25.0}


def _measure(vol, zyx, phase: str, enabled: bool, monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setattr(S, "ENABLED", enabled)
    return measure_lesion(vol, LesionPrompt(seed=zyx), phase=phase).whole.length_mm


def _expert(case, name: str) -> float:
    return next(t.diameter_mm for t in case.experts if t.name == name)


@pytest.fixture(scope="module")
def necrotic_5mm(ircadb):
    """The stress benchmark's "necrotic 5 mm 25 HU" at noise seed 0, with its expert tumours."""
    image, tumours, liver, vessels = ircadb
    return variant(ircadb, degrade(image, tumours, liver, vessels, seed=0, **NECROTIC_5MM))


@pytest.mark.parametrize(
    ("name", "zyx", "off_mm"),
    [("livertumor03", (28, 138, 260), 20.1), ("livertumor01", (21, 132, 164), 70.2)],
)
def test_a_wide_border_on_slabs_is_measured_to_its_foot(
    necrotic_5mm, monkeypatch, name: str, zyx: tuple[int, int, int], off_mm: float
) -> None:
    truth = _expert(necrotic_5mm, name)
    off = _measure(necrotic_5mm.volume, zyx, "arterial", False, monkeypatch)
    on = _measure(necrotic_5mm.volume, zyx, "arterial", True, monkeypatch)
    assert off == pytest.approx(off_mm, abs=0.2)
    assert abs(off - truth) > tolerance_mm(truth), (off, truth)
    assert abs(on - truth) <= tolerance_mm(truth), (on, truth)
    # Each end moves at most MAX_MM.
    assert off < on <= off + 2 * S.MAX_MM + 1e-6


@pytest.mark.parametrize("zyx", [(30, 147, 258), (36, 153, 239)])
def test_sharp_borders_on_5mm_slabs_are_left_alone(ircadb_slabbed, monkeypatch, zyx) -> None:
    # 03 and 07 on noiseless 5 mm slabs: their ends reach the foot within 0.25-0.75 mm, or face
    # tissue that is no liver (07's far end): nothing moves.
    case = ircadb_slabbed(5.0)
    on = _measure(case.volume, zyx, "portal-venous", True, monkeypatch)
    off = _measure(case.volume, zyx, "portal-venous", False, monkeypatch)
    assert on == off, (on, off)


def test_refused_liver_clicks_stay_refused(ircadb_slabbed, monkeypatch) -> None:
    case = ircadb_slabbed(5.0)
    monkeypatch.setattr(S, "ENABLED", True)
    for zyx in ((11, 204, 112), (12, 227, 157)):
        with pytest.raises(MeasurementError):
            measure_lesion(case.volume, LesionPrompt(seed=zyx), phase="portal-venous")


def test_thin_slices_are_left_alone(ircadb) -> None:
    m = measure_lesion(ircadb.image, LesionPrompt(seed=(113, 236, 200)), phase="portal-venous")
    assert S.foot_ends(ircadb.image, m) is m


def _profile(h: np.ndarray, liver: float = 110.0, lesion: float = 60.0) -> np.ndarray:
    """HU along a ray for shares ``h`` of the contrast (1 at the lesion, 0 at the liver)."""
    return liver + h * (lesion - liver)


def test_profiles() -> None:
    t = np.arange(0.0, S.MAX_MM + STEP_MM / 2, STEP_MM)
    liver, bright = 110.0, 160.0
    thr_dark, thr_bright = 85.0, 135.0
    # A sharp step blurred (sigma 1 mm), its end placed at a quarter of the contrast: the foot
    # lies within 0.75 mm.
    z0 = 0.674  # a quarter of the contrast is 0.674 sigma past the step
    step = np.array([0.5 * math.erfc((v + z0) / math.sqrt(2.0)) for v in t])
    assert S.end_move_mm(_profile(step), liver, thr_dark) == 0.0
    # A wide ramp, 0.3 of the contrast at the end falling to 0 over 2.5 mm: moved to 0.1.
    ramp = np.clip(0.3 - 0.12 * t, 0.0, None)
    moved = S.end_move_mm(_profile(ramp), liver, thr_dark)
    assert moved == pytest.approx(1.75), moved
    # The same for a bright lesion.
    assert S.end_move_mm(_profile(ramp, lesion=bright), liver, thr_bright) == moved
    # An end high on the border (the tissue beyond is no liver) or a profile rising again on the
    # way to the foot (another structure): not moved.
    assert S.end_move_mm(_profile(ramp + 0.3), liver, thr_dark) == 0.0
    bump = ramp + np.where((t > 0.5) & (t < 1.0), 0.1, 0.0)
    assert S.end_move_mm(_profile(bump), liver, thr_dark) == 0.0
    # Never past MAX_MM: a ramp whose foot lies beyond it.
    slow = 0.4 - 0.1 * t
    assert S.end_move_mm(_profile(slow), liver, thr_dark) == 0.0
