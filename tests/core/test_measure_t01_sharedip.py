"""A lesion followed through the slices crosses a short stretch where it meets the liver's surface
(issue 11, w25-01: :mod:`lesion_tool.measurement.t01_sharedip`).

IRCADb patient 1's 79.8 mm tumour 01 in 2.5 mm slabs (the stress bench's "2.5 mm"; no noise, the
same image whatever the seed), clicked at (44, 186, 134) as seed 8's random click: followed
upwards, the ring beyond its outline is under 0.3 liver-like on slices 37-39 (the abdominal wall
and the lesion's own outer part) and liver-like again on slice 36; without the rule the region
stops at slice 39 and measures 65.5 mm (tolerance 8.0). Checked against the expert mask, with the
rule switched off, on the rule's decision itself, and on a lesion running out of the liver into a
neighbour of the same value, which must still stop at the liver's edge.
"""

from __future__ import annotations

import numpy as np
import pytest

from lesion_tool.io.volume import CTVolume
from lesion_tool.measurement import LesionPrompt, measure_lesion, segment, t01_sharedip
from lesion_tool.measurement.evaluation import tolerance_mm
from lesion_tool.measurement.t01_sharedip import DIP_MM, crosses_dip

CLICK = (44, 186, 134)


def _dice(r, expert: np.ndarray) -> float:
    """Dice of the result's outline with the expert mask."""
    got = r.full_mask(expert.shape)
    return 2.0 * float((got & expert).sum()) / float(got.sum() + expert.sum())


def test_ircadb_01_on_2_5_mm_slabs_followed_past_the_wall(ircadb_slabbed, monkeypatch) -> None:
    """65.5 mm without the rule (14.3 short, tolerance 8.0), within with it (74.2 mm); its region
    reaches the slices above 39 the expert outlines, and its Dice with the expert mask goes 0.59
    -> 0.84."""
    v = ircadb_slabbed(2.5)
    truth = v.experts[0].diameter_mm
    expert = v.masks[0]
    assert expert[CLICK]
    with monkeypatch.context() as m:
        m.setattr(t01_sharedip, "ENABLED", False)
        before = measure_lesion(v.volume, LesionPrompt(seed=CLICK), phase="portal-venous")
    assert truth - before.whole.length_mm > tolerance_mm(truth)
    after = measure_lesion(v.volume, LesionPrompt(seed=CLICK), phase="portal-venous")
    assert after.whole.length_mm == pytest.approx(truth, abs=tolerance_mm(truth))
    got = after.full_mask(expert.shape)
    top = int(np.nonzero(got.any(axis=(1, 2)))[0].min())
    assert top <= 36 < int(np.nonzero(before.full_mask(expert.shape).any(axis=(1, 2)))[0].min())
    assert _dice(after, expert) >= 0.8 > 0.65 > _dice(before, expert)  # 0.84 against 0.59


def _shares(values):
    """A ``share_at`` reading ``values`` in turn, counting its calls."""
    calls = []

    def share_at(k: int) -> float | None:
        calls.append(k)
        return values[k - 1]

    return share_at, calls


def test_crossed_when_liver_like_again_within_reach() -> None:
    """01 on 2.5 mm slabs, seed 8: 0.26, 0.15, then 0.31 three slices (7.5 mm) past slice 39."""
    share_at, calls = _shares([0.26, 0.15, 0.31])
    assert crosses_dip(share_at, 39, -1, 2.5, 0.92, 0.3, 0.31)
    assert calls == [1, 2, 3]


