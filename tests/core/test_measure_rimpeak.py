"""A necrotic lesion's whole from its rim keeps the rim's bright part and loses tongues along
vessels (issue 11, w14-core07, ``rimpeak.py``).

From a click in a necrotic core inside an enhancing rim, the whole lesion is delineated by the
rim's value. Its ceiling (the rim's value plus a headroom) took the rim's brightest part for a
vessel, and rays leaving the rim through bright liver ran on along a vessel at the rim's value.
"""

from __future__ import annotations

import numpy as np
import pytest
from _ircadb import variant
from scipy import ndimage

from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement.evaluation import tolerance_mm
from lesion_tool.measurement.rimpeak import RIM_MIN_THICK_MM, rim_peak, slice_peaks


def test_the_rim_peak_is_its_own_brightest_tissue_near_the_core() -> None:
    plane = np.full((60, 60), 100.0)
    yy, xx = np.mgrid[:60, :60]
    d = np.hypot(yy - 30, xx - 30)
    plane[d <= 12] = 150.0
    plane[(d <= 12) & (xx < 25)] = 190.0
    plane[d <= 8] = 50.0
    core = d <= 8
    peak = rim_peak(plane, core, 120.0, (0.6, 0.6))
    assert peak == pytest.approx(190.0)
    # No tissue above the level near the region: no peak.
    assert rim_peak(np.full((60, 60), 100.0), core, 120.0, (0.6, 0.6)) is None


def test_a_slice_peak_is_the_rim_beside_its_core_not_a_neighbour_beyond() -> None:
    """Analytic slice (0.6 mm pixels): a 50 HU core of radius 8 px inside a 150 HU rim 4 px
    (2.4 mm) thick, with a 190 HU crescent beside the core on one side, and a 215 HU neighbour
    touching the rim's outer edge on the other, 2.4-4.8 mm from the core. The band the click
    slice's peak is read in (RIM_SEARCH_MM, 6 mm) reaches the neighbour; the slice's own peak,
    read within RIM_MIN_THICK_MM of its core, is the crescent's (w36-rim: IRCADb 05's Im 117-118,
    a 180-217 HU structure 3-4 mm beyond the core read as its rim's 195-208 HU peak)."""
    plane = np.full((60, 60), 100.0)
    yy, xx = np.mgrid[:60, :60]
    d = np.hypot(yy - 30, xx - 30)
    plane[d <= 12] = 150.0
    plane[(d <= 12) & (xx < 25)] = 190.0
    plane[(d > 12) & (d <= 16) & (xx > 36)] = 215.0
    plane[d <= 8] = 50.0
    core = d <= 8
    assert RIM_MIN_THICK_MM < 4 * 0.6 < 6.0  # the neighbour lies between the two reaches
    assert rim_peak(plane, core, 120.0, (0.6, 0.6)) == pytest.approx(215.0)
    peaks = slice_peaks(
        lambda z: plane, {5: core, 6: np.zeros_like(core)}, 120.0, 300.0, (0.6, 0.6)
    )
    # The crescent's value, not the neighbour's; a slice without a core has no peak of its own.
    assert peaks == {5: pytest.approx(190.0)}
    # Held under the vessel top (contrast-filled vessels above it).
    assert slice_peaks(lambda z: plane, {5: core}, 120.0, 180.0, (0.6, 0.6)) == {5: 180.0}
    # No enhancing tissue beside the core: no peak.
    flat = np.where(core, 50.0, 100.0)
    assert slice_peaks(lambda z: flat, {5: core}, 120.0, 300.0, (0.6, 0.6)) == {}


@pytest.mark.realdata
@pytest.mark.parametrize(
    "line",
    [
        # The stress bench's rough lines across 05 on development seeds 27, 29 and 30 (all drawn
        # on Im 112, whose rim peaks at 175 HU): 28.6, 28.6 and 28.5 mm for 32.45 before, the
        # rim's 180-194 HU crescent on Im 113-118 left out with its fringe as a "vessel" and
        # the outline running along the core's edge there; 31.5, 29.9 and 30.1 mm with each
        # slice's own rim peak.
        (
            (112.0, 242.05542845219634, 247.61108615474313),
            (112.0, 210.9955228229321, 183.91723331037446),
        ),
        (
            (112.0, 239.2087926000305, 237.25525396675025),
            (112.0, 210.16912045032683, 191.01691836025142),
        ),
        (
            (112.0, 238.08198666243248, 237.0659930179186),
            (112.0, 213.3902891692564, 192.59105781462847),
        ),
    ],
)
def test_ircadb_05_necrotic_whole_keeps_the_rims_crescent_below_the_lines_slice(
    ircadb, ircadb_arterial, line
) -> None:
    """IRCADb 05 given a necrotic core (bench_stress "necrotic core": the tumour's deeper half
    keeps its dark values, the rest enhanced): the whole from a rough line on Im 112 is within
    the tolerance of the expert's 32.45 mm and keeps the crescent beside the core on Im 113
    (the expert's tumour smoothed above the click slice's 175 HU ceiling, within 4 mm of its
    dark core: 46 pixels), all of which was cut out before and all of which is kept now."""
    vol, experts, _, _ = variant(ircadb, ircadb_arterial("necrotic"))
    t = next(t for t in experts if t.name.startswith("livertumor05"))
    res = measure_lesion(vol, LesionPrompt(line=line), phase="arterial")
    assert any("necrotic" in f for f in res.flags), res.flags
    assert abs(res.whole.length_mm - t.diameter_mm) <= tolerance_mm(t.diameter_mm), (
        res.whole.length_mm,
        res.flags,
    )
    # The crescent on Im 113: the expert's tumour brighter than Im 112's peak beside its core.
    z = 113
    sp = vol.spacing_mm[1:]
    sm = ndimage.gaussian_filter(np.asarray(vol.array[z], dtype=np.float32), (1 / sp[0], 1 / sp[1]))
    dark = t.mask[z] & (sm < 100.0)
    beside = ndimage.distance_transform_edt(~dark, sampling=sp) <= 4.0
    crescent = t.mask[z] & beside & (sm > 175.0)
    assert crescent.sum() >= 40
    kept = res.full_mask(vol.shape)[z][crescent].mean()
    assert kept >= 0.8, kept


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("name", "click", "line"),
    [
        # 07's deepest point (its core) and the rough line of seed 0 across it: 23.9 and
        # 24.8 mm for 21.4 before (tongues along a 145-148 HU vessel), 20.8 and 21.4 now.
        ("livertumor07", (116, 156, 246), None),
        ("livertumor07", None, ((116.0, 161.4, 226.6), (116.0, 158.6, 266.3))),
        # 05's deepest point: 31.3 mm for 32.5 before; the cut alone 28.5 (its bright crescent
        # left out); 30.9 with the rim's own peak.
        ("livertumor05", (113, 226, 211), None),
    ],
)
def test_ircadb_necrotic_whole_from_the_core(ircadb, ircadb_arterial, name, click, line) -> None:
    vol, experts, _, _ = variant(ircadb, ircadb_arterial("necrotic"))
    t = next(t for t in experts if t.name.startswith(name))
    prompt = LesionPrompt(seed=click) if click is not None else LesionPrompt(line=line)
    res = measure_lesion(vol, prompt, phase="arterial")
    assert any("necrotic" in f for f in res.flags), res.flags
    err = res.whole.length_mm - t.diameter_mm
    assert abs(err) <= min(tolerance_mm(t.diameter_mm), 2.0), (res.whole.length_mm, res.flags)
