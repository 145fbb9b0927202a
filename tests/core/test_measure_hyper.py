"""Hyper-enhancing tumours clicked off their centre (issue 11, w8-hyper).

IRCADb patient 1 (../shared/data) with its tumours made hyper-enhancing
(:func:`lesion_tool.measurement.stress.degrade`, the stress benchmark's "hyper" variant), measured
as arterial against its expert masks with the held-out seed 1's random clicks. Before w8-hyper two
of them came out more than 30 % off unflagged: a click near the edge of tumour 05 (graded border,
brighter middle: 11.5 mm for 32.5, not re-centred into the bright middle) and one in the 10 mm
tumour 06 beside the lung (13.5 mm for 10.0: the ramp down to the air read as necrosis). The
figures asserted are those measured by ``benchmarks/bench_stress.py --only hyper --seed 1``
minus a margin of about one tumour's prompts.
"""

from __future__ import annotations

import numpy as np
import pytest
from _ircadb import variant

from lesion_tool.io.volume import CTVolume
from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement.evaluation import evaluate_clicks, summarise

# hyper, seed 1, deepest + 2 random + a line per tumour (28 prompts): 15 within, 6/7 deepest, 2
# unflagged dangerous before w8-hyper; 17 within, 6/7 deepest, 0 since.
HYPER_MIN_WITHIN = 15
HYPER_MIN_DEEPEST = 5


@pytest.mark.realdata
def test_hyper_off_centre_clicks_are_right_or_flagged(ircadb) -> None:
    vol, experts, liv, _ = variant(ircadb, enhance="hyper")
    res = evaluate_clicks(vol, experts, clicks=2, line=True, phase="arterial", seed=1, liver=liv)
    s = summarise(res)
    deepest = [r for r in res if r.kind == "deepest"]
    assert s.clicks == 28
    assert s.dangerous_unflagged == 0, [r.to_dict() for r in res if r.dangerous and not r.flags]
    assert s.within >= HYPER_MIN_WITHIN, [(r.tumour, r.kind, r.measured_mm) for r in res]
    assert sum(r.within for r in deepest) >= HYPER_MIN_DEEPEST


def _surface_phantom(air_gap_mm: float | None) -> CTVolume:
    """A 10 mm enhancing sphere (140 HU) in liver (100 HU), with air (-900 HU) ``air_gap_mm``
    past its left edge (None: no air), blurred as a scanner blurs it, on 1.6 x 0.6 x 0.6 mm
    voxels ``(z, y, x)``."""
    from scipy import ndimage

    sp = (1.6, 0.6, 0.6)
    zz, yy, xx = np.meshgrid(
        np.arange(24) * sp[0], np.arange(80) * sp[1], np.arange(80) * sp[2], indexing="ij"
    )
    arr = np.full(zz.shape, 100.0, dtype=np.float32)
    centre = (12 * sp[0], 40 * sp[1], 40 * sp[2])
    r = np.sqrt((zz - centre[0]) ** 2 + (yy - centre[1]) ** 2 + (xx - centre[2]) ** 2)
    if air_gap_mm is not None:
        arr[xx < centre[2] - 5.0 - air_gap_mm] = -900.0
    arr[r <= 5.0] = 140.0
    arr = ndimage.gaussian_filter(arr, (0.5 / sp[0], 0.7 / sp[1], 0.7 / sp[2]))
    return CTVolume(arr, sp, (0.0, 0.0, 0.0))


def test_an_enhancing_lesion_by_the_lung_is_not_grown_into_the_ramp_to_the_air() -> None:
    click = LesionPrompt(seed=(12, 40, 40))
    away = measure_lesion(_surface_phantom(None), click, phase="arterial").whole.length_mm
    by_lung = measure_lesion(_surface_phantom(1.0), click, phase="arterial").whole.length_mm
    # The ramp from the liver down to the air passes through values an enhancing lesion's
    # necrosis may have: it was taken as lesion and the rays ran on towards the air (13.2 mm
    # against 12.0 away from it before w8-hyper).
    assert by_lung <= away + 0.5, (by_lung, away)
