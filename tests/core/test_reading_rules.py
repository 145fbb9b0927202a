"""The reading rules, once in the core: summed diameter per kind, lines into lesions, rounding."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

from lesion_tool.errors import AssessmentError
from lesion_tool.model import (
    Assessment,
    Category,
    Kind,
    Lesion,
    LesionState,
    Line,
    SegmentationPrompt,
    Timepoint,
)
from lesion_tool.reading.rules import (
    PRIMARY,
    WHOLE,
    follow_up_template,
    from_lesion_measurement,
    is_fully_viable,
    segmentation_of,
    summed_value,
    with_kind,
    with_line,
    with_state,
)
from lesion_tool.response import score_assessment, settings_for
from lesion_tool.storage import assessment_from_dict, assessment_to_dict

LINE = Line((3, 10, 10), (3, 10, 30))


def _target(kind: Kind = Kind.VIABLE) -> Lesion:
    return Lesion("T1", Category.TARGET, LesionState.MEASURED, kind=kind)


def test_a_line_sets_the_diameter_its_kind_sums_rounded_half_up():
    assert with_line(_target(), PRIMARY, 12.25, LINE).viable_diameter_mm == 12.3  # not 12.2
    assert with_line(_target(Kind.SHORT_AXIS), PRIMARY, 8.05, LINE).short_axis_mm == 8.1
    assert with_line(_target(Kind.LONGEST), PRIMARY, 20.0, LINE).longest_diameter_mm == 20.0
    whole = with_line(_target(), WHOLE, 33.0, LINE)
    assert whole.longest_diameter_mm == 33.0 and whole.viable_diameter_mm is None
    new = Lesion("N1", Category.NEW, LesionState.UNEQUIVOCAL)
    assert summed_value(with_line(new, PRIMARY, 11.0, LINE)) == 11.0


def test_one_line_fills_both_criteria_when_the_target_is_fully_viable():
    lesion = with_line(_target(), PRIMARY, 30.6, LINE, fully_viable=True)
    assert lesion.viable_diameter_mm == lesion.longest_diameter_mm == 30.6
    assert is_fully_viable(lesion)
    a = Assessment("P", dt.date(2026, 1, 1), (Timepoint("bl", dt.date(2026, 1, 1), (lesion,)),))
    for preset in ("mrecist", "recist-1.1"):
        assert score_assessment(a, settings_for(preset)).timepoints[0].target_sum_mm == 30.6


def test_state_kind_and_follow_up_rules():
    measured = with_line(_target(), PRIMARY, 30.0, LINE)
    assert with_state(measured, LesionState.ABSENT).viable_diameter_mm is None
    longest = with_kind(measured, Kind.LONGEST)
    assert longest.longest_diameter_mm == 30.0 and longest.viable_diameter_mm is None
    template = follow_up_template(measured)
    assert template.line is None and template.state is LesionState.MEASURED
    proposal = from_lesion_measurement(
        _target(),
        viable_mm=20.04,
        viable_line=LINE,
        whole_mm=25.05,
        whole_line=LINE,
        seed=(1, 2, 3),
    )
    assert (proposal.viable_diameter_mm, proposal.longest_diameter_mm) == (20.0, 25.1)


def test_a_lesion_measurement_becomes_a_lesion_by_its_kind_with_its_contour():
    square = np.zeros((3, 20, 20), dtype=bool)
    square[1, 5:15, 4:12] = True  # 10 rows x 8 columns on slice 1 (slice 6 of the series)
    seg = segmentation_of(
        square,
        (5, 100, 200),
        6,
        prompt=SegmentationPrompt(seed=(6, 110, 208)),
        edited=False,
        flags=("low contrast",),
    )
    ys, xs = np.array(seg.contour).T
    # the pixel-edge outline of the square, in the series' voxel indices
    assert (ys.min(), ys.max(), xs.min(), xs.max()) == (104.5, 114.5, 203.5, 211.5)
    kwargs = {"whole_mm": 30.04, "whole_line": LINE, "viable_line": LINE, "seed": (6, 110, 208)}
    viable = from_lesion_measurement(_target(), viable_mm=12.0, segmentation=seg, **kwargs)
    assert (viable.viable_diameter_mm, viable.longest_diameter_mm) == (12.0, 30.0)
    assert viable.segmentation == seg and viable.state is LesionState.MEASURED
    # a viable target needs the viable part (not measured on a portal-venous image)
    with pytest.raises(AssessmentError, match="portal-venous"):
        from_lesion_measurement(
            _target(), viable_mm=None, viable_reason="this image is portal-venous", **kwargs
        )
    longest = from_lesion_measurement(_target(Kind.LONGEST), viable_mm=None, **kwargs)
    assert longest.longest_diameter_mm == 30.0 and longest.viable_diameter_mm is None
    assert longest.line == LINE and longest.longest_line is None
    with pytest.raises(AssessmentError, match="short axis"):
        from_lesion_measurement(_target(Kind.SHORT_AXIS), viable_mm=None, **kwargs)
    new = Lesion("N1", Category.NEW, LesionState.UNEQUIVOCAL)
    assert from_lesion_measurement(new, viable_mm=5.0, **kwargs).longest_diameter_mm == 30.0
    # the contour goes with the diameters it belongs to
    assert with_state(viable, LesionState.ABSENT).segmentation is None
    assert follow_up_template(viable).segmentation is None


def test_save_stamps_are_optional_and_round_trip():
    a = Assessment("P", dt.date(2026, 1, 1), (Timepoint("bl", dt.date(2026, 1, 1)),), "R1")
    data = assessment_to_dict(a)
    assert "saved_by" not in data and "saved_at" not in data  # older readers see no change
    data["saved_by"], data["saved_at"] = "R1", "2026-01-01T10:00:00Z"
    back = assessment_from_dict(data)
    assert back.saved_by == "R1" and back.saved_at.utcoffset() == dt.timedelta(0)
    assert assessment_to_dict(back)["saved_at"] == "2026-01-01T10:00:00+00:00"


def test_a_contour_is_optional_and_round_trips_through_the_format():
    seg_prompt = SegmentationPrompt(line=((4, 10, 10), (4, 10, 40)), threshold_offset_hu=10)
    lesion = with_line(_target(), PRIMARY, 20.0, LINE)
    square = np.zeros((1, 8, 8), dtype=bool)
    square[0, 2:6, 2:6] = True
    lesion = dataclasses.replace(
        lesion,
        segmentation=segmentation_of(square, (4, 0, 0), 4, prompt=seg_prompt, edited=True),
    )
    a = Assessment("P", dt.date(2026, 1, 1), (Timepoint("bl", dt.date(2026, 1, 1), (lesion,)),))
    data = assessment_to_dict(a)
    stored = data["timepoints"][0]["lesions"][0]["segmentation"]
    assert stored["z"] == 4 and stored["edited"] is True and len(stored["contour"]) >= 4
    assert stored["prompt"]["line"] == [[4, 10, 10], [4, 10, 40]]
    assert assessment_from_dict(data) == a
    del data["timepoints"][0]["lesions"][0]["segmentation"]  # an older file still loads
    assert assessment_from_dict(data).timepoints[0].lesions[0].segmentation is None
    data["timepoints"][0]["lesions"][0]["segmentation"] = {"z": 1, "contour": [[1, 2, 3]]}
    with pytest.raises(AssessmentError, match="segmentation"):
        assessment_from_dict(data)


def test_a_baseline_target_must_be_measurable_when_a_measurement_is_accepted():
    """mRECIST (spec 1): a viable target needs intratumoral arterial enhancement at baseline.
    A semi-automatic measurement with a viable part of 0 mm is refused at baseline with what to
    do, and recorded at a follow-up (the lesion's viable part has gone)."""
    kwargs = {"whole_mm": 22.0, "whole_line": LINE, "viable_line": None, "seed": (3, 10, 20)}
    with pytest.raises(AssessmentError) as refused:
        from_lesion_measurement(_target(), viable_mm=0.0, at_baseline=True, **kwargs)
    said = str(refused.value)
    assert said.startswith("T1 cannot be a baseline target: viable target without intratumoral")
    assert "record it as a non-target" in said and "kind to 'longest'" in said
    later = from_lesion_measurement(_target(), viable_mm=0.0, **kwargs)
    assert later.viable_diameter_mm == 0.0 and later.state is LesionState.MEASURED
    # too small a viable part: a non-target (no 'longest' way out: it does enhance)
    with pytest.raises(AssessmentError, match="below the 10 mm minimum") as small:
        from_lesion_measurement(_target(), viable_mm=7.0, at_baseline=True, **kwargs)
    assert "'longest'" not in str(small.value)
    # measurable: recorded; the whole lesion of a 'longest' target; a non-target is not judged
    assert from_lesion_measurement(_target(), viable_mm=12.0, at_baseline=True, **kwargs)
    longest = from_lesion_measurement(
        _target(Kind.LONGEST), viable_mm=0.0, at_baseline=True, **kwargs
    )
    assert longest.longest_diameter_mm == 22.0
    non_target = Lesion("NT1", Category.NON_TARGET, LesionState.PRESENT)
    assert from_lesion_measurement(non_target, viable_mm=0.0, at_baseline=True, **kwargs)


def test_the_accept_rule_is_the_baseline_checks_rule():
    """One rule, two places: what refuses a target on accept is what check_baseline reports
    afterwards, message for message, under every preset."""
    from lesion_tool.response import check_baseline, target_problems

    lesions = [
        dataclasses.replace(_target(), viable_diameter_mm=v, longest_diameter_mm=w)
        for v, w in ((0.0, 22.0), (7.0, 22.0), (12.0, None), (12.0, 8.0), (None, None))
    ]
    lesions += [
        dataclasses.replace(_target(Kind.LONGEST), longest_diameter_mm=9.9),
        dataclasses.replace(_target(Kind.SHORT_AXIS), short_axis_mm=12.0),
        dataclasses.replace(_target(), state=LesionState.ABSENT),
    ]
    day = dt.date(2026, 1, 1)
    for preset in ("mrecist", "mrecist-1.1", "recist-1.1"):
        settings = settings_for(preset)
        refused = 0
        for lesion in lesions:
            a = Assessment("P", day, (Timepoint("bl", day, (lesion,)),), "R1")
            reported = [f.message for f in check_baseline(a, settings)]
            assert target_problems(lesion, settings) == reported, (preset, lesion)
            refused += bool(reported)
        assert 0 < refused < len(lesions)  # the rule refuses some of them, not all
