"""Loading a patient's studies for napari: scan, then the arterial series first, then the rest.

One generator, :func:`iter_loaded_series`, serves the widget's background loader (which shows each
series as it arrives). The reader contribution (File > Open Folder, drag and drop, sample data)
runs on napari's main thread, so it reads pixels only for the series measured on and gives the
other phases as lazy volumes (:func:`lazy_volume`): header geometry now, pixels when a hidden
layer is first shown. It only sequences core calls: :func:`lesion_tool.io.scan_folders` finds the
studies, their series and the series each study measures on (its arterial phase);
:func:`lesion_tool.io.load_series` reads each one.
"""

from __future__ import annotations

import datetime as dt
import os
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lesion_tool.errors import GeometryError, HeaderWarning, LesionToolError, SeriesError
from lesion_tool.io import SeriesStack, load_series, scan_folders
from lesion_tool.io.series import (
    FrameRef,
    frames_of,
    output_dtype,
    read_frame,
    stack_geometry,
    volume_from_geometry,
)
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
    phase_warnings: tuple[str, ...] = ()
    """What the core's phase check says about this series (e.g. pixels not arterial)."""

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
                "phase_warnings": list(self.phase_warnings),
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


def _read_pixels(files: tuple[str, ...], shape: tuple[int, int, int], dtype: str) -> np.ndarray:
    """The ``(z, y, x)`` HU array of one series, read by the core loader (the lazy task)."""
    with warnings.catch_warnings():
        # the header warnings were already collected from the scan (see lazy_volume)
        warnings.simplefilter("ignore", HeaderWarning)
        array = load_series(list(files)).array
    if array.dtype != np.dtype(dtype):
        raise SeriesError(
            f"Series in {Path(files[0]).parent}: pixel values beyond the range its headers "
            "declare; open the folder with the widget's Open study instead."
        )
    if array.shape != shape:
        raise GeometryError(
            f"Series in {Path(files[0]).parent}: {array.shape} voxels read, {shape} expected "
            "from its headers (files changed since the folder was opened?)."
        )
    return array


def _checked_frames(series: SeriesStack) -> tuple[Any, str]:
    """The core's checked stack geometry of ``series`` from its scanned headers, and its name.

    Raises what :func:`~lesion_tool.io.load_series` would raise on the same headers (no image,
    duplicate images, tilt, gaps...).
    """
    headers = [h for h in series.headers if h.is_image]
    if not headers:
        raise SeriesError(f"Series {series.description or series.uid}: no image headers.")
    name = f'Series {series.uid} "{series.description}"'
    sops: dict[str, Path] = {}
    for h in headers:
        if h.sop_instance_uid in sops:
            raise GeometryError(
                f"{name}: {h.path} and {sops[h.sop_instance_uid]} are the same image "
                f"(SOPInstanceUID {h.sop_instance_uid}); remove one copy."
            )
        sops[h.sop_instance_uid] = h.path
    return stack_geometry(frames_of(headers), name=name), name


def _volume_of(geometry: Any, array: Any) -> CTVolume:
    """The core's volume of a checked stack over a lazy ``array``, marked lazy."""
    volume = volume_from_geometry(geometry, array)
    volume.metadata["lazy"] = True
    return volume


def lazy_volume(series: SeriesStack) -> CTVolume:
    """A volume of ``series`` whose geometry comes from its headers and whose pixels are lazy.

    The geometry is the core's own (:func:`lesion_tool.io.series.stack_geometry` on the scanned
    headers, exactly what :func:`lesion_tool.io.load_series` computes), so the layer's scale,
    translate and metadata equal those of an eager load. ``array`` is a dask array of one chunk
    whose task calls :func:`~lesion_tool.io.load_series` on the series' files: nothing is read
    until napari shows (computes) the layer.

    Raises
    ------
    SeriesError, GeometryError
        What :func:`~lesion_tool.io.load_series` would raise on the same headers (no image,
        duplicate images, tilt, gaps...).
    """
    import dask
    import dask.array as da

    geometry, _name = _checked_frames(series)
    first = geometry.frames[0].header
    shape = (len(geometry.frames), int(first.rows or 0), int(first.columns or 0))
    dtype = output_dtype(geometry.frames)
    files = tuple(str(f) for f in series.files)  # what the eager path passes to load_series
    task = dask.delayed(_read_pixels, pure=True)(files, shape, dtype.str)
    array = da.from_delayed(task, shape=shape, dtype=dtype, name=f"lesion-tool-{series.stack_id}")
    return _volume_of(geometry, array)


def _read_slice(ref: FrameRef, dtype: str, name: str) -> np.ndarray:
    """One ``(1, y, x)`` chunk of a per-slice lazy volume: the core's :func:`read_frame`.

    Raises
    ------
    SeriesError
        If the slice's HU values do not fit the int16 array declared from the headers. (The
        eager :func:`~lesion_tool.io.load_series` would switch the whole volume to float32; a
        lazy array must declare its type before reading, and CT values beyond int16 are
        pathological, e.g. a padding value of -32768 stored with intercept -1024.)
    """
    frame = read_frame(ref, dtype, name)
    if frame.dtype != np.dtype(dtype):
        raise SeriesError(
            f"{name}: {ref.header.path} holds HU values beyond the int16 range "
            f"({float(frame.min()):.0f} to {float(frame.max()):.0f}); open the folder with the "
            "widget's Open study, which reads such series as float32."
        )
    return frame[np.newaxis]


