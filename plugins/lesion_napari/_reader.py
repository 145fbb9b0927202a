"""napari reader contribution: a DICOM folder (or file) -> one image layer per series.

``get_reader`` is cheap and never raises: it looks for the DICOM preamble (``DICM`` at byte 128)
in at most a few dozen files and returns None for anything else, so napari can ask other readers.
The reader it returns runs on napari's main thread (napari calls readers synchronously), so it
does as little as it can there: it scans the headers and returns. Each study's arterial series
(the series measured on; the latest one visible) is a dask array of one chunk per slice, so a
display reads only the slice shown; every other phase is a hidden layer over a lazy dask array
read only when the layer is first shown. The widget materialises a volume in a worker thread
when a measurement needs all of it. All layers have their exact physical geometry (see
:mod:`lesion_napari._layers`). For a background load with the UI free throughout, the
widget's "Open study" uses the same sequence in a worker thread.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from napari.utils.notifications import show_warning

MAX_FILES_CHECKED = 64
MAX_DEPTH = 4

PathOrPaths = str | os.PathLike | Sequence[str | os.PathLike]


def _is_dicom_file(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            head = handle.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:132] == b"DICM"


def _folder_has_dicom(folder: Path) -> bool:
    """Breadth-first look for one DICOM file, bounded in files read and depth."""
    checked = 0
    level = [folder]
    for _ in range(MAX_DEPTH + 1):
        next_level: list[Path] = []
        for directory in level:
            try:
                entries = sorted(os.scandir(directory), key=lambda e: e.name)
            except OSError:
                continue
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                try:
                    if entry.is_dir():
                        next_level.append(Path(entry.path))
                        continue
                    if not entry.is_file():
                        continue
                except OSError:
                    continue
                if _is_dicom_file(Path(entry.path)):
                    return True
                checked += 1
                if checked >= MAX_FILES_CHECKED:
                    return False
        level = next_level
        if not level:
            return False
    return False


def get_reader(path: PathOrPaths) -> Callable[[PathOrPaths], list[Any]] | None:
    """Return :func:`read_dicom` if ``path`` is (or holds) DICOM, else None. Never raises."""
    try:
        paths = [path] if isinstance(path, str | os.PathLike) else list(path)
        if not paths:
            return None
        first = Path(paths[0])
        if first.is_dir():
            ok = _folder_has_dicom(first)
        elif first.is_file():
            ok = _is_dicom_file(first)
        else:
            ok = False
    except Exception:  # noqa: BLE001 - the reader contract: decline, never raise
        return None
    return read_dicom if ok else None


def read_dicom(path: PathOrPaths) -> list[Any]:
    """Layer-data tuples for every series under ``path``, arterial series visible.

    Raises
    ------
    lesion_tool.errors.SeriesError
        If nothing under ``path`` can be shown (napari reports it).
    """
    from napari.utils import progress

    from ._loading import LoadedSeries, LoadProblem, ScanDone, iter_loaded_series

    paths = [path] if isinstance(path, str | os.PathLike) else list(path)
    layers: list[Any] = []
    loaded: list[LoadedSeries] = []
    bar: progress | None = None
    try:
        for item in iter_loaded_series(
            [Path(p) for p in paths], lazy_others=True, lazy_measured=True
        ):
            if isinstance(item, LoadProblem):
                show_warning(item.message)
            elif isinstance(item, ScanDone):
                bar = progress(total=item.total, desc=f"Opening {item.n_studies} studies")
            elif isinstance(item, LoadedSeries):
                loaded.append(item)
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    # only the latest timepoint's arterial series is shown; the widget switches between them
    measured = [item for item in loaded if item.measure_on]
    latest = max(  # a study without StudyDate sorts first (it used to raise TypeError)
        measured,
        key=lambda item: (item.volume.study_date is not None, item.volume.study_date or date.min),
        default=None,
    )
    for item in loaded:
        layers.append(item.layer_data(visible=item is latest))
    return layers
