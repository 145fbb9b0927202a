"""A real Orthanc (the Debian packages orthanc + orthanc-dicomweb) on loopback, for PACS tests.

:class:`OrthancServer` writes a JSON configuration into a temporary folder (storage and index
there too, free HTTP and DICOM ports, DICOMweb plugin on, remote access off, optionally HTTP
basic authentication with registered users), starts ``Orthanc``, waits until its REST API
answers and stops it (terminate, wait, kill on timeout). It restarts on the same storage and
ports, so a test can kill the server mid-transfer and bring it back.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import requests

__all__ = [
    "DICOMWEB_PLUGIN",
    "ORTHANC",
    "OrthancServer",
    "free_port",
    "orthanc_missing",
    "reap",
]


def _find_orthanc() -> str | None:
    found = shutil.which("Orthanc")
    if found:
        return found
    for candidate in ("/usr/sbin/Orthanc", "/usr/bin/Orthanc", "/usr/local/bin/Orthanc"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def _find_plugin() -> str | None:
    for pattern in (
        "/usr/share/orthanc/plugins/libOrthancDicomWeb.so",
        "/usr/lib/orthanc/libOrthancDicomWeb.so*",
        "/usr/local/share/orthanc/plugins/libOrthancDicomWeb.so",
    ):
        hits = sorted(glob.glob(pattern))
        if hits:
            return hits[0]
    return None


_STOPPING: list[tuple[subprocess.Popen[bytes], float]] = []


def reap() -> None:
    """Wait for every terminated server to exit; kill one that takes longer than its timeout."""
    while _STOPPING:
        process, timeout_s = _STOPPING.pop()
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout_s)


ORTHANC = _find_orthanc()
DICOMWEB_PLUGIN = _find_plugin()


def orthanc_missing() -> str | None:
    """Why the Orthanc tests cannot run here, or None when they can."""
    if ORTHANC is None:
        return (
            "the Orthanc binary is absent (Debian: apt-get install orthanc orthanc-dicomweb, as "
            "scripts/install-system-deps.sh does)"
        )
    if DICOMWEB_PLUGIN is None:
        return "Orthanc's DICOMweb plugin is absent (Debian: apt-get install orthanc-dicomweb)"
    return None


def free_port() -> int:
    """A TCP port nobody listens on at 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class OrthancServer:
    """One Orthanc process with its own storage in ``workdir``."""

    def __init__(
        self,
        workdir: Path,
        users: dict[str, str] | None = None,
    ) -> None:
        self.workdir = Path(workdir)
        self.users = dict(users or {})
        self.http_port = 0
        self.dicom_port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = self.workdir / "orthanc.log"
        self.start_seconds = 0.0

    # ------------------------------------------------------------------ life cycle
    @property
    def base(self) -> str:
        """Root of the REST API."""
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def url(self) -> str:
        """Root of the DICOMweb API (what the user gives lesion-tool)."""
        return f"{self.base}/dicom-web"

    @property
    def auth(self) -> tuple[str, str] | None:
        """Credentials of the first registered user (for the REST helpers)."""
        return next(iter(self.users.items()), None)

    def _config(self) -> dict[str, Any]:
        storage = self.workdir / "storage"
        storage.mkdir(parents=True, exist_ok=True)
        return {
            "Name": "lesion-tool-test",
            "StorageDirectory": str(storage),
            "IndexDirectory": str(storage),
            "HttpPort": self.http_port,
            "DicomPort": self.dicom_port,
            "DicomAet": "LESIONTEST",
            "RemoteAccessAllowed": False,  # loopback only
            "AuthenticationEnabled": bool(self.users),
            "RegisteredUsers": self.users,
            "Plugins": [DICOMWEB_PLUGIN],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": False},
            "SaveJobs": False,
            "HttpThreadsCount": 8,
            "ConcurrentJobs": 1,
            "DicomThreadsCount": 1,
            "StableAge": 1,
            "HttpCompressionEnabled": False,
            "KeepAlive": False,  # idle kept-alive connections would delay the stop by seconds
        }

    def start(self, timeout_s: float = 30.0) -> None:
        """Start (or restart, on the same ports and storage) and wait until the API answers."""
        if orthanc_missing():
            raise RuntimeError(orthanc_missing())
        fresh_ports = self.http_port == 0
        for _attempt in range(3):
            if fresh_ports:
                self.http_port, self.dicom_port = free_port(), free_port()
            config = self.workdir / "orthanc.json"
            config.write_text(json.dumps(self._config(), indent=2), "utf-8")
            clock = time.monotonic()
            log = self.log_path.open("ab")
            try:
                self.process = subprocess.Popen(
                    [ORTHANC, str(config)],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    cwd=self.workdir,
                )
            finally:
                log.close()
            if self._wait_ready(timeout_s):
                self.start_seconds = time.monotonic() - clock
                return
            self.stop()
            fresh_ports = True  # a port taken between our probe and Orthanc's bind: try others
        raise RuntimeError(f"Orthanc did not start; its log:\n{self.log_tail()}")

    def _wait_ready(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            with contextlib.suppress(requests.RequestException):
                answer = requests.get(f"{self.base}/system", auth=self.auth, timeout=1)
                if answer.status_code == 200:
                    return True
            time.sleep(0.05)
        return False

    def stop(self, timeout_s: float = 10.0, *, wait: bool = True) -> None:
        """Terminate; kill when it does not stop within ``timeout_s``.

        Orthanc takes about 3 s to stop cleanly; with ``wait=False`` the wait (and the kill, if
        needed) happens in :func:`reap` instead, so the next test need not wait.
        """
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
        _STOPPING.append((process, timeout_s))
        if wait:
            reap()

    def kill(self) -> None:
        """SIGKILL now (a crash, for tests of interrupted transfers)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def log_tail(self, lines: int = 30) -> str:
        """The end of Orthanc's log (for failure messages)."""
        try:
            return "\n".join(self.log_path.read_text("utf-8", "replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    # ------------------------------------------------------------------ REST helpers
    def rest(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """A REST call with the registered user's credentials; raises on an HTTP error."""
        answer = requests.request(
            method, f"{self.base}{path}", auth=self.auth, timeout=60, **kwargs
        )
        answer.raise_for_status()
        return answer

    def upload(self, files: Iterable[Path]) -> int:
        """POST each DICOM file to /instances (Orthanc's own upload); how many were sent."""
        count = 0
        with requests.Session() as session:
            session.auth = self.auth
            for path in files:
                answer = session.post(
                    f"{self.base}/instances", data=Path(path).read_bytes(), timeout=60
                )
                answer.raise_for_status()
                count += 1
        return count

    def orthanc_id(self, level: str, uid: str) -> str:
        """Orthanc's id of a patient / study / series / instance from its DICOM identifier."""
        for hit in self.rest("POST", "/tools/lookup", data=uid).json():
            if hit["Type"].lower() == level:
                return str(hit["ID"])
        raise KeyError(f"{level} {uid} not in Orthanc")

    def delete_instance(self, sop_instance_uid: str) -> None:
        """Remove one instance (what another user of the PACS might do mid-transfer)."""
        self.rest("DELETE", f"/instances/{self.orthanc_id('instance', sop_instance_uid)}")

    def clear(self) -> None:
        """Delete every patient (a clean server between tests sharing one process)."""
        for patient in self.rest("GET", "/patients").json():
            self.rest("DELETE", f"/patients/{patient}")
