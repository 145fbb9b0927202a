"""Search, retrieve and store on a DICOMweb server (QIDO-RS, WADO-RS, STOW-RS).

Built on dicomweb-client (and requests under it). Every failure a user can meet (server down,
wrong URL, 401 / 403, a timeout, a study that changes during the transfer, a server that is not
DICOMweb) becomes a one-line :class:`~lesion_tool.errors.PacsError`; passwords and tokens are
held by the HTTP session's auth object and appear in no message or log.

Retrieval asks for a whole series in one streamed WADO-RS request (one request per instance
costs a round trip each) and writes each instance as it arrives to a temporary file, fsynced and
renamed into the cache when complete. Instances already complete in the cache (their
SOPInstanceUID read back) are skipped, and a series that is mostly there is completed instance
by instance, so an interrupted pull resumes where it stopped. Every instance written must be one
the search listed.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from lesion_tool.errors import PacsError
from lesion_tool.pacs import cache
from lesion_tool.pacs.models import (
    InstanceRef,
    PacsConnection,
    Progress,
    PullResult,
    SeriesSummary,
    StoreResult,
    StudySummary,
    check_uid,
    dicom_date_range,
)

log = logging.getLogger(__name__)

__all__ = ["PacsClient"]

STUDY_FIELDS = (
    "PatientID",
    "PatientName",
    "StudyDate",
    "StudyDescription",
    "AccessionNumber",
    "ModalitiesInStudy",
    "NumberOfStudyRelatedSeries",
    "NumberOfStudyRelatedInstances",
)
SERIES_FIELDS = ("Modality", "SeriesNumber", "SeriesDescription", "NumberOfSeriesRelatedInstances")
INSTANCE_FIELDS = ("SOPInstanceUID", "InstanceNumber")


def _bearer_auth(token: str) -> Any:
    """A requests auth object adding ``Authorization: Bearer`` (its repr hides the token)."""
    from requests.auth import AuthBase

    class BearerAuth(AuthBase):
        def __call__(self, request: Any) -> Any:
            request.headers["Authorization"] = f"Bearer {token}"
            return request

        def __repr__(self) -> str:
            return "BearerAuth(<hidden>)"

    return BearerAuth()


def _session(verify: str | bool | None) -> Any:
    """A requests session whose explicit ``verify`` (CA bundle or False) beats the environment.

    requests lets ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` override a session's ``verify``
    (psf/requests#3829), which would silently ignore ``--ca-bundle`` and ``--insecure``; without
    either option the environment's bundle applies as usual.
    """
    import requests

    class Session(requests.Session):
        def merge_environment_settings(self, *args: Any, **kwargs: Any) -> Any:
            settings = super().merge_environment_settings(*args, **kwargs)
            if verify is not None:
                settings["verify"] = verify
            return settings

    return Session()


def _mentions(err: BaseException, *needles: str) -> bool:
    text = str(err).lower()
    return any(n.lower() in text for n in needles)


def _damage(ds: Any) -> str | None:
    """Why a received instance is evidently incomplete (a cut transfer), or None.

    pydicom reads a truncated file without complaint, so the checks are explicit: a UID, and an
    image's pixel data present and, when not compressed, as long as its attributes say.
    """
    if not str(getattr(ds, "SOPInstanceUID", "")):
        return "no SOPInstanceUID"
    if "Rows" not in ds or "BitsAllocated" not in ds:
        return None
    if not any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
        return "an image without its pixel data"
    meta = getattr(ds, "file_meta", None)
    syntax = getattr(meta, "TransferSyntaxUID", None)
    if "PixelData" in ds and syntax is not None and not syntax.is_compressed:
        frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
        samples = int(getattr(ds, "SamplesPerPixel", 1) or 1)
        bits = int(ds.Rows) * int(ds.Columns) * samples * frames * int(ds.BitsAllocated)
        expected = (bits + 7) // 8
        got = len(ds.PixelData)
        if got < expected:
            return f"pixel data {expected - got} bytes short"
    return None


class _Run:
    """Counters of one pull, its progress reports and its cancel check."""

    def __init__(
        self,
        total: int,
        progress: Callable[[Progress], None] | None,
        cancel: threading.Event | None,
    ) -> None:
        self.total = total
        self.done = self.skipped = self.retrieved_bytes = 0
        self._progress = progress
        self._cancel = cancel

    def _report(self, description: str) -> None:
        if self._progress is not None:
            self._progress(
                Progress(self.done, self.total, self.skipped, self.retrieved_bytes, description)
            )

    def skip(self, count: int, description: str) -> None:
        """``count`` instances were already complete in the cache."""
        if count:
            self.done += count
            self.skipped += count
            self._report(description)

    def wrote(self, size: int, description: str) -> None:
        """One instance of ``size`` bytes is now complete in the cache."""
        self.done += 1
        self.retrieved_bytes += size
        self._report(description)

    def check_cancel(self) -> None:
        """Raise PacsError when the caller asked to stop."""
        if self._cancel is not None and self._cancel.is_set():
            raise PacsError(
                f"retrieval cancelled: {self.done} of {self.total} instances are in the cache; "
                "pulling again resumes."
            )


class PacsClient:
    """One DICOMweb server: search studies and series, pull studies into a cache, store files.

    Methods raise :class:`PacsError` with a one-line message for everything that can go wrong
    on the network or the server. A client is not meant to be shared between threads.
    """

    def __init__(self, connection: PacsConnection) -> None:
        from dicomweb_client.api import DICOMwebClient

        self.connection = connection
        verify: str | bool | None = None
        if connection.ca_bundle is not None:
            verify = str(connection.ca_bundle)
        elif connection.insecure:
            verify = False
        session = _session(verify)
        if connection.username:
            session.auth = (connection.username, connection.password or "")
        elif connection.token:
            session.auth = _bearer_auth(connection.token)
        if connection.insecure:
            log.warning(
                "TLS certificate checks are off (--insecure): anyone between here and %s can "
                "read and alter the images. Use --ca-bundle instead outside a test.",
                connection.host,
            )
        timeout = connection.timeout_s
        try:
            self._client = DICOMwebClient(
                connection.url, session=session, timeout=(min(10.0, timeout), timeout)
            )
        except ValueError as err:
            raise PacsError(f"{connection.url} is not a usable DICOMweb URL: {err}") from None
        # No silent retries: the library would retry every failure, a refused connection or a
        # timeout included, multiplying the wait the user asked for. A failed pull resumes when
        # run again.
        self._client.set_http_retry_params(retry=False)
        self._session = session

    def close(self) -> None:
        """Close the HTTP connections (kept alive between requests otherwise)."""
        self._session.close()

    def __enter__(self) -> PacsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ errors
    @contextlib.contextmanager
    def _errors(self, action: str, *, not_found: str | None = None) -> Iterator[None]:
        """Turn what requests and dicomweb-client raise during ``action`` into a PacsError."""
        from pydicom.errors import InvalidDicomError
        from requests import exceptions as rex
        from urllib3.exceptions import InsecureRequestWarning

        conn = self.connection
        host = conn.host
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", InsecureRequestWarning)
                # dicomweb-client warns about servers sending single-part instances: harmless
                warnings.filterwarnings("ignore", message=".*not compliant with the DICOM")
                yield
        except PacsError:
            raise
        except rex.SSLError as err:
            detail = re.search(r"certificate verify failed: ([^(]+?)\s*\(", str(err))
            if detail:
                why = f"certificate not trusted: {detail.group(1)}"
            else:
                why = "certificate not trusted" if _mentions(err, "certificate") else "TLS error"
            raise PacsError(
                f"{action}: the TLS connection to {host} failed ({why}); give the certificate "
                "authority of the server with --ca-bundle FILE."
            ) from None
        except rex.Timeout:
            raise PacsError(
                f"{action}: {host} did not answer within {conn.timeout_s:g} s (timeout); the "
                "server may be overloaded or the address wrong."
            ) from None
        except rex.ConnectionError as err:
            if _mentions(err, "connection refused", "errno 111"):
                why = "connection refused (is the PACS running, and is the port right?)"
            elif _mentions(
                err,
                "name or service not known",
                "nodename nor servname",
                "failed to resolve",
                "name resolution",
                "getaddrinfo",
            ):
                why = "host name not found (check the URL)"
            elif _mentions(err, "remotedisconnected", "connection aborted", "reset by peer"):
                why = "the server closed the connection"
            else:
                why = "network error"
            raise PacsError(f"{action}: cannot reach {host}: {why}.") from None
        except rex.HTTPError as err:
            response = err.response
            status = response.status_code if response is not None else 0
            reason = (response.reason if response is not None else "") or ""
            if status == 401:
                if conn.username or conn.token:
                    why = (
                        "the server refused the credentials (401 Unauthorized): check the user "
                        "name and the password, or the token"
                    )
                else:
                    why = (
                        "the server asks for credentials (401 Unauthorized): give a user and "
                        "password (--user with --password-env VAR) or a token (--token-env VAR)"
                    )
            elif status == 403:
                why = "access denied (403 Forbidden): this user may not do this on the server"
            elif status == 404 and not_found:
                why = not_found
            elif status in (400, 404):
                why = (
                    f"{conn.url} answered {f'{status} {reason}'.strip()}: is it the DICOMweb "
                    "root of the server (Orthanc: http://HOST:8042/dicom-web)?"
                )
            else:
                why = f"{host} answered HTTP {status} {reason}".rstrip()
            raise PacsError(f"{action}: {why}.") from None
        except rex.JSONDecodeError:
            raise PacsError(
                f"{action}: {conn.url} did not answer as a DICOMweb server (not DICOM JSON); is "
                "it the DICOMweb root (Orthanc: http://HOST:8042/dicom-web)?"
            ) from None
        except rex.RequestException as err:  # a transfer cut half-way, a broken chunk
            raise PacsError(
                f"{action}: the connection to {host} broke off ({type(err).__name__})."
            ) from None
        except (InvalidDicomError, EOFError):
            raise PacsError(
                f"{action}: {host} sent a damaged or incomplete DICOM instance (the transfer may "
                "have been cut); nothing was written for it, pulling again resumes."
            ) from None
        except (ValueError, KeyError) as err:  # not JSON, not multipart DICOM: not DICOMweb
            log.debug("unexpected answer during %s: %s", action, err)
            raise PacsError(
                f"{action}: {conn.url} did not answer as a DICOMweb server; is it the DICOMweb "
                "root (Orthanc: http://HOST:8042/dicom-web)?"
            ) from None

    def _results(self, items: Any, key: str, action: str) -> list[dict[str, Any]]:
        """QIDO results, checked to be DICOM JSON datasets that carry ``key``."""
        if not isinstance(items, list) or not all(isinstance(i, dict) and key in i for i in items):
            raise PacsError(
                f"{action}: {self.connection.url} did not answer with DICOM JSON search "
                "results; is it the DICOMweb root?"
            )
        return items

    # ------------------------------------------------------------------ search
    def search_studies(
        self,
        *,
        patient_id: str | None = None,
        patient_name: str | None = None,
        study_uid: str | None = None,
        accession_number: str | None = None,
        date_range: tuple[Any, Any] | None = None,
        modality: str | None = None,
        limit: int | None = None,
    ) -> list[StudySummary]:
        """Studies matching every filter given (QIDO-RS); ``*`` and ``?`` are wildcards.

        ``date_range`` is ``(first, last)`` dates, either None for an open end. ``modality``
        (``CT``) keeps studies holding a series of that modality (ModalitiesInStudy). Results
        are sorted by patient ID, then date (newest first).
        """
        filters: dict[str, str] = {}
        if patient_id:
            filters["PatientID"] = patient_id
        if patient_name:
            filters["PatientName"] = patient_name
        if study_uid:
            filters["StudyInstanceUID"] = check_uid(study_uid, "StudyInstanceUID")
        if accession_number:
            filters["AccessionNumber"] = accession_number
        if date_range and (date_range[0] or date_range[1]):
            filters["StudyDate"] = dicom_date_range(*date_range)
        if modality:
            filters["ModalitiesInStudy"] = modality.strip().upper()
        action = "searching for studies"
        with self._errors(action):
            items = self._client.search_for_studies(
                search_filters=filters, fields=list(STUDY_FIELDS), limit=limit
            )
        studies = [
            StudySummary.from_dicom_json(i) for i in self._results(items, "0020000D", action)
        ]
        studies.sort(key=lambda s: s.study_date.toordinal() if s.study_date else 0, reverse=True)
        studies.sort(key=lambda s: s.patient_id)
        return studies

    def search_series(self, study_uid: str) -> list[SeriesSummary]:
        """The series of a study (QIDO-RS), by series number."""
        study_uid = check_uid(study_uid, "StudyInstanceUID")
        action = f"listing the series of study {study_uid}"
        with self._errors(action, not_found=f"study {study_uid} is not on the server"):
            items = self._client.search_for_series(study_uid, fields=list(SERIES_FIELDS))
        series = [
            SeriesSummary.from_dicom_json(study_uid, i)
            for i in self._results(items, "0020000E", action)
        ]
        series.sort(key=lambda s: (s.series_number is None, s.series_number or 0))
        return series

    def search_instances(
        self, study_uid: str, series_uid: str, expected: int | None = None
    ) -> list[InstanceRef]:
        """The instances of a series (QIDO-RS).

        A server may cut a long answer short (a result limit); when ``expected`` (the series'
        NumberOfSeriesRelatedInstances) says more exist, the next pages are asked for with
        ``offset`` until they are all listed or a page brings nothing new.
        """
        action = f"listing the instances of series {series_uid}"
        refs: list[InstanceRef] = []
        seen: set[str] = set()
        offset = 0
        while True:
            with self._errors(action, not_found=f"series {series_uid} is not on the server"):
                items = self._client.search_for_instances(
                    study_uid, series_uid, fields=list(INSTANCE_FIELDS), offset=offset or None
                )
            page = self._results(items, "00080018", action)
            new = 0
            for item in page:
                sop = check_uid((item["00080018"].get("Value") or [None])[0], "SOPInstanceUID")
                if sop not in seen:
                    seen.add(sop)
                    refs.append(InstanceRef(study_uid, series_uid, sop))
                    new += 1
            offset += len(page)
            if not new or expected is None or len(refs) >= expected:
                break
        if expected is not None and len(refs) < expected:
            log.warning(
                "series %s: the server lists %d of its %d instances; pulling those",
                series_uid,
                len(refs),
                expected,
            )
        return refs

    # ------------------------------------------------------------------ retrieve
    def pull(
        self,
        cache_dir: str | Path,
        *,
        patient_id: str | None = None,
        study_uid: str | None = None,
        series_uids: Sequence[str] = (),
        progress: Callable[[Progress], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> PullResult:
        """Retrieve a patient's studies, or one study (or some of its series), into the cache.

        Instances already complete in the cache are skipped (a retry resumes). ``progress`` is
        called after every instance written (and once per series for those skipped); setting
        ``cancel`` stops before the next instance is written, with a PacsError (what was
        retrieved stays, complete). The result's ``folder`` is the
        patient's folder for ``patient_id``, the study's folder for ``study_uid``.
        """
        if not patient_id and not study_uid:
            raise PacsError("give a patient ID or a study UID to pull.")
        if series_uids and not study_uid:
            raise PacsError("series can be chosen only within one study (give its study UID).")
        cache_dir = Path(cache_dir)
        studies = self.search_studies(patient_id=patient_id, study_uid=study_uid)
        if not studies:
            what = f"study {study_uid}" if study_uid else f"patient {patient_id}"
            if study_uid and patient_id:
                what += f" of patient {patient_id}"
            raise PacsError(f"no {what} on {self.connection.url}.")
        wanted = {check_uid(s, "SeriesInstanceUID") for s in series_uids}
        plan: list[tuple[StudySummary, SeriesSummary, list[InstanceRef]]] = []
        for study in studies:
            series = self.search_series(study.study_instance_uid)
            if wanted:
                missing = wanted - {s.series_instance_uid for s in series}
                if missing:
                    raise PacsError(
                        f"series {', '.join(sorted(missing))} not in study "
                        f"{study.study_instance_uid} on {self.connection.url}."
                    )
                series = [s for s in series if s.series_instance_uid in wanted]
            for s in series:
                plan.append(
                    (
                        study,
                        s,
                        self.search_instances(
                            s.study_instance_uid, s.series_instance_uid, s.instance_count
                        ),
                    )
                )
        total = sum(len(refs) for _, _, refs in plan)
        for study in studies:
            cache.remove_dead_temporaries(
                cache.study_folder(cache_dir, study.patient_id, study.study_instance_uid)
            )
        run = _Run(total, progress, cancel)
        for study, series, refs in plan:
            targets = {
                r.sop_instance_uid: cache.instance_path(cache_dir, study.patient_id, r)
                for r in refs
            }
            missing = [
                r
                for r in refs
                if not cache.is_complete(targets[r.sop_instance_uid], r.sop_instance_uid)
            ]
            run.skip(len(refs) - len(missing), series.description)
            if len(missing) > 1 and 2 * len(missing) >= len(refs):
                # most of the series is wanted: one streamed WADO-RS request for all of it
                got = self._stream_series(series, targets, run)
                missing = [r for r in missing if r.sop_instance_uid not in got]
            for ref in missing:  # the rest (or what the stream lacked) one by one
                run.check_cancel()
                ds = self._retrieve_instance(ref, run)
                run.wrote(self._write(ds, targets[ref.sop_instance_uid]), series.description)
        if study_uid:
            folder = cache.study_folder(cache_dir, studies[0].patient_id, study_uid)
        elif len({s.patient_id for s in studies}) == 1:
            folder = cache.patient_folder(cache_dir, studies[0].patient_id)
        else:  # a wildcard matched several patients
            folder = cache_dir
        return PullResult(
            folder, tuple(studies), run.done - run.skipped, run.skipped, run.retrieved_bytes
        )

    def _stream_series(
        self, series: SeriesSummary, targets: dict[str, Path], run: _Run
    ) -> set[str]:
        """Retrieve a whole series in one request, each instance renamed into place as it
        arrives; the SOPInstanceUIDs now complete in the cache."""
        action = f"retrieving series {series.series_instance_uid}"
        gone = (
            f"series {series.series_instance_uid} was removed from the server during the "
            f"transfer ({run.done} of {run.total} instances are complete in the cache; pulling "
            "again fetches what the server holds now)"
        )
        got: set[str] = set()
        with self._errors(action, not_found=gone):
            stream = self._client.iter_series(
                series.study_instance_uid,
                series.series_instance_uid,
                media_types=(("application/dicom", "*"),),  # as stored, not transcoded
            )
        try:
            while True:
                with self._errors(action, not_found=gone):
                    ds = next(stream, None)
                if ds is None:
                    break
                self._check_received(ds, action)
                uid = str(ds.SOPInstanceUID)
                if uid not in targets:
                    raise PacsError(
                        f"{action}: the server sent instance {uid or '(no UID)'}, which its "
                        "search did not list; nothing was written for it."
                    )
                if uid in got or cache.is_complete(targets[uid], uid):
                    continue
                run.check_cancel()
                run.wrote(self._write(ds, targets[uid]), series.description)
                got.add(uid)
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
        return got

    def _retrieve_instance(self, ref: InstanceRef, run: _Run) -> Any:
        """Fetch one instance (WADO-RS), checked to be the one asked for."""
        gone = (
            f"study {ref.study_instance_uid} changed on the server during the transfer: "
            f"instance {ref.sop_instance_uid} is no longer there ({run.done} of {run.total} "
            "instances are complete in the cache; pulling again fetches what the server holds "
            "now)"
        )
        with self._errors(f"retrieving instance {run.done + 1} of {run.total}", not_found=gone):
            ds = self._client.retrieve_instance(
                ref.study_instance_uid, ref.series_instance_uid, ref.sop_instance_uid
            )
        self._check_received(ds, f"retrieving instance {ref.sop_instance_uid}")
        if str(ds.SOPInstanceUID) != ref.sop_instance_uid:
            raise PacsError(
                f"the server sent instance {getattr(ds, 'SOPInstanceUID', '(none)')} when asked "
                f"for {ref.sop_instance_uid}; nothing was written for it."
            )
        return ds

    def _check_received(self, ds: Any, action: str) -> None:
        damage = _damage(ds)
        if damage:
            raise PacsError(
                f"{action}: {self.connection.host} sent a damaged or incomplete DICOM instance "
                f"({damage}; the transfer may have been cut); nothing was written for it, "
                "pulling again resumes."
            )

    @staticmethod
    def _write(ds: Any, target: Path) -> int:
        """Write an instance to a temporary file renamed to ``target`` when complete; bytes."""
        from pydicom import dcmwrite

        from lesion_tool.storage.atomic import atomic_write

        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(target, "wb") as handle:
            dcmwrite(handle, ds, enforce_file_format=False)
            size = handle.tell()
        return int(size)

    # ------------------------------------------------------------------ store
    def store(self, paths: Sequence[str | Path]) -> StoreResult:
        """Store DICOM files (e.g. SRs) with STOW-RS, one request per study.

        Raises PacsError naming the instances the server refused, if any.
        """
        import pydicom
        from pydicom.errors import InvalidDicomError

        by_study: dict[str, list[Any]] = {}
        for path in paths:
            try:
                ds = pydicom.dcmread(path)
            except (OSError, InvalidDicomError) as err:
                raise PacsError(f"{path}: cannot be read as DICOM to store it ({err}).") from None
            study = check_uid(getattr(ds, "StudyInstanceUID", ""), f"{path}: StudyInstanceUID")
            by_study.setdefault(study, []).append(ds)
        stored: list[str] = []
        for study, datasets in by_study.items():
            action = f"storing {len(datasets)} instance(s) in study {study}"
            with self._errors(action):
                answer = self._client.store_instances(datasets, study_instance_uid=study)
            failed = [
                f"{getattr(item, 'ReferencedSOPInstanceUID', '?')} "
                f"(reason {getattr(item, 'FailureReason', '?')})"
                for item in getattr(answer, "FailedSOPSequence", [])
            ]
            if failed:
                raise PacsError(f"{action}: the server refused {', '.join(failed)}.")
            stored.extend(
                str(item.ReferencedSOPInstanceUID)
                for item in getattr(answer, "ReferencedSOPSequence", [])
            )
        return StoreResult(tuple(stored), tuple(by_study))
