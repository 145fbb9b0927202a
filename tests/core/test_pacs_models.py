"""The PACS client without Orthanc: connection checks, search results as table rows, date
ranges, cache names, options and secrets, the cost of importing the commands, and a loopback
fake DICOMweb server for answers Orthanc never gives (unlisted or damaged instances)."""

from __future__ import annotations

import argparse
import datetime as dt
import http.server
import json
import os
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from lesion_tool.commands._pacs import add_connection_arguments, connection_from_args
from lesion_tool.errors import LesionToolError, PacsError
from lesion_tool.pacs import (
    STUDY_COLUMNS,
    PacsConnection,
    StudySummary,
    connect,
    default_cache_dir,
    parse_date_range,
)
from lesion_tool.pacs.cache import patient_folder
from lesion_tool.pacs.models import check_uid, dicom_date_range


class _QuietServer(http.server.ThreadingHTTPServer):
    """A test server whose clients hang up on purpose (timeouts, cut transfers): the handler
    thread's traceback would otherwise print to stderr late, into another test's capture."""

    def handle_error(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        pass


ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20240105", (dt.date(2024, 1, 5), dt.date(2024, 1, 5))),
        ("2024-01-05", (dt.date(2024, 1, 5), dt.date(2024, 1, 5))),
        ("20240105-20240301", (dt.date(2024, 1, 5), dt.date(2024, 3, 1))),
        ("20240105-", (dt.date(2024, 1, 5), None)),
        ("-20240301", (None, dt.date(2024, 3, 1))),
        ("2024-01-05..2024-03-01", (dt.date(2024, 1, 5), dt.date(2024, 3, 1))),
        ("..2024-03-01", (None, dt.date(2024, 3, 1))),
    ],
)
def test_date_ranges(text: str, expected: tuple) -> None:
    assert parse_date_range(text) == expected


@pytest.mark.parametrize("text", ["2024", "20240301-20240105", "-", "yesterday", "20241340"])
def test_bad_date_ranges_are_refused_with_the_forms(text: str) -> None:
    with pytest.raises(ValueError, match=r"range|date"):
        parse_date_range(text)


def test_dicom_date_range_for_qido() -> None:
    day = dt.date(2024, 1, 5)
    assert dicom_date_range(day, day) == "20240105"
    assert dicom_date_range(day, None) == "20240105-"
    assert dicom_date_range(None, day) == "-20240105"


def test_connection_checks_and_hides_secrets(tmp_path: Path) -> None:
    conn = PacsConnection("https://pacs.example:8443/dicom-web/", username="u", password="pw-123")
    assert conn.url == "https://pacs.example:8443/dicom-web" and conn.host == "pacs.example:8443"
    assert "pw-123" not in repr(conn)
    assert "tok-456" not in repr(PacsConnection("http://h/dicom-web", token="tok-456"))
    with pytest.raises(PacsError, match="never in the URL"):
        PacsConnection("http://u:pw@h/dicom-web")
    with pytest.raises(PacsError, match="not a DICOMweb URL"):
        PacsConnection("ftp://h/dicom-web")
    with pytest.raises(PacsError, match="not both"):
        PacsConnection("http://h", username="u", password="p", token="t")
    with pytest.raises(PacsError, match="contradict"):
        PacsConnection("http://h", ca_bundle=tmp_path, insecure=True)
    with pytest.raises(PacsError, match="does not exist"):
        PacsConnection("http://h", ca_bundle=tmp_path / "none.pem")
    assert isinstance(PacsError("x"), LesionToolError)  # so the CLI prints it as one line


def test_uids_from_the_server_cannot_escape_the_cache() -> None:
    assert check_uid(" 1.2.840.10008 ", "UID") == "1.2.840.10008"
    for bad in ("../../etc", "1.2/3", "", "1." + "2" * 70, "1..2"):
        with pytest.raises(PacsError, match="not a DICOM UID"):
            check_uid(bad, "SOPInstanceUID")


def test_patient_folder_names_are_safe(tmp_path: Path) -> None:
    assert patient_folder(tmp_path, "HCC_006") == tmp_path / "HCC_006"
    assert patient_folder(tmp_path, "DOE^JOHN 7") == tmp_path / "DOE_JOHN_7"
    assert patient_folder(tmp_path, "../x").parent == tmp_path
    assert patient_folder(tmp_path, "..") == tmp_path / "_.."
    assert patient_folder(tmp_path, "") == tmp_path / "_no_patient_id"


