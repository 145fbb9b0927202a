"""A region cut off on a wide end slice past which the lesion goes on is flagged
(:mod:`lesion_tool.measurement.end_goes_on`; issue 11, twenty-seventh pass).

IRCADb 02 (29.4 mm, slices 70-86) with 25 HU of noise (the stress bench's "noise 25 HU", its seed
26): a click on slice 80 grew a region on slices 79-85 only, 19.6 mm across, 33 % short of the
expert and, before this rule, unflagged. The expert tumours themselves end on narrow slices.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from _ircadb import variant

from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement import end_goes_on as eg
from lesion_tool.measurement.evaluation import DANGEROUS_FRACTION

CLICK = (80, 328, 189)
"""In 02's darker half on slice 80, inside its expert mask."""


@pytest.fixture(scope="module")
def noisy(ircadb):
    """IRCADb with 25 HU of noise (1.6 mm slices), drawn as the bench's seed 26 draws it."""
    return variant(ircadb, noise_sd_hu=25.0, seed=26)


def test_a_region_cut_off_short_of_the_widest_slices_is_flagged(noisy, monkeypatch) -> None:
    expert = noisy.experts[1]
    assert noisy.masks[1][CLICK]
    m = measure_lesion(noisy.volume, LesionPrompt(seed=CLICK), phase="portal-venous")
    # Far short of the expert; its first slice 79 is wide, and the lesion goes on to slice 70.
    assert m.whole.length_mm < (1 - DANGEROUS_FRACTION) * expert.diameter_mm
    assert eg.open_end(noisy.volume, m) == (79, -1)
    assert [f for f in m.flags if f.startswith(eg.END_FLAG)]
    # Switched off, the same result comes back with no flag at all.
    monkeypatch.setattr(eg, "ENABLED", False)
    before = measure_lesion(noisy.volume, LesionPrompt(seed=CLICK), phase="portal-venous")
    assert before.whole.length_mm == pytest.approx(m.whole.length_mm)
    assert before.flags == ()


def _as_result(mask: np.ndarray, length_mm: float) -> SimpleNamespace:
    zs = np.flatnonzero(mask.any(axis=(1, 2)))
    return SimpleNamespace(
        mask=mask[zs[0] : zs[-1] + 1],
        offset=(int(zs[0]), 0, 0),
        flags=(),
        whole=SimpleNamespace(length_mm=length_mm),
    )


@pytest.mark.parametrize("noise", [0.0, 25.0])
def test_no_expert_tumour_ends_where_it_goes_on(ircadb, noise) -> None:
    # The seven expert masks measured as results, on the image and with the bench's noise: none
    # is flagged (their end slices are narrow, or the image past them reads as liver).
    case = variant(ircadb, noise_sd_hu=noise, seed=7) if noise else variant(ircadb)
    for mask, expert in zip(case.masks, case.experts, strict=True):
        region = _as_result(mask, expert.diameter_mm)
        assert eg.open_end(case.volume, region) is None, expert.name
        assert eg.flag_goes_on(case.volume, region) is region
