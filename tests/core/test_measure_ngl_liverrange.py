"""A large faint bright region on an arterial image, judged against the liver around its body,
is flagged as a possible perfusion difference (issue 11, w24-ngl, ``ngl_liverrange.py``).

IRCADb patient 1 in 5 mm slabs with 25 HU of noise, made hyper-enhancing and declared arterial
(the stress variant "hyper 5 mm 25 HU", seed 11): a click on plain liver at the dome, voxel
(38, 193, 144), grew a 45.1 mm region of brighter parenchyma (slabs 34-38) with no flag, its
liver read 104 HU around the click against 111 HU around the region's body. Checked against the
expert masks: the region lies in the liver and (nearly) off every tumour; the enhancing tumours
on the same image keep their results and get no such flag.
"""

from __future__ import annotations

import numpy as np
import pytest
from _ircadb import variant

from lesion_tool.measurement import LesionPrompt, end_ring, measure_lesion, part_body, part_of_more
from lesion_tool.measurement import ngl_liverrange as ngl
from lesion_tool.measurement.evaluation import tolerance_mm

DOME = (38, 193, 144)
"""Seed 11's no-tumour click on the liver at the dome (slab 38 of 41)."""
T05 = (36, 228, 211)
"""A click in IRCADb 05 (31-33 mm) on the same image: an enhancing lesion as wide."""
T01 = (20, 158, 169)
"""A click in IRCADb 01 (about 78 mm)."""
PREFIX = ngl.FLAG.split("{")[0]


@pytest.fixture(scope="module")
def hyper5(ircadb):
    """IRCADb hyper-enhancing, 5 mm slabs, 25 HU noise, seed 11 (built once here)."""
    return variant(ircadb, seed=11, enhance="hyper", thickness_mm=5.0, noise_sd_hu=25.0)


def _full(m, shape) -> np.ndarray:
    return m.full_mask(shape)


def test_a_dome_click_on_plain_liver_is_flagged(hyper5, monkeypatch) -> None:
    v = hyper5
    assert not any(t[DOME] for t in v.masks) and v.liver[DOME]
    m = measure_lesion(v.volume, LesionPrompt(seed=DOME), phase="arterial")
    region = _full(m, v.volume.shape)
    # The region is liver (by the expert mask), hardly any tumour: not a lesion.
    assert v.liver[region].mean() >= 0.95
    assert sum(int((t & region).sum()) for t in v.masks) <= 0.02 * region.sum()
    assert m.whole.length_mm >= ngl.MIN_WIDTH_MM
    faint = [f for f in m.flags if f.startswith(PREFIX)]
    assert faint, m.flags
    # The liver around its body reads brighter than around the click.
    inside, around = ngl.liver_around(v.volume, m.mask, m.offset, _mode())
    assert around > m.evidence.liver_hu + 3.0 and 0.0 < inside - around < 15.0
    # Without the rule: the same region, unflagged. part_of_more flags this plain-liver region
    # too (it is a small part of the liver's larger area of its value), and part_body on its
    # inner slices, and end_ring (its end slab lies inside a larger area of the liver's brighter
    # value): off, so that this shows what ngl_liverrange alone does.
    monkeypatch.setattr(ngl, "ENABLED", False)
    monkeypatch.setattr(part_of_more, "ENABLED", False)
    monkeypatch.setattr(part_body, "ENABLED", False)
    monkeypatch.setattr(end_ring, "ENABLED", False)
    off = measure_lesion(v.volume, LesionPrompt(seed=DOME), phase="arterial")
    assert off.whole.length_mm == pytest.approx(m.whole.length_mm)
    assert not off.flags


@pytest.mark.parametrize("click", [T05, T01], ids=["05", "01"])
def test_enhancing_tumours_are_not_flagged_faint(hyper5, click) -> None:
    v = hyper5
    k = next(i for i, t in enumerate(v.masks) if t[click])
    expert = v.experts[k].diameter_mm
    m = measure_lesion(v.volume, LesionPrompt(seed=click), phase="arterial")
    assert m.whole.length_mm >= ngl.MIN_WIDTH_MM
    assert abs(m.whole.length_mm - expert) <= max(tolerance_mm(expert), 0.3 * expert)
    assert not any(f.startswith(PREFIX) for f in m.flags)
    inside, around = ngl.liver_around(v.volume, m.mask, m.offset, _mode())
    assert inside - around >= 30.0


def test_not_on_a_portal_venous_image(hyper5) -> None:
    """Declared portal-venous, the same click keeps its other flags and gets no faint flag."""
    m = measure_lesion(hyper5.volume, LesionPrompt(seed=DOME), phase="portal-venous")
    assert not any(f.startswith(PREFIX) for f in m.flags)


def _mode():
    from lesion_tool.measurement.segment import _mode

    return _mode