def test_study_search_result_as_a_table_row() -> None:
    item = {
        "0020000D": {"vr": "UI", "Value": ["1.2.3"]},
        "00100020": {"vr": "LO", "Value": ["HCC_006"]},
        "00100010": {"vr": "PN", "Value": [{"Alphabetic": "DOE^JANE"}]},
        "00080020": {"vr": "DA", "Value": ["19990806"]},
        "00080061": {"vr": "CS", "Value": ["CT", "SR"]},
        "00201206": {"vr": "IS", "Value": [2]},
        "00081030": {"vr": "LO"},  # present without a value
    }
    study = StudySummary.from_dicom_json(item)
    assert study.study_date == dt.date(1999, 8, 6) and study.instance_count is None
    row = study.row()
    assert list(row) == [key for key, _ in STUDY_COLUMNS]
    assert row["patient_name"] == "DOE JANE" and row["modalities"] == "CT,SR"
    assert row["series_count"] == "2" and row["instance_count"] == "" and row["description"] == ""
    assert study.to_dict()["study_date"] == "1999-08-06"
    with pytest.raises(PacsError, match="StudyInstanceUID"):
        StudySummary.from_dicom_json({"00100020": {"vr": "LO", "Value": ["x"]}})


def test_default_cache_dir_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LESION_TOOL_CACHE_DIR", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("LESION_TOOL_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "lesion-tool" / "pacs"


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_connection_arguments(parser)
    return parser.parse_args(argv)


def test_secrets_come_from_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PW", "from-env")
    conn = connection_from_args(_args("--user", "u", "--password-env", "PW"), "http://h/dw")
    assert (conn.username, conn.password, conn.token) == ("u", "from-env", None)
    monkeypatch.setenv("TOKEN", "tok")
    assert connection_from_args(_args("--token-env", "TOKEN"), "http://h/dw").token == "tok"
    with pytest.raises(PacsError, match="--user needs --password-env"):
        connection_from_args(_args("--user", "u"), "http://h/dw")
    with pytest.raises(PacsError, match="needs --user"):
        connection_from_args(_args("--password-env", "PW"), "http://h/dw")
    with pytest.raises(PacsError, match=r"NOPE .* is not set"):
        connection_from_args(_args("--token-env", "NOPE"), "http://h/dw")
    with pytest.raises(SystemExit):  # argparse: --ca-bundle and --insecure exclude each other
        _args("--ca-bundle", "x.pem", "--insecure")


def test_bearer_token_goes_in_the_header_and_nowhere_else() -> None:
    from lesion_tool.pacs.client import _bearer_auth

    auth = _bearer_auth("tok-789")
    prepared = auth(requests.Request("GET", "http://127.0.0.1/dicom-web/studies").prepare())
    assert prepared.headers["Authorization"] == "Bearer tok-789"
    assert "tok-789" not in repr(auth)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_cli_process_prints_one_line_and_never_the_password() -> None:
    # A real process: the CLI's own logging (with -v, debug) is active, unlike under pytest.
    port = _free_port()
    url = f"http://127.0.0.1:{port}/dicom-web"
    env = {**os.environ, "PACS_PW": "pw-do-not-print", "PYTHONPATH": f"{ROOT}:{ROOT / 'plugins'}"}
    done = subprocess.run(
        [sys.executable, "-m", "lesion_tool", "-v", "pull", "--url", url, "--patient", "P",
         "--user", "u", "--password-env", "PACS_PW", "--cache", "/nonexistent/never-written"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "pw-do-not-print" not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if "error" in line.lower()]
    assert errors == [
        (
            f"lesion-tool: error: searching for studies: cannot reach 127.0.0.1:{port}: "
            "connection refused (is the PACS running, and is the port right?)."
        )
    ]
    assert not Path("/nonexistent/never-written").exists()


def test_pacs_commands_do_not_import_the_http_stack_until_run() -> None:
    code = (
        "import sys, argparse\n"
        "import lesion_tool.pacs, lesion_tool.commands.pull as a, lesion_tool.commands.pacs_search"
        " as b\n"
        "p = argparse.ArgumentParser(); s = p.add_subparsers(); a.register(s); b.register(s)\n"
        "heavy = {'requests', 'dicomweb_client', 'pydicom', 'urllib3', 'numpy'}\n"
        "loaded = {m.split('.')[0] for m in sys.modules} & heavy\n"
        "assert not loaded, loaded\n"
    )
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'plugins'}"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=60)


# ---------------------------------------------------------------------------- a misbehaving server
STUDY, SERIES = "1.2.3", "1.2.3.4"
LISTED = ("1.2.3.4.5", "1.2.3.4.6")


