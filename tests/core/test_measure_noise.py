"""The measurement on a noisy image (issue 11: arterial-phase CT at 20-30 HU parenchyma SD).

IRCADb patient 1 (../shared/data) with white noise added to reach 25 HU parenchyma SD
(:func:`lesion_tool.measurement.stress.degrade`, the stress benchmark's "noise 25 HU" variant),
measured against its expert masks; the figures asserted are those measured by
``benchmarks/bench_stress.py --only "noise 25 HU"`` (seed 0) minus a margin of about one
tumour's prompts. Fails if noise accuracy regresses or a result more than 30 % off comes out
unflagged.
"""

from __future__ import annotations

import pytest
from _ircadb import variant

from lesion_tool.measurement.evaluation import evaluate_clicks, summarise

# noise 25 HU, seed 0, deepest + 2 random + a line per tumour (28 prompts): 17 within, 5/7
# deepest, 1 unflagged dangerous (02's deepest point, 38.3 mm for 29.4: its rays crossed a thin
# fat band broken into specks by the noise) before rays stopped at fat; 18, 6/7 and 0 since.
NOISE_MIN_WITHIN = 15
NOISE_MIN_DEEPEST = 5
NOISE_MIN_DICE = 0.68


@pytest.mark.realdata
def test_noisy_image_holds_its_accuracy(ircadb) -> None:
    vol, experts, liv, _ = variant(ircadb, noise_sd_hu=25.0, seed=0)
    res = evaluate_clicks(
        vol, experts, clicks=2, line=True, phase="portal-venous", seed=0, liver=liv
    )
    s = summarise(res)
    deepest = [r for r in res if r.kind == "deepest"]
    assert s.clicks == 28
    assert s.within >= NOISE_MIN_WITHIN, [(r.tumour, r.kind, r.measured_mm) for r in res]
    assert sum(r.within for r in deepest) >= NOISE_MIN_DEEPEST
    assert s.dangerous_unflagged == 0, [r.to_dict() for r in res if r.dangerous and not r.flags]
    assert s.median_dice is not None and s.median_dice >= NOISE_MIN_DICE
