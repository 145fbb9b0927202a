"""A lesion found by its rim is not followed on by its liver-valued inside read by value (issue
11, w37-04, ``ring_follow.py``).

IRCADb 04 (17.3 mm by the expert mask) made hyper-enhancing, in 2.5 mm slabs with 30 HU of noise
(stress seed 32), clicked at its deepest point (63, 242, 200): its enhancing rim outlines it on
slices 63-64, 18.7 mm. The open-end re-click on slice 62 found no rim there and a region by value
of 6 HU of contrast for 6 HU of noise that ran through the parenchyma round it (1,280 voxels on
slice 62 for the expert's 513): 34.2 mm, kept because its contrast's sign matched the rim
region's +1 HU. The rim's region is now kept.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from _ircadb import variant

from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement.evaluation import tolerance_mm
from lesion_tool.measurement.ring_follow import by_rim, liver_inside_follow

DEEPEST = (63, 242, 200)  # 04's deepest point on its largest slice (the 2.5 mm slabs' grid)


@pytest.mark.realdata
def test_ircadb_04_rim_region_kept(ircadb) -> None:
    v = variant(ircadb, enhance="hyper", thickness_mm=2.5, noise_sd_hu=30.0, seed=32)
    truth = v.masks[3]
    expert = next(t for t in v.experts if t.name == "livertumor04")
    assert truth[DEEPEST]  # the reader clicked the tumour
    res = measure_lesion(v.volume, LesionPrompt(seed=DEEPEST), phase="arterial")
    # 34.2 mm before (the re-click's region through the liver's noise).
    assert abs(res.whole.length_mm - expert.diameter_mm) <= tolerance_mm(expert.diameter_mm)
    assert by_rim(res)
    o = res.offset
    inside = truth[tuple(slice(a, a + n) for a, n in zip(o, res.mask.shape, strict=True))]
    # Most of the region lies in the expert mask (the leak put 48 % of it outside).
    assert (res.mask & inside).sum() >= 0.8 * res.mask.sum()

    # The rule itself, on the result and on flags changed by hand.
    low = replace(res, flags=("low contrast: lesion 120 HU against liver 114 HU",))
    assert liver_inside_follow(res, low)
    assert not liver_inside_follow(res, replace(low, flags=()))  # clear contrast: a body
    assert not liver_inside_follow(res, res)  # another rim region
    assert not liver_inside_follow(low, low)  # the first was not found by its rim
