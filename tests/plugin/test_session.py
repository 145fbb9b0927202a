"""The plugin's reading session without any GUI: edits, ids, follow-up lookups, undo, saving."""

from __future__ import annotations

import datetime as dt

import pytest
from lesion_napari._session import ReadingSession

from lesion_tool.model import Assessment, Category, Kind, Lesion, LesionState
from lesion_tool.storage import load_assessment

BL, FU = dt.date(2026, 1, 2), dt.date(2026, 3, 2)


def _target(lesion_id: str, viable: float, longest: float) -> Lesion:
    return Lesion(
        lesion_id,
        Category.TARGET,
        LesionState.MEASURED,
        kind=Kind.VIABLE,
        viable_diameter_mm=viable,
        longest_diameter_mm=longest,
    )


@pytest.fixture
def session(tmp_path):
    s = ReadingSession(Assessment("P1", treatment_start=BL), tmp_path / "p1.json")
    s.ensure_timepoint("fu1", FU, study_instance_uid="1.2")
    s.ensure_timepoint("baseline", BL, study_instance_uid="1.1")
    return s


def test_timepoints_are_kept_in_date_order_and_matched_by_study(session):
    assert session.labels == ["baseline", "fu1"]
    session.ensure_timepoint("renamed", BL, study_instance_uid="1.1", series_instance_uid="9")
    assert session.labels == ["baseline", "fu1"]
    assert session.timepoint("baseline").series_instance_uid == "9"


def test_edits_autosave_atomically_and_undo(session, tmp_path):
    session.set_lesion("baseline", _target("T1", 30.0, 35.0))
    assert load_assessment(tmp_path / "p1.json") == session.assessment
    session.set_lesion("baseline", _target("T1", 31.0, 35.0))
    assert session.timepoint("baseline").lesion("T1").viable_diameter_mm == 31.0
    assert session.undo()
    assert session.timepoint("baseline").lesion("T1").viable_diameter_mm == 30.0
    assert load_assessment(tmp_path / "p1.json") == session.assessment
    assert session.undo() and not session.undo()


def test_ids_earlier_values_and_truncation(session):
    session.set_lesion("baseline", _target("T1", 30.0, 35.0))
    session.set_lesion("baseline", _target("T2", 20.0, 22.0))
    session.set_lesion(
        "baseline", Lesion("NT1", Category.NON_TARGET, LesionState.PRESENT, type="ascites")
    )
    assert session.next_id(Category.TARGET) == "T3"
    assert session.next_id(Category.NON_TARGET) == "NT2"
    assert session.next_id(Category.NEW) == "N1"
    assert session.lesion_ids("fu1") == ["T1", "T2", "NT1"]
    earlier = session.earlier("fu1", "T2")
    assert earlier.label == "baseline" and earlier.lesion.viable_diameter_mm == 20.0
    assert session.identity("fu1", "NT1").type == "ascites"
    assert [tp.label for tp in session.up_to("baseline").timepoints] == ["baseline"]
    session.remove_lesion("baseline", "T2")
    assert session.lesion_ids("baseline") == ["T1", "NT1"]


def test_a_refused_autosave_is_remembered_not_raised(session):
    # the core's writer refuses a viable diameter above the whole-lesion one
    session.set_lesion("baseline", _target("T1", 40.0, 35.0))
    assert session.last_save_error is not None
    assert "T1" in str(session.last_save_error) or "viable" in str(session.last_save_error)
    with pytest.raises(ValueError):
        session.save()


def test_renaming_a_lesion_changes_it_everywhere_and_keeps_ids_unique(session, tmp_path):
    from lesion_tool.errors import AssessmentError

    session.set_lesion("baseline", _target("T1", 30.0, 35.0))
    session.set_lesion("baseline", _target("T2", 20.0, 22.0))
    session.set_lesion("fu1", _target("T1", 25.0, 30.0))
    assert session.rename_lesion("T1", "  S8-dome ") == "S8-dome"
    assert session.timepoint("baseline").lesion("S8-dome").viable_diameter_mm == 30.0
    assert session.timepoint("fu1").lesion("S8-dome").viable_diameter_mm == 25.0
    assert session.all_lesion_ids() == {"S8-dome", "T2"}
    assert load_assessment(tmp_path / "p1.json") == session.assessment  # autosaved
    for bad, why in (("T2", "already a lesion"), ("", "empty"), ("S8 dome", "spaces")):
        with pytest.raises(AssessmentError, match=why):
            session.rename_lesion("S8-dome", bad)
    with pytest.raises(AssessmentError, match="No lesion"):
        session.rename_lesion("T9", "T10")
    assert session.all_lesion_ids() == {"S8-dome", "T2"}
    assert session.undo()  # one undo step brings the old id back at every timepoint
    assert [les.id for les in session.timepoint("fu1").lesions] == ["T1"]
