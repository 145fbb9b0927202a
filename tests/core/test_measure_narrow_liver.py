"""A region is in the liver only if it lies in the liver estimated at the liver's own narrow band,
not only at a dark lesion level's wide one (:mod:`lesion_tool.measurement.narrow_liver`; issue
11, thirty-first pass).

IRCADb made hyper-enhancing (the stress bench's "hyper", no noise: the same image whatever the
seed), the no-tumour click of noise seed 28 at (106, 223, 291), 1-2 mm inside the liver's lower
surface where the stomach and oesophagus lie on it: the region grew into them (Im 101-116), the
dark level (56 HU against the liver's 112 HU) widened the liver's band to 28 HU, the stomach wall
read as liver and the liver estimate engulfed the region: 46.8 mm, no flag.
"""

from __future__ import annotations

import numpy as np
import pytest
from _ircadb import variant

from lesion_tool.errors import MeasurementError
from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement import narrow_liver as nl
from lesion_tool.measurement.segment import LIVER_BAND_MIN_HU, _Levels, _liver_estimate

BELOW_CLICK = (106, 223, 291)
"""Plain liver 1-2 mm inside its lower surface, no tumour or vessel within 10 mm."""


def _outcome(volume, seed) -> tuple[float | None, tuple[str, ...]]:
    """The diameter (None when refused) and flags of a click."""
    try:
        m = measure_lesion(volume, LesionPrompt(seed=seed), phase="arterial")
    except MeasurementError:
        return None, ()
    return m.whole.length_mm, m.flags


def _in_expert_liver(volume, liver: np.ndarray, seed) -> float:
    """The share of the click's region (rule as set) inside the expert's liver."""
    m = measure_lesion(volume, LesionPrompt(seed=seed), phase="arterial")
    z, y, x = m.offset
    d, h, w = m.mask.shape
    return float(liver[z : z + d, y : y + h, x : x + w][m.mask].mean())


def test_a_region_under_the_liver_is_no_longer_returned_unflagged(
    ircadb_arterial, monkeypatch
) -> None:
    volume, masks, liver = ircadb_arterial("hyper")
    assert liver[BELOW_CLICK] and not any(t[BELOW_CLICK] for t in masks)
    length, flags = _outcome(volume, BELOW_CLICK)
    assert length is None or flags
    # Switched off: the region that ran out of the liver, mostly outside the expert's outline,
    # 46.8 mm with no flag.
    monkeypatch.setattr(nl, "ENABLED", False)
    before, before_flags = _outcome(volume, BELOW_CLICK)
    assert before == pytest.approx(46.8, abs=0.1) and before_flags == ()
    assert _in_expert_liver(volume, liver, BELOW_CLICK) < 0.25


def test_the_hyper_tumours_from_their_deepest_points_are_unchanged(
    ircadb, ircadb_arterial, monkeypatch
) -> None:
    v = variant(ircadb, ircadb_arterial("hyper"))
    after = [_outcome(v.volume, t.deepest) for t in v.experts]
    monkeypatch.setattr(nl, "ENABLED", False)
    before = [_outcome(v.volume, t.deepest) for t in v.experts]
    assert after == before
    for t, (length, _) in zip(v.experts, after, strict=True):
        assert length is not None, t.name


def test_an_organ_wall_of_an_intermediate_value_does_not_join_the_liver() -> None:
    """Analytic slice (1 mm pixels): liver at 110 HU above y = 40; below it, touching it along
    30 mm, a "stomach" disk of radius 15 mm whose 4 mm wall reads 86 HU (24 HU under the liver)
    round contents at 55 HU; fat at -100 HU elsewhere. A region in the contents read against a
    56 HU level has a 27 HU band: the wall is liver-like, the liver estimate engulfs the stomach.
    At the narrow band it is the liver alone."""
    yy, xx = np.mgrid[:100, :100]
    plane = np.full((100, 100), -100.0)
    plane[:40, :] = 110.0
    r = np.hypot(yy - 54.0, xx - 50.0)
    plane[r <= 15.0] = 86.0
    plane[r <= 11.0] = 55.0
    region = r <= 8.0
    lv = _Levels(liver=110.0, lesion=56.0, noise=5.0, offset=0.0)
    assert lv.band > LIVER_BAND_MIN_HU

    def estimate(band: float | None = None) -> np.ndarray:
        return _liver_estimate(plane, lv, (1.0, 1.0), band=band)

    wide = estimate()
    assert nl.inside_share(region, wide) == 1.0
    narrow = nl.narrow_estimate(region, wide, lv.band, LIVER_BAND_MIN_HU, 0.3, estimate)
    assert nl.inside_share(region, narrow) == 0.0
    assert narrow[:35].all() and not narrow[45:].any()
    # A lesion in the liver (a dark disk inside the 110 HU body) stays inside at either band.
    inner = plane.copy()
    inner[:40, :] = 110.0
    lesion = np.hypot(yy - 20.0, xx - 50.0) <= 8.0
    inner[lesion] = 55.0
    wide_in = _liver_estimate(inner, lv, (1.0, 1.0))
    kept = nl.narrow_estimate(
        lesion,
        wide_in,
        lv.band,
        LIVER_BAND_MIN_HU,
        0.3,
        lambda b: _liver_estimate(inner, lv, (1.0, 1.0), band=b),
    )
    assert kept is wide_in and nl.inside_share(lesion, kept) == 1.0
