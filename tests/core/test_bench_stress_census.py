"""The stress benchmark's census read-out (benchmarks/bench_stress.py --census): per tumour,
within / clicks, refusals, and every result more than 30 % off with no flag named by its click;
a refused or flagged result is not such a result (issue 11 asks that none exist)."""

from __future__ import annotations

import sys
from pathlib import Path

from lesion_tool.measurement.evaluation import ClickResult

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import bench_stress


def _click(tumour: str, mm: float | None, flags: tuple[str, ...] = (), refused: str = ""):
    return ClickResult(
        tumour=tumour,
        kind="random",
        seed=(20, 192, int(mm or 0)),
        line=None,
        expert_mm=78.2,
        measured_mm=mm,
        refused=refused,
        flags=flags,
        dice=None,
        liver_inside=None,
        time_s=0.1,
    )


def test_tumour_lines_count_and_name_unflagged_far_results() -> None:
    row = {
        "results": [
            _click("livertumor01", 77.0),  # within (tolerance 7.8 mm)
            _click("livertumor01", 30.4),  # 61 % short, no flag: must be named
            _click("livertumor01", 30.3, flags=("faint against the liver",)),  # flagged
            _click("livertumor01", None, refused="the click's value is the liver's commonest"),
            _click("livertumor05", 60.0),  # 23 % short: a miss, not > 30 %
        ]
    }
    lines = bench_stress.tumour_lines(row)
    assert lines[0].strip() == ("livertumor01: within 1/4, refused 1, > 30 % off unflagged 1")
    assert lines[1].strip() == "unflagged 30.4 mm for 78.2: click (20, 192, 30)"
    assert lines[2].strip() == "livertumor05: within 0/1, refused 0, > 30 % off unflagged 0"
    assert len(lines) == 3
