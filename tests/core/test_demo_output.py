"""``demo --out`` never deletes a file it did not write (issue 12: it used to empty
``assessments/`` and lose a reader's reading)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lesion_tool.cli import main
from lesion_tool.errors import LesionToolError
from lesion_tool.pipeline import DEMO_MANIFEST, _write_demo_manifest, clear_earlier_demo


def _write(path: Path, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


def test_a_users_file_in_out_is_refused_and_kept(tmp_path: Path, capsys) -> None:
    mine = _write(tmp_path / "assessments" / "my_reading_R1.json", '{"reader": "R1"}')
    code = main(["demo", "--out", str(tmp_path), "--patients", "1", "--no-sample"])
    err = capsys.readouterr().err
    assert code == 1
    assert "my_reading_R1.json" in err and "did not write" in err
    assert mine.read_text("utf-8") == '{"reader": "R1"}'
    assert not (tmp_path / DEMO_MANIFEST).exists()


def test_an_earlier_complete_run_is_replaced_but_a_file_added_since_is_not(tmp_path: Path) -> None:
    ours = [_write(tmp_path / "images" / "P1" / "a.dcm"), _write(tmp_path / "timepoints.csv")]
    _write_demo_manifest(tmp_path, complete=True)
    added = _write(tmp_path / "assessments" / "mine.json")
    with pytest.raises(LesionToolError, match=r"mine\.json"):
        clear_earlier_demo(tmp_path)
    assert all(p.exists() for p in [*ours, added])

    added.unlink()
    clear_earlier_demo(tmp_path)
    assert not any(p.exists() for p in ours)
    assert not (tmp_path / "images").exists()


def test_an_interrupted_run_may_be_replaced_only_within_the_demo_outputs(tmp_path: Path) -> None:
    _write_demo_manifest(tmp_path, complete=False)
    partial = _write(tmp_path / "sr" / "P1" / "x.dcm")
    notes = _write(tmp_path / "notes.txt")
    with pytest.raises(LesionToolError, match=r"notes\.txt"):
        clear_earlier_demo(tmp_path)
    assert partial.exists() and notes.exists()
    notes.unlink()
    clear_earlier_demo(tmp_path)
    assert not partial.exists()


def test_a_broken_manifest_is_refused(tmp_path: Path) -> None:
    _write(tmp_path / DEMO_MANIFEST, "[1, 2")
    _write(tmp_path / "images" / "a.dcm")
    with pytest.raises(LesionToolError, match="demo manifest"):
        clear_earlier_demo(tmp_path)
    assert (tmp_path / "images" / "a.dcm").exists()


def test_manifest_lists_what_the_run_wrote(tmp_path: Path) -> None:
    _write(tmp_path / "report" / "report.html")
    _write_demo_manifest(tmp_path, complete=True)
    manifest = json.loads((tmp_path / DEMO_MANIFEST).read_text("utf-8"))
    assert manifest == {"complete": True, "files": ["report/report.html"]}
