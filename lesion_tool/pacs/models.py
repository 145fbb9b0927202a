"""Plain data of the PACS client: the connection, search results, progress and outcomes.

Nothing here imports requests, dicomweb-client or pydicom, so a dialog (or ``lesion-tool
--help``) can use these classes without paying for the HTTP stack. Search results are frozen
dataclasses with :meth:`StudySummary.row` giving the display text of :data:`STUDY_COLUMNS`, so a
table shows them without knowing DICOM JSON.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lesion_tool.errors import PacsError

__all__ = [
    "SERIES_COLUMNS",
    "STUDY_COLUMNS",
    "InstanceRef",
    "PacsConnection",
    "Progress",
    "PullResult",
    "SeriesSummary",
    "StoreResult",
    "StudySummary",
    "default_cache_dir",
    "parse_date_range",
]

_UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")


def check_uid(value: object, what: str) -> str:
    """``value`` as a DICOM UID, or :class:`PacsError`.

    UIDs from the server become folder and file names in the cache, so anything but digits and
    dots (``../x``) is refused rather than trusted.
    """
    text = str(value or "").strip()
    if not _UID.match(text) or len(text) > 64:
        raise PacsError(f"{what} {text!r} is not a DICOM UID (digits and dots, at most 64).")
    return text


@dataclass(frozen=True)
class PacsConnection:
    """Where a DICOMweb server is and how to log in; secrets are never shown by ``repr``.

    ``url`` is the DICOMweb root (Orthanc: ``http://host:8042/dicom-web``). Give a ``username``
    with a ``password`` (HTTP basic) or a bearer ``token``, not both. ``ca_bundle`` is a PEM file
    of the certificate authorities to trust for HTTPS; ``insecure`` turns certificate checks off
    (testing only). ``timeout_s`` bounds connecting and each wait for data.
    """

    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    ca_bundle: Path | None = None
    insecure: bool = False
    timeout_s: float = 30.0

    def __post_init__(self) -> None:
        url = self.url.strip().rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise PacsError(
                f"{self.url!r} is not a DICOMweb URL: give http(s)://HOST[:PORT]/PATH "
                "(Orthanc: http://HOST:8042/dicom-web)."
            )
        if parts.username or parts.password:
            raise PacsError(
                "the URL carries a user name or password; give the user with --user and the "
                "password through an environment variable (--password-env), never in the URL."
            )
        if self.token is not None and (self.username or self.password):
            raise PacsError("give a user and password or a token, not both.")
        if self.password is not None and not self.username:
            raise PacsError("a password was given without a user name.")
        if self.ca_bundle is not None and self.insecure:
            raise PacsError("--ca-bundle and --insecure contradict each other; give one.")
        if self.ca_bundle is not None and not Path(self.ca_bundle).is_file():
            raise PacsError(f"CA bundle {self.ca_bundle} does not exist or is not a file.")
        if self.timeout_s <= 0:
            raise PacsError(f"timeout must be positive, got {self.timeout_s} s.")
        object.__setattr__(self, "url", url)

    @property
    def host(self) -> str:
        """``host:port`` for messages (no path, no secret)."""
        return urlsplit(self.url).netloc


def _value(item: Mapping[str, Any], tag: str) -> Any:
    """The first value of ``tag`` (8 hex digits) in a DICOM JSON dataset, or None."""
    element = item.get(tag) or {}
    values = element.get("Value") or []
    if not values:
        return None
    first = values[0]
    if isinstance(first, dict):  # a person name: {"Alphabetic": "..."}
        return first.get("Alphabetic")
    return first


def _values(item: Mapping[str, Any], tag: str) -> tuple[str, ...]:
    element = item.get(tag) or {}
    return tuple(str(v) for v in element.get("Value") or ())


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _date(value: Any) -> dt.date | None:
    text = str(value or "").strip()
    try:
        return dt.datetime.strptime(text[:8], "%Y%m%d").date()
    except ValueError:
        return None


STUDY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("patient_id", "Patient ID"),
    ("patient_name", "Name"),
    ("study_date", "Date"),
    ("description", "Description"),
    ("modalities", "Modalities"),
    ("series_count", "Series"),
    ("instance_count", "Images"),
    ("accession_number", "Accession"),
    ("study_instance_uid", "Study UID"),
)
"""Attribute and column title of each column of a study table, in display order."""


@dataclass(frozen=True)
class StudySummary:
    """One study found by a QIDO-RS search."""

    study_instance_uid: str
    patient_id: str = ""
    patient_name: str = ""
    study_date: dt.date | None = None
    description: str = ""
    accession_number: str = ""
    modalities: tuple[str, ...] = ()
    series_count: int | None = None
    instance_count: int | None = None

    @classmethod
    def from_dicom_json(cls, item: Mapping[str, Any]) -> StudySummary:
        """Read a QIDO-RS study result (DICOM JSON)."""
        return cls(
            study_instance_uid=check_uid(_value(item, "0020000D"), "StudyInstanceUID"),
            patient_id=str(_value(item, "00100020") or ""),
            patient_name=str(_value(item, "00100010") or ""),
            study_date=_date(_value(item, "00080020")),
            description=str(_value(item, "00081030") or ""),
            accession_number=str(_value(item, "00080050") or ""),
            modalities=_values(item, "00080061"),
            series_count=_int(_value(item, "00201206")),
            instance_count=_int(_value(item, "00201208")),
        )

    def row(self) -> dict[str, str]:
        """Display text per attribute of :data:`STUDY_COLUMNS` (empty for unknown)."""
        return {
            "patient_id": self.patient_id,
            "patient_name": self.patient_name.replace("^", " ").strip(),
            "study_date": self.study_date.isoformat() if self.study_date else "",
            "description": self.description,
            "modalities": ",".join(self.modalities),
            "series_count": "" if self.series_count is None else str(self.series_count),
            "instance_count": "" if self.instance_count is None else str(self.instance_count),
            "accession_number": self.accession_number,
            "study_instance_uid": self.study_instance_uid,
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``--json``)."""
        return {
            "study_instance_uid": self.study_instance_uid,
            "patient_id": self.patient_id,
            "patient_name": self.patient_name,
            "study_date": self.study_date.isoformat() if self.study_date else None,
            "description": self.description,
            "accession_number": self.accession_number,
            "modalities": list(self.modalities),
            "series_count": self.series_count,
            "instance_count": self.instance_count,
        }


SERIES_COLUMNS: tuple[tuple[str, str], ...] = (
    ("series_number", "#"),
    ("modality", "Modality"),
    ("description", "Description"),
    ("instance_count", "Images"),
    ("series_instance_uid", "Series UID"),
)
"""Attribute and column title of each column of a series table, in display order."""


@dataclass(frozen=True)
class SeriesSummary:
    """One series of a study, found by a QIDO-RS search."""

    study_instance_uid: str
    series_instance_uid: str
    modality: str = ""
    series_number: int | None = None
    description: str = ""
    instance_count: int | None = None

    @classmethod
    def from_dicom_json(cls, study_uid: str, item: Mapping[str, Any]) -> SeriesSummary:
        """Read a QIDO-RS series result (DICOM JSON)."""
        return cls(
            study_instance_uid=study_uid,
            series_instance_uid=check_uid(_value(item, "0020000E"), "SeriesInstanceUID"),
            modality=str(_value(item, "00080060") or ""),
            series_number=_int(_value(item, "00200011")),
            description=str(_value(item, "0008103E") or ""),
            instance_count=_int(_value(item, "00201209")),
        )

    def row(self) -> dict[str, str]:
        """Display text per attribute of :data:`SERIES_COLUMNS`."""
        return {
            "series_number": "" if self.series_number is None else str(self.series_number),
            "modality": self.modality,
            "description": self.description,
            "instance_count": "" if self.instance_count is None else str(self.instance_count),
            "series_instance_uid": self.series_instance_uid,
        }


@dataclass(frozen=True)
class InstanceRef:
    """One instance to retrieve: its three UIDs (checked, they become cache paths)."""

    study_instance_uid: str
    series_instance_uid: str
    sop_instance_uid: str


@dataclass(frozen=True)
class Progress:
    """Where a retrieval is, reported after every instance (for a progress bar).

    ``done`` counts instances in the cache so far, the ``skipped`` ones (already complete from an
    earlier, interrupted run) included, out of ``total``; ``retrieved_bytes`` counts what this
    run wrote.
    """

    done: int
    total: int
    skipped: int
    retrieved_bytes: int
    series_description: str = ""

    @property
    def fraction(self) -> float:
        """0..1 (1 for an empty study)."""
        return 1.0 if self.total == 0 else self.done / self.total


@dataclass(frozen=True)
class PullResult:
    """What a retrieval left in the cache."""

    folder: Path
    studies: tuple[StudySummary, ...]
    retrieved: int
    skipped: int
    retrieved_bytes: int

    @property
    def total(self) -> int:
        """Instances now complete in the cache for the studies pulled."""
        return self.retrieved + self.skipped


@dataclass(frozen=True)
class StoreResult:
    """What a STOW-RS request stored."""

    stored_sop_instance_uids: tuple[str, ...]
    study_instance_uids: tuple[str, ...]


def default_cache_dir() -> Path:
    """``$LESION_TOOL_CACHE_DIR``, else ``$XDG_CACHE_HOME/lesion-tool/pacs`` (``~/.cache``)."""
    explicit = os.environ.get("LESION_TOOL_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lesion-tool" / "pacs"


def _parse_day(text: str, whole: str) -> dt.date:
    text = text.strip()
    for fmt in ("%Y%m%d", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(
        f"{whole!r} is not a date or date range: give YYYYMMDD, YYYYMMDD-YYYYMMDD (either end "
        "may be left out) or YYYY-MM-DD..YYYY-MM-DD"
    )


def parse_date_range(text: str) -> tuple[dt.date | None, dt.date | None]:
    """``FROM-TO`` (DICOM ``YYYYMMDD-YYYYMMDD``, either end open) or ISO ``FROM..TO``.

    A single date is a one-day range. Raises ``ValueError`` with the accepted forms.
    """
    whole = text.strip()
    if ".." in whole:
        start, end = whole.split("..", 1)
    elif re.fullmatch(r"\d{8}|\d{4}-\d{2}-\d{2}", whole):
        start = end = whole
    elif "-" in whole and re.fullmatch(r"\d{0,8}-\d{0,8}", whole):
        start, end = whole.split("-", 1)
    else:
        raise ValueError(
            f"{whole!r} is not a date or date range: give YYYYMMDD, YYYYMMDD-YYYYMMDD (either "
            "end may be left out) or YYYY-MM-DD..YYYY-MM-DD"
        )
    first = _parse_day(start, whole) if start.strip() else None
    last = _parse_day(end, whole) if end.strip() else None
    if first is None and last is None:
        raise ValueError(f"{whole!r} names no date")
    if first is not None and last is not None and first > last:
        raise ValueError(f"{whole!r}: the range ends before it starts")
    return first, last


def dicom_date_range(first: dt.date | None, last: dt.date | None) -> str:
    """The QIDO-RS StudyDate filter for a range (open ends allowed)."""
    a = first.strftime("%Y%m%d") if first else ""
    b = last.strftime("%Y%m%d") if last else ""
    return a if a == b else f"{a}-{b}"
