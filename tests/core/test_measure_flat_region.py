"""A region far flatter than it is wide is flagged (:mod:`lesion_tool.measurement.flat_region`;
issue 11, twenty-sixth pass).

IRCADb 03 (23.2 mm) with 30 HU of noise (the stress bench's "noise 30 HU", its seed 24): a click
on its end slice 90 grew a region on slices 89-91 only, 15.9 mm across, 32 % short of the expert
and, before this rule, unflagged. The expert tumours themselves are nowhere near flat.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from _ircadb import variant

from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement import flat_region as fr
from lesion_tool.measurement.evaluation import DANGEROUS_FRACTION

CLICK = (90, 139, 265)
"""On 03's end slice 90 (its slices 88-98), inside its expert mask."""


@pytest.fixture(scope="module")
def noisy(ircadb):
    """IRCADb with 30 HU of noise (1.6 mm slices), drawn as the bench's seed 24 draws it."""
    return variant(ircadb, noise_sd_hu=30.0, seed=24)


def test_a_cap_of_the_lesion_is_flagged_flat(noisy, monkeypatch) -> None:
    expert = noisy.experts[2]
    assert noisy.masks[2][CLICK]
    m = measure_lesion(noisy.volume, LesionPrompt(seed=CLICK), phase="portal-venous")
    # The cap: far short of the expert, less than a fifth as deep as it is wide.
    assert m.whole.length_mm < (1 - DANGEROUS_FRACTION) * expert.diameter_mm
    assert fr.effective_depth_mm(noisy.volume, m) < fr.FLAT_RATIO * m.whole.length_mm
    assert [f for f in m.flags if f.startswith(fr.FLAT_FLAG)]
    # Switched off, the same result comes back with no flag at all.
    monkeypatch.setattr(fr, "ENABLED", False)
    before = measure_lesion(noisy.volume, LesionPrompt(seed=CLICK), phase="portal-venous")
    assert before.whole.length_mm == pytest.approx(m.whole.length_mm)
    assert before.flags == ()


def test_no_expert_tumour_is_flat(ircadb) -> None:
    # The seven expert masks measured as results: each at least 0.3 of its diameter deep (01,
    # 80 mm and irregular, is the flattest), well clear of FLAT_RATIO.
    case = variant(ircadb)
    for mask, expert in zip(case.masks, case.experts, strict=True):
        zs = np.flatnonzero(mask.any(axis=(1, 2)))
        region = SimpleNamespace(
            mask=mask[zs[0] : zs[-1] + 1], whole=SimpleNamespace(length_mm=expert.diameter_mm)
        )
        depth = fr.effective_depth_mm(case.volume, region)
        assert depth >= 0.3 * expert.diameter_mm, expert.name
        assert fr.flag_flat(case.volume, region) is region


def _disc(areas: list[int], length_mm: float) -> SimpleNamespace:
    mask = np.zeros((len(areas), 40, 40), dtype=bool)
    for k, a in enumerate(areas):
        mask[k].flat[:a] = True
    return SimpleNamespace(
        mask=mask, flags=(), whole=SimpleNamespace(length_mm=length_mm), offset=(0, 0, 0)
    )


def test_effective_depth_is_volume_over_largest_section() -> None:
    thin = SimpleNamespace(spacing_mm=(1.6, 0.7, 0.7))
    # The 03 cap's areas: 2.8 mm deep.
    assert fr.effective_depth_mm(thin, _disc([273, 416, 44], 15.9)) == pytest.approx(
        (273 + 416 + 44) / 416 * 1.6
    )
    # A sphere of 16 mm on 1.6 mm slices: two thirds of its diameter deep.
    r = np.arange(-4.5, 5.0) * 1.6
    areas = [round(1000 * max(0.0, 1 - (z / 8.0) ** 2)) for z in r]
    depth = fr.effective_depth_mm(thin, _disc(areas, 16.0))
    assert depth == pytest.approx(2 / 3 * 16.0, rel=0.1)
