"""A rough line as the reader's strong prompt (issue 11, w9-line).

A line says where the lesion is, about how large and on which slice. The delineation a click at
its middle would get is kept when it agrees with the line (diameter within LINE_STRICT of its
length, no leak to the search limit); otherwise the other delineations (the levels read along the
line, a click at its middle, the enhancing rim, texture) are tried and the one that agrees best
is kept; what still disagrees is flagged. A line whose middle or an end lies in the liver
estimate is never refused as "not in the liver" (flagged instead).

Analytic phantoms check both sides; IRCADb patient 1 in its stress variants (../shared/data,
benchmarks/bench_stress.py) checks the lines against the expert masks transformed the same way.
"""

from __future__ import annotations

import numpy as np
import pytest
from _ircadb import variant
from test_measure_offliver import PH_SPACING, _surface_phantom

from lesion_tool.errors import MeasurementError
from lesion_tool.io.volume import CTVolume
from lesion_tool.measurement import measure_lesion
from lesion_tool.measurement.evaluation import (
    evaluate_clicks,
    expert_tumours,
    summarise,
    tolerance_mm,
)
from lesion_tool.measurement.masks import mask_from_array
from lesion_tool.measurement.segment import LesionPrompt

SPACING = (1.0, 0.8, 0.8)
SHAPE = (60, 110, 110)
CENTRE = (30, 55, 55)


def _sphere(radius_mm: float, lesion_hu: float, seed: int) -> tuple[CTVolume, float]:
    """A sphere of ``lesion_hu`` in 110 HU liver (noise 15 HU): the volume and the sphere's
    longest axial diameter (mm) as the evaluation measures an expert mask."""
    z, y, x = np.ogrid[: SHAPE[0], : SHAPE[1], : SHAPE[2]]
    d2 = sum(((g - c) * s) ** 2 for g, c, s in zip((z, y, x), CENTRE, SPACING, strict=True))
    sphere = d2 <= radius_mm**2
    arr = np.where(sphere, lesion_hu, 110.0).astype(np.float32)
    arr += np.random.default_rng(seed).normal(0.0, 15.0, SHAPE).astype(np.float32)
    vol = CTVolume(arr, SPACING, (0.0, 0.0, 0.0))
    [truth] = expert_tumours([mask_from_array(sphere.astype(np.uint8), vol)], vol)
    return vol, truth.diameter_mm


def _line(half_mm: float, jitter_mm: tuple[float, float]) -> tuple[tuple[float, ...], ...]:
    """A horizontal line through the centre, ``half_mm`` each side, its ends moved in y."""
    z, y, x = CENTRE
    h = half_mm / SPACING[2]
    return (
        (z, y + jitter_mm[0] / SPACING[1], x - h),
        (z, y + jitter_mm[1] / SPACING[1], x + h),
    )


@pytest.mark.parametrize("scale", [0.8, 0.9, 1.1, 1.2])
@pytest.mark.parametrize("lesion_hu", [60.0, 160.0])
def test_a_rough_line_measures_the_lesion_not_the_line(scale: float, lesion_hu: float) -> None:
    # A line 10-20 % short or long, its ends 2 mm off the axis: the lesion's own edge is
    # measured (within the evaluation's tolerance), unflagged as to the line.
    vol, truth = _sphere(12.0, lesion_hu, seed=int(10 * scale))
    r = measure_lesion(vol, LesionPrompt(line=_line(12.0 * scale, (2.0, -2.0))), phase="arterial")
    assert abs(r.whole.length_mm - truth) <= tolerance_mm(truth), (r.whole.length_mm, truth)
    assert not any("times the line" in f for f in r.flags), r.flags


@pytest.mark.parametrize("scale", [0.4, 2.2])
def test_a_line_far_from_the_lesions_size_is_never_an_unflagged_wrong_result(scale: float) -> None:
    # A line less than half or more than twice the lesion: whatever is measured, a result far
    # from the truth carries a flag (the line's disagreement or another).
    vol, truth = _sphere(10.0, 60.0, seed=3)
    try:
        r = measure_lesion(vol, LesionPrompt(line=_line(10.0 * scale, (0.0, 0.0))))
    except MeasurementError:
        return
    if abs(r.whole.length_mm - truth) > 0.3 * truth:
        assert r.flags, r.whole.length_mm


