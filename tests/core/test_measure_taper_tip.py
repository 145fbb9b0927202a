"""A lesion's own pointed end is given back after the trim past a rough line; a strand along a
vessel is not (issue 11, w19-taper05, ``taper_tip.py``).

Analytic outlines (72 rays, 0.5 mm pixels) on a plane of two values, and IRCADb tumour 05 (32.5
mm, a pointed end towards the vena cava) on 2.5 mm slabs with a reader's line 18 % short along its
longest axis, against its expert mask; 07's line on "necrotic core" (a spike along a vessel,
``test_measure_rimpeak.py``) must stay cut.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _ircadb import variant

from lesion_tool.measurement import LesionPrompt, measure_lesion, taper_tip
from lesion_tool.measurement.evaluation import tolerance_mm
from lesion_tool.measurement.segment import _outline

N = 72
SP = (0.5, 0.5)
CY = CX = 60.0
LIVER, LESION, THRESHOLD = 130.0, 80.0, 105.0  # a hypo-attenuating lesion


def _case(cut: dict[int, float], beyond: float = LIVER, strand: float = LESION):
    """A 12 mm disk whose rays ``cut`` (index: mm) ran on past it, as a trim left it; the
    plane holds the lesion's value inside, ``strand`` on the cut pieces, and ``beyond`` for
    4 mm past the longest one's point (along it)."""
    radii = np.full(N, 12.0)
    for i, c in cut.items():
        radii[i] = 12.0 + c
    trimmed = np.full(N, 12.0)
    _, mask = _outline(CY, CX, radii, SP, (120, 120))
    _, body = _outline(CY, CX, trimmed, SP, (120, 120))
    plane = np.full((120, 120), LIVER)
    plane[mask] = strand
    plane[body] = LESION
    tip = max(cut, key=cut.get)
    a = tip * 2.0 * math.pi / N
    yy, xx = np.mgrid[:120, :120]
    along = ((yy - CY) * math.sin(a) + (xx - CX) * math.cos(a)) * SP[0]
    across = np.abs(-(yy - CY) * math.cos(a) + (xx - CX) * math.sin(a)) * SP[0]
    run_on = (along > radii[tip]) & (along <= radii[tip] + 4.0) & (across <= 1.5)
    plane[run_on] = beyond
    return radii, trimmed, mask, plane


def _kept(radii, trimmed, mask, plane) -> np.ndarray:
    return taper_tip.keep_taper(radii, trimmed, CY, CX, mask, plane, SP, THRESHOLD, LESION, LIVER)


WEDGE = {70: 1.2, 71: 2.0, 0: 2.6, 1: 2.0, 2: 1.2}  # one point, 5 rays (5.3 mm) at its base


def test_a_short_wedge_ending_in_liver_is_given_back() -> None:
    radii, trimmed, mask, plane = _case(WEDGE)
    out = _kept(radii, trimmed, mask, plane)
    assert out[0] == pytest.approx(14.6) and out[70] == pytest.approx(13.2)
    assert np.array_equal(out[3:70], trimmed[3:70])


def test_a_strand_is_not_given_back() -> None:
    # The lesion's value carries on past the point: a vessel (or a leak) running on.
    radii, trimmed, mask, plane = _case(WEDGE, beyond=LESION)
    assert np.array_equal(_kept(radii, trimmed, mask, plane), trimmed)
    # A spike one ray wide (a vessel's partial-volume fringe), ending in liver.
    radii, trimmed, mask, plane = _case({0: 2.6})
    assert np.array_equal(_kept(radii, trimmed, mask, plane), trimmed)
    # Cut by more than the opening's radius: no wedge of >= 60 deg loses that much.
    radii, trimmed, mask, plane = _case({71: 3.0, 0: 4.5, 1: 3.0})
    assert np.array_equal(_kept(radii, trimmed, mask, plane), trimmed)
    # Two points side by side are not one taper.
    radii, trimmed, mask, plane = _case({71: 2.0, 0: 1.2, 1: 2.0})
    assert np.array_equal(_kept(radii, trimmed, mask, plane), trimmed)
    # Past the lesion's own value (darker than a hypo-attenuating lesion: fat, gut).
    radii, trimmed, mask, plane = _case(WEDGE, strand=LESION - 40.0)
    assert np.array_equal(_kept(radii, trimmed, mask, plane), trimmed)


def test_the_switch_turns_it_off(monkeypatch) -> None:
    monkeypatch.setattr(taper_tip, "ENABLED", False)
    radii, trimmed, mask, plane = _case(WEDGE)
    assert np.array_equal(_kept(radii, trimmed, mask, plane), trimmed)


@pytest.mark.realdata
def test_ircadb_05_pointed_end_from_a_short_line(ircadb, monkeypatch) -> None:
    vol, experts, _, _ = variant(ircadb, thickness_mm=2.5)
    t = next(t for t in experts if t.name.startswith("livertumor05"))
    a, b = (np.asarray(p, dtype=float) for p in t.long_axis)
    mid = (a + b) / 2.0
    line = tuple(tuple(float(v) for v in mid + (p - mid) * 0.82) for p in (a, b))
    res = measure_lesion(vol, LesionPrompt(line=line), phase="portal-venous")
    err = res.whole.length_mm - t.diameter_mm
    assert abs(err) <= tolerance_mm(t.diameter_mm), (res.whole.length_mm, t.diameter_mm)
    box = tuple(slice(o, o + n) for o, n in zip(res.offset, res.mask.shape, strict=True))
    inside = float((res.mask & t.mask[box]).sum()) / max(int(res.mask.sum()), 1)
    assert inside >= 0.8, inside
    # Without the rule the trim past the line takes the pointed end.
    monkeypatch.setattr(taper_tip, "ENABLED", False)
    off = measure_lesion(vol, LesionPrompt(line=line), phase="portal-venous")
    assert off.whole.length_mm < res.whole.length_mm - 1.0, (
        off.whole.length_mm,
        res.whole.length_mm,
    )
