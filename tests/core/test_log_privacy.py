"""Issue 12: messages on stderr identify nobody.

Paths of a core lab's files often hold patient names and ids, and ``-v`` logs PACS searches
whose URLs carry PatientID. Without ``--deidentify`` the identifying query values are redacted;
with it every path and every pseudonymised patient id in a message is replaced too.
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from lesion_tool.cli import main
from lesion_tool.deid import Deidentifier, LogScrubber, redact_query_values

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "assessments"
MRN = "MRN-98765"
NAME_FOLDER = "DOE JANE 1958"
KEY = Deidentifier(b"k" * 32)


def test_identifying_query_values_are_redacted_and_others_kept() -> None:
    line = '127.0.0.1 "GET /dicom-web/studies?PatientID=MRN%2D1&PatientName=DOE%5EJ*&limit=5 HTTP'
    text = redact_query_values(line)
    assert "MRN" not in text and "DOE" not in text
    assert "PatientID=<redacted>&PatientName=<redacted>&limit=5" in text
    assert "00100020=<redacted>" in redact_query_values("studies?00100020=X1")
    assert redact_query_values("?limit=5&offset=0", None) == "?limit=<redacted>&offset=<redacted>"


def test_scrubber_replaces_paths_and_pseudonymised_ids(tmp_path: Path) -> None:
    folder = tmp_path / NAME_FOLDER
    folder.mkdir()
    (folder / f"{MRN}.json").write_text("{}")
    key = Deidentifier(b"s" * 32)
    pseudonym = key.patient_id(MRN)
    scrub = LogScrubber(key, [str(tmp_path)]).scrub
    text = scrub(f"lesion-tool: skipped: {folder / MRN}.json: $.timepoints[0].date: bad date")
    assert "DOE" not in text and "JANE" not in text and MRN not in text, text
    assert text == (
        f"lesion-tool: skipped: {key.path_alias(folder / f'{MRN}.json')}: "
        "$.timepoints[0].date: bad date"
    )
    assert key.path_alias(folder / f"{MRN}.json").endswith(".json")
    # a file named outside the folders given, quoted in an OSError
    assert scrub("[Errno 2] No such file: 'cases/DOE_J/a.nii.gz'") == (
        f"[Errno 2] No such file: '{key.path_alias('cases/DOE_J/a.nii.gz')}'"
    )
    # ids as words, never inside other words; ratios and units are not paths
    assert scrub(f"patient {MRN}: 5/7 within, mm/s; {MRN}__R1") == (
        f"patient {pseudonym}: 5/7 within, mm/s; {pseudonym}__R1"
    )
    assert scrub("http://pacs/studies?PatientID=X") == "http://pacs/studies?PatientID=<redacted>"


def test_rescore_deidentify_names_no_path_or_patient_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / NAME_FOLDER
    folder.mkdir()
    good = json.loads((EXAMPLES / "hcc-ex04-new-lesion-backdated.json").read_text())
    good["patient_id"] = MRN
    (folder / f"{MRN}__R1.json").write_text(json.dumps(good))
    bad = dict(good, patient_id="MRN-11111", treatment_start="2026-13-01")
    (folder / "MRN-11111.json").write_text(json.dumps(bad))
    key_file = tmp_path / "deid.key"
    key_file.write_bytes(b"k" * 32)
    out_csv = tmp_path / "pt.csv"

    argv = ["rescore", str(folder), "--patients-csv", str(out_csv)]
    assert main(argv) == 1
    plain = capsys.readouterr().err
    assert NAME_FOLDER in plain and MRN in plain  # what the scrubber must remove

    assert main([*argv, "--deidentify", "--deid-key", str(key_file)]) == 1
    err = capsys.readouterr().err
    assert "skipped" in err and "back-dated" in err  # the messages are still there
    for secret in ("DOE", "JANE", "1958", MRN, "11111", str(tmp_path)):
        assert secret not in err, (secret, err)
    assert KEY.path_alias(folder / f"{MRN}__R1.json") in err
    assert MRN not in out_csv.read_text()


class _Qido(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps([{"0020000D": {"vr": "UI", "Value": ["1.2.3"]}}]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/dicom+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def qido() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Qido)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/dicom-web"
    finally:
        server.shutdown()
        server.server_close()


def test_verbose_pacs_search_log_redacts_the_patient(qido: str) -> None:
    # A real process: the CLI's own logging handler (debug with -v) is active, unlike in pytest.
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'plugins'}"}
    done = subprocess.run(
        [sys.executable, "-m", "lesion_tool", "-v", "pacs-search", "--url", qido,
         "--patient", "MRN-55501", "--name", "DOE^JANE"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "PatientID=<redacted>" in done.stderr  # the search URL is logged, its value is not
    for secret in ("55501", "DOE", "JANE"):
        assert secret not in done.stderr, (secret, done.stderr)