def test_not_crossed_when_never_liver_like_or_ended() -> None:
    """A region that left the liver (its ring stays unlike the liver), one ending by another test
    (None), or one recovering only beyond DIP_MM, still stops."""
    assert not crosses_dip(_shares([0.1, 0.05, 0.0, 0.0, 0.0])[0], 10, 1, 2.5, 0.95, 0.3, 0.3)
    assert not crosses_dip(_shares([0.2, None, 0.9])[0], 10, 1, 2.5, 0.95, 0.3, 0.3)
    n = int(DIP_MM // 5.0)
    share_at, calls = _shares([0.1] * n + [0.9])
    assert not crosses_dip(share_at, 10, 1, 5.0, 0.95, 0.3, 0.3)
    assert not crosses_dip(_shares([0.9])[0], 10, 1, 1.6, 0.95, 0.3, 0.3)  # thin slices: off
    assert calls == list(range(1, n + 1))


def test_not_crossed_when_widening_out_of_the_slice_before(monkeypatch) -> None:
    """An outline lying mostly outside the one before (a leak) is not followed; off, never."""
    assert not crosses_dip(_shares([0.9])[0], 10, 1, 2.5, 0.5, 0.3, 0.3)
    monkeypatch.setattr(t01_sharedip, "ENABLED", False)
    assert not crosses_dip(_shares([0.9])[0], 10, 1, 2.5, 0.95, 0.3, 0.3)


def test_not_crossed_where_the_ring_is_not_the_surface() -> None:
    """IRCADb 05's line on hyper 2.5 mm 30 HU, seed 8: its dip slice's ring is the lesion's own
    bright value and the vena cava's (0.00 darker than lesion and liver): not the liver's surface,
    although the ring is liver-like on the slice beyond (0.85)."""
    assert not crosses_dip(_shares([0.85])[0], 74, 1, 2.5, 0.95, 0.3, 0.0)
    assert crosses_dip(_shares([0.85])[0], 74, 1, 2.5, 0.95, 0.3, 0.25)


def _into_neighbour() -> tuple[CTVolume, tuple[int, int, int], np.ndarray]:
    """Liver (110 HU, noise 8) on slices 0-19 of 2.5 mm; a 60 HU ball (radius 14 mm) whose top
    touches the liver's upper face; above the liver, in fat (-90 HU), a 60 HU column (radius 10
    mm) of the same value rising from the ball's top for 25 slices: a neighbour the region must
    not enter. Returns the volume, the ball's centre and the liver's slices."""
    rng = np.random.default_rng(1)
    sp = (2.5, 0.8, 0.8)
    nz, ny, nx = 48, 100, 100
    z, y, x = np.meshgrid(
        *(np.arange(n) * s for n, s in zip((nz, ny, nx), sp, strict=True)), indexing="ij"
    )
    cy, cx = ny * sp[1] / 2, nx * sp[2] / 2
    liver = z < 20 * sp[0]
    arr = np.where(liver, 110.0, -90.0)
    cz = 16 * sp[0]
    ball = (z - cz) ** 2 + (y - cy) ** 2 + (x - cx) ** 2 <= 14.0**2
    column = (~liver) & ((y - cy) ** 2 + (x - cx) ** 2 <= 10.0**2)
    arr[ball | column] = 60.0
    arr = arr + rng.normal(0.0, 8.0, arr.shape)
    vol = CTVolume(arr.astype(np.float32), sp, (0.0, 0.0, 0.0))
    return vol, (16, ny // 2, nx // 2), np.arange(20)


def test_lesion_running_out_of_the_liver_still_stops(monkeypatch) -> None:
    """The ball's region does not run up the neighbour's column, with the rule as without it."""
    vol, click, _ = _into_neighbour()
    asked = []

    def spy(*args, **kwargs) -> bool:
        asked.append(args[1])
        return crosses_dip(*args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(segment, "crosses_dip", spy)
        on = measure_lesion(vol, LesionPrompt(seed=click), phase="portal-venous")
    assert asked  # the rule was asked at the liver's edge, and said no
    with monkeypatch.context() as m:
        m.setattr(t01_sharedip, "ENABLED", False)
        off = measure_lesion(vol, LesionPrompt(seed=click), phase="portal-venous")
    top_on = int(np.nonzero(on.full_mask(vol.shape).any(axis=(1, 2)))[0].max())
    top_off = int(np.nonzero(off.full_mask(vol.shape).any(axis=(1, 2)))[0].max())
    assert top_on == top_off <= 21
    assert on.whole.length_mm == pytest.approx(off.whole.length_mm, abs=0.01)
