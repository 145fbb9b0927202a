"""CLI warnings are one clean line, ``lesion-tool: warning: ...``, for every command."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from _dicom_factory import CORONAL, write_series

import lesion_tool
from lesion_tool.cli import main, show_warning


@pytest.fixture
def stray_series(tmp_path: Path) -> tuple[Path, Path]:
    """An axial series with one coronal image in it, and a .npy mask for its grid."""
    folder = tmp_path / "series"
    write_series(folder, n=6)
    write_series(folder, n=1, orientation=CORONAL, origin_mm=(0, 50, 0), name="COR{:04d}")
    labels = np.zeros((6, 12, 10), dtype=np.uint8)
    labels[2:4, 3:8, 3:7] = 1
    np.save(tmp_path / "mask.npy", labels)
    return folder, tmp_path / "mask.npy"


def _assert_clean(stderr: str) -> str:
    """Every stderr line is a lesion-tool line; returns the stray-image warning line."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines, "no warning printed"
    assert all(line.startswith("lesion-tool: ") for line in lines), stderr
    [line] = [x for x in lines if "left out" in x]
    assert line.startswith("lesion-tool: warning: Series ")
    assert "COR0001" in line
    return line


def test_warning_is_one_line_in_process(
    stray_series: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, mask = stray_series
    assert main(["measure", "--image", str(folder), "--mask", str(mask)]) == 0
    captured = capsys.readouterr()
    _assert_clean(captured.err)
    assert "label 1 component 1 of 1" in captured.out
    # main restores Python's own warning display when it returns
    assert warnings.showwarning is not show_warning


def test_warning_is_one_line_from_the_installed_command(stray_series: tuple[Path, Path]) -> None:
    folder, mask = stray_series
    root = Path(lesion_tool.__file__).parents[1]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
    }
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "lesion_tool",
            "measure",
            "--image",
            str(folder),
            "--mask",
            str(mask),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    _assert_clean(run.stderr)


def test_multi_line_messages_are_joined(capsys: pytest.CaptureFixture[str]) -> None:
    show_warning(UserWarning("first part\n   second part"), UserWarning, "x.py", 1)
    assert capsys.readouterr().err == "lesion-tool: warning: first part second part\n"


def test_log_records_use_the_same_line_shape(capsys: pytest.CaptureFixture[str]) -> None:
    from lesion_tool.cli import _LineFormatter

    record = logging.LogRecord("x", logging.WARNING, "x.py", 1, "disk %s", ("full",), None)
    assert _LineFormatter().format(record) == "lesion-tool: warning: disk full"
