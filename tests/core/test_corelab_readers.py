"""Issue 13: a cohort is patients with readings by several readers; adjudication round trip."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from lesion_tool.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "assessments"
FOUR = (
    "hcc-ex01-partial-response.json",  # mRECIST PR
    "hcc-ex02-complete-response-scar.json",  # CR
    "hcc-ex03-progression-by-sum.json",  # SD then PD
    "hcc-ex04-new-lesion-backdated.json",  # PD
)


def _second_read(folder: Path, *, reader: str = "R2", name: str = "ex01-R2.json") -> Path:
    """HCC-EX01 read again by another reader who sees no shrinkage (mRECIST SD, not PR)."""
    data = json.loads((EXAMPLES / FOUR[0]).read_text(encoding="utf-8"))
    data["reader"] = reader
    baseline = {les["id"]: les for les in data["timepoints"][0]["lesions"]}
    for timepoint in data["timepoints"][1:]:
        for lesion in timepoint["lesions"]:
            if lesion["category"] == "target":
                lesion["state"] = "measured"
                for key in ("viable_diameter_mm", "longest_diameter_mm"):
                    lesion[key] = baseline[lesion["id"]][key]
    path = folder / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture()
def cohort(tmp_path: Path) -> Path:
    folder = tmp_path / "readings"
    folder.mkdir()
    for name in FOUR:
        shutil.copy(EXAMPLES / name, folder / name)
    _second_read(folder)
    return folder


def test_double_read_counts_the_patient_once(cohort: Path, capsys) -> None:
    assert main(["rescore", str(cohort), "--summary", "--criteria", "mrecist"]) == 0
    out = capsys.readouterr().out
    assert "[mrecist] 4 patients, 4 with measurable disease" in out
    # R1 and R2 disagree on HCC-EX01 and nobody decided: R1's reading is used, and said so
    assert "ORR 2/4 = 50.0%" in out
    assert "3 single reader, 1 awaiting adjudication" in out
    assert "reader R1 alone: 4 patients; ORR 2/4" in out
    assert "reader R2 alone: 1 patients; ORR 0/1" in out


def test_same_reader_twice_is_an_error_naming_both_files(cohort: Path, capsys) -> None:
    again = _second_read(cohort, name="ex01-R2-again.json")
    assert main(["rescore", str(cohort), "--summary", "--criteria", "mrecist"]) == 1
    captured = capsys.readouterr()
    assert str(again) in captured.err and str(cohort / "ex01-R2.json") in captured.err
    assert "reader 'R2' (reader) has 2 readings" in captured.err
    # the batch goes on: the patient keeps R1's reading, the other patients are scored
    assert "[mrecist] 4 patients" in captured.out


def test_adjudication_round_trip(cohort: Path, tmp_path: Path, capsys) -> None:
    adj = tmp_path / "adjudication"
    assert main(["adjudicate", str(cohort), "--out", str(adj)]) == 0
    out = capsys.readouterr().out
    assert "1 need adjudication" in out and "HCC-EX01 (R1 vs R2)" in out
    rows = list(csv.DictReader((adj / "worklist.csv").open(encoding="utf-8")))
    assert [(r["patient_id"], r["needs_adjudication"]) for r in rows] == [("HCC-EX01", "yes")]
    assert "best overall response differs: R1 PR, R2 SD" in rows[0]["reasons"]
    page = (adj / "patients" / "HCC-EX01.html").read_text(encoding="utf-8")
    assert "R1 sum (mm)" in page and "R2 sum (mm)" in page and "Lesions read by R2" in page

    # a decision for a reader who did not read the patient is refused, nothing is written
    assert (
        main(
            [
                "adjudicate",
                str(cohort),
                "--out",
                str(adj),
                "--decide",
                "HCC-EX01",
                "--choose",
                "R9",
                "--reason",
                "x",
                "--adjudicator",
                "ADJ",
            ]
        )
        == 1
    )
    assert "did not read this patient" in capsys.readouterr().err
    assert not (adj / "decisions").exists()

    argv = [
        "adjudicate",
        str(cohort),
        "--out",
        str(adj),
        "--decide",
        "HCC-EX01",
        "--choose",
        "R2",
        "--reason",
        "R1 measured the wrong segment at fu1",
        "--adjudicator",
        "ADJ1",
    ]
    assert main(argv) == 0
    stored = adj / "decisions" / "HCC-EX01.adjudication.json"
    decision = json.loads(stored.read_text(encoding="utf-8"))
    assert decision["chosen_reader"] == "R2" and decision["adjudicator"] == "ADJ1"
    assert decision["format"] == "lesion-tool.adjudication" and decision["decided_at"]
    assert main(argv) == 1  # a second decision needs --replace
    assert "use --replace" in capsys.readouterr().err

    # the endpoints follow the decision: R2's SD replaces R1's PR
    assert (
        main(
            [
                "rescore",
                str(cohort),
                "--summary",
                "--criteria",
                "mrecist",
                "--adjudications",
                str(adj / "decisions"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "ORR 1/4 = 25.0%" in out and "3 single reader, 1 adjudicated" in out

    # the worklist now shows the decision
    assert main(["adjudicate", str(cohort), "--out", str(adj)]) == 0
    rows = list(csv.DictReader((adj / "worklist.csv").open(encoding="utf-8")))
    assert rows[0]["decision"] == "R2" and rows[0]["decided_by"] == "ADJ1"

    # a hand-broken decision file is named, and not used
    broken = dict(decision, chosen_reader="R7")
    stored.write_text(json.dumps(broken), encoding="utf-8")
    assert (
        main(
            [
                "rescore",
                str(cohort),
                "--summary",
                "--criteria",
                "mrecist",
                "--adjudications",
                str(stored),
            ]
        )
        == 1
    )
    captured = capsys.readouterr()
    assert f"{stored}: $.chosen_reader: 'R7' is not one of the readers" in captured.err
    assert "ORR 2/4" in captured.out


def test_report_counts_patients_once_and_shows_the_readers(
    cohort: Path, tmp_path: Path, capsys
) -> None:
    out_dir = tmp_path / "report"
    assert main(["report", str(cohort), "--out", str(out_dir), "--criteria", "mrecist"]) == 0
    assert "Report (4 patients" in capsys.readouterr().out
    page = (out_dir / "report.html").read_text(encoding="utf-8")
    assert 'id="reader-endpoints"' in page and 'id="reader-agreement"' in page
    assert "endpoints on: awaiting adjudication: R1&#x27;s reading used for now" in page
    assert (out_dir / "plots" / "bland_altman_mrecist.png").stat().st_size > 0
    # the endpoints table counts 4 patients, ORR 2/4 (R1's PR stands until adjudicated)
    assert 'data-preset="mrecist" data-key="n" data-value="4"' in page


def test_validate_names_both_files_of_a_double_reading(cohort: Path, capsys) -> None:
    again = _second_read(cohort, name="ex01-R2-again.json")
    assert main(["validate", str(cohort)]) == 1
    out = capsys.readouterr().out
    assert "error: patient HCC-EX01: reader 'R2' (reader) has 2 readings" in out
    assert str(again) in out and str(cohort / "ex01-R2.json") in out


def test_an_adjudicators_own_reading_stands_for_the_patient(cohort: Path, capsys) -> None:
    path = _second_read(cohort, reader="ADJ1", name="ex01-adjudicator.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    data["reader_role"] = "adjudicator"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert main(["rescore", str(cohort), "--summary", "--criteria", "mrecist"]) == 0
    out = capsys.readouterr().out
    assert "[mrecist] 4 patients" in out and "ORR 1/4 = 25.0%" in out
    assert "3 single reader, 1 adjudicator's own reading" in out


# ----------------------------------------------------------------------- decisions, audited
def _decide(cohort: Path, adj: Path, reader: str, reason: str, *extra: str) -> int:
    argv = ["adjudicate", str(cohort), "--out", str(adj), "--decide", "HCC-EX01"]
    return main([*argv, "--choose", reader, "--reason", reason, "--adjudicator", "ADJ1", *extra])


def test_recorded_and_replaced_decisions_form_a_verified_chain(
    cohort: Path, tmp_path: Path, capsys
) -> None:
    from lesion_tool.corelab.adjudication import load_decision
    from lesion_tool.storage.audit import verify_audit

    adj = tmp_path / "adjudication"
    assert _decide(cohort, adj, "R2", "R1 measured the wrong segment at fu1") == 0
    stored = adj / "decisions" / "HCC-EX01.adjudication.json"
    assert _decide(cohort, adj, "R1", "on review R1 is right", "--replace") == 0
    capsys.readouterr()

    first, second = verify_audit(stored).events
    assert (first["action"], first["by"], first["previous_state_sha256"]) == (
        "adjudication",
        "ADJ1",
        None,
    )
    assert first["decision"] == {
        "patient_id": "HCC-EX01",
        "chosen_reader": "R2",
        "reason": "R1 measured the wrong segment at fu1",
        "replaces": None,
    }
    assert second["action"] == "adjudication replaced"
    assert second["previous_event_sha256"] == first["event_sha256"]
    assert second["previous_state_sha256"] == first["state_sha256"]
    assert second["decision"]["chosen_reader"] == "R1"
    replaced = second["decision"]["replaces"]
    assert (replaced["chosen_reader"], replaced["adjudicator"]) == ("R2", "ADJ1")
    assert replaced["reason"] == "R1 measured the wrong segment at fu1"
    assert {"field": "chosen_reader", "old": "R2", "new": "R1", "timepoint": None,
            "lesion": None} in second["changes"]  # fmt: skip
    assert load_decision(stored).chosen_reader == "R1"  # the chain verifies on loading too

    # lesion-tool audit prints both decisions and verifies the chain (a folder works too)
    assert main(["audit", str(adj / "decisions")]) == 0
    out = capsys.readouterr().out
    assert f"ok: {stored}: audit chain of 2 event(s) verified" in out
    assert "adjudication by ADJ1" in out and "adjudication replaced by ADJ1" in out
    assert "decision: R1's reading stands: on review R1 is right" in out
    assert "replaces: R2's reading (by ADJ1 at " in out


def test_a_hand_edited_decision_is_detected_named_and_not_used(
    cohort: Path, tmp_path: Path, capsys
) -> None:
    adj = tmp_path / "adjudication"
    assert _decide(cohort, adj, "R2", "R1 measured the wrong segment at fu1") == 0
    stored = adj / "decisions" / "HCC-EX01.adjudication.json"
    capsys.readouterr()
    data = json.loads(stored.read_text(encoding="utf-8"))
    data["chosen_reader"] = "R1"  # still a valid decision for the schema: only the chain knows
    stored.write_text(json.dumps(data, indent=2), encoding="utf-8")

    assert main(["audit", str(stored)]) == 1
    out = capsys.readouterr().out
    assert f"error: {stored}: hand-edited: the decision differs from the last recorded state" in (
        out
    )
    assert "(event 1, adjudication by ADJ1 at " in out

    # rescore names the file and does not use the edited decision: the patient is pending
    argv = ["rescore", str(cohort), "--summary", "--criteria", "mrecist"]
    assert main([*argv, "--adjudications", str(adj / "decisions")]) == 1
    captured = capsys.readouterr()
    assert f"{stored}: hand-edited" in captured.err and "this decision is not used" in captured.err
    assert f"{stored}: {stored}" not in captured.err  # the file named once, not "X: X: ..."
    assert "ORR 2/4 = 50.0%" in captured.out and "1 awaiting adjudication" in captured.out

    # an altered history is named as well
    data["chosen_reader"] = "R2"
    data["audit"][0]["reason"] = "R2 was right"
    data["audit"][0]["decision"]["reason"] = "something else"
    stored.write_text(json.dumps(data, indent=2), encoding="utf-8")
    assert main(["audit", "--quiet", str(stored)]) == 1
    assert f"error: {stored}: audit event 1 was altered" in capsys.readouterr().out
    assert main([*argv, "--adjudications", str(adj / "decisions")]) == 1  # still not used
    assert "this decision is not used" in capsys.readouterr().err

    # recording the decision again (--replace) appends to the history, which keeps the
    # altered event: audit still names it
    assert _decide(cohort, adj, "R2", "re-recorded after the edit", "--replace") == 0
    capsys.readouterr()
    from lesion_tool.storage.audit import verify_audit

    report = verify_audit(stored)
    assert report.problems == (f"{stored}: audit event 1 was altered (its hash does not match)",)
    assert report.events[-1]["decision"]["reason"] == "re-recorded after the edit"
    # ... and the decision now recorded by lesion-tool is used again
    assert main([*argv, "--adjudications", str(adj / "decisions")]) == 0
    out = capsys.readouterr().out
    assert "ORR 1/4 = 25.0%" in out and "3 single reader, 1 adjudicated" in out


def test_make_decision_takes_readers_and_triggers_from_the_worklist() -> None:
    import datetime as dt

    from lesion_tool.corelab.adjudication import WorklistItem, make_decision
    from lesion_tool.errors import LesionToolError

    items = [
        WorklistItem("P1", ("R1", "R2"), ("best overall response differs: R1 PR, R2 SD",)),
        WorklistItem("P1", ("R1", "R3"), ()),
        WorklistItem("P1", ("R2", "R3"), ("best overall response differs: R1 PR, R2 SD",)),
        WorklistItem("P2", ("R1", "R2"), ("other patient",)),
    ]
    when = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
    decision = make_decision(
        items, "P1", preset="mrecist", chosen_reader="R3", reason=" why ", adjudicator="A",
        decided_at=when,
    )  # fmt: skip
    assert decision.readers == ("R1", "R2", "R3")
    assert decision.triggers == ("best overall response differs: R1 PR, R2 SD",)
    assert (decision.reason, decision.decided_at, decision.preset) == ("why", when, "mrecist")
    with pytest.raises(LesionToolError, match="reader 'R9' did not read this patient"):
        make_decision(items, "P1", preset="mrecist", chosen_reader="R9", reason="x",
                      adjudicator="A")  # fmt: skip
    with pytest.raises(LesionToolError, match="has no two usable readings"):
        make_decision(items, "P9", preset="mrecist", chosen_reader="R1", reason="x",
                      adjudicator="A")  # fmt: skip
    with pytest.raises(LesionToolError, match="needs a reason"):
        make_decision(items, "P1", preset="mrecist", chosen_reader="R1", reason=" ",
                      adjudicator="A")  # fmt: skip