def slice_lazy_volume(series: SeriesStack) -> CTVolume:
    """A volume of ``series`` whose array is a dask array of one chunk per slice.

    Geometry as in :func:`lazy_volume`. Each chunk is one 2-D frame decoded from its own file
    (or its own frame of a multi-frame file) by :func:`lesion_tool.io.series.read_frame`, with
    the rescale, values and type of :func:`~lesion_tool.io.load_series`, so showing one slice
    reads one file. A slice whose values overflow int16 raises when read (see
    :func:`_read_slice`).

    Raises
    ------
    SeriesError, GeometryError
        As :func:`lazy_volume`.
    """
    import dask.array as da
    from dask.base import tokenize
    from dask.highlevelgraph import HighLevelGraph

    geometry, name = _checked_frames(series)
    frames = geometry.frames
    dtype = output_dtype(frames)
    first = frames[0].header
    rows, cols = int(first.rows or 0), int(first.columns or 0)
    key = f"lesion-tool-slices-{series.stack_id}-" + tokenize(
        [(str(f.header.path), f.frame_index) for f in frames], dtype.str
    )
    graph = {(key, k, 0, 0): (_read_slice, ref, dtype.str, name) for k, ref in enumerate(frames)}
    array = da.Array(
        HighLevelGraph.from_collections(key, graph, dependencies=()),
        key,
        chunks=((1,) * len(frames), (rows,), (cols,)),
        dtype=dtype,
    )
    return _volume_of(geometry, array)


def series_name(series: SeriesStack) -> str:
    """How a message names a series: its quoted description, else its number and the end of
    its UID (IRCADb's CT has neither description nor number: the message read 'measuring on
    ""')."""
    if series.description:
        return f'"{series.description}"'
    numbered = (
        f"series {series.series_number}" if series.series_number is not None else "the series"
    )
    return f"{numbered} without a description (UID ...{series.series_instance_uid[-12:]})"


def iter_loaded_series(
    paths: Iterable[str | os.PathLike[str]],
    *,
    other_phases: bool = True,
    lazy_others: bool = False,
    lazy_measured: bool = False,
) -> Iterator[ScanDone | LoadProblem | LoadedSeries]:
    """Scan ``paths`` and load every study's arterial series, then (optionally) the others.

    Yields a :class:`ScanDone` first, then :class:`LoadProblem` for what cannot be used and a
    :class:`LoadedSeries` per series read (all arterial series before any other, so the first
    display comes as early as possible). With ``lazy_others`` the series not measured on are
    given as :func:`lazy_volume` (headers only; pixels read when first shown), which is what
    the reader contribution uses on napari's main thread. With ``lazy_measured`` the series
    measured on are given as :func:`slice_lazy_volume` (one dask chunk per slice, so the first
    display reads one file).

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
    patients = [patient for patient in scan.patients if patient.studies]
    if len(patients) > 1:
        # one reading is one patient's: a second patient's baseline would become "fu3"
        ids = ", ".join(repr(p.patient_id) for p in patients[:5])
        raise SeriesError(
            f"{', '.join(str(p) for p in paths)}: holds the studies of {len(patients)} patients "
            f"({ids}); open one patient's folder."
        )
    studies = [study for patient in patients for study in patient.studies]
    labels = timepoint_labels([study.study_date for study in studies])
    first: list[tuple[Any, Any, str, bool]] = []
    rest: list[tuple[Any, Any, str, bool]] = []
    for study, label in zip(studies, labels, strict=True):
        chosen = study.arterial_series
        if chosen is None and study.image_stacks:
            # no arterial phase (e.g. a portal-venous-only study): measure on its largest
            # series, readable for RECIST 1.1; the panel states what it means for mRECIST
            chosen = max(study.image_stacks, key=lambda s: len(s.files))
            why = study.arterial_reason or "no series was called arterial"
            yield LoadProblem(
                f"Study {study.study_date} ({study.study_instance_uid}): no arterial series "
                f"({why}); measuring on {series_name(chosen)} instead (valid for RECIST "
                "1.1, not for mRECIST's viable diameter)."
            )
        for series in study.image_stacks:
            if series.stray:
                # left out of the series' volume by the core, as every load of it does
                yield LoadProblem(f"Series {series.description or series.uid}: {series.stray}")
                continue
            is_chosen = chosen is not None and series.stack_id == chosen.stack_id
            (first if is_chosen else rest).append((study, series, label, is_chosen))
    if not first and not rest:
        where = ", ".join(str(p) for p in paths)
        raise SeriesError(f"{where}: no DICOM image series found.")
    queue = first + (rest if other_phases else [])
    yield ScanDone(total=len(queue), n_studies=len(studies))
    for count, (study, series, label, is_chosen) in enumerate(queue, start=1):
        try:
            volume = None
            if lazy_others and not is_chosen and series.headers:
                volume = lazy_volume(series)
            elif lazy_measured and is_chosen and series.headers:
                volume = slice_lazy_volume(series)
            if volume is None:
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
            phase_warnings=tuple(
                dict.fromkeys([*(call.warnings if call is not None else ()), *study.warnings])
            )
            if is_chosen
            else (),
        )
