"""A region cut off on a wide end slice inside a larger area of the lesion's own value is flagged
(:mod:`lesion_tool.measurement.end_ring`; issue 11, thirty-fourth pass).

IRCADb 01 (79.8 mm, Im 48-84) on the stress bench's "necrotic core" (enhancing rim round a dark
core, its seed 34): a click on Im 55 grew a region on Im 49-55 only, 26.5 mm across, 97-100 %
inside 01's expert mask but 3 % of it, and before this rule unflagged. It stops on Im 55, 0.89 as
wide as its widest, where 01's enhancing tissue turns into a ring round the dark core above; on
Im 56 the lesion's tissue goes on over most of its outline. The expert tumours themselves end on
narrow slices, or past their end the image reads as the liver.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from _ircadb import variant

from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement import end_ring as er
from lesion_tool.measurement.evaluation import DANGEROUS_FRACTION

CLICK = (55, 185, 157)
"""On 01's lowest slices (Im 55), inside its expert mask."""


@pytest.fixture(scope="module")
def necrotic(ircadb):
    """IRCADb with necrotic cores in enhancing rims, drawn as the bench's seed 34 draws it."""
    return variant(ircadb, enhance="necrotic", seed=34)


def test_a_piece_of_01_ending_inside_its_ring_is_flagged(necrotic, monkeypatch) -> None:
    expert = necrotic.experts[0]
    assert necrotic.masks[0][CLICK]
    m = measure_lesion(necrotic.volume, LesionPrompt(seed=CLICK), phase="arterial")
    full = m.full_mask(necrotic.volume.shape)
    # Far short of the expert, nearly all inside 01, a small share of it.
    assert m.whole.length_mm < (1 - DANGEROUS_FRACTION) * expert.diameter_mm
    assert (full & necrotic.masks[0]).sum() >= 0.9 * full.sum()
    assert (full & necrotic.masks[0]).sum() < 0.1 * necrotic.masks[0].sum()
    z, step, held, spread, extent = er.spread_beyond(necrotic.volume, m)
    assert (z, step) == (55, 1)
    assert held >= er.HELD and spread >= er.SPREAD and extent >= er.WIDER * m.whole.length_mm
    assert [f for f in m.flags if f.startswith(er.END_FLAG)]
    # Switched off, the same result comes back with no flag at all.
    monkeypatch.setattr(er, "ENABLED", False)
    before = measure_lesion(necrotic.volume, LesionPrompt(seed=CLICK), phase="arterial")
    assert before.whole.length_mm == pytest.approx(m.whole.length_mm)
    assert before.flags == ()


def _as_result(mask: np.ndarray, length_mm: float, evidence) -> SimpleNamespace:
    zs = np.flatnonzero(mask.any(axis=(1, 2)))
    return SimpleNamespace(
        mask=mask[zs[0] : zs[-1] + 1],
        offset=(int(zs[0]), 0, 0),
        flags=(),
        whole=SimpleNamespace(length_mm=length_mm),
        evidence=evidence,
    )


def test_no_expert_tumour_ends_inside_more_of_itself(necrotic) -> None:
    # The seven expert masks measured as results, each with its own median as the lesion's value
    # and the threshold half way to the liver's: none is flagged.
    vol = np.asarray(necrotic.volume.array)
    liver_hu = float(np.median(vol[necrotic.liver]))
    for mask, expert in zip(necrotic.masks, necrotic.experts, strict=True):
        lesion_hu = float(np.median(vol[mask]))
        ev = SimpleNamespace(lesion_hu=lesion_hu, threshold_hu=(lesion_hu + liver_hu) / 2)
        region = _as_result(mask, expert.diameter_mm, ev)
        assert er.flag_ring_end(necrotic.volume, region) is region, expert.name
