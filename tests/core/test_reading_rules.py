"""The reading rules, once in the core: summed diameter per kind, lines into lesions, rounding."""

from __future__ import annotations

import datetime as dt

from lesion_tool.model import Assessment, Category, Kind, Lesion, LesionState, Line, Timepoint
from lesion_tool.reading.rules import (
    PRIMARY,
    WHOLE,
    follow_up_template,
    from_viable_measurement,
    is_fully_viable,
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
    proposal = from_viable_measurement(
        _target(),
        viable_mm=20.04,
        viable_line=LINE,
        whole_mm=25.05,
        whole_line=LINE,
        seed=(1, 2, 3),
    )
    assert (proposal.viable_diameter_mm, proposal.longest_diameter_mm) == (20.0, 25.1)


def test_save_stamps_are_optional_and_round_trip():
    a = Assessment("P", dt.date(2026, 1, 1), (Timepoint("bl", dt.date(2026, 1, 1)),), "R1")
    data = assessment_to_dict(a)
    assert "saved_by" not in data and "saved_at" not in data  # older readers see no change
    data["saved_by"], data["saved_at"] = "R1", "2026-01-01T10:00:00Z"
    back = assessment_from_dict(data)
    assert back.saved_by == "R1" and back.saved_at.utcoffset() == dt.timedelta(0)
    assert assessment_to_dict(back)["saved_at"] == "2026-01-01T10:00:00+00:00"
