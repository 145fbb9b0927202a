"""A dark region by value that took in its rim is not a necrotic core; a rim with the liver as
bright as itself beyond it does not bound the whole by its value (issue 11, w19-nec05:
:mod:`lesion_tool.measurement.neccore_band`).

IRCADb's tumour 05 (32.5 mm) given a necrotic core, on 1.6 mm slices, clicked near the top of
its core: the "dark region" by value took in the rim and the graded liver round the lesion
(134-141 HU against the 112 HU measured at the core), a 42 mm "core"; the whole by the rim's
value grew into that liver, 49.3 mm for 32.5 (every slice 10-15 mm wider than the expert's).
"""

from __future__ import annotations

import numpy as np
import pytest
from _ircadb import variant

from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement.evaluation import _dice, tolerance_mm
from lesion_tool.measurement.neccore_band import (
    core_middle,
    dark_core,
    outside_liver,
    rim_is_band,
)

SP = (0.7, 0.7)


def _lesion(halo_hu: float) -> tuple[np.ndarray, np.ndarray]:
    """A plane: a 60 HU core (radius 6 mm) in a 160 HU rim (to 10 mm), then ``halo_hu`` to
    26 mm, then the liver at 110 HU; and each pixel's distance from the centre (mm)."""
    y, x = np.mgrid[:161, :161]
    r = np.hypot(y - 80.0, x - 80.0) * SP[0]
    plane = np.full(r.shape, 110.0)
    plane[r <= 26.0] = halo_hu
    plane[r <= 10.0] = 160.0
    plane[r <= 6.0] = 60.0
    return plane, r


def test_a_dark_region_holding_its_rim_is_cut_back_to_its_dark_core() -> None:
    plane, r = _lesion(110.0)
    # The region by value took in core and rim: the core is its dark part, holding the click.
    core = dark_core(r <= 10.0, plane, 110.0, 5.0, SP, (80, 80))
    assert core.sum() == (r <= 6.0).sum()
    # A region that is the dark core (a blurred pixel of the rim at most) is left as it is.
    region = r <= 6.5
    assert (dark_core(region, plane, 110.0, 5.0, SP, (80, 80)) == region).all()


def test_a_rim_is_a_band_only_with_the_liver_beyond_it() -> None:
    core = _lesion(110.0)[1] <= 6.0
    # Liver beyond the rim: a band.
    assert rim_is_band(_lesion(110.0)[0], core, 110.0, 5.0, SP)
    # The liver round the lesion as bright as the rim (a graded halo): the rim's value cannot
    # bound the whole.
    assert not rim_is_band(_lesion(155.0)[0], core, 110.0, 5.0, SP)


def test_the_whole_is_cast_from_the_core_middle_not_the_click() -> None:
    r = _lesion(110.0)[1]
    # A click near the core's edge (window origin (10, 20)): the core's middle, on its slice.
    assert core_middle(r <= 6.0, (7, 85, 75), 10, 20, SP) == (7, 90, 100)


def test_the_liver_outside_a_rim_is_the_local_value_only_between_liver_and_rim() -> None:
    assert outside_liver(112.0, 136.0, 165.0) == 136.0  # a graded halo
    assert outside_liver(112.0, 60.0, 165.0) == 112.0  # the wall's muscle: not liver
    assert outside_liver(112.0, 200.0, 165.0) == 112.0  # a vessel's lumen


@pytest.mark.realdata
def test_ircadb_05_core_click_with_a_graded_halo_is_bounded_by_its_rim(
    ircadb, ircadb_arterial
) -> None:
    vol, experts, _, _ = variant(ircadb, ircadb_arterial("necrotic"))
    t05 = next(t for t in experts if t.name == "livertumor05")
    click = (119, 225, 199)  # stress bench, necrotic core, seed 4: 49.3 mm before
    assert t05.mask[click], "the click is inside the expert's tumour 05"
    r = measure_lesion(vol, LesionPrompt(seed=click), phase="arterial")
    assert abs(r.whole.length_mm - t05.diameter_mm) <= tolerance_mm(t05.diameter_mm), (
        r.whole.length_mm,
        t05.diameter_mm,
    )
    assert _dice(r.mask, r.offset, t05.mask) >= 0.7
    assert any("rim's outer edge" in f for f in r.flags), r.flags


@pytest.mark.realdata
def test_ircadb_02_click_near_the_core_edge_measures_the_whole_from_the_core(
    ircadb, ircadb_arterial
) -> None:
    """IRCADb 02 given a necrotic core (no noise: the same image on every seed), the stress
    bench's seed 1 click 1.2 mm inside its core's edge: the region by value took in part of the
    rim (a third of its pixels enhance) and found rim round it in 28 % of the directions only, so
    without the cut no core was seen and the result (27.7 mm) spread into the bowel beside it
    (Dice 0.74). Cut back to its dark core and cast from the core's middle: 26.5 mm for 29.4
    (26.2 cast from the click), Dice 0.84; the expert's last 3 mm at the liver's surface read as
    the liver."""
    vol, experts, _, _ = variant(ircadb, ircadb_arterial("necrotic"))
    t02 = next(t for t in experts if t.name == "livertumor02")
    click = (75, 325, 177)
    assert t02.mask[click]
    r = measure_lesion(vol, LesionPrompt(seed=click), phase="arterial")
    assert abs(r.whole.length_mm - t02.diameter_mm) <= tolerance_mm(t02.diameter_mm), (
        r.whole.length_mm,
        r.flags,
    )
    assert _dice(r.mask, r.offset, t02.mask) >= 0.8
    assert any("inside an enhancing rim" in f for f in r.flags), r.flags
