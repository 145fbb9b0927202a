"""Atomic output (issue 12): mode and symlinks respected, no temporary file left, no overwrite
where the caller forbids it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from lesion_tool.storage.atomic import atomic_write


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_replacing_a_file_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text("old")
    path.chmod(0o640)
    with atomic_write(path) as fh:
        fh.write("new")
    assert path.read_text() == "new"
    assert _mode(path) == 0o640


def test_a_new_file_gets_the_umask_mode_not_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "n.csv") as fh:
            fh.write("x")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "n.csv") == 0o644


def test_writing_through_a_symlink_updates_the_target_and_keeps_the_link(tmp_path: Path) -> None:
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    with atomic_write(link) as fh:
        fh.write("new")
    assert link.is_symlink()
    assert target.read_text() == "new"


def test_a_failure_leaves_the_old_file_and_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(path) as fh:
        fh.write("half")
        raise RuntimeError("disk full")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_overwrite_false_refuses_an_existing_file_before_writing(tmp_path: Path) -> None:
    path = tmp_path / "sr.dcm"
    path.write_bytes(b"mine")
    with pytest.raises(FileExistsError), atomic_write(path, "wb", overwrite=False) as fh:
        fh.write(b"theirs")
    assert path.read_bytes() == b"mine"
    assert [p.name for p in tmp_path.iterdir()] == ["sr.dcm"]


def test_temporary_files_of_killed_writers_are_cleaned_on_the_next_write(tmp_path: Path) -> None:
    """A kill -9 mid-save leaves a temp file; the next save of that file removes it."""
    import subprocess
    import sys

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    orphan = tmp_path / f".a.json.{int(dead.stdout)}.x1y2.tmp"
    orphan.write_text("half")
    live = tmp_path / f".a.json.{os.getppid()}.z3.tmp"  # a live process's write in progress
    live.write_text("busy")
    other = tmp_path / f".b.json.{int(dead.stdout)}.q.tmp"  # another file's: not ours to judge
    other.write_text("half")
    with atomic_write(tmp_path / "a.json") as fh:
        fh.write("{}")
    assert not orphan.exists()
    assert live.exists() and other.exists()