def _instance(sop_uid: str) -> bytes:
    """A small valid DICOM file (Secondary Capture) with the given SOPInstanceUID."""
    import io

    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = sop_uid
    ds.SOPClassUID, ds.SOPInstanceUID = SecondaryCaptureImageStorage, sop_uid
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.PatientID = STUDY, SERIES, "P"
    ds.Rows = ds.Columns = 4
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit, ds.PixelRepresentation = 15, 0
    ds.PixelData = bytes(range(32))
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


class _FakeDicomWeb(http.server.BaseHTTPRequestHandler):
    """QIDO answers listing two instances; WADO sends ``parts`` (what a broken server sends)."""

    parts: tuple[bytes, ...] = ()
    page_size: int | None = None  # a server that cuts long QIDO answers (honours offset)

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].removeprefix("/dicom-web")
        if path == "/studies":
            found = [{"0020000D": {"vr": "UI", "Value": [STUDY]}, "00100020": {"Value": ["P"]}}]
        elif path == f"/studies/{STUDY}/series":
            count = {"vr": "IS", "Value": [len(LISTED)]}
            found = [{"0020000E": {"vr": "UI", "Value": [SERIES]}, "00201209": count}]
        elif path == f"/studies/{STUDY}/series/{SERIES}/instances":
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            start = int(query.get("offset", ["0"])[0])
            end = None if self.page_size is None else start + self.page_size
            found = [{"00080018": {"vr": "UI", "Value": [uid]}} for uid in LISTED[start:end]]
        else:
            body = b"".join(
                b"--XYZ\r\nContent-Type: application/dicom\r\n\r\n" + part + b"\r\n"
                for part in self.parts
            )
            self._send(
                body + b"--XYZ--", 'multipart/related; type="application/dicom"; boundary=XYZ'
            )
            return
        self._send(json.dumps(found).encode(), "application/dicom+json")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_pacs() -> Iterator[str]:
    server = _QuietServer(("127.0.0.1", 0), _FakeDicomWeb)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/dicom-web"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ((_instance(LISTED[0]), _instance("9.9.9")), "sent instance 9.9.9, which its search did"),
        ((_instance(LISTED[0]), _instance(LISTED[1])[:200]), r"incomplete .*no SOPInstanceUID"),
        ((_instance(LISTED[0]), _instance(LISTED[1])[:-4]), r"incomplete .*4 bytes short"),
    ],
    ids=["unlisted-instance", "cut-in-the-header", "cut-in-the-pixels"],
)
def test_a_misbehaving_server_writes_only_listed_complete_instances(
    fake_pacs: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    parts: tuple[bytes, ...],
    message: str,
) -> None:
    monkeypatch.setattr(_FakeDicomWeb, "parts", parts)
    with connect(PacsConnection(fake_pacs)) as client, pytest.raises(PacsError, match=message):
        client.pull(tmp_path, study_uid=STUDY)
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert [p.name for p in files] == [f"{LISTED[0]}.dcm"]  # the good one, nothing else
    assert files[0].read_bytes() == parts[0]


def test_a_server_that_pages_its_answers_is_listed_to_the_end(
    fake_pacs: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_FakeDicomWeb, "page_size", 1)
    monkeypatch.setattr(_FakeDicomWeb, "parts", tuple(_instance(uid) for uid in LISTED))
    with connect(PacsConnection(fake_pacs)) as client:
        assert [r.sop_instance_uid for r in client.search_instances(STUDY, SERIES, 2)] == list(
            LISTED
        )
        result = client.pull(tmp_path, study_uid=STUDY)
    assert (result.retrieved, result.skipped) == (2, 0)
    assert sorted(p.stem for p in tmp_path.rglob("*.dcm")) == sorted(LISTED)


def test_connection_options_without_a_server_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from lesion_tool.cli import main

    out = tmp_path / "sr"
    argv = ["export-sr", "a.json", "--images", str(tmp_path), "--out", str(out), "--user", "u"]
    assert main(argv) == 1
    assert "--user: used only with --stow URL." in capsys.readouterr().err
    assert not out.exists()
    stow = ["--stow", "http://127.0.0.1:1/dicom-web", "--deidentify"]
    assert main(["export-sr", "a.json", "--images", str(tmp_path), "--out", str(out), *stow]) == 1
    assert "--deidentify makes SRs to share elsewhere" in capsys.readouterr().err
    assert not out.exists()
    assert main(["pacs-search", "--url", "http://127.0.0.1:1/dicom-web", "--limit", "0"]) == 1
    assert "--limit must be at least 1" in capsys.readouterr().err
