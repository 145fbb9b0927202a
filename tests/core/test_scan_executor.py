"""Issue 17: ``scan`` measures the pixel evidence of the stacks not in the phase cache on the
executor; the output is the same in process, on two local processes and on a Dask
LocalCluster, and a second scan reads the evidence from the cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _cluster import local_cluster

from lesion_tool.cli import main


@pytest.fixture(scope="module")
def multiphase(tmp_path_factory) -> Path:
    """One synthetic multiphase study (four 12-slice CT series with a body, spine and liver)."""
    from lesion_tool.synth import generate_patient

    root = tmp_path_factory.mktemp("multiphase")
    generate_patient(root, patient_id="S", seed=5, shape=(12, 160, 160), n_timepoints=1)
    return root


def _scan(folder: Path, cache: Path, extra: list[str], monkeypatch, capsys) -> tuple[int, str]:
    monkeypatch.setenv("LESION_TOOL_CACHE_DIR", str(cache))
    code = main(["scan", "--json", str(folder), *extra])
    return code, capsys.readouterr().out


def test_pixel_evidence_identical_in_process_two_processes_and_dask(
    multiphase: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    distributed = pytest.importorskip("distributed")
    serial = _scan(multiphase, tmp_path / "c1", [], monkeypatch, capsys)
    local = _scan(multiphase, tmp_path / "c2", ["--workers", "2"], monkeypatch, capsys)
    with local_cluster(distributed) as cluster:
        dask = _scan(
            multiphase,
            tmp_path / "c3",
            ["--scheduler", cluster.scheduler_address],
            monkeypatch,
            capsys,
        )
    assert serial[0] == 0
    assert local == serial
    assert dask == serial
    # the evidence was measured (aorta, veins, liver on the arterial series) and cached by
    # the workers: a re-scan from their cache gives the same output
    study = json.loads(serial[1])["patients"][0]["studies"][0]
    arterial = next(s for s in study["series"] if s["stack_id"] == study["arterial_series"])
    enhancement = arterial["enhancement"]
    assert enhancement["aorta_hu"] > enhancement["portal_vein_hu"] + 60
    assert enhancement["slices_used"] > 0
    assert _scan(multiphase, tmp_path / "c2", [], monkeypatch, capsys) == serial
