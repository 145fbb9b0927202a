"""Issue 13: every change to an assessment appends a hash-chained audit event; `audit` verifies."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

from lesion_tool.cli import main
from lesion_tool.model import Assessment, Category, Kind, Lesion, LesionState, Timepoint
from lesion_tool.reading import ReadingSession
from lesion_tool.storage import load_assessment
from lesion_tool.storage.audit import save_audited, verify_audit

BL = dt.date(2026, 1, 5)


def _reading(viable: float) -> Assessment:
    target = Lesion(
        "T1",
        Category.TARGET,
        LesionState.MEASURED,
        kind=Kind.VIABLE,
        viable_diameter_mm=viable,
        longest_diameter_mm=40.0,
    )
    return Assessment("P1", BL, (Timepoint("baseline", BL, (target,)),), reader="R1")


def test_history_printed_and_verified(tmp_path: Path, capsys) -> None:
    path = tmp_path / "p1.json"
    save_audited(_reading(20.0), path, by="R1", action="save")
    save_audited(_reading(22.0), path, by="R1", action="save")
    assert main(["audit", str(path)]) == 0
    out = capsys.readouterr().out
    assert "2 event(s)" in out and f"ok: {path}: audit chain of 2 event(s) verified" in out
    assert "baseline T1 viable_diameter_mm: 20.0 -> 22.0" in out
    [first, second] = json.loads(path.read_text(encoding="utf-8"))["audit"]
    assert second["previous_state_sha256"] == first["state_sha256"]
    assert second["previous_event_sha256"] == first["event_sha256"]
    assert second["by"] == "R1" and second["tool_version"] and second["at"]
    # the readings load as before: the history is a top-level field the format keeps
    assert load_assessment(path).timepoints[0].lesions[0].viable_diameter_mm == 22.0


def test_hand_edit_is_detected_and_named(tmp_path: Path, capsys) -> None:
    path = tmp_path / "p1.json"
    save_audited(_reading(20.0), path, by="R1", action="save")
    data = json.loads(path.read_text(encoding="utf-8"))
    data["timepoints"][0]["lesions"][0]["viable_diameter_mm"] = 12.0
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    assert main(["audit", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"error: {path}: hand-edited: the readings differ from the last recorded state" in out
    # the next save by the tool records that the file had been edited outside it
    save_audited(_reading(21.0), path, by="R2", action="save")
    report = verify_audit(path)
    assert report.events[-1]["note"].startswith("the file had been changed outside lesion-tool")
    assert any("edited outside lesion-tool (after event 1)" in p for p in report.problems)


def test_altered_history_is_detected(tmp_path: Path, capsys) -> None:
    path = tmp_path / "p1.json"
    save_audited(_reading(20.0), path, by="R1", action="save")
    save_audited(_reading(25.0), path, by="R1", action="save")
    data = json.loads(path.read_text(encoding="utf-8"))
    data["audit"][0]["by"] = "SOMEONE-ELSE"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert main(["audit", "--quiet", str(path)]) == 1
    assert f"error: {path}: audit event 1 was altered" in capsys.readouterr().out
    del data["audit"][0]
    path.write_text(json.dumps(data), encoding="utf-8")
    assert not verify_audit(path).intact  # a dropped event breaks the chain too


def test_reading_session_saves_append_events(tmp_path: Path) -> None:
    path = tmp_path / "p1.json"
    session = ReadingSession(Assessment("P1", treatment_start=BL, reader="R1"), path)
    session.ensure_timepoint("baseline", BL)
    target = _reading(30.0).timepoints[0].lesions[0]
    session.set_lesion("baseline", target)
    session.set_lesion("baseline", dataclasses.replace(target, viable_diameter_mm=31.0))
    session.save()
    report = verify_audit(path)
    assert report.intact, report.problems
    assert {e["by"] for e in report.events} == {"R1"}
    changes = [c for e in report.events for c in e["changes"]]
    assert {"timepoint": "baseline", "lesion": "T1", "field": "viable_diameter_mm",
            "old": 30.0, "new": 31.0} in changes  # fmt: skip


def test_a_file_written_before_auditing_gets_a_first_event_that_says_so(tmp_path: Path) -> None:
    from lesion_tool.storage import save_assessment

    path = tmp_path / "p1.json"
    save_assessment(_reading(20.0), path)  # as files written before the audit trail existed
    assert not verify_audit(path).intact  # "no audit trail"
    event = save_audited(_reading(23.0), path, by="R1", action="save")
    assert event is not None and event["note"] == "the file had no audit trail before this event"
    assert event["previous_state_sha256"] is not None and event["previous_event_sha256"] is None
    changes = [(c["lesion"], c["field"], c["old"], c["new"]) for c in event["changes"]]
    assert ("T1", "viable_diameter_mm", 20.0, 23.0) in changes
    assert verify_audit(path).intact
