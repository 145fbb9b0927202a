"""A click on a bright part of a mottled lesion on a portal-venous image is measured as the
lesion's textured body (issue 11, w22-t04a, ``t4p_brightpart.py``).

IRCADb 04 (18.5 mm over Im 90-104) is mottled, its mean about the liver's, brighter at its ends
(Im 102-104: 128-136 HU, a focus of 180-260 HU). The stress bench's random clicks there grew
the bright part alone, flagged "hyper-attenuating on a non-arterial image": seed 4's
(104, 240, 203) 13.3 mm on the original, seed 3's (103, 239, 197) 12.7 mm with 25 HU noise,
seed 6's (101, 247, 198) 7.9 mm. Checked against 04's expert mask; a vessel clicked in plain
liver, bright and flagged too, keeps its region.
"""

from __future__ import annotations

import pytest
from _ircadb import variant

from lesion_tool.measurement import LesionPrompt, measure_lesion, tex_vote
from lesion_tool.measurement import t4p_brightpart as bp
from lesion_tool.measurement.evaluation import _dice, tolerance_mm

TOP = (104, 240, 203)
"""Seed 4's random click in 04: on its last slice (Im 104), 1.6 mm deep, 138 HU."""
END = (103, 239, 197)
"""Seed 3's random click in 04: on Im 103, on its bright focus (254 HU)."""
SPECKLE = (101, 247, 198)
"""Seed 6's random click in 04: on Im 101, 2 mm inside its border, on a bright speck (207 HU)."""


@pytest.fixture(autouse=True)
def _no_texture_vote(monkeypatch) -> None:
    """This rule alone: tex_vote re-measures a textured body clicked off its middle and may keep
    a re-click's result without this rule's flag (seed 3's END: 18.5 -> 18.4 mm, within both)."""
    monkeypatch.setattr(tex_vote, "ENABLED", False)


@pytest.fixture(scope="module")
def original(ircadb):
    """The original image with its expert tumours (built once for this module's tests)."""
    return variant(ircadb)


def _length(v, click: tuple[int, int, int]) -> tuple[float, tuple[str, ...]]:
    m = measure_lesion(v.volume, LesionPrompt(seed=click), phase="portal-venous")
    return m.whole.length_mm, m.flags


@pytest.mark.parametrize(
    ("click", "noise"),
    [(TOP, None), (END, (3, 25.0))],
    ids=["top-original", "end-seed3-25HU"],
)
def test_a_click_on_04s_bright_end_measures_04(ircadb, original, click, noise, monkeypatch) -> None:
    v = original if noise is None else variant(ircadb, seed=noise[0], noise_sd_hu=noise[1])
    t04 = v.experts[3]
    assert t04.name.endswith("04") and 17.0 < t04.diameter_mm < 20.0
    assert v.masks[3][click]
    m = measure_lesion(v.volume, LesionPrompt(seed=click), phase="portal-venous")
    assert abs(m.whole.length_mm - t04.diameter_mm) <= tolerance_mm(t04.diameter_mm)
    # 04 itself, not a neighbour of its size: it overlaps 04's expert mask.
    assert _dice(m.mask, m.offset, v.masks[3]) >= 0.4
    assert m.flags and m.flags[0].startswith(bp.BRIGHTPART_FLAG)
    # Without the rule: the bright part alone, flagged bright, under the tolerance.
    monkeypatch.setattr(bp, "ENABLED", False)
    before, flags = _length(v, click)
    assert t04.diameter_mm - before > tolerance_mm(t04.diameter_mm)
    assert any(f.startswith("hyper-attenuating on a non-arterial") for f in flags)


def test_a_click_on_a_speck_at_04s_edge_comes_nearer(original, monkeypatch) -> None:
    # Seed 6's click: 7.9 mm before, the body 15.1 mm now (still 3.4 mm under 18.5, flagged).
    v = original
    t04 = v.experts[3].diameter_mm
    after, flags = _length(v, SPECKLE)
    assert flags[0].startswith(bp.BRIGHTPART_FLAG)
    monkeypatch.setattr(bp, "ENABLED", False)
    before, _ = _length(v, SPECKLE)
    assert abs(after - t04) < abs(before - t04) - 5.0


@pytest.mark.parametrize(
    "click", [(75, 261, 126), (98, 161, 239)], ids=["vessel-in-liver", "bright-liver"]
)
def test_bright_regions_outside_a_lesion_keep_their_result(original, click, monkeypatch) -> None:
    # Seed 0's no-tumour clicks on the original, both flagged bright on a non-arterial image:
    # beside a vessel (9.2 mm; a textured region 10.7 mm on the same slices, not beyond them)
    # and on liver (14.3 mm; the textured region 13.0 mm is no longer). Unchanged, flagged.
    v = original
    assert not any(m[click] for m in v.masks)
    after, flags = _length(v, click)
    assert flags and not any(f.startswith(bp.BRIGHTPART_FLAG) for f in flags)
    monkeypatch.setattr(bp, "ENABLED", False)
    assert _length(v, click)[0] == pytest.approx(after)


def test_not_on_an_arterial_image(original) -> None:
    # On an arterial image a bright region is the enhancing lesion itself: left as it is.
    v = original
    m = measure_lesion(v.volume, LesionPrompt(seed=TOP), phase="arterial")
    assert not any(f.startswith(bp.BRIGHTPART_FLAG) for f in m.flags)


def test_a_body_running_to_the_search_limit_is_not_taken(ircadb) -> None:
    # Seed 3's no-tumour click beside a vessel on 5 mm slabs: a flagged 14.4 mm bright region;
    # the textured region at it runs to the 60 mm search limit (110.5 mm before the guard).
    v = variant(ircadb, seed=3, thickness_mm=5.0)
    click = (32, 299, 154)
    assert not any(m[click] for m in v.masks)
    length, flags = _length(v, click)
    assert length < 20.0 and flags
    assert not any(f.startswith(bp.BRIGHTPART_FLAG) for f in flags)
