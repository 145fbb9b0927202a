"""measure_lesion on the real HCC-TACE-Seg series (TCIA, ../shared/data/hcc-tace-seg).

HCC_006 "LIVER 3 PHASE (AP)" (portal-venous-looking): the three readers measured one viable
nodule at baseline, 32.8 / 34.0 / 28.9 mm; its place is not given with the data. It was found on
the images (liver window and a narrow one, axial slices and reformats): a round subcapsular
nodule of the posterior right lobe (segment 6/7), against the liver's posterior surface, on
array slices 70-75 (Se 103 · Im 39-34), widest on slice 72 = **Se 103 · Im 37**,
centre voxel (z, y, x) = (72, 330, 172), LPS (-90.7, 57.8, -122.0) mm. It has a hypo-attenuating
rim (capsule; 83-88 HU) around a centre about as dense as the liver (92-97 HU against 97-104):
the ring spans about 26 x 26 mm on that slice, 30-33 mm along its oblique long axis, as the
readers measured. This is a hard lesion for a value-based method (contrast 10-15 HU against a
voxel noise of 25-30 HU); the figures asserted are those measured, minus a margin, so that
accuracy cannot get worse unnoticed, and the gaps are written down (see
docs/measurement-accuracy.md, real-CT
section). Its centre click is measured by the closed darker rim (lesion_tool.measurement.ring),
confirmed on the slices next to it and carried through the slices where it stays confirmed.

HCC_048_PV (portal venous): its tumours (multinodular, readers' sums 48-114 mm) could not be
located on the image without a mask; what is asserted is the phase rule on this real image.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from _hcc006 import HCC_006_AP, INTERIOR_CLICKS, LINES, NODULE_CENTRE, READERS_MM

from lesion_tool.cli import main
from lesion_tool.errors import MeasurementError
from lesion_tool.io import load_series
from lesion_tool.io.slices import series_display_info
from lesion_tool.io.volume import CTVolume
from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement.evaluation import tolerance_mm
from lesion_tool.measurement.naming import slice_name

HCC_048_PV = "hcc-tace-seg/HCC_048_PV"
# Measured when this test was written (the ring carried through the slices, lines holding the
# ring near their ends, the region by value checked against an enclosing ring): interior clicks
# 31.6, 29.8 (by value, flagged low contrast), 28.0, 28.5, 27.8, 28.9, 28.8 (by the darker rim)
# and 26.1 (texture): 8/8 within. Before: 6/8, with 25.0 (the rim on Im 38 only, flagged) and
# 20.5 (72/338/160: the darker lower side of the rim by value, 19 HU under the liver, unflagged)
# outside. The floor leaves one click of margin.
MIN_CLICKS_WITHIN = 7
# Lines: 31.0, 28.6, 28.6, 30.0 (by the darker rim); before 35.1, 34.4 within and 56.5, 44.1
# (flowing out through the faint rim, flagged) outside.
MIN_LINES_WITHIN = 3
NODULE_SLICES = (68, 75)
"""The array slices the nodule's rim can be followed on (Im 40-33; seen on 70-75 by eye, fading
into 68-69 above)."""


def _within_readers(mm: float) -> bool:
    lo, hi = READERS_MM
    return lo - tolerance_mm(lo) <= mm <= hi + tolerance_mm(hi)


def _far_off(mm: float) -> bool:
    """More than 30 % outside the readers' range (the evaluation's 'dangerous')."""
    lo, hi = READERS_MM
    return mm < 0.7 * lo or mm > 1.3 * hi


@pytest.fixture(scope="module")
def hcc006(hcc006_ap: CTVolume) -> CTVolume:
    return hcc006_ap


@pytest.fixture(scope="module")
def measure(hcc006_measured):
    """``measure(prompt)``: the arterial result (or the refusal) of a prompt on the nodule,
    measured once per session (tests/core/conftest.py): the centre, interior clicks and lines
    are asserted on by several tests here."""
    return lambda prompt: hcc006_measured(prompt, "arterial")


def test_nodule_slice_is_named_as_pacs_does(hcc006: CTVolume) -> None:
    # Instance numbers run from the top: array slice 72 of 109 is image 37 of series 103.
    assert series_display_info(hcc006).label(NODULE_CENTRE[0]) == "Se 103 · Im 37"
    assert slice_name(hcc006, NODULE_CENTRE[0]) == "Se 103 · Im 37"
    # The nodule is there: its rim is darker than the liver around it on that slice.
    z, y, x = NODULE_CENTRE
    yy, xx = np.mgrid[:512, :512]
    r = np.hypot((yy - y) * 0.78125, (xx - x) * 0.78125)
    plane = hcc006.array[z].astype(float)
    rim = float(np.median(plane[(r > 8) & (r < 12) & (yy < y + 14)]))
    liver = float(np.median(plane[(r > 22) & (r < 30) & (yy < y) & (plane > 40)]))
    assert liver - rim >= 8.0, (rim, liver)


def test_nodule_is_never_refused_as_outside_the_liver(measure) -> None:
    # The liver estimated from the image must not refuse a subcapsular nodule: every prompt is
    # measured or refused with what to do, never as "not in the liver".
    prompts = [LesionPrompt(seed=NODULE_CENTRE)]
    prompts += [LesionPrompt(seed=p) for p in INTERIOR_CLICKS]
    prompts += [LesionPrompt(line=line) for line in LINES]
    for prompt in prompts:
        out = measure(prompt)
        if isinstance(out, MeasurementError):
            assert "not in the liver" not in str(out), (prompt, out)
            assert "drag a line across it" in str(out), (prompt, out)


def test_nodule_interior_clicks_hold_their_accuracy(measure) -> None:
    results = [(p, measure(LesionPrompt(seed=p))) for p in INTERIOR_CLICKS]
    measured = [(p, r) for p, r in results if not isinstance(r, MeasurementError)]
    report = [(p, round(r.whole.length_mm, 1), len(r.flags)) for p, r in measured]
    within = [p for p, r in measured if _within_readers(r.whole.length_mm)]
    assert len(within) >= MIN_CLICKS_WITHIN, report
    # None more than 30 % off the readers without a flag.
    assert not [p for p, r in measured if _far_off(r.whole.length_mm) and not r.flags], report


def test_nodule_lines_use_the_rim_near_their_ends(measure) -> None:
    # A rough line across this low-contrast nodule (contrast by value 7-12 HU) no longer lets the
    # region flow out through the faint rim (44-57 mm before): the darker rim, held near the
    # line's ends, is measured; any result outside the readers' range is flagged.
    results = [measure(LesionPrompt(line=line)) for line in LINES]
    measured = [r for r in results if not isinstance(r, MeasurementError)]
    report = [(round(r.whole.length_mm, 1), r.flags) for r in measured]
    assert sum(_within_readers(r.whole.length_mm) for r in measured) >= MIN_LINES_WITHIN, report
    assert all(r.flags for r in measured if not _within_readers(r.whole.length_mm)), report
    for line, r in zip(LINES, results, strict=True):
        if isinstance(r, MeasurementError):
            continue
        # Never near twice the line: the line's ends bound the extent.
        length = float(np.hypot(*(np.subtract(line[1], line[0])[1:] * 0.78125)))
        assert r.whole.length_mm <= 1.5 * length or r.flags, (line, r.whole.length_mm)


def test_nodule_rough_lines_are_within_or_flagged(measure) -> None:
    # Rougher lines: each end of the four lines moved by a seeded normal 3 mm SD per axis (lines
    # of 21-40 mm). Measured when written: 13 of 16 within (all by the rim but one, by value),
    # the three others (24.8, 38.8, 52.2 mm) flagged. Since a line's result is checked against
    # the line (w9-line: 51.8 -> 28.5 and 44.7 -> 30.0 mm; 24.8 stays, flagged): 15 of 16.
    rng = np.random.default_rng(3)
    within = 0
    for k in range(16):
        a, b = LINES[k % 4]
        j = rng.normal(0.0, 3.0 / 0.78125, (2, 2))
        line = ((a[0], a[1] + j[0, 0], a[2] + j[0, 1]), (b[0], b[1] + j[1, 0], b[2] + j[1, 1]))
        r = measure(LesionPrompt(line=line))
        if isinstance(r, MeasurementError):
            continue
        ok = _within_readers(r.whole.length_mm)
        within += ok
        assert ok or r.flags, (line, r.whole.length_mm)
    assert within >= 14, within


def test_nodule_rim_is_carried_through_the_slices(hcc006: CTVolume, measure) -> None:
    # From a click on Im 36 (slice 73), off the widest slice, the rim is followed through the
    # slices where it stays confirmed: the mask is 3-D, and the longest diameter is taken on all
    # of them (25.0 mm on slice 73 alone before).
    r = measure(LesionPrompt(seed=(73, 328, 168)))
    assert not isinstance(r, MeasurementError), r  # measured, not refused
    slices = [r.offset[0] + k for k in range(r.mask.shape[0]) if r.mask[k].any()]
    assert len(slices) >= 4, slices
    assert NODULE_SLICES[0] <= slices[0] and slices[-1] <= NODULE_SLICES[1], slices
    assert 72 in slices and r.whole.slice_index in slices
    assert _within_readers(r.whole.length_mm), r.whole.length_mm
    flag = next(f for f in r.flags if "delineated by its darker rim" in f)
    assert f"outlined on {len(slices)} slices" in flag, flag
    # The mask fills its slices like a solid nodule: its volume is that of the ellipsoid of
    # its two axial diameters and its depth (slices x 2.5 mm) within 40 % (a mask of rings
    # or a flow into the liver on some slice would not be).
    depth_mm = len(slices) * float(hcc006.spacing_mm[0])
    ellipsoid_ml = np.pi / 6.0 * r.whole.length_mm * r.whole_perpendicular.length_mm * depth_mm
    assert 0.6 * ellipsoid_ml / 1000.0 <= r.volume_ml <= 1.4 * ellipsoid_ml / 1000.0, (
        r.volume_ml,
        ellipsoid_ml / 1000.0,
    )


def test_nodule_click_on_the_rims_darker_side_is_not_silently_short(measure) -> None:
    # By value this click finds only the darker lower side of the rim (20.5 mm, 19 HU under the
    # liver, with no flag: 29 % under the readers). The region lies inside a confirmed darker
    # rim that encloses three times its area: the rim is measured, and says why.
    r = measure(LesionPrompt(seed=(72, 338, 160)))
    assert not isinstance(r, MeasurementError), r  # measured, not refused
    assert _within_readers(r.whole.length_mm), (r.whole.length_mm, r.flags)
    assert any("lies inside a darker rim" in f for f in r.flags), r.flags


def test_no_click_or_line_is_far_off_without_a_flag(measure) -> None:
    prompts = [LesionPrompt(seed=NODULE_CENTRE)]
    prompts += [LesionPrompt(seed=p) for p in INTERIOR_CLICKS]
    prompts += [LesionPrompt(line=line) for line in LINES]
    for prompt in prompts:
        r = measure(prompt)
        if not isinstance(r, MeasurementError):
            assert r.flags or not _far_off(r.whole.length_mm), (prompt, r.whole.length_mm)


def test_nodule_on_a_portal_venous_reading_is_within_or_flagged(hcc006: CTVolume) -> None:
    # Stated portal venous (what its pixels say), the rays by value leave the darker rim at the
    # centre as dense as the liver (11-22 mm, flagged low contrast); the closed rim, carried
    # through the slices and sought around a region by value that is only its darker side,
    # gives 27.8-28.9 mm on four of these five clicks (the fifth, on the rim's bright top, is
    # refused with what to do).
    clicks = [(72, 340, 165), (72, 320, 170), (71, 330, 170), (73, 332, 170), (72, 318, 165)]
    within = 0
    for p in clicks:
        try:
            r = measure_lesion(hcc006, LesionPrompt(seed=p), phase="portal-venous")
        except MeasurementError as err:
            # Refused with what to do (and never blaming strokes the reader did not draw).
            assert "exclude strokes" not in str(err) and "drag a line" in str(err), (p, err)
            continue
        assert r.viable is None
        assert _within_readers(r.whole.length_mm) or r.flags, (p, r.whole.length_mm)
        within += _within_readers(r.whole.length_mm)
    assert within >= 4, within


def test_nodule_centre_click_measures_the_readers_nodule(measure) -> None:
    # The centre is as dense as the liver (by value it is the liver's); the closed darker rim
    # around it is found and taken as the boundary, and the result says so.
    r = measure(LesionPrompt(seed=NODULE_CENTRE))
    assert not isinstance(r, MeasurementError), r  # measured, not refused
    assert _within_readers(r.whole.length_mm), r.whole.length_mm
    assert any("delineated by its darker rim" in f for f in r.flags), r.flags


def test_cli_names_slices_by_series_and_image(shared_data: Path, capsys) -> None:
    series = str(shared_data / HCC_006_AP)
    assert main(["measure", "--image", series, "--seed", "73,328,168", "--phase", "arterial"]) == 0
    out = capsys.readouterr().out
    # The PACS name of the diameter's slice, then the array index --seed takes.
    assert "Se 103 · Im" in out
    assert "(z 7" in out
    assert ", slice 7" not in out
    # A flag that names a slice names it the same way (a click in the liver above the nodule:
    # 72,325,175 in the nodule gave this flag before the darker rim delineated it, 30.5 mm).
    args = ["measure", "--image", series, "--seed", "72,300,172", "--phase", "arterial"]
    assert main([*args, "--json"]) == 0
    flags = json.loads(capsys.readouterr().out)["flags"]
    assert any("widest on its last slice (Se 103 · Im 39)" in f for f in flags), flags


def test_portal_venous_image_reports_no_viable_part(shared_data: Path) -> None:
    # HCC_048_PV, "Recon 3: LIVER 2 PHASE (C/A/P)": a click on a contrast-filled portal-vein
    # branch (206 HU) is measured as hyper-attenuating and flagged as a possible vessel; no
    # viable (arterially enhancing) part is ever claimed on a portal-venous image.
    image = load_series(shared_data / HCC_048_PV)
    r = measure_lesion(image, LesionPrompt(seed=(52, 200, 200)), phase="portal-venous")
    assert r.viable is None and r.viable_mask is None
    assert "only on an arterial-phase image" in r.viable_reason
    assert "portal-venous" in r.viable_reason
    assert any("like contrast-filled vessels" in f for f in r.flags), r.flags
    # Flags that name a slice use the series' PACS numbers (series 6).
    named = [f for f in r.flags if "beyond" in f or "slice (" in f]
    assert named and all("Se 6 · Im " in f for f in named), r.flags


def test_slices_without_dicom_numbers_keep_the_array_index() -> None:
    volume = CTVolume(np.zeros((4, 8, 8), dtype=np.int16), (2.5, 0.7, 0.7), (0.0, 0.0, 0.0))
    assert slice_name(volume, 3) == "slice 3"
