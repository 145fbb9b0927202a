"""``lesion-tool rescore`` and ``lesion-tool validate`` through ``lesion_tool.cli.main``."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sys
from pathlib import Path

import pytest

from lesion_tool.cli import main
from lesion_tool.response import PATIENT_COLUMNS, TIMEPOINT_COLUMNS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "assessments"


def example(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


def write(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_rescore_examples_prints_a_table(capsys) -> None:
    assert main(["rescore", str(EXAMPLES)]) == 0
    out, err = capsys.readouterr()
    for index in range(1, 9):
        assert f"HCC-EX0{index}, reader R1 [mrecist]" in out
        assert f"HCC-EX0{index}, reader R1 [recist-1.1]" in out
    assert "timepoint" in out and "overall" in out
    assert "non-CR/non-PD" in out
    assert "progression back-dated to 2026-03-02" in err  # findings go to stderr
    assert "\r" not in err  # no progress bar when stderr is not a terminal


def test_rescore_writes_both_csvs_and_no_table(tmp_path: Path, capsys) -> None:
    tp_csv, pt_csv = tmp_path / "tp.csv", tmp_path / "pt.csv"
    code = main(
        [
            "rescore",
            str(EXAMPLES),
            "--criteria",
            "mrecist,recist-1.1",
            "--timepoints-csv",
            str(tp_csv),
            "--patients-csv",
            str(pt_csv),
        ]
    )
    assert code == 0
    assert capsys.readouterr().out == ""
    timepoints = list(csv.DictReader(tp_csv.open()))
    patients = list(csv.DictReader(pt_csv.open()))
    assert tuple(timepoints[0]) == TIMEPOINT_COLUMNS
    assert tuple(patients[0]) == PATIENT_COLUMNS
    assert len(patients) == 16  # 8 patients x 2 presets
    assert {row["criteria"] for row in timepoints} == {"mrecist", "recist-1.1"}
    by_key = {(row["patient_id"], row["criteria"]): row for row in patients}
    assert by_key["HCC-EX02", "mrecist"]["best_overall_response"] == "CR"
    assert by_key["HCC-EX02", "recist-1.1"]["best_overall_response"] == "PR"
    ex04 = by_key["HCC-EX04", "mrecist"]
    assert (ex04["progression_date"], ex04["pfs_days"], ex04["pfs_event"]) == (
        "2026-03-02",
        "42",
        "true",
    )
    assert by_key["HCC-EX08", "mrecist"]["best_overall_response"] == "PR"
    assert by_key["HCC-EX08", "recist-1.1"]["best_overall_response"] == "PD"


def test_csv_to_stdout(capsys) -> None:
    file = EXAMPLES / "hcc-ex03-progression-by-sum.json"
    assert main(["rescore", str(file), "--criteria", "mrecist", "--patients-csv", "-"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        ",".join(PATIENT_COLUMNS),
        "HCC-EX03,R1,mrecist,SD,SD,,2026-05-11,98,true,,false",
    ]


def test_bad_file_is_reported_and_skipped(tmp_path: Path, capsys) -> None:
    shutil.copy(EXAMPLES / "hcc-ex01-partial-response.json", tmp_path / "good.json")
    broken = example("hcc-ex01-partial-response.json")
    broken["timepoints"][2]["lesions"][0]["state"] = "gone"
    write(tmp_path / "broken.json", broken)
    (tmp_path / "truncated.json").write_text('{"format": "lesion-tool.assess')
    out_csv = tmp_path / "out" / "pt.csv"
    out_csv.parent.mkdir()
    code = main(["rescore", str(tmp_path), "--patients-csv", str(out_csv)])
    assert code == 1
    err = capsys.readouterr().err
    assert (
        f"{tmp_path / 'broken.json'}: $.timepoints[2].lesions[0].state: 'gone' is not a valid "
        "target state (measured, absent, too_small, not_evaluated)"
    ) in err
    assert f"{tmp_path / 'truncated.json'}: line 1 column" in err
    rows = list(csv.DictReader(out_csv.open()))
    assert [row["patient_id"] for row in rows] == ["HCC-EX01"] * 3


def test_missing_path_and_empty_folder(tmp_path: Path, capsys) -> None:
    assert (
        main(["rescore", str(tmp_path / "nope.json"), str(EXAMPLES / "hcc-ex07-no-targets.json")])
        == 1
    )
    assert "nope.json: no such file" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["rescore", str(tmp_path / "empty")]) == 1
    assert "no assessment files" in capsys.readouterr().err


def test_preset_that_cannot_score_a_file_fails_only_that_preset(tmp_path: Path, capsys) -> None:
    data = example("hcc-ex01-partial-response.json")
    for timepoint in data["timepoints"]:
        for lesion in timepoint["lesions"]:
            lesion.pop("longest_diameter_mm", None)
    path = write(tmp_path / "viable-only.json", data)
    assert main(["rescore", str(path), "--patients-csv", "-"]) == 1
    captured = capsys.readouterr()
    assert "[recist-1.1]: Patient HCC-EX01: baseline target T1 has no longest_diameter_mm" in (
        captured.err
    )
    assert [line.split(",")[2] for line in captured.out.splitlines()[1:]] == [
        "mrecist",
        "mrecist-1.1",
    ]


@pytest.mark.parametrize(
    "argv",
    [
        ["rescore", "x.json", "--criteria", "mrecist,easl"],
        ["rescore", "x.json", "--criteria", ""],
        ["rescore", "x.json", "--confirm-min-days", "-1"],
        ["rescore", "x.json", "--sd-min-days", "six"],
        ["rescore"],
        ["validate", "x.json", "--criteria", "who"],
    ],
)
def test_usage_errors_exit_2(argv, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "usage:" in capsys.readouterr().err


def _patients(argv: list[str], capsys) -> dict[str, dict[str, str]]:
    assert main([*argv, "--patients-csv", "-"]) == 0
    rows = csv.DictReader(io.StringIO(capsys.readouterr().out))
    return {row["patient_id"]: row for row in rows}


def test_confirmation_options(tmp_path: Path, capsys) -> None:
    data = example("hcc-ex01-partial-response.json")
    data["timepoints"] = data["timepoints"][:2]  # a single PR at day 42: unconfirmed
    path = write(tmp_path / "single-pr.json", data)
    base = ["rescore", str(path), "--criteria", "mrecist"]
    assert _patients(base, capsys)["HCC-EX01"]["best_overall_response"] == "SD"
    assert _patients([*base, "--no-confirm"], capsys)["HCC-EX01"]["best_overall_response"] == "PR"
    assert (
        _patients([*base, "--sd-min-days", "43"], capsys)["HCC-EX01"]["best_overall_response"]
        == "NE"
    )
    two = example("hcc-ex01-partial-response.json")
    two["timepoints"] = two["timepoints"][:3]  # PR day 42 and day 98 (56 days apart)
    path2 = write(tmp_path / "two-pr.json", two)
    base2 = ["rescore", str(path2), "--criteria", "mrecist"]
    assert _patients(base2, capsys)["HCC-EX01"]["best_overall_response"] == "PR"
    row = _patients([*base2, "--confirm-min-days", "57"], capsys)["HCC-EX01"]
    assert row["best_overall_response"] == "SD"


def test_dcr_option(tmp_path: Path, capsys) -> None:
    path = EXAMPLES / "hcc-ex05-equivocal-lesion.json"  # SD through day 189
    base = ["rescore", str(path), "--criteria", "mrecist"]
    assert _patients(base, capsys)["HCC-EX05"]["disease_control"] == "true"
    assert _patients([*base, "--dcr-sd-min-days", "190"], capsys)["HCC-EX05"][
        "disease_control"
    ] == ("false")


def test_summary_prints_endpoints_per_preset(capsys) -> None:
    assert main(["rescore", str(EXAMPLES), "--summary", "--patients-csv", "-"]) == 0
    out = capsys.readouterr().out
    # mRECIST: responders EX01 (PR), EX02 (CR), EX06 (PR), EX08 (PR) of 7 measurable = 4/7.
    assert "[mrecist] 8 patients, 7 with measurable disease" in out
    assert "ORR 4/7 = 57.1% (95% CI 18.4-90.1%, Clopper-Pearson)" in out
    # RECIST 1.1: responders EX02 (PR) and EX06 (PR): 2/7.
    assert "[recist-1.1] 8 patients, 7 with measurable disease" in out
    assert "ORR 2/7 = 28.6%" in out
    assert "median" in out and "Kaplan-Meier" in out


def test_eligibility_findings_warn_in_rescore_and_fail_validate(tmp_path: Path, capsys) -> None:
    data = example("hcc-ex03-progression-by-sum.json")
    data["timepoints"][0]["lesions"][1]["longest_diameter_mm"] = 9.0  # lung target below 10 mm
    path = write(tmp_path / "small.json", data)
    assert main(["rescore", str(path), "--criteria", "mrecist"]) == 0
    err = capsys.readouterr().err
    assert "warning: [baseline] T2: longest diameter 9 mm is below the 10 mm minimum" in err
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert (
        f"error: {path} [mrecist,mrecist-1.1,recist-1.1]: [baseline] T2: longest diameter 9 mm "
        "is below the 10 mm minimum for a target"
    ) in out


def test_validate_examples_and_a_schema_error(tmp_path: Path, capsys) -> None:
    assert main(["validate", str(EXAMPLES)]) == 0
    captured = capsys.readouterr()
    assert captured.out.count("ok: ") == 8
    assert "8 file(s) checked, 0 with errors" in captured.err
    broken = example("hcc-ex07-no-targets.json")
    broken["timepoints"][1]["date"] = "2026-01-01"
    path = write(tmp_path / "order.json", broken)
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"error: {path}: $.timepoints[1].date: 2026-01-01 is not after" in out


def test_validate_slice_thickness(capsys) -> None:
    path = EXAMPLES / "hcc-ex08-recist-mrecist-disagree.json"  # T2 viable 21 mm at baseline
    assert main(["validate", str(path), "--slice-thickness-mm", "5"]) == 0
    capsys.readouterr()
    assert main(["validate", str(path), "--slice-thickness-mm", "11"]) == 1
    assert "below the 22 mm (2 x the 11 mm slice thickness) minimum" in capsys.readouterr().out


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal(monkeypatch, capsys) -> None:
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["rescore", str(EXAMPLES), "--patients-csv", "-"]) == 0
    assert "\rrescore [" in terminal.getvalue()
    # the bar counts files (the unit of work the executor spreads), 8 here, and ends its line
    # before the findings are printed
    assert "] 8/8\n" in terminal.getvalue()
    assert "rescore [" not in capsys.readouterr().out


def _cohort(folder: Path) -> Path:
    """The examples under several patient ids (out of name order), plus one broken file."""
    folder.mkdir()
    for copy_index in range(4):
        for source in sorted(EXAMPLES.glob("*.json")):
            data = json.loads(source.read_text())
            data["patient_id"] = f"P{(7 - copy_index) % 4}-{data['patient_id']}"
            write(folder / f"{copy_index}-{source.name}", data)
    broken = example("hcc-ex07-no-targets.json")
    broken["timepoints"][1]["date"] = "2026-01-01"
    write(folder / "2-broken.json", broken)
    return folder
