"""Registrations cached per pair of series, in a sidecar JSON next to the assessment.

The assessment schema is left unchanged: ``<assessment>.registration.json`` beside
``<assessment>.json`` holds one entry per (baseline series, follow-up series) pair, keyed by both
SeriesInstanceUIDs, the file count, sizes and modification times of both series and the method's
version and settings; an entry whose key no longer matches (a series re-exported, the method
changed) is recomputed. The stored transform is JSON (ITK parameters, see
:func:`~lesion_tool.registration.register.transform_to_dict`), so a reopened reading and the batch
tools map points the same way.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lesion_tool.io.volume import CTVolume
from lesion_tool.registration.register import (
    METHOD_VERSION,
    Registration,
    RegistrationSettings,
)

__all__ = [
    "FORMAT",
    "pair_key",
    "read_cached",
    "series_signature",
    "sidecar_path",
    "store",
    "volume_signature",
]

FORMAT = "lesion-tool.registrations"


def sidecar_path(assessment_path: str | os.PathLike[str]) -> Path:
    """``x/name.json`` -> ``x/name.registration.json``."""
    p = Path(assessment_path)
    stem = p.name[: -len(".json")] if p.name.endswith(".json") else p.name
    return p.with_name(f"{stem}.registration.json")


def series_signature(files: Sequence[str | os.PathLike[str]]) -> dict[str, int]:
    """What identifies a series' files on disk: their count, total size and latest mtime (ns)."""
    stats = [os.stat(f) for f in files]
    return {
        "files": len(stats),
        "bytes": sum(s.st_size for s in stats),
        "mtime_ns": max((s.st_mtime_ns for s in stats), default=0),
    }


def volume_signature(volume: CTVolume) -> dict[str, int]:
    """:func:`series_signature` of the files a loaded volume came from (``metadata["files"]``),
    so the plugin and the ``propagate`` command key a pair alike; a volume without files on
    disk (built in memory) is identified by its slice count and pixel bytes."""
    files = volume.metadata.get("files") or ()
    if files and all(os.path.exists(f) for f in files):
        return series_signature(files)
    return {"files": int(volume.shape[0]), "bytes": int(volume.array.nbytes), "mtime_ns": 0}


def pair_key(
    fixed_uid: str,
    moving_uid: str,
    fixed_signature: dict[str, int],
    moving_signature: dict[str, int],
    settings: RegistrationSettings,
    focus: Sequence[Sequence[float]] | None = None,
) -> str:
    """Hash of everything a registration result depends on."""
    blob = json.dumps(
        {
            "fixed": [fixed_uid, fixed_signature],
            "moving": [moving_uid, moving_signature],
            "method_version": METHOD_VERSION,
            "settings": settings.to_dict(),
            "focus": [[round(float(v), 1) for v in p] for p in ([] if focus is None else focus)],
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"format": FORMAT, "version": 1, "pairs": {}}
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return {"format": FORMAT, "version": 1, "pairs": {}}
    data.setdefault("pairs", {})
    return data


def read_cached(sidecar: str | os.PathLike[str], key: str) -> Registration | None:
    """The registration stored under ``key`` in ``sidecar``, or None (absent, unreadable)."""
    entry = _read(Path(sidecar))["pairs"].get(key)
    if not isinstance(entry, dict):
        return None
    try:
        return Registration.from_dict(entry)
    except (KeyError, TypeError, ValueError, RuntimeError):
        return None


def store(sidecar: str | os.PathLike[str], key: str, registration: Registration) -> None:
    """Add (or replace) the entry ``key`` of ``sidecar``, written atomically."""
    from lesion_tool.storage.atomic import atomic_write

    path = Path(sidecar)
    data = _read(path)
    data["pairs"][key] = registration.to_dict()
    with atomic_write(path) as fh:
        json.dump(data, fh, separators=(",", ":"))
        fh.write("\n")
