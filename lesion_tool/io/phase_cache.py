"""A cache of the pixel phase evidence, so that re-scanning an unchanged archive reads headers only.

One small JSON file per image stack holds its :class:`~lesion_tool.io.phase.Enhancement`. The
file's name is a digest of what the evidence depends on: the method version, the
SeriesInstanceUID, the stack's files in order with their size and modification time (ns), the
pixel spacing and orientation. A changed, added or removed file gives a new name, so an entry is
never stale; old entries are simply no longer read.

Where: ``$LESION_TOOL_CACHE_DIR`` when set (an empty value turns the cache off), else the user's
cache folder (``platformdirs.user_cache_dir("lesion-tool")``, e.g. ``~/.cache/lesion-tool``), in
``phase-v1/``. A cache that cannot be read or written is ignored: the evidence is computed again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from lesion_tool.io.phase import Enhancement

__all__ = ["CACHE_ENV", "cache_dir", "load", "stack_key", "store"]

log = logging.getLogger(__name__)

CACHE_ENV = "LESION_TOOL_CACHE_DIR"
METHOD_VERSION = "enhancement-2"
"""Part of every key: change it when :func:`~lesion_tool.io.phase.estimate_enhancement` or the
slices it is given change, so entries of the old method are not used."""


def cache_dir() -> Path | None:
    """The folder of the phase cache, or None when turned off (``LESION_TOOL_CACHE_DIR=""``)."""
    configured = os.environ.get(CACHE_ENV)
    if configured is not None:
        return Path(configured) / "phase-v1" if configured else None
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("lesion-tool", appauthor=False)) / "phase-v1"


def stack_key(series_uid: str, files: Sequence[Path], extra: Sequence[object] = ()) -> str | None:
    """Digest naming one stack's entry, or None when a file cannot be stat'ed (no caching)."""
    digest = hashlib.sha256()
    digest.update(f"{METHOD_VERSION}\0{series_uid}\0{list(extra)!r}\0".encode())
    try:
        for path in files:
            st = os.stat(path)
            digest.update(f"{os.fspath(path)}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    except OSError:
        return None
    return digest.hexdigest()


def _entry(folder: Path, key: str) -> Path:
    return folder / key[:2] / f"{key}.json"


def load(key: str | None) -> Enhancement | None:
    """The cached evidence under ``key``, or None (absent, unreadable, turned off)."""
    folder = cache_dir()
    if key is None or folder is None:
        return None
    try:
        data = json.loads(_entry(folder, key).read_bytes())
        return Enhancement(
            aorta_hu=data["aorta_hu"],
            portal_vein_hu=data["portal_vein_hu"],
            liver_hu=data["liver_hu"],
            slices_used=int(data["slices_used"]),
            notes=tuple(data["notes"]),
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as err:
        log.debug("phase cache entry %s unusable (%s): computing again", key, err)
        return None


def store(key: str | None, enhancement: Enhancement) -> None:
    """Save ``enhancement`` under ``key`` atomically (a reader never sees half a file)."""
    folder = cache_dir()
    if key is None or folder is None:
        return
    path = _entry(folder, key)
    data = {
        # Full precision (not Enhancement.to_dict's rounding): a cached scan must equal a fresh one.
        "aorta_hu": enhancement.aorta_hu,
        "portal_vein_hu": enhancement.portal_vein_hu,
        "liver_hu": enhancement.liver_hu,
        "slices_used": enhancement.slices_used,
        "notes": list(enhancement.notes),
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as err:
        log.debug("phase cache not written (%s)", err)
