"""Outputs never destroy inputs; a closed pipe or an unwritable folder is a message, never a
traceback (issue 12)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lesion_tool.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "assessments"
EXAMPLE = EXAMPLES / "hcc-ex01-partial-response.json"


@pytest.mark.parametrize("option", ["--timepoints-csv", "--patients-csv"])
def test_rescore_refuses_to_write_a_csv_over_its_input(tmp_path: Path, option: str, capsys) -> None:
    reading = shutil.copy(EXAMPLE, tmp_path / "a.json")
    before = Path(reading).read_bytes()
    same_file = tmp_path / "sub" / ".." / "a.json"
    (tmp_path / "sub").mkdir()
    assert main(["rescore", str(tmp_path), option, str(same_file)]) == 1
    assert "is the input file" in capsys.readouterr().err
    assert Path(reading).read_bytes() == before


def test_import_sr_refuses_to_write_over_an_sr_it_reads(tmp_path: Path, capsys) -> None:
    sr = tmp_path / "x.dcm"
    sr.write_bytes(b"not even an SR")
    assert main(["import-sr", str(sr), "--out", str(sr)]) == 1
    assert "is the input file" in capsys.readouterr().err
    assert sr.read_bytes() == b"not even an SR"


def test_rescore_csv_into_a_missing_folder_is_a_message(tmp_path: Path, capsys) -> None:
    out = tmp_path / "no" / "such" / "t.csv"
    assert main(["rescore", str(EXAMPLE), "--timepoints-csv", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("lesion-tool: error:") and str(out) in err
    assert "Traceback" not in err


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """``lesion-tool rescore ... | head -1``: no BrokenPipeError traceback.

    200 readings print far more than a pipe buffer holds, so the writer meets the closed pipe.
    """
    for i in range(200):
        shutil.copy(EXAMPLE, tmp_path / f"r{i:03d}.json")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        [sys.executable, "-m", "lesion_tool", "rescore", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.readline()
        proc.stdout.close()
        err = proc.stderr.read().decode()
        proc.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipeError" not in err


def test_an_unreadable_subfolder_is_reported_and_fails_the_batch(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """A patient's folder the user cannot read used to vanish from the endpoints with exit 0.

    Tests run as root, who reads everything, so the permission error is simulated.
    """
    shutil.copy(EXAMPLE, tmp_path / "a.json")
    locked = tmp_path / "site-2"
    locked.mkdir()
    shutil.copy(EXAMPLE, locked / "b.json")
    real_scandir, real_listdir = os.scandir, os.listdir

    def deny(path, *args):
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return None

    monkeypatch.setattr(os, "scandir", lambda p=".": deny(p) or real_scandir(p))
    monkeypatch.setattr(os, "listdir", lambda p=".": deny(p) or real_listdir(p))
    for command in ("rescore", "validate", "report"):
        extra = ["--out", str(tmp_path / "report")] if command == "report" else []
        assert main([command, str(tmp_path), *extra]) == 1, command
        said = capsys.readouterr()
        text = said.out + said.err
        assert f"{locked}: folder cannot be searched for assessments: Permission denied" in text
    # the readable patient is still in the report
    assert "HCC-EX01" in (tmp_path / "report" / "report.html").read_text("utf-8")


SMALL = ["--size", "40x40x8", "--timepoints", "1", "--phases", "arterial"]


@pytest.fixture(scope="module")
def small_series(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pipe") / "img"
    assert main(["synth", str(out), *SMALL]) == 0
    return out


@pytest.mark.parametrize("command", ["scan", "scan --json", "rescore", "validate", "synth --json"])
def test_a_pipe_closed_before_the_first_line_is_quiet_for_every_printing_command(
    small_series: Path, tmp_path: Path, command: str
) -> None:
    """``lesion-tool COMMAND ... | head -0``: the reader has gone before the command prints.

    Each of these commands used to end in a BrokenPipeError traceback (issue 12). The pipe's
    read end is closed before the command starts, so every write meets it, however little the
    command prints.
    """
    shutil.copy(EXAMPLE, tmp_path / "a.json")
    args = {
        "scan": ["scan", str(small_series)],
        "scan --json": ["scan", "--json", str(small_series)],
        "rescore": ["rescore", str(tmp_path / "a.json")],
        "validate": ["validate", str(tmp_path / "a.json")],
        "synth --json": ["synth", "--json", str(tmp_path / "s"), *SMALL],
    }[command]
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "lesion_tool", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
        )
    finally:
        os.close(write_end)
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr, done.stderr
    assert "Exception ignored" not in done.stderr, done.stderr


@pytest.mark.parametrize("command", ["report", "export-sr", "synth", "rescore"])
def test_an_output_that_cannot_be_created_is_one_message_naming_it(
    tmp_path: Path, command: str, capsys
) -> None:
    """A read-only or otherwise unwritable output used to end ``report``, ``export-sr`` and
    ``synth`` in a traceback (issue 12). As root (CI) a permission cannot be denied, so the
    output is asked for inside a regular file: the same OSError path, on every platform."""
    reading = shutil.copy(EXAMPLE, tmp_path / "a.json")
    blocker = tmp_path / "file"
    blocker.write_text("a user's file")
    target = blocker / "out"
    args = {
        "report": ["report", reading, "--out", str(target)],
        "export-sr": ["export-sr", reading, "--images", str(tmp_path), "--out", str(target)],
        "synth": ["synth", str(target), *SMALL],
        "rescore": ["rescore", reading, "--timepoints-csv", str(target)],
    }[command]
    assert main([str(a) for a in args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("lesion-tool: error:") and str(target) in err, err
    assert "Traceback" not in err
    assert blocker.read_text() == "a user's file"
