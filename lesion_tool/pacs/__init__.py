"""Read from and write to a PACS over DICOMweb (QIDO-RS search, WADO-RS retrieve, STOW-RS store).

For a command or a dialog::

    from lesion_tool.pacs import PacsConnection, connect

    client = connect(PacsConnection("http://pacs:8042/dicom-web", username="u", password=pw))
    studies = client.search_studies(patient_id="HCC_006")         # list[StudySummary]
    result = client.pull(cache_dir, study_uid=studies[0].study_instance_uid, progress=print)
    # result.folder is a folder of DICOM files: scan_folders / load_series work on it
    client.store(sr_files)                                          # STOW-RS

Importing this package is cheap (dataclasses only); requests, dicomweb-client and pydicom load
when the first client is made. Every failure is a :class:`~lesion_tool.errors.PacsError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lesion_tool.errors import PacsError
from lesion_tool.pacs.models import (
    SERIES_COLUMNS,
    STUDY_COLUMNS,
    InstanceRef,
    PacsConnection,
    Progress,
    PullResult,
    SeriesSummary,
    StoreResult,
    StudySummary,
    default_cache_dir,
    parse_date_range,
)

if TYPE_CHECKING:
    from lesion_tool.pacs.client import PacsClient

__all__ = [
    "SERIES_COLUMNS",
    "STUDY_COLUMNS",
    "InstanceRef",
    "PacsClient",
    "PacsConnection",
    "PacsError",
    "Progress",
    "PullResult",
    "SeriesSummary",
    "StoreResult",
    "StudySummary",
    "connect",
    "default_cache_dir",
    "parse_date_range",
]


def connect(connection: PacsConnection) -> PacsClient:
    """A client for ``connection`` (nothing is sent until the first search, pull or store)."""
    from lesion_tool.pacs.client import PacsClient

    return PacsClient(connection)


def __getattr__(name: str) -> Any:
    if name == "PacsClient":  # loaded on first use: it imports the HTTP stack
        from lesion_tool.pacs.client import PacsClient

        return PacsClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
