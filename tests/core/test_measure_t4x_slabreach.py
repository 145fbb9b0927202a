"""A bright part's textured body on 2.5 mm slabs: reaching one slab past it on both sides is enough,
and a one-slab texture sliver at the click is the end slab's (issue 11, w27-t4x,
``t4x_slabreach.py``, used by ``t4p_brightpart``).

IRCADb 04 on the plain 2.5 mm variant (17.3 mm over slabs 57-66; the image does not depend on
the bench's seed): seed 8's random click (64, 246, 196) grew a bright focus on slabs 63-64 alone,
9.5 mm, flagged "hyper-attenuating on a non-arterial image"; the textured body at the click lies
on slabs 62-65 (one slab past the part on both sides, 2.5 mm, short of t4p_brightpart's 3 mm)
and measures 17.6 mm. Seed 9's random click (66, 241, 205), on 04's last slab: the bright end with
the liver-valued tissue above it, 13.7 mm; the texture at the click a 15.2 mm sliver on slab 66
alone; the body under it (slabs 61-65) 19.6 mm. Checked against 04's expert mask.
"""

from __future__ import annotations

import numpy as np
import pytest
from _ircadb import variant

from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement import t4p_brightpart as bp
from lesion_tool.measurement import t4x_slabreach as sr
from lesion_tool.measurement.evaluation import _dice, tolerance_mm
from lesion_tool.measurement.segment import SLAB_MM

CLICK = (64, 246, 196)
"""Seed 8's random click in 04 on the 2.5 mm variant: on its bright focus (slabs 63-64)."""
END = (66, 241, 205)
"""Seed 9's random click in 04 on the 2.5 mm variant: on its last slab (66)."""


@pytest.fixture(scope="module")
def slabs(ircadb):
    """The 2.5 mm variant with its expert tumours (built once for this module's tests)."""
    return variant(ircadb, thickness_mm=2.5)


def _measure(v, click):
    return measure_lesion(v.volume, LesionPrompt(seed=click), phase="portal-venous")


def _measures_04(v, click, min_dice: float):
    """Measure ``click`` and check it is 04 (within tolerance, overlapping its expert mask, flagged
    as a bright part's body); return the result and 04's expert."""
    t04 = v.experts[3]
    assert t04.name.endswith("04") and 16.0 < t04.diameter_mm < 19.0
    assert v.masks[3][click]
    m = _measure(v, click)
    assert abs(m.whole.length_mm - t04.diameter_mm) <= tolerance_mm(t04.diameter_mm)
    assert _dice(m.mask, m.offset, v.masks[3]) >= min_dice
    assert m.flags and m.flags[0].startswith(bp.BRIGHTPART_FLAG)
    return m, t04


def test_a_click_on_04s_bright_focus_on_2_5_mm_slabs_measures_04(slabs, monkeypatch) -> None:
    # 04 itself: it overlaps 04's expert mask (0.55; the bright part alone 0.05).
    _, t04 = _measures_04(slabs, CLICK, 0.45)
    # Switched off: the bright focus alone, flagged bright, under the tolerance.
    monkeypatch.setattr(sr, "ENABLED", False)
    before = _measure(slabs, CLICK)
    assert t04.diameter_mm - before.whole.length_mm > tolerance_mm(t04.diameter_mm)
    assert any(f.startswith("hyper-attenuating on a non-arterial") for f in before.flags)
    assert _dice(before.mask, before.offset, slabs.masks[3]) < 0.2


def test_a_click_on_04s_end_slab_measures_04(slabs, monkeypatch) -> None:
    _, t04 = _measures_04(slabs, END, 0.5)
    monkeypatch.setattr(sr, "ENABLED", False)
    before = _measure(slabs, END)
    assert t04.diameter_mm - before.whole.length_mm > tolerance_mm(t04.diameter_mm)
    assert not any(f.startswith(bp.BRIGHTPART_FLAG) for f in before.flags)


class _Tex:
    """A stand-in for a texture region: its flags, and its region on slices ``zs``."""

    def __init__(self, *flags: str, zs: tuple[int, int] = (60, 62)) -> None:
        self.flags = flags
        self.offset = (zs[0], 0, 0)
        self.mask = np.ones((zs[1] - zs[0] + 1, 2, 2), dtype=bool)


