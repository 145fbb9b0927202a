"""Stored documents that used to abort a whole batch with a traceback (issue 12): each is now one
skipped file with a message naming it and the problem, and the good files are still scored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lesion_tool.cli import main
from lesion_tool.errors import AssessmentError
from lesion_tool.storage import load_assessment

EXAMPLE = (
    Path(__file__).resolve().parents[2] / "examples/assessments/hcc-ex01-partial-response.json"
)
BASE = EXAMPLE.read_text("utf-8")


def _set_lesion_field(field: str, value: object) -> str:
    data = json.loads(BASE)
    for tp in data["timepoints"]:
        for lesion in tp["lesions"]:
            if lesion.get(field) is not None:
                lesion[field] = value
    return json.dumps(data)


def _first_date(value: str) -> str:
    data = json.loads(BASE)
    data["timepoints"][0]["date"] = value
    return json.dumps(data)


def _death_before_last_scan() -> str:
    data = json.loads(BASE)
    data["death_date"] = data["timepoints"][1]["date"]  # later timepoints were scanned after it
    return json.dumps(data)


HAZARDS = {
    "date with a newline": (_first_date("2026-01-02\n"), r"\$\.timepoints\[0\]\.date"),
    "impossible date": (_first_date("2026-02-30"), "not a valid calendar date"),
    "diameter 1e308": (_set_lesion_field("longest_diameter_mm", 1e308), "maximum of 2000"),
    "kind as a list": (_set_lesion_field("kind", ["viable"]), r"\.kind: \['viable'\]"),
    "nested 5000 deep": ("[" * 5000 + "]" * 5000, "nested too deeply"),
    "4,301-digit number": (BASE[:-2] + ', "x": ' + "9" * 4301 + "}", "4,300 digits"),
    "lone surrogate": (BASE.replace('"reader": "', '"reader": "\\ud800', 1), r"\$\.reader"),
    "scan after death": (_death_before_last_scan(), r"\$\.death_date: .*no scan can follow death"),
    "duplicate key": (BASE.rstrip()[:-1] + ', "patient_id": "OTHER"}', "appears twice"),
    "NaN": (_set_lesion_field("longest_diameter_mm", 1.0).replace("1.0", "NaN", 1), "NaN"),
    "coordinate 1e300": (
        _set_lesion_field("line", {"start": [1e300, 0, 0], "end": [1, 2, 3]}),
        "maximum of 1000000",
    ),
}


@pytest.mark.parametrize("name", sorted(HAZARDS))
def test_hazard_is_an_assessment_error_naming_file_and_problem(tmp_path: Path, name: str) -> None:
    text, pattern = HAZARDS[name]
    path = tmp_path / "bad.json"
    path.write_text(text, "utf-8")
    with pytest.raises(AssessmentError, match=pattern) as err:
        load_assessment(path)
    assert str(path) in str(err.value)


def test_one_bad_file_never_stops_a_batch(tmp_path: Path, capsys) -> None:
    for i, (text, _pattern) in enumerate(HAZARDS.values()):
        (tmp_path / f"bad{i:02d}.json").write_text(text, "utf-8")
    (tmp_path / "good.json").write_text(BASE, "utf-8")
    n_bad = len(HAZARDS)
    expected = {
        "rescore": "HCC-EX01, reader R1 [mrecist]",
        "validate": f"{n_bad + 1} file(s) checked, {n_bad} with errors",
        "report": "Report (1 patients)",
    }
    for command, shown in expected.items():
        extra = ["--out", str(tmp_path / "r")] if command == "report" else []
        code = main([command, str(tmp_path), *extra])
        said = capsys.readouterr()
        assert code == 1, command
        assert "Traceback" not in said.err
        assert shown in said.out + said.err, command
    assert (tmp_path / "r" / "report.html").is_file()
