"""A region refused as "not in the liver" is judged again against the liver around its body
(``lesion_tool.measurement.liverbody``; issue 11, w15-liver05).

IRCADb's tumour 05 (at the liver's dome beside the vena cava) made hyper-enhancing in 2.5 mm
slabs with 30 HU of noise (stress variant "hyper 2.5 mm 30 HU", seed 0), clicked on its top
slab: the liver's value found at the click is another lobe's (103 HU; the parenchyma around the
tumour reads about 129 HU), the liver estimate on every slice of the region is that lobe, and
the region, which is the tumour, was refused. The kidney clicks that must stay refused are in
test_measure_offliver.
"""

from __future__ import annotations

import numpy as np
import pytest
from _ircadb import Ircadb, variant

from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement import segment as sg
from lesion_tool.measurement.liverbody import body_levels

DOME_CLICK = (78, 219, 207)
"""Inside tumour 05's expert mask, on its top 2.5 mm slab (seed 0's random click)."""
CAP_CLICK = (122, 228, 208)
"""Inside tumour 05's expert mask on the original 1.6 mm slices, its second slice from the top,
where it reads as the vena cava's blur (140 HU; the tumour's body reads 80 HU)."""


def _full(r, shape) -> np.ndarray:
    out = np.zeros(shape, dtype=bool)
    o, m = r.offset, r.mask
    out[o[0] : o[0] + m.shape[0], o[1] : o[1] + m.shape[1], o[2] : o[2] + m.shape[2]] = m
    return out


def test_body_levels_take_the_liver_around_the_body() -> None:
    rng = np.random.default_rng(0)
    # The shell: mostly the liver beside the lesion (128 HU), some of another lobe (103 HU),
    # some vein (240 HU); the lesion inside reads 160 HU.
    shell = np.concatenate(
        [rng.normal(128, 6, 900), rng.normal(103, 6, 300), rng.normal(240, 10, 200)]
    )
    inside = rng.normal(160, 8, 800)
    got = body_levels([shell], [inside], 103.0, 1.0, sg._mode, 7.0, 15.0)
    assert got is not None
    assert abs(got[0] - 128) <= 4 and abs(got[1] - 160) <= 2
    # Within half the parenchyma band of the click's value: nothing to judge again.
    assert body_levels([shell], [inside], 121.0, 1.0, sg._mode, 7.0, 15.0) is None
    # A lesion that would change sides (hypo at the click, hyper around its body): not the same.
    assert body_levels([shell], [inside], 103.0, -1.0, sg._mode, 7.0, 15.0) is None


@pytest.fixture(scope="module")
def hyper_25mm(ircadb: Ircadb):
    return variant(ircadb, enhance="hyper", thickness_mm=2.5, noise_sd_hu=30.0, seed=0)


def test_dome_click_is_measured_against_the_liver_around_it(hyper_25mm) -> None:
    vol, experts, _, masks = hyper_25mm
    assert masks[4][DOME_CLICK]  # the click is in tumour 05's expert mask
    truth = next(t for t in experts if "livertumor05" in t.name).diameter_mm
    r = measure_lesion(vol, LesionPrompt(seed=DOME_CLICK), phase="arterial")
    assert abs(r.whole.length_mm - truth) <= max(3.0, 0.1 * truth), (r.whole.length_mm, truth)
    full = _full(r, vol.shape)
    dice = 2.0 * (full & masks[4]).sum() / (full.sum() + masks[4].sum())
    assert dice >= 0.7, dice
    # Kept only on the liver re-measured around its body, and said so.
    assert any(f.startswith("the liver around it reads") for f in r.flags), r.flags


def test_a_cap_of_a_tumour_top_is_not_rescued_here(ircadb: Ircadb) -> None:
    # The click is in tumour 05's expert mask, on its top slice but one. Its own region is a cap
    # by the liver's dome, which the liver re-measure here does not judge again; the tumour is
    # found by the re-click one slice beyond the texture patch (valuetexture.py, w16-t05: the
    # click had been taken for the vena cava's blur, but it lies in the tumour).
    assert ircadb.tumours[4][CAP_CLICK]
    r = measure_lesion(ircadb.image, LesionPrompt(seed=CAP_CLICK), phase="portal-venous")
    full = _full(r, ircadb.image.shape)
    dice = 2.0 * (full & ircadb.tumours[4]).sum() / (full.sum() + ircadb.tumours[4].sum())
    assert dice >= 0.7, dice  # 0.87: the tumour, not a cap or the vena cava
    assert not any(f.startswith("the liver around it reads") for f in r.flags), r.flags
