"""A click on a lesion's end slab refused as off the liver is clicked again beyond it
(``lesion_tool.measurement.offliver``; issue 11, w13-liver3d).

IRCADb's tumour 02 (at the liver's surface beside the bowel) in 5 mm slabs made hyper-enhancing
with 25 HU of noise (stress variant "hyper 5 mm 25 HU", held-out seed 1), clicked on its end
slab: the region there is an 11 mm cap whose surroundings are 6 % parenchyma, refused "not
surrounded by liver" before the re-click beyond a region widest on its last slice could run.
The kidney clicks that must stay refused are in test_measure_offliver.
"""

from __future__ import annotations

import pytest
from _ircadb import Ircadb, variant

from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement import segment as sg
from lesion_tool.measurement.driftclick import Drifted
from lesion_tool.measurement.offliver import CAP_NOTE, OffLiver

END_SLAB_CLICK = (23, 346, 176)
"""Inside the expert mask of tumour 02, on its end slab (seed 1's random click)."""


@pytest.fixture(scope="module")
def hyper_5mm(ircadb: Ircadb):
    return variant(ircadb, enhance="hyper", thickness_mm=5.0, noise_sd_hu=25.0, seed=1)


def test_end_slab_click_is_measured_from_beyond(hyper_5mm) -> None:
    vol, experts, _, masks = hyper_5mm
    assert masks[1][END_SLAB_CLICK]  # the click is in tumour 02's expert mask
    truth = next(t for t in experts if "livertumor02" in t.name).diameter_mm
    # The click's own region is refused (the cause): it drifted off the click onto the liver
    # beside the end slab (driftclick.py; before that rule, refused as not surrounded by liver) ...
    with pytest.raises((OffLiver, Drifted)):
        sg._measure_prompt(vol, LesionPrompt(seed=END_SLAB_CLICK), "arterial")
    # ... and clicked again beyond it the lesion is measured within max(3 mm, 10 %), flagged.
    r = measure_lesion(vol, LesionPrompt(seed=END_SLAB_CLICK), phase="arterial")
    assert abs(r.whole.length_mm - truth) <= max(3.0, 0.1 * truth), (r.whole.length_mm, truth)
    assert r.flags[0] == CAP_NOTE
    assert r.seed_voxel == END_SLAB_CLICK
