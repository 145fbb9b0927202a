"""Loading a patient's studies for napari: scan, then the arterial series first, then the rest.

One generator, :func:`iter_loaded_series`, serves the reader contribution (which consumes it at
once), the sample data and the widget's background loader (which shows each series as it
arrives). It only sequences core calls: :func:`lesion_tool.io.scan_folders` finds the studies,
their series and the series each study measures on (its arterial phase);
:func:`lesion_tool.io.load_series` reads each one.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lesion_tool.errors import LesionToolError, SeriesError
from lesion_tool.io import load_series, scan_folders
from lesion_tool.io.volume import CTVolume

from ._layers import image_layer_data

DOCUMENT_SUFFIXES = frozenset(
    {".json", ".txt", ".md", ".csv", ".xlsx", ".pdf", ".html", ".png", ".jpg", ".xml", ".yaml"}
)
MAX_PROBLEMS_SHOWN = 3
"""Skipped files named one by one in notifications; the rest are counted."""


@dataclass(frozen=True)
class ScanDone:
    """The folder scan finished: ``total`` series will be loaded from ``n_studies`` studies."""

    total: int
    n_studies: int


@dataclass(frozen=True)
class LoadProblem:
    """A file or series that could not be used (the batch goes on)."""

    message: str


@dataclass(frozen=True)
class LoadedSeries:
    """One series read, with its place in the patient's timeline."""

    volume: CTVolume
    phase: str
    label: str
    """Timepoint label: ``baseline``, then ``fu1``, ``fu2``... by study date."""
    measure_on: bool
    """The study's arterial series (what the reader measures on)."""
    index: int
    """1-based count of series loaded so far."""
    source: str
    phase_reason: str = ""

    def layer_data(self, *, visible: bool | None = None) -> tuple[Any, dict[str, Any], str]:
        """A napari layer-data tuple for this series (hidden unless it is measured on)."""
        return image_layer_data(
            self.volume,
            phase=self.phase,
            label=self.label,
            visible=self.measure_on if visible is None else visible,
            extra={
                "measure_on": self.measure_on,
                "source": self.source,
                "phase_reason": self.phase_reason,
            },
        )


def timepoint_labels(dates: Iterable[dt.date | None]) -> list[str]:
    """Labels by date order: the earliest study is ``baseline``, the next ``fu1``, ``fu2``..."""
    dates = list(dates)
    order = sorted(range(len(dates)), key=lambda i: (dates[i] is None, dates[i] or dt.date.min))
    labels = [""] * len(dates)
    for rank, i in enumerate(order):
        labels[i] = "baseline" if rank == 0 else f"fu{rank}"
    return labels


def iter_loaded_series(
    paths: Iterable[str | os.PathLike[str]], *, other_phases: bool = True
) -> Iterator[ScanDone | LoadProblem | LoadedSeries]:
    """Scan ``paths`` and load every study's arterial series, then (optionally) the others.

    Yields a :class:`ScanDone` first, then :class:`LoadProblem` for what cannot be used and a
    :class:`LoadedSeries` per series read (all arterial series before any other, so the first
    display comes as early as possible).

    Raises
    ------
    SeriesError
        If no study with a series to measure on was found under ``paths``.
    """
    paths = [Path(p) for p in paths]
    scan = scan_folders(paths)
    # documents beside the images (truth.json, README.md...) are not worth a notification
    problems = [p for p in scan.problems if Path(p.path).suffix.lower() not in DOCUMENT_SUFFIXES]
    for problem in problems[:MAX_PROBLEMS_SHOWN]:
        yield LoadProblem(f"{problem.path}: {problem.reason}")
    if len(problems) > MAX_PROBLEMS_SHOWN:
        yield LoadProblem(f"... and {len(problems) - MAX_PROBLEMS_SHOWN} more files skipped.")
    studies = [study for patient in scan.patients for study in patient.studies]
    labels = timepoint_labels([study.study_date for study in studies])
    first: list[tuple[Any, Any, str, bool]] = []
    rest: list[tuple[Any, Any, str, bool]] = []
    for study, label in zip(studies, labels, strict=True):
        chosen = study.arterial_series
        if chosen is None:
            why = study.arterial_reason or "no series was called arterial"
            yield LoadProblem(
                f"Study {study.study_date} ({study.study_instance_uid}): no arterial series to "
                f"measure on ({why}); its series are available as hidden layers."
            )
        for series in study.image_stacks:
            is_chosen = chosen is not None and series.stack_id == chosen.stack_id
            (first if is_chosen else rest).append((study, series, label, is_chosen))
    if not first and not rest:
        where = ", ".join(str(p) for p in paths)
        raise SeriesError(f"{where}: no DICOM image series found.")
    queue = first + (rest if other_phases else [])
    yield ScanDone(total=len(queue), n_studies=len(studies))
    for count, (_study, series, label, is_chosen) in enumerate(queue, start=1):
        try:
            volume = load_series(list(series.files))
        except LesionToolError as err:
            yield LoadProblem(f"Series {series.description or series.uid}: {err}")
            continue
        call = series.phase
        yield LoadedSeries(
            volume=volume,
            phase=call.phase.value if call is not None else "unknown phase",
            label=label,
            measure_on=is_chosen,
            index=count,
            source=str(Path(series.files[0]).parent) if series.files else "",
            phase_reason="; ".join(call.evidence) if call is not None else "",
        )