@pytest.mark.parametrize("lesion_hu", [60.0, 160.0])
def test_a_lesion_much_shorter_than_the_line_is_measured_and_flagged(lesion_hu: float) -> None:
    # A 36 mm line across a 21 mm sphere (the diameter 0.6 times the line: inside _finish's
    # looser LINE_RATIO, outside LINE_STRICT): the sphere is measured, and the result says it
    # disagrees with the line, whichever delineation path gave it (w26-lineflag; before, a
    # result that came back by the first delineation carried no flag at all).
    vol, truth = _sphere(10.0, lesion_hu, seed=4)
    r = measure_lesion(vol, LesionPrompt(line=_line(18.0, (1.0, -1.0))), phase="arterial")
    assert abs(r.whole.length_mm - truth) <= tolerance_mm(truth), (r.whole.length_mm, truth)
    assert any("times the line drawn" in f for f in r.flags), r.flags


def test_a_line_over_plain_liver_is_refused_or_flagged() -> None:
    arr = np.full(SHAPE, 110.0, dtype=np.float32)
    arr += np.random.default_rng(5).normal(0.0, 15.0, SHAPE).astype(np.float32)
    vol = CTVolume(arr, SPACING, (0.0, 0.0, 0.0))
    try:
        r = measure_lesion(vol, LesionPrompt(line=_line(10.0, (1.0, -1.0))))
    except MeasurementError:
        return
    assert r.flags


@pytest.mark.parametrize("seed", [0, 1])
def test_a_line_across_a_tumour_bulging_from_the_liver_is_kept_and_flagged(seed: int) -> None:
    # test_measure_offliver's phantom: a 36 mm tumour rooted in a liver disk and bulging 10 mm
    # out of it; a line drawn across it (15 % short or long) is measured, flagged as lying
    # mostly outside the liver outlined on its slice, never refused as "not in the liver".
    vol, (z, y, x) = _surface_phantom("tumour", seed)
    for f in (0.85, 1.15):
        h = 18.0 * f / PH_SPACING[2]
        r = measure_lesion(vol, LesionPrompt(line=((z, y, x - h), (z, y, x + h))), phase="arterial")
        assert 0.9 * 36.0 <= r.whole.length_mm <= 1.3 * 36.0, r.whole.length_mm
        assert any("lies in the liver outlined" in f for f in r.flags), r.flags


@pytest.mark.parametrize("seed", [0, 1])
def test_a_line_across_an_organ_pressed_into_the_liver_is_still_refused(seed: int) -> None:
    # The organ of the same phantom, inside its own fat: a line across it (neither its middle nor
    # an end in the liver estimate) is refused as a click on it is.
    vol, (z, y, x) = _surface_phantom("organ", seed)
    h = 15.0 / PH_SPACING[1]
    with pytest.raises(MeasurementError, match="not in the liver"):
        measure_lesion(vol, LesionPrompt(line=((z, y - h, x), (z, y + h, x))), phase="arterial")


# IRCADb stress variants, seed 0, the rough line of each of the seven tumours (the same lines as
# a full bench_stress.py run): (within before this change, within now, tumours whose line must be
# within) per variant; the test asserts "now" minus one, those tumours, and no unflagged result
# more than 30 % off. 5 mm: 01's line was refused "not in the liver" (now 68.5 mm for 78.2,
# flagged); necrotic 5 mm 25 HU: 03's line was 39.1 mm for 23.2, now 24.2 from the enhancing rim.
LINE_VARIANTS = {
    "5 mm": ({"thickness_mm": 5.0}, "portal-venous", 4, 4, ()),
    "necrotic 5 mm 25 HU": (
        {"enhance": "necrotic", "thickness_mm": 5.0, "noise_sd_hu": 25.0},
        "arterial",
        3,
        4,
        ("livertumor03",),
    ),
}


@pytest.mark.realdata
@pytest.mark.parametrize("name", list(LINE_VARIANTS))
def test_ircadb_lines_agree_with_the_transformed_expert_masks(ircadb, name: str) -> None:
    kw, phase, _before, now, must = LINE_VARIANTS[name]
    vol, experts, liv, _ = variant(ircadb, seed=0, **kw)
    res = evaluate_clicks(
        vol, experts, clicks=2, line=True, phase=phase, seed=0, liver=liv, kinds=("line",)
    )
    s = summarise(res)
    assert s.clicks == 7
    got = [(r.tumour, r.measured_mm, r.expert_mm) for r in res]
    assert s.within >= now - 1, got
    assert all(r.within for r in res if r.tumour in must), got
    assert s.dangerous_unflagged == 0, [r.to_dict() for r in res if r.dangerous and not r.flags]
    if name == "5 mm":
        # 01 bulges out of the liver: its line is measured, flagged, not refused.
        [r01] = [r for r in res if r.tumour == "livertumor01"]
        assert not r01.refused and any("lies in the liver" in f for f in r01.flags), r01
