"""``lesion-tool scan --url``: a PACS study is scanned as the same study in a folder is.

Orthanc (tests/core/_orthanc.py) holds a synthetic patient; ``scan --url --patient`` pulls it
into the cache and prints the same studies, series, phases and chosen series as ``scan`` of the
generator's folder. Options that belong together are checked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from _orthanc import OrthancServer, orthanc_missing, reap

from lesion_tool.cli import main
from lesion_tool.synth import generate_patient

pytestmark = pytest.mark.skipif(orthanc_missing() is not None, reason=orthanc_missing() or "")
PATIENT = "SCAN-URL-1"


@pytest.fixture(scope="module")
def patient(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_patient(
        tmp_path_factory.mktemp("synth"),
        patient_id=PATIENT,
        seed=21,
        shape=(24, 96, 96),
        n_timepoints=2,
        phases=("arterial", "portal_venous"),
        n_lesions=1,
    )


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory: pytest.TempPathFactory, patient: Path) -> Iterator[OrthancServer]:
    server = OrthancServer(tmp_path_factory.mktemp("orthanc"))
    server.start()
    try:
        server.upload(sorted(patient.rglob("*.dcm")))
        yield server
    finally:
        server.stop()
        reap()


def _studies(text: str) -> list[str]:
    """The study blocks of the table (what was found), without the file counts."""
    lines = text.splitlines()
    end = next(
        (i for i, line in enumerate(lines) if "not used:" in line or "scanned," in line),
        len(lines),
    )
    return lines[:end]


def _without_files(data: dict) -> list[dict]:
    """The patients, studies and series found, everything but the file paths (and the count of
    files scanned: the generator's folder holds its JSON truth too)."""
    studies = []
    for p in data["patients"]:
        for study in p["studies"]:
            series = [{k: v for k, v in s.items() if k != "files"} for s in study["series"]]
            studies.append({**study, "series": series})
    return studies


def test_scan_url_prints_what_the_local_scan_prints(
    orthanc: OrthancServer, patient: Path, tmp_path: Path, capsys
) -> None:
    cache = tmp_path / "cache"
    assert main(["scan", "--url", orthanc.url, "--patient", PATIENT, "--cache", str(cache)]) == 0
    remote = capsys.readouterr()
    assert f"scanning {cache / PATIENT}" in remote.err
    assert main(["scan", str(patient)]) == 0
    local = capsys.readouterr().out
    assert _studies(remote.out) == _studies(local)
    assert "measure on:" in remote.out and PATIENT in remote.out
    assert len(list(cache.rglob("*.dcm"))) == len(list(patient.rglob("*.dcm")))

    # JSON: the same series with the same phases; a second run resumes (nothing retrieved)
    argv = ["scan", "--url", orthanc.url, "--patient", PATIENT, "--cache", str(cache), "--json"]
    assert main(argv) == 0
    again = capsys.readouterr()
    assert "0 instance(s) retrieved" in again.err
    assert main(["scan", str(patient), "--json"]) == 0
    found = _without_files(json.loads(again.out))
    assert found == _without_files(json.loads(capsys.readouterr().out))
    assert len(found) == 2 and all(len(study["series"]) == 2 for study in found)
    for study in found:
        [arterial] = [s for s in study["series"] if s["phase"]["phase"] == "arterial"]
        assert study["arterial_series"] == arterial["stack_id"]


def test_scan_options_that_belong_together(orthanc: OrthancServer, patient: Path, capsys) -> None:
    assert main(["scan"]) == 1
    assert "give the FOLDER(s) to scan, or --url" in capsys.readouterr().err
    assert main(["scan", str(patient), "--url", orthanc.url, "--patient", PATIENT]) == 1
    assert "FOLDER(s) or --url, not both" in capsys.readouterr().err
    assert main(["scan", "--url", orthanc.url]) == 1
    assert "--url needs --patient ID or --study UID" in capsys.readouterr().err
    assert main(["scan", str(patient), "--patient", PATIENT]) == 1
    assert "--patient: used only with --url" in capsys.readouterr().err
    assert main(["scan", str(patient), "--user", "u"]) == 1
    assert "--user: used only with --url" in capsys.readouterr().err
    assert main(["scan", "--url", orthanc.url, "--patient", "NOBODY"]) == 1
    assert "no patient NOBODY on" in capsys.readouterr().err
