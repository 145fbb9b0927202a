"""Issue 17: ``propagate`` over a cohort through the executor gives the same proposals in
process, on two local processes and on a Dask LocalCluster.

Two small synthetic patients (48-slice arterial series, moved between visits) with one
follow-up each, and one assessment that cannot be read. Only the timings in the output may
differ between runs (the registration is single-threaded per stage, so reproducible).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from _cluster import local_cluster

from lesion_tool.cli import main

TIMING_KEYS = {"seconds", "register_seconds"}


@pytest.fixture(scope="module")
def trial(tmp_path_factory) -> Path:
    from lesion_tool.synth import generate_patient

    root = tmp_path_factory.mktemp("trial")
    for k, patient in enumerate(("A", "B")):
        generate_patient(
            root / "images",
            patient_id=patient,
            seed=31 + k,
            shape=(48, 80, 80),
            spacing_mm=(2.5, 2.5, 2.5),
            n_timepoints=2,
            phases=("arterial",),
            visit_motion=True,
            write_masks=True,
            n_lesions=1,
        )
    (root / "images" / "Z-broken.json").write_text('{"schema_version": ', encoding="utf-8")
    return root


def _propagate(trial: Path, name: str, extra: list[str], capsys) -> tuple[int, dict, str, str]:
    images = trial / "images"
    out = trial / name
    out.mkdir()
    assessments = [*sorted(images.glob("*/assessment_truth.json")), images / "Z-broken.json"]
    code = main(
        [
            "propagate",
            *map(str, assessments),
            "--images",
            str(images),
            "--out",
            str(out),
            "--no-cache",
            *extra,
        ]
    )
    captured = capsys.readouterr()
    results = {
        p.name: _without_timings(json.loads(p.read_text())) for p in sorted(out.glob("*.json"))
    }
    return code, results, captured.out.replace(str(out), "OUT"), captured.err


def _without_timings(value: object) -> object:
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


def test_cohort_proposals_identical_in_process_two_processes_and_dask_cluster(
    trial: Path, capsys
) -> None:
    distributed = pytest.importorskip("distributed")
    serial = _propagate(trial, "serial", [], capsys)
    local = _propagate(trial, "local", ["--workers", "2"], capsys)
    with local_cluster(distributed) as cluster:
        dask = _propagate(trial, "dask", ["--scheduler", cluster.scheduler_address], capsys)

    code, results, out, err = serial
    assert code == 1  # the broken assessment, reported once, the others written
    assert err.count("Z-broken.json") == 1
    assert sorted(results) == [f"{p}_assessment_truth.proposals.json" for p in ("A", "B")]
    assert out.count("proposals (") == 2
    assert local == serial
    assert dask == serial

    # and the proposals are right: every target proposed inside its follow-up lesion (truth)
    for patient in ("A", "B"):
        pdir = trial / "images" / patient
        truth = json.loads((pdir / "truth.json").read_text())["timepoints"][1]
        mask = sitk.GetArrayFromImage(sitk.ReadImage(str(pdir / truth["masks"]["lesions"])))
        labels = {les["id"]: les["mask_label"] for les in truth["lesions"]}
        [fu] = results[f"{patient}_assessment_truth.proposals.json"]["follow_ups"]
        assert fu["registration"]["cached"] is False
        assert fu["proposals"]
        for p in fu["proposals"]:
            assert mask[tuple(np.round(p["seed_voxel"]).astype(int))] == labels[p["id"]], p