def test_a_sliver_is_skipped_at_the_click_on_2_5_mm_slabs_only() -> None:
    sliver = _Tex("seen on 1 slice(s) of 2.5 mm only: partial volume")
    body = _Tex("delineated by texture")
    seed = (66, 241, 205)

    def tex_at(tex):
        return lambda volume, prompt, phase: tex

    def call(at, click):
        return at(None, LesionPrompt(seed=click), "portal-venous")

    wrapped = sr.past_end_sliver(tex_at(sliver), seed, 2.5, SLAB_MM, 3.5)
    assert call(wrapped, (65, 241, 205)) is sliver  # elsewhere as before
    assert call(wrapped, seed) is None  # the end slab's sliver: look under it

    def at(click):  # a sliver at the click, a body under it on slabs 61-65 or 59-66
        return sliver if click == seed else (below if click[0] == 65 else covering)

    below, covering = _Tex("texture", zs=(61, 65)), _Tex("texture", zs=(59, 66))
    under = sr.past_end_sliver(
        lambda volume, prompt, phase: at(prompt.seed), seed, 2.5, SLAB_MM, 3.5
    )
    assert call(under, seed) is None
    assert call(under, (65, 241, 205)) is below  # ends short of the click's slab: kept
    assert call(under, (67, 241, 205)) is None  # covers the click's slab: not past its end
    body_at = sr.past_end_sliver(tex_at(body), seed, 2.5, SLAB_MM, 3.5)
    assert call(body_at, seed) is body  # a body at the click decides, as before
    for thick in (1.6, 5.0):  # thin slices and 5 mm slabs: unchanged
        assert call(sr.past_end_sliver(tex_at(sliver), seed, thick, SLAB_MM, 3.5), seed) is sliver


def test_one_slab_past_the_part_counts_on_both_sides_and_on_slabs_only() -> None:
    # 04 (seed 8): part on slabs 63-64, body 62-65: enclosed. The bench's no-tumour clicks
    # (seed 3 liver, seed 6 vessel): texture one slab past the part on one side only: not.
    assert sr.encloses_part((63, 64), (62, 65), 2.5, SLAB_MM)
    assert not sr.encloses_part((61, 63), (60, 62), 2.5, SLAB_MM)
    assert not sr.encloses_part((66, 67), (65, 67), 2.5, SLAB_MM)
    assert not sr.encloses_part((63, 64), (63, 64), 2.5, SLAB_MM)  # the very same slabs
    # Thin slices keep t4p_brightpart's 3 mm (two 1.6 mm slices on one side).
    assert not sr.encloses_part((63, 64), (62, 65), 1.6, SLAB_MM)


def test_switched_off_one_slab_does_not_count(monkeypatch) -> None:
    monkeypatch.setattr(sr, "ENABLED", False)
    assert not sr.encloses_part((63, 64), (62, 65), 2.5, SLAB_MM)


def test_a_body_covering_the_clicks_own_slab_is_not_taken_under_a_sliver(
    slabs, monkeypatch
) -> None:
    # Seed 1's random click in 04, on slab 59 (not an end): an 8.3 mm texture sliver there,
    # and from slab 60 a texture region leaking to 38.1 mm over slabs 59-66, covering the
    # click's slab: the bright part (10.0 mm) is kept, as with the rule off.
    v = slabs
    click = (59, 242, 198)
    assert v.masks[3][click]
    after = _measure(v, click)
    assert not any(f.startswith(bp.BRIGHTPART_FLAG) for f in after.flags)
    assert after.whole.length_mm < 12.0
    monkeypatch.setattr(sr, "ENABLED", False)
    assert _measure(v, click).whole.length_mm == pytest.approx(after.whole.length_mm)


@pytest.mark.parametrize("click", [(62, 130, 149), (67, 195, 310)], ids=["liver-s3", "vessel-s6"])
def test_bright_regions_outside_a_lesion_keep_their_result(slabs, click, monkeypatch) -> None:
    # The bench's no-tumour clicks on the 2.5 mm variant (seeds 3 and 6), flagged bright: a
    # textured region one slab past them on one side only is not taken (10.6 and 8.7 mm).
    v = slabs
    assert not any(m[click] for m in v.masks)
    after = _measure(v, click)
    assert after.flags and not any(f.startswith(bp.BRIGHTPART_FLAG) for f in after.flags)
    monkeypatch.setattr(sr, "ENABLED", False)
    assert _measure(v, click).whole.length_mm == pytest.approx(after.whole.length_mm)


def test_not_on_an_arterial_image(slabs) -> None:
    # On an arterial image a bright region is the enhancing lesion itself: left as it is.
    m = measure_lesion(slabs.volume, LesionPrompt(seed=CLICK), phase="arterial")
    assert not any(f.startswith(bp.BRIGHTPART_FLAG) for f in m.flags)
