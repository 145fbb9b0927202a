"""lesion-tool against a real PACS: Orthanc with its DICOMweb plugin, started on loopback.

Search (QIDO-RS), pull (WADO-RS) into the cache, scan / measure on the cache, export the SR and
store it (STOW-RS), find it again; and every way it can go wrong: server down, wrong URL, wrong
password, a study that changes mid-transfer, a server killed mid-pull, a timeout. The cache never
holds a half-written file, and pulling again resumes.
"""

from __future__ import annotations

import dataclasses
import http.server
import json
import logging
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
import pytest
from _orthanc import OrthancServer, free_port, orthanc_missing, reap

from lesion_tool.cli import main
from lesion_tool.errors import PacsError
from lesion_tool.io import load_series, scan_folders
from lesion_tool.measurement import measure_viable
from lesion_tool.model import Category, LesionState
from lesion_tool.pacs import PacsConnection, Progress, connect
from lesion_tool.pacs.cache import is_complete
from lesion_tool.storage import load_assessment, save_assessment
from lesion_tool.synth import generate_patient


class _QuietServer(http.server.ThreadingHTTPServer):
    """A test server whose clients hang up on purpose (timeouts, cut transfers): the handler
    thread's traceback would otherwise print to stderr late, into another test's capture."""

    def handle_error(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        pass


pytestmark = pytest.mark.skipif(orthanc_missing() is not None, reason=orthanc_missing() or "")

PATIENT = "PACS-001"
USER, PASSWORD = "reader", "s3cret-Pa55"
HCC_006_AP = (
    "hcc-tace-seg/HCC_006/08-06-1999-NA-ABDPEL LIVER-65146/103.000000-LIVER 3 PHASE AP-45033"
)


def _dicom_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.dcm") if p.is_file())


@pytest.fixture(scope="module")
def synth_patient(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two timepoints (arterial + portal venous), one or two lesions, exact truth."""
    return generate_patient(
        tmp_path_factory.mktemp("synth"),
        patient_id=PATIENT,
        seed=14,
        phases=("arterial", "portal_venous"),
        n_timepoints=2,
        n_lesions=2,
        trajectory="partial_response",
    )


@pytest.fixture(scope="module", autouse=True)
def _reap_servers() -> Iterator[None]:
    """Per-test servers stop in the background; wait for all of them (kill if stuck) here."""
    yield
    reap()


def _start(workdir: Path, users: dict[str, str] | None = None) -> OrthancServer:
    server = OrthancServer(workdir, users=users)
    server.start()
    return server


@pytest.fixture(scope="module")
def orthanc(
    tmp_path_factory: pytest.TempPathFactory, synth_patient: Path
) -> Iterator[OrthancServer]:
    """An Orthanc without authentication holding the synthetic patient."""
    server = _start(tmp_path_factory.mktemp("orthanc"))
    try:
        server.upload(_dicom_files(synth_patient))
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def orthanc_auth(
    tmp_path_factory: pytest.TempPathFactory, synth_patient: Path
) -> Iterator[OrthancServer]:
    """An Orthanc with HTTP basic authentication (one registered user) and the patient."""
    server = _start(tmp_path_factory.mktemp("orthanc-auth"), users={USER: PASSWORD})
    try:
        server.upload(_dicom_files(synth_patient)[:8])
        yield server
    finally:
        server.stop()


@pytest.fixture
def own_orthanc(tmp_path: Path, synth_patient: Path) -> Iterator[OrthancServer]:
    """A server of this test alone (it is changed or killed), with the patient's baseline."""
    server = _start(tmp_path / "orthanc")
    try:
        server.upload(_dicom_files(synth_patient / "baseline"))
        yield server
    finally:
        server.stop(wait=False)


def _baseline_study(patient: Path) -> str:
    truth = json.loads((patient / "truth.json").read_text("utf-8"))
    return str(truth["timepoints"][0]["study_instance_uid"])


def _assert_cache_clean(cache: Path) -> list[Path]:
    """Every file in the cache is a complete instance named by its SOPInstanceUID."""
    files = [p for p in cache.rglob("*") if p.is_file()]
    assert not [p for p in files if p.name.startswith(".")], "temporary files left in the cache"
    for path in files:
        assert path.suffix == ".dcm"
        assert is_complete(path, path.stem), f"{path} is not a complete instance"
        pydicom.dcmread(path).pixel_array  # noqa: B018 (the whole file decodes)
    return files


# ---------------------------------------------------------------------------- the fixture
def test_orthanc_fixture_is_fast_and_on_loopback(orthanc: OrthancServer) -> None:
    system = orthanc.rest("GET", "/system").json()
    assert system["HttpPort"] == orthanc.http_port and system["DicomPort"] == orthanc.dicom_port
    assert orthanc.url.startswith("http://127.0.0.1:")
    assert orthanc.start_seconds < 10, orthanc.log_tail()
    assert "DICOMweb" in json.dumps(orthanc.rest("GET", "/plugins/dicom-web").json())


# ---------------------------------------------------------------------------- search
def test_search_by_patient_study_and_date(orthanc: OrthancServer, synth_patient: Path) -> None:
    truth = json.loads((synth_patient / "truth.json").read_text("utf-8"))
    client = connect(PacsConnection(orthanc.url))
    studies = client.search_studies(patient_id=PATIENT)
    assert {s.study_instance_uid for s in studies} == {
        tp["study_instance_uid"] for tp in truth["timepoints"]
    }
    assert [s.study_date.isoformat() for s in studies] == sorted(
        (tp["date"] for tp in truth["timepoints"]), reverse=True
    )
    first = studies[-1]  # the baseline (oldest)
    assert first.series_count == 2 and first.modalities == ("CT",)
    assert first.row()["patient_id"] == PATIENT and first.row()["series_count"] == "2"
    assert client.search_studies(patient_id="NOBODY") == []
    by_uid = client.search_studies(study_uid=first.study_instance_uid)
    assert by_uid == [first]
    assert client.search_studies(date_range=(first.study_date, first.study_date)) == [first]
    assert client.search_studies(date_range=(None, first.study_date)) == [first]
    series = client.search_series(first.study_instance_uid)
    assert [s.description for s in series] == [
        truth["timepoints"][0]["series"][p]["description"] for p in ("arterial", "portal_venous")
    ]


def test_pacs_search_cli_prints_a_table_and_json(
    orthanc: OrthancServer, synth_patient: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truth = json.loads((synth_patient / "truth.json").read_text("utf-8"))
    day = truth["timepoints"][1]["date"]
    assert main(["pacs-search", "--url", orthanc.url, "--date", f"{day}..{day}"]) == 0
    out = capsys.readouterr()
    lines = out.out.splitlines()
    assert lines[0].split()[:3] == ["Patient", "ID", "Name"]
    assert len(lines) == 2 and PATIENT in lines[1] and day in lines[1]
    assert "1 study(ies) found" in out.err
    compact = day.replace("-", "")
    assert main(["pacs-search", "--url", orthanc.url, "--date", f"{compact}-", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert [s["study_date"] for s in found] == [day]
    # --modality keeps the studies holding a series of that modality (ModalitiesInStudy)
    search = ["pacs-search", "--url", orthanc.url, "--patient", PATIENT, "--json"]
    assert main([*search, "--modality", "ct"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert len(found) == len(truth["timepoints"]) and all("CT" in s["modalities"] for s in found)
    assert main([*search, "--modality", "MR"]) == 0
    assert json.loads(capsys.readouterr().out) == []


# ---------------------------------------------------------------------------- pull
def test_pull_patient_then_scan_and_resume(
    orthanc: OrthancServer, synth_patient: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "cache"
    args = ["pull", "--url", orthanc.url, "--patient", PATIENT, "--cache", str(cache)]
    assert main(args) == 0
    out = capsys.readouterr()
    folder = Path(out.out.strip())
    assert folder == cache / PATIENT
    source = _dicom_files(synth_patient)
    assert f"{len(source)} instance(s) retrieved" in out.err and "0 already" in out.err
    pulled = _assert_cache_clean(cache)
    assert {p.stem for p in pulled} == {str(pydicom.dcmread(p).SOPInstanceUID) for p in source}
    # the files are the instances as stored: same pixels, same headers
    original = pydicom.dcmread(source[0])
    copy = pydicom.dcmread(next(p for p in pulled if p.stem == original.SOPInstanceUID))
    assert copy == original
    np.testing.assert_array_equal(copy.pixel_array, original.pixel_array)
    # the usual scan and phase choice work on the cache
    scan = scan_folders([folder])
    assert len(scan.studies) == 2 and not scan.problems
    truth = json.loads((synth_patient / "truth.json").read_text("utf-8"))
    arterial = {tp["series"]["arterial"]["series_instance_uid"] for tp in truth["timepoints"]}
    assert {s.arterial_series.series_instance_uid for s in scan.studies} == arterial
    # a second pull transfers nothing
    assert main(args) == 0
    assert f"0 instance(s) retrieved (0.0 MB), {len(source)} already" in capsys.readouterr().err


def test_pull_one_series_of_a_study(
    orthanc: OrthancServer, synth_patient: Path, tmp_path: Path
) -> None:
    truth = json.loads((synth_patient / "truth.json").read_text("utf-8"))
    tp = truth["timepoints"][0]
    series = tp["series"]["arterial"]["series_instance_uid"]
    client = connect(PacsConnection(orthanc.url))
    seen: list[Progress] = []
    result = client.pull(
        tmp_path, study_uid=tp["study_instance_uid"], series_uids=[series], progress=seen.append
    )
    assert result.folder == tmp_path / PATIENT / tp["study_instance_uid"]
    assert [p.name for p in result.folder.iterdir()] == [series]
    n = len(_dicom_files(synth_patient / tp["series"]["arterial"]["dir"]))
    assert result.retrieved == n and [p.done for p in seen] == list(range(1, n + 1))
    assert seen[-1].fraction == 1.0 and seen[-1].series_description.startswith("LIVER")
    assert load_series(result.folder).shape[0] == n


def _measured(lesion, m):  # the reader's lesion with the tool's diameters from one click
    return dataclasses.replace(
        lesion,
        viable_diameter_mm=round(m.viable.length_mm, 1),
        longest_diameter_mm=round(m.whole.length_mm, 1),
        line=None,
        longest_line=None,
        seed=tuple(float(v) for v in m.seed_voxel),
    )


@pytest.mark.slow
def test_end_to_end_pull_measure_export_stow_and_find_the_sr(
    orthanc: OrthancServer,
    synth_patient: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cache = tmp_path / "cache"
    assert main(["pull", "--url", orthanc.url, "--patient", PATIENT, "--cache", str(cache)]) == 0
    folder = Path(capsys.readouterr().out.strip())
    studies = {s.study_instance_uid: s for s in scan_folders([folder]).studies}
    truth = json.loads((synth_patient / "truth.json").read_text("utf-8"))
    reading = load_assessment(synth_patient / "assessment_truth.json")
    timepoints = []
    measured = 0
    for tp, truth_tp in zip(reading.timepoints, truth["timepoints"], strict=True):
        arterial = studies[tp.study_instance_uid].arterial_series
        volume = load_series(folder, series_uid=arterial.series_instance_uid)
        seeds = {les["id"]: les for les in truth_tp["lesions"]}
        lesions = []
        for lesion in tp.lesions:
            t = seeds[lesion.id]
            if (
                lesion.category == Category.TARGET
                and lesion.state == LesionState.MEASURED
                and (t.get("viable_diameter_mm") or 0) > 10
            ):
                m = measure_viable(volume, t["seed_voxel"])
                assert m.viable.length_mm == pytest.approx(t["viable_diameter_mm"], abs=4.0)
                lesion = _measured(lesion, m)
                measured += 1
            lesions.append(lesion)
        timepoints.append(dataclasses.replace(tp, lesions=tuple(lesions)))
    assert measured >= 1
    assessment = dataclasses.replace(reading, timepoints=tuple(timepoints))
    saved = tmp_path / "reading.json"
    save_assessment(assessment, saved)
    out_dir = tmp_path / "sr"
    code = main(
        [
            "export-sr",
            str(saved),
            "--images",
            str(folder),
            "--out",
            str(out_dir),
            "--stow",
            orthanc.url,
        ]
    )
    out = capsys.readouterr()
    assert code == 0, out.err
    written = [Path(line) for line in out.out.splitlines()]
    assert len(written) == 2 and f"2 SR(s) stored on {orthanc.url}" in out.err
    client = connect(PacsConnection(orthanc.url))
    for path in written:
        sr = pydicom.dcmread(path)
        found = client._client.search_for_instances(
            sr.StudyInstanceUID, search_filters={"Modality": "SR"}
        )
        assert [f["00080018"]["Value"][0] for f in found] == [sr.SOPInstanceUID]
    # the patient's studies now list the SR modality
    assert all("SR" in s.modalities for s in client.search_studies(patient_id=PATIENT))
    for study in client.search_studies(patient_id=PATIENT):  # leave the server as it was
        for series in client.search_series(study.study_instance_uid):
            if series.modality == "SR":
                orthanc.rest(
                    "DELETE", f"/series/{orthanc.orthanc_id('series', series.series_instance_uid)}"
                )


@pytest.mark.realdata
@pytest.mark.slow
def test_real_hcc_006_arterial_series_through_the_pacs(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = shared_data / HCC_006_AP
    server = _start(tmp_path / "orthanc")
    try:
        files = sorted(source.glob("*.dcm"))
        assert server.upload(files) == 109
        client = connect(PacsConnection(server.url))
        (study,) = client.search_studies(patient_id="HCC_006")
        assert study.study_date is not None and study.study_date.isoformat() == "1999-08-06"
        code = main(
            [
                "pull",
                "--url",
                server.url,
                "--study",
                study.study_instance_uid,
                "--cache",
                str(tmp_path / "cache"),
            ]
        )
        folder = Path(capsys.readouterr().out.strip())
        assert code == 0 and folder == tmp_path / "cache" / "HCC_006" / study.study_instance_uid
    finally:
        server.stop()
    assert len(_assert_cache_clean(tmp_path / "cache")) == 109
    (scanned,) = scan_folders([folder]).studies
    assert scanned.arterial_series is not None
    assert scanned.arterial_series.description == "LIVER 3 PHASE (AP)"
    pulled, original = load_series(folder), load_series(source)
    assert pulled.shape == (109, 512, 512) and pulled.spacing_mm == original.spacing_mm
    np.testing.assert_array_equal(pulled.array, original.array)


# ---------------------------------------------------------------------------- auth
def test_basic_auth_right_wrong_and_missing_password(
    orthanc_auth: OrthancServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    base = ["pull", "--url", orthanc_auth.url, "--patient", PATIENT, "--cache", str(tmp_path)]
    monkeypatch.setenv("PACS_PW", PASSWORD)
    assert main(["-v", *base, "--user", USER, "--password-env", "PACS_PW"]) == 0
    out = capsys.readouterr()
    assert Path(out.out.strip()) == tmp_path / PATIENT and "8 instance(s) retrieved" in out.err
    assert PASSWORD not in out.out + out.err + caplog.text  # never in output or logs

    monkeypatch.setenv("PACS_PW", "wrong-password")
    assert main([*base, "--user", USER, "--password-env", "PACS_PW"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "refused the credentials (401 Unauthorized)" in err and "wrong-password" not in err

    assert main(base) == 1
    assert "asks for credentials (401 Unauthorized)" in capsys.readouterr().err

    monkeypatch.delenv("PACS_PW")
    assert main([*base, "--user", USER, "--password-env", "PACS_PW"]) == 1
    assert "PACS_PW (named by --password-env) is not set" in capsys.readouterr().err

    monkeypatch.setenv("PACS_TOKEN", "not-a-valid-token")
    assert main([*base, "--token-env", "PACS_TOKEN"]) == 1
    err = capsys.readouterr().err
    assert "refused the credentials" in err and "not-a-valid-token" not in err


# ---------------------------------------------------------------------------- failures
def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    """The error line of a failed command (progress lines may precede it), checked to be one."""
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("lesion-tool: error: ")]
    assert len(errors) == 1 and "Traceback" not in err and err.endswith(errors[0] + "\n"), err
    return errors[0]


def test_server_down_is_connection_refused(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}/dicom-web"
    assert main(["pacs-search", "--url", url, "--patient", "X"]) == 1
    err = _one_line_error(capsys)
    assert "connection refused (is the PACS running, and is the port right?)" in err


def test_wrong_url_says_to_give_the_dicomweb_root(
    orthanc: OrthancServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pacs-search", "--url", f"{orthanc.base}/dicomweb", "--patient", PATIENT]) == 1
    assert "answered 404 Not Found: is it the DICOMweb root" in _one_line_error(capsys)
    # Orthanc's REST root is not DICOMweb either (it refuses the QIDO query parameters)
    assert main(["pacs-search", "--url", orthanc.base, "--patient", PATIENT]) == 1
    assert "answered 400 Bad Request: is it the DICOMweb root" in _one_line_error(capsys)


class _Handler(http.server.BaseHTTPRequestHandler):
    """A web server that is not a PACS: HTML for everything, or no answer at all."""

    delay_s = 0.0

    def do_GET(self) -> None:
        time.sleep(self.delay_s)
        body = b"<html><body>Welcome</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def web_server() -> Iterator[http.server.ThreadingHTTPServer]:
    server = _QuietServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_not_a_dicomweb_server_and_timeout(
    web_server: http.server.ThreadingHTTPServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = f"http://127.0.0.1:{web_server.server_address[1]}/dicom-web"
    assert main(["pacs-search", "--url", url]) == 1
    assert "did not answer as a DICOMweb server" in _one_line_error(capsys)
    monkeypatch.setattr(_Handler, "delay_s", 2.0)
    assert main(["pacs-search", "--url", url, "--timeout", "0.3"]) == 1
    assert "did not answer within 0.3 s (timeout)" in _one_line_error(capsys)


def test_instance_deleted_mid_transfer_then_pull_resumes(
    own_orthanc: OrthancServer, synth_patient: Path, tmp_path: Path
) -> None:
    study = _baseline_study(synth_patient)
    client = connect(PacsConnection(own_orthanc.url))
    total = len(_dicom_files(synth_patient / "baseline"))
    doomed: list[str] = []
    cache = tmp_path / "cache"

    def progress(p: Progress) -> None:
        if p.done == 5:  # another user deletes an instance we have not fetched yet
            last = client.search_series(study)[-1]  # still to come: the pull is in the first
            doomed.append(
                client.search_instances(study, last.series_instance_uid)[3].sop_instance_uid
            )
            own_orthanc.delete_instance(doomed[0])

    with pytest.raises(PacsError, match="changed on the server during the transfer") as info:
        client.pull(cache, study_uid=study, progress=progress)
    assert f"of {total} instances are complete in the cache" in str(info.value)
    before = _assert_cache_clean(cache)
    assert total - 1 >= len(before) >= 5
    with connect(PacsConnection(own_orthanc.url)) as again:
        result = again.pull(cache, study_uid=study)
    assert (result.skipped, result.retrieved) == (len(before), total - 1 - len(before))
    after = _assert_cache_clean(cache)
    assert len(after) == total - 1 and doomed[0] not in {p.stem for p in after}


def test_server_killed_mid_pull_then_pull_resumes(
    own_orthanc: OrthancServer,
    synth_patient: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from lesion_tool.pacs import client as client_module

    total = len(_dicom_files(synth_patient / "baseline"))
    real = client_module.PacsClient._stream_series
    calls = {"n": 0}

    def crash_before_second_series(self, series, targets, run):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:  # the PACS dies between the arterial and the portal venous series
            own_orthanc.kill()
        return real(self, series, targets, run)

    monkeypatch.setattr(client_module.PacsClient, "_stream_series", crash_before_second_series)
    cache = tmp_path / "cache"
    args = ["pull", "--url", own_orthanc.url, "--patient", PATIENT, "--cache", str(cache)]
    assert main(args) == 1
    err = _one_line_error(capsys)
    assert "retrieving series" in err and "connection refused" in err
    first_series = len(_assert_cache_clean(cache))
    assert 0 < first_series < total
    monkeypatch.undo()
    own_orthanc.start()  # same ports, same storage
    assert main(args) == 0
    err = capsys.readouterr().err
    assert f"{total - first_series} instance(s) retrieved" in err
    assert f"{first_series} already in the cache" in err
    assert len(_assert_cache_clean(cache)) == total


def test_failed_write_and_dead_writers_leave_no_files(
    own_orthanc: OrthancServer,
    synth_patient: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pydicom as real_pydicom

    study = _baseline_study(synth_patient)
    real_write = real_pydicom.dcmwrite
    calls = {"n": 0}

    def half_write(fp, ds, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:  # the disk fills half-way through the third file
            fp.write(b"\0" * 1000)
            raise OSError(28, "No space left on device")
        return real_write(fp, ds, **kwargs)

    monkeypatch.setattr(real_pydicom, "dcmwrite", half_write)
    cache = tmp_path / "cache"
    with connect(PacsConnection(own_orthanc.url)) as client:
        with pytest.raises(OSError, match="No space left"):
            client.pull(cache, study_uid=study)
        assert len(_assert_cache_clean(cache)) == 2
        monkeypatch.undo()
        # a temporary file of a killed pull (dead pid) and a damaged file: both repaired
        first = _assert_cache_clean(cache)[0]
        orphan = first.parent / f".{first.stem}9.dcm.999999999.abcd.tmp"
        orphan.write_bytes(b"half")
        first.write_bytes(b"not DICOM any more")
        assert not is_complete(first, first.stem)
        result = client.pull(cache, study_uid=study)
    assert result.skipped == 1 and not orphan.exists()
    assert len(_assert_cache_clean(cache)) == len(_dicom_files(synth_patient / "baseline"))


def test_stow_of_a_non_dicom_file_and_missing_study(
    own_orthanc: OrthancServer, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.dcm"
    junk.write_text("hello")
    with connect(PacsConnection(own_orthanc.url)) as client:
        with pytest.raises(PacsError, match="cannot be read as DICOM"):
            client.store([junk])
        with pytest.raises(PacsError, match=r"no study 1\.2\.3 on"):
            client.pull(tmp_path / "cache", study_uid="1.2.3")
        with pytest.raises(PacsError, match="not a DICOM UID"):
            client.pull(tmp_path / "cache", study_uid="../../etc")
    assert not (tmp_path / "cache").exists()


def test_cancel_stops_between_instances(
    orthanc: OrthancServer, synth_patient: Path, tmp_path: Path
) -> None:
    stop = threading.Event()

    def progress(p: Progress) -> None:
        if p.done == 3:  # the user presses Cancel in the dialog
            stop.set()

    with (
        connect(PacsConnection(orthanc.url)) as client,
        pytest.raises(PacsError, match="retrieval cancelled: 3 of 128 instances are in the cache"),
    ):
        client.pull(tmp_path, patient_id=PATIENT, progress=progress, cancel=stop)
    assert len(_assert_cache_clean(tmp_path)) == 3


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: (certificate, certificate + key for Orthanc)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is absent: no certificate for the HTTPS test")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    both = folder / "orthanc.pem"
    both.write_bytes(cert.read_bytes() + key.read_bytes())
    return cert, both


class _QidoHandler(_Handler):
    """Answers every search with one study (enough to see the TLS options work)."""

    def do_GET(self) -> None:
        body = json.dumps(
            [
                {
                    "0020000D": {"vr": "UI", "Value": ["1.2.3"]},
                    "00100020": {"vr": "LO", "Value": [PATIENT]},
                }
            ]
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/dicom+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_https_needs_the_ca_bundle_or_insecure(
    tmp_path: Path,
    tls_files: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Debian 12's Orthanc 1.10 resets HTTPS connections after the handshake, so the HTTPS end
    # here is Python's own server with a self-signed certificate.
    import ssl

    import certifi

    # an environment bundle must not override --ca-bundle / --insecure (psf/requests#3829)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    cert, both = tls_files
    server = _QuietServer(("127.0.0.1", 0), _QidoHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(both)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"https://127.0.0.1:{server.server_address[1]}/dicom-web"
        base = ["pacs-search", "--url", url, "--json"]
        assert main(base) == 1
        err = _one_line_error(capsys)
        assert "certificate not trusted: self-signed certificate" in err and "--ca-bundle" in err
        assert main([*base, "--ca-bundle", str(cert)]) == 0
        assert [s["patient_id"] for s in json.loads(capsys.readouterr().out)] == [PATIENT]
        with caplog.at_level(logging.WARNING):
            assert main([*base, "--insecure"]) == 0
        assert [s["patient_id"] for s in json.loads(capsys.readouterr().out)] == [PATIENT]
        assert "TLS certificate checks are off (--insecure)" in caplog.text
        assert main([*base, "--ca-bundle", str(tmp_path / "missing.pem")]) == 1
        assert "CA bundle" in _one_line_error(capsys)
    finally:
        server.shutdown()
        server.server_close()
