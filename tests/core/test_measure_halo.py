"""The graded border of an enhancing lesion (issue 11, w9-halo).

A hyper-attenuating lesion whose edge fades into the liver over a few millimetres (a halo the
reader includes) is followed to the foot of that border; a sharp one is not grown, whatever lies
a few millimetres beyond it (a vessel, a fissure). Analytic phantoms on 1.6 x 0.6 x 0.6 mm voxels
``(z, y, x)``, blurred as a scanner blurs them, with 10 HU of noise, measured as arterial; and
IRCADb tumour 05 (graded border) made hyper-enhancing, against its transformed expert mask.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _ircadb import variant
from scipy import ndimage, special

from lesion_tool.io.volume import CTVolume
from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement.evaluation import evaluate_clicks

SPACING = (1.6, 0.6, 0.6)
SHAPE = (30, 100, 100)
LIVER_HU, LESION_HU = 110.0, 190.0
CLICK = (15, 50, 50)


def _phantom(
    radius_mm: float,
    border_sd_mm: float = 0.0,
    *,
    vessel_gap_mm: float | None = None,
    fissure_gap_mm: float | None = None,
) -> CTVolume:
    """A sphere of LESION_HU in liver of LIVER_HU centred at CLICK: a sharp edge at
    ``radius_mm``, or (``border_sd_mm`` > 0) a graded one, the step blurred over that SD; with a
    3 mm vessel (250 HU, along z) ``vessel_gap_mm`` past its edge, or a 2 mm fissure (60 HU, a
    cylindrical shell around two thirds of it) ``fissure_gap_mm`` past it."""
    zz, yy, xx = np.meshgrid(
        *(np.arange(n) * s for n, s in zip(SHAPE, SPACING, strict=True)), indexing="ij"
    )
    cz, cy, cx = (c * s for c, s in zip(CLICK, SPACING, strict=True))
    r = np.sqrt((zz - cz) ** 2 + (yy - cy) ** 2 + (xx - cx) ** 2)
    if border_sd_mm > 0:
        step = 0.5 * special.erfc((r - radius_mm) / (border_sd_mm * math.sqrt(2.0)))
    else:
        step = (r <= radius_mm).astype(float)
    arr = (LIVER_HU + (LESION_HU - LIVER_HU) * step).astype(np.float32)
    if vessel_gap_mm is not None:
        axis = cx + radius_mm + vessel_gap_mm + 1.5
        arr[np.sqrt((yy - cy) ** 2 + (xx - axis) ** 2) <= 1.5] = 250.0
    if fissure_gap_mm is not None:
        rho = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2)
        inner = radius_mm + fissure_gap_mm
        arr[(rho > inner) & (rho < inner + 2.0) & (xx > cx - 0.5 * radius_mm)] = 60.0
    arr = ndimage.gaussian_filter(arr, (0.5 / SPACING[0], 0.7 / SPACING[1], 0.7 / SPACING[2]))
    arr += np.random.default_rng(0).normal(0.0, 10.0, arr.shape).astype(np.float32)
    return CTVolume(arr, SPACING, (0.0, 0.0, 0.0))


def _diameter(volume: CTVolume) -> float:
    return measure_lesion(volume, LesionPrompt(seed=CLICK), phase="arterial").whole.length_mm


def test_an_enhancing_lesion_with_a_graded_border_is_measured_to_its_foot() -> None:
    # The border fades over an SD of 2.5 mm around 9 mm: a reader outlines it to its foot, two
    # SDs out (28 mm across). Without the rule the edge stays at its outer quarter: 22.2 mm.
    measured = _diameter(_phantom(9.0, 2.5))
    assert abs(measured - 28.0) <= 3.0, measured


def test_a_sharp_enhancing_lesion_is_not_grown_by_what_lies_beyond_it() -> None:
    alone = _diameter(_phantom(11.0))
    assert abs(alone - 22.0) <= 3.0, alone
    # A vessel 3 mm out is met by a few rays: no halo (24.0 and 24.5 mm, as before the rule).
    assert _diameter(_phantom(11.0, vessel_gap_mm=3.0)) <= alone + 0.6
    # A dark fissure 3 mm out all around: the profile runs on past the liver's value. The
    # hypo-attenuating halo rule made symmetric took that descent for a halo (26.0 mm).
    assert _diameter(_phantom(11.0, fissure_gap_mm=3.0)) <= alone + 0.5


@pytest.mark.realdata
def test_ircadb_05_made_hyper_enhancing_is_measured_with_its_graded_border(
    ircadb, ircadb_arterial
) -> None:
    # 05's expert mask holds a 3-4 mm graded border. Made hyper-enhancing (the stress "hyper"
    # variant: no noise, any seed), its deepest point gave 27.0 mm and the stress benchmark's
    # line 27.8 for 32.5 before w9-halo; now 32.0 and 31.7 (this line, seed 0: 31.5; Dice 0.70
    # and 0.71, about the hyper variant's median).
    vol, experts, _, _ = variant(ircadb, ircadb_arterial("hyper"))
    t05 = [t for t in experts if t.name.endswith("livertumor05")]
    assert len(t05) == 1
    res = evaluate_clicks(vol, t05, clicks=0, line=True, phase="arterial")
    assert [r.kind for r in res] == ["deepest", "line"]
    for r in res:
        assert r.within, (r.kind, r.measured_mm, r.expert_mm)
        assert r.dice is not None and r.dice >= 0.65, (r.kind, r.dice)
