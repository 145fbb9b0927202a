"""Issue 17: one executor for cohort work; a cohort re-scored in process, on two local processes
and on a Dask LocalCluster gives byte-identical CSVs and the same problem reports."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pytest
from _cluster import local_cluster

from lesion_tool.cli import main
from lesion_tool.errors import LesionToolError
from lesion_tool.executor import Executor

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "assessments"


def _half_or_refuse(limit: int, value: int) -> int:
    """Work for the unit test: a user-fixable error above ``limit``."""
    if value > limit:
        raise LesionToolError(f"item {value}: above {limit}")
    return value // 2


@pytest.mark.parametrize("workers", [1, 2])
def test_map_keeps_input_order_and_reports_errors_per_item(workers: int) -> None:
    outcomes = Executor(workers=workers).map(partial(_half_or_refuse, 40), range(50))
    assert [o.value for o in outcomes[:41]] == [v // 2 for v in range(41)]
    assert [o.error for o in outcomes[41:]] == [f"item {v}: above 40" for v in range(41, 50)]
    assert all(o.ok for o in outcomes[:41]) and not any(o.ok for o in outcomes[41:])


def _write(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data), encoding="utf-8")


@pytest.fixture()
def cohort(tmp_path: Path) -> Path:
    """The examples under several patient ids (out of name order), a second reader of one
    patient, the same reader twice on another, and one broken file."""
    folder = tmp_path / "cohort"
    folder.mkdir()
    for copy_index in range(3):
        for source in sorted(EXAMPLES.glob("*.json")):
            data = json.loads(source.read_text(encoding="utf-8"))
            data["patient_id"] = f"P{(7 - copy_index) % 3}-{data['patient_id']}"
            _write(folder / f"{copy_index}-{source.name}", data)
    first = sorted(EXAMPLES.glob("*.json"))[0]
    second = json.loads(first.read_text(encoding="utf-8"))
    second["patient_id"] = f"P1-{second['patient_id']}"
    second["reader"] = "R2"
    _write(folder / "z-second-reader.json", second)
    twice = json.loads(sorted(EXAMPLES.glob("*.json"))[1].read_text(encoding="utf-8"))
    twice["patient_id"] = f"P0-{twice['patient_id']}"
    _write(folder / "a-same-reader-again.json", twice)
    (folder / "m-broken.json").write_text('{"schema_version": ', encoding="utf-8")
    return folder


def _rescore(cohort: Path, out: Path, extra: list[str], capsys) -> tuple[int, bytes, bytes, str]:
    out.mkdir()
    code = main(
        [
            "rescore",
            str(cohort),
            "--timepoints-csv",
            str(out / "timepoints.csv"),
            "--patients-csv",
            str(out / "patients.csv"),
            *extra,
        ]
    )
    err = capsys.readouterr().err
    return (
        code,
        (out / "timepoints.csv").read_bytes(),
        (out / "patients.csv").read_bytes(),
        err,
    )


def test_cohort_identical_in_process_local_processes_and_dask_cluster(
    cohort: Path, tmp_path: Path, capsys
) -> None:
    distributed = pytest.importorskip("distributed")
    serial = _rescore(cohort, tmp_path / "serial", [], capsys)
    local = _rescore(cohort, tmp_path / "local", ["--workers", "2"], capsys)
    with local_cluster(distributed) as cluster:
        address = cluster.scheduler_address
        dask = _rescore(cohort, tmp_path / "dask", ["--scheduler", address], capsys)
    assert cluster.status.name == "closed"

    code, timepoints, patients, err = serial
    assert code == 1  # the broken file and the double reading
    assert local == serial
    assert dask == serial
    # the cohort grouping survived: the broken file and the same reader twice are reported once,
    # the patient read by two readers has both readings scored
    assert err.count("m-broken.json") == 1
    assert err.count("has 2 readings") == 1
    assert "a-same-reader-again.json" in err
    rows = patients.decode().splitlines()
    header = rows[0].split(",")
    reader = header.index("reader")
    second = [r for r in rows[1:] if r.split(",")[reader] == "R2"]
    assert len(second) == 3  # one per preset
    assert timepoints.count(b"\n") > 50


def test_unreachable_scheduler_is_a_clear_error(cohort: Path, capsys) -> None:
    pytest.importorskip("distributed")
    code = main(["rescore", str(cohort), "--scheduler", "tcp://127.0.0.1:9", "--summary"])
    assert code == 1
    err = capsys.readouterr().err
    assert "cannot reach the Dask scheduler" in err
    assert "Traceback" not in err


def test_workers_and_scheduler_are_exclusive(cohort: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["rescore", str(cohort), "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"])
    assert exit_info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_report_loads_the_cohort_the_same_on_two_processes(cohort: Path) -> None:
    from lesion_tool.report.build import load_cohort

    serial = load_cohort([cohort])
    local = load_cohort([cohort], Executor(workers=2))
    assert local == serial
    assert [Path(where).name for where, _ in serial[1]] == ["m-broken.json"]
    assert len(serial[0]) == len(list(cohort.glob("*.json"))) - 1


def test_adjudicate_worklist_identical_on_two_processes(
    cohort: Path, tmp_path: Path, capsys
) -> None:
    outputs = []
    for name, extra in (("serial", []), ("local", ["--workers", "2"])):
        out = tmp_path / f"adj-{name}"
        code = main(["adjudicate", str(cohort), "--out", str(out), *extra])
        outputs.append((code, (out / "worklist.csv").read_bytes(), capsys.readouterr().err))
    assert outputs[0] == outputs[1]
    code, worklist, err = outputs[0]
    assert b"P1-" in worklist  # the patient read by R1 and R2 is on the worklist
    assert err.count("m-broken.json") == 1 and err.count("has 2 readings") == 1


def _ball_mask(path: Path, radius_vox: float, spacing_zyx: tuple[float, float, float]) -> None:
    import numpy as np
    import SimpleITK as sitk

    z, y, x = np.ogrid[:24, :40, :40]
    ball = ((z - 12) ** 2 + (y - 20) ** 2 + (x - 20) ** 2) <= radius_vox**2
    image = sitk.GetImageFromArray(ball.astype(np.uint8))
    image.SetSpacing(spacing_zyx[::-1])
    image.SetOrigin((0.0, 0.0, 0.0))
    image.SetDirection((1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0))
    sitk.WriteImage(image, str(path))


def test_measure_masks_identical_on_two_processes(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "masks"
    folder.mkdir()
    radii = (4, 6, 8, 10)
    for radius in radii:
        _ball_mask(folder / f"ball-{radius:02d}.nii.gz", radius, (1.0, 1.0, 1.0))
    (folder / "ball-05.nii.gz").write_bytes(b"not a NIfTI file")
    runs = []
    for extra in ([], ["--workers", "2"]):
        code = main(["measure", "--json", "--mask", str(folder), *extra])
        captured = capsys.readouterr()
        runs.append((code, captured.out, captured.err))
    assert runs[0] == runs[1]
    code, out, err = runs[0]
    assert code == 1 and "ball-05.nii.gz" in err and "Traceback" not in err
    measured = json.loads(out)["measured"]
    assert [Path(m["file"]).name for m in measured] == [f"ball-{r:02d}.nii.gz" for r in radii]
    for radius, m in zip(radii, measured, strict=True):
        # a digital ball of radius r voxels at 1 mm: longest axial diameter 2r mm within a voxel
        assert abs(m["labels"][0]["longest_diameter_mm"] - 2 * radius) <= 1.0


def test_scan_identical_on_two_processes(tmp_path: Path, monkeypatch, capsys) -> None:
    from _dicom_factory import write_series

    monkeypatch.setenv("LESION_TOOL_CACHE_DIR", "")  # no phase cache: both runs compute it
    root = tmp_path / "export"
    write_series(root / "s3", n=8, description="LIVER LATE ARTERIAL", series_number=3)
    write_series(root / "s4", n=8, description="PORTAL VENOUS", series_number=4)
    (root / "README.txt").write_text("exported from PACS\n")
    runs = []
    for extra in ([], ["--workers", "2"]):
        code = main(["scan", "--json", str(root), *extra])
        captured = capsys.readouterr()
        runs.append((code, captured.out, captured.err))
    assert runs[0] == runs[1]
    found = json.loads(runs[0][1])
    assert found["files_scanned"] == 17
    assert [Path(p["path"]).name for p in found["problems"]] == ["README.txt"]
    series = found["patients"][0]["studies"][0]["series"]
    assert sorted(s["series_number"] for s in series) == [3, 4]


def test_deidentified_rescore_identical_on_two_processes(
    cohort: Path, tmp_path: Path, capsys
) -> None:
    key = tmp_path / "deid.key"
    key.write_bytes(bytes(range(32)))
    runs = [
        _rescore(cohort, tmp_path / name, ["--deidentify", "--deid-key", str(key), *extra], capsys)
        for name, extra in (("serial", []), ("local", ["--workers", "2"]))
    ]
    assert runs[0] == runs[1]
    code, timepoints, patients, err = runs[1]
    assert code == 1  # the broken file
    assert b"HCC-EX" not in timepoints + patients  # pseudonyms only
    assert "HCC-EX" not in err and str(cohort) not in err  # ids and paths scrubbed


def test_auto_workers_spreads_only_large_batches_on_a_machine_not_oversubscribed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import lesion_tool.executor as executor_module

    monkeypatch.setattr(executor_module, "_cpus", lambda: 2)
    monkeypatch.setattr(executor_module.os, "getloadavg", lambda: (0.2, 0.2, 0.2))
    assert executor_module.auto_workers(executor_module.AUTO_MIN_ITEMS - 1) == 1  # small batch
    assert executor_module.auto_workers(10_000) == 2  # quiet machine: both cores
    assert executor_module.auto_workers(10_000, limit=1) == 1
    monkeypatch.setattr(executor_module.os, "getloadavg", lambda: (2.8, 2.5, 3.0))
    assert executor_module.auto_workers(10_000) == 2  # shared but not saturated (0.62x wall)
    monkeypatch.setattr(executor_module.os, "getloadavg", lambda: (4.6, 4.5, 5.0))
    assert executor_module.auto_workers(10_000) == 1  # oversubscribed: workers only compete


def test_workers_auto_on_the_command_line() -> None:
    import argparse

    from lesion_tool.executor import add_executor_arguments, executor_from_args

    parser = argparse.ArgumentParser()
    add_executor_arguments(parser, default_workers="auto")
    auto = executor_from_args(parser.parse_args([]))
    assert auto.auto and auto.workers >= 1
    fixed = executor_from_args(parser.parse_args(["--workers", "3"]))
    assert (fixed.workers, fixed.auto) == (3, False)
    with pytest.raises(SystemExit):
        parser.parse_args(["--workers", "0"])
    # a small batch under auto runs in process, in order, errors per item
    outcomes = auto.map(partial(_half_or_refuse, 40), range(50))
    assert [o.value for o in outcomes[:41]] == [v // 2 for v in range(41)]
    assert [o.error for o in outcomes[41:]] == [f"item {v}: above 40" for v in range(41, 50)]
