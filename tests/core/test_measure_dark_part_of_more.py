"""A dark region, unflagged by every other rule, that is a small part of a larger area of its own
value on its widest slice is flagged (:func:`lesion_tool.measurement.part_of_more.flag_dark_more`;
issue 11, thirty-second pass).

IRCADb 01 (79.8 mm) on the stress bench's "noise 30 HU" (noise seed 31), clicked at (66, 190,
110), inside the expert mask: the region by value (lesion 61.6 HU, threshold 85.0 HU, contrast
-46.8 HU) holds only 15 % of 01 and measures 47.7 mm, and before this rule came back with no
flag. On its widest slice the connected area below its threshold reads 3.4 times its own, and
0.56 of the ring 1-3 mm outside its outline reads below the threshold too; the same click on the
noise-free image measures the whole lesion (73.8 mm) and reads 1.4-1.6.
"""

from __future__ import annotations

import pytest
from _ircadb import variant

from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement import part_of_more as pm
from lesion_tool.measurement.evaluation import DANGEROUS_FRACTION

CLICK = (66, 190, 110)
"""In 01 on slice 66, inside the expert mask (a random click of noise seed 31)."""


@pytest.fixture(scope="module")
def noisy(ircadb):
    """IRCADb's "noise 30 HU" as the bench's noise seed 31 draws it."""
    return variant(ircadb, noise_sd_hu=30.0, seed=31)


def test_01_dark_part_is_flagged(noisy, monkeypatch) -> None:
    expert = noisy.experts[0]
    assert noisy.masks[0][CLICK]
    m = measure_lesion(noisy.volume, LesionPrompt(seed=CLICK), phase="portal-venous")
    assert m.evidence.contrast_hu < 0
    assert m.whole.length_mm < (1 - DANGEROUS_FRACTION) * expert.diameter_mm
    assert len(m.flags) == 1 and m.flags[0].startswith(pm.DARK_FLAG)
    assert pm.dark_ratio(noisy.volume, m)[1] >= pm.GROW
    assert pm.open_share(noisy.volume, m) >= pm.OPEN_SHARE
    # Switched off, the same result comes back with no flag at all.
    monkeypatch.setattr(pm, "DARK_ENABLED", False)
    before = measure_lesion(noisy.volume, LesionPrompt(seed=CLICK), phase="portal-venous")
    assert before.whole.length_mm == pytest.approx(m.whole.length_mm)
    assert before.flags == ()


def test_01_whole_on_the_original_is_not_flagged(ircadb) -> None:
    """The same click on the noise-free image: the whole lesion, within tolerance, left alone."""
    plain = variant(ircadb, seed=31)
    expert = plain.experts[0]
    m = measure_lesion(plain.volume, LesionPrompt(seed=CLICK), phase="portal-venous")
    assert abs(m.whole.length_mm - expert.diameter_mm) <= 0.1 * expert.diameter_mm
    assert pm.dark_ratio(plain.volume, m)[1] < pm.GROW
    assert not [f for f in m.flags if f.startswith(pm.DARK_FLAG)]
