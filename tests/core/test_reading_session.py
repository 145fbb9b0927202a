"""The core reading session: edits, ids, follow-up lookups, undo, saving, refusals, events,
and the files of readings (one per patient and reader, never overwritten)."""

from __future__ import annotations

import datetime as dt

import pytest

from lesion_tool.model import Assessment, Category, Kind, Lesion, LesionState
from lesion_tool.reading import (
    Action,
    ReadingError,
    ReadingSession,
    find_readings,
    new_reading_path,
    reading_path,
)
from lesion_tool.storage import load_assessment

BL, FU = dt.date(2026, 1, 2), dt.date(2026, 3, 2)


def _target(lesion_id: str, viable: float | None, longest: float) -> Lesion:
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
    s = ReadingSession(Assessment("P1", treatment_start=BL, reader="R1"), tmp_path / "p1.json")
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
    # the core's writer refuses a measured viable target without its viable diameter (a viable
    # diameter above the whole-lesion one is kept since issue 13: real readers record it)
    session.set_lesion("baseline", _target("T1", None, 35.0))
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


def _new(lesion_id: str) -> Lesion:
    return Lesion(lesion_id, Category.NEW, LesionState.UNEQUIVOCAL, longest_diameter_mm=12.0)


def test_invalid_entries_are_refused_with_a_reason_and_announced_as_not_allowed(session):
    assert "baseline" in session.why_not(Action.NEW_LESION, "baseline")
    with pytest.raises(ReadingError, match="new lesion cannot be recorded at baseline"):
        session.set_lesion("baseline", _new("N1"))
    session.set_lesion("baseline", _target("T1", 30.0, 35.0))
    assert "chosen at baseline" in session.why_not(Action.NEW_TARGET, "fu1")
    assert session.why_not(Action.NEW_LESION, "fu1") is None
    with pytest.raises(ReadingError, match="must be chosen at baseline"):
        session.set_lesion("fu1", _target("T3", 10.0, 12.0))  # a target first seen at follow-up
    with pytest.raises(ReadingError, match="must be chosen at baseline"):
        session.set_lesion("fu1", Lesion("NT5", Category.NON_TARGET, LesionState.PRESENT))
    session.set_lesion("fu1", _target("T1", 25.0, 30.0))  # re-measuring a baseline target is fine
    session.set_lesion("fu1", _new("N1"))
    with pytest.raises(ReadingError, match="after every scan"):
        session.set_treatment_start(dt.date(2026, 6, 1))
    session.set_treatment_start(dt.date(2026, 1, 10))
    assert session.assessment.treatment_start == dt.date(2026, 1, 10)
    with pytest.raises(ReadingError, match="cannot be empty"):
        session.set_reader("  ")
    assert session.reader == "R1"


def test_no_measurement_before_the_reader_is_known(tmp_path):
    s = ReadingSession(Assessment("P1", treatment_start=BL))
    s.ensure_timepoint("baseline", BL)
    assert "reader id" in s.why_not(Action.MEASURE, "baseline")
    with pytest.raises(ReadingError, match="reader id"):
        s.set_lesion("baseline", _target("T1", 30.0, 35.0))
    s.set_reader(" R2 ")
    assert s.allowed("baseline")[Action.MEASURE] is None
    s.set_lesion("baseline", _target("T1", 30.0, 35.0))


def test_events_announce_edits_saves_and_failed_saves(session):
    seen = []
    session.subscribe(lambda event: seen.append(event.kind))
    session.set_lesion("baseline", _target("T1", 30.0, 35.0))
    assert seen == ["assessment", "saved"]
    seen.clear()
    session.set_lesion("baseline", _target("T1", None, 35.0))  # the writer refuses: no viable mm
    assert seen == ["assessment", "save_failed"]
    session.undo()
    assert seen[-2:] == ["assessment", "saved"]


def test_each_save_records_who_and_when(session, tmp_path):
    session.set_lesion("baseline", _target("T1", 30.0, 35.0))
    saved = load_assessment(tmp_path / "p1.json")
    assert saved.saved_by == "R1"
    assert saved.saved_at is not None and saved.saved_at.tzinfo is not None
    assert abs(dt.datetime.now(dt.UTC) - saved.saved_at) < dt.timedelta(minutes=1)
    text = (tmp_path / "p1.json").read_text()
    assert '"saved_by": "R1"' in text and '"saved_at": "' in text


def _reading(folder, reader: str) -> ReadingSession:
    s = ReadingSession(Assessment("HCC_006", treatment_start=BL, reader=reader))
    s.ensure_timepoint("baseline", BL, study_instance_uid="1.1")
    s.attach(folder)
    return s


def test_two_readers_on_one_machine_get_two_files(tmp_path):
    r1, r2 = _reading(tmp_path, "R1"), _reading(tmp_path, "R 2/x")
    r1.set_lesion("baseline", _target("T1", 30.3, 35.0))
    r2.set_lesion("baseline", _target("T1", 28.0, 33.0))
    assert r1.path == reading_path(tmp_path, "HCC_006", "R1") != r2.path
    assert r2.path.name == "HCC-006__R-2-x.json"  # sanitised, reader in the name
    assert [f.reader for f in find_readings(tmp_path, "HCC_006")] == ["R 2/x", "R1"]
    assert [f.path for f in find_readings(tmp_path, "HCC_006", "R1")] == [r1.path]
    assert load_assessment(r1.path).timepoints[0].lesions[0].viable_diameter_mm == 30.3


def test_reopening_finds_the_saved_reading_intact_and_never_overwrites_it(tmp_path):
    first = _reading(tmp_path, "R1")
    first.set_lesion("baseline", _target("T1", 30.3, 35.0))
    saved_text = first.path.read_text()
    saved_stat = first.path.stat().st_mtime_ns, first.path.stat().st_ino
    # the same reader opens the same patient again: a new, empty session
    again = ReadingSession(Assessment("HCC_006", treatment_start=BL, reader="R1"))
    again.ensure_timepoint("baseline", BL, study_instance_uid="1.1")
    found = find_readings(tmp_path, "HCC_006", "R1")
    assert len(found) == 1 and found[0].lesion_count == 1
    assert first.path.read_text() == saved_text  # finding reads only
    # a session pointed at the existing file without resuming it cannot overwrite it
    blind = ReadingSession(again.assessment, first.path)
    with pytest.raises(ReadingError, match="never overwritten"):
        blind.save()
    assert not blind.save_quietly()
    assert first.path.read_text() == saved_text
    # resume: the reading is back intact, and resuming alone rewrites nothing
    again.attach(tmp_path, resume=found[0])
    assert again.path == first.path
    assert again.timepoint("baseline").lesion("T1").viable_diameter_mm == 30.3
    assert (first.path.stat().st_mtime_ns, first.path.stat().st_ino) == saved_stat
    again.set_lesion("baseline", _target("T2", 20.0, 22.0))
    assert {les.id for les in load_assessment(first.path).timepoints[0].lesions} == {"T1", "T2"}
    # a new version keeps the old file
    fresh = _reading(tmp_path, "R1")
    assert fresh.path == new_reading_path(tmp_path, "HCC_006", "R1")
    assert fresh.path.name == "HCC-006__R1.v2.json"
    fresh.set_lesion("baseline", _target("T1", 10.0, 12.0))
    assert len(load_assessment(first.path).timepoints[0].lesions) == 2
    assert [f.version for f in find_readings(tmp_path, "HCC_006", "R1")] == [1, 2]
    assert find_readings(tmp_path, "HCC_006", "R") == []  # R is not R1
