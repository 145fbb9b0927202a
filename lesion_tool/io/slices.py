"""What PACS calls a slice: series and instance numbers, and the series' identity and window.

A volume's slice index (array order, sorted by position) is not what a radiologist or a trial
monitor can look up: PACS names an image by its SeriesNumber and InstanceNumber ("Se 103 / Im
37"). :func:`series_display_info` reads those (and the series' own WindowCenter / WindowWidth)
from the headers of the files a volume was read from, so every place that names a slice can
show the PACS numbers (the InstanceNumber alone, "Im 37", where the files carry no
SeriesNumber).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lesion_tool.io.volume import CTVolume

_TAGS = [
    "SeriesNumber",
    "InstanceNumber",
    "WindowCenter",
    "WindowWidth",
    "SharedFunctionalGroupsSequence",
    "PerFrameFunctionalGroupsSequence",
]


@dataclass(frozen=True)
class SeriesDisplayInfo:
    """Identity of a shown series and the PACS numbers of each of its slices (array order)."""

    patient_id: str
    study_date: dt.date | None
    series_number: int | None
    series_description: str
    instance_numbers: tuple[int | None, ...]
    """InstanceNumber of the file of each slice (None when unknown)."""
    frame_numbers: tuple[int | None, ...] = ()
    """1-based frame of each slice in a multi-frame object (None for single-frame files)."""
    window: tuple[float, float] | None = None
    """The series' own ``(WindowCenter, WindowWidth)`` in HU, when its header has one."""

    @property
    def n_slices(self) -> int:
        """Number of slices described."""
        return len(self.instance_numbers)

    def numbers(self, index: int) -> tuple[int | None, int | None]:
        """``(SeriesNumber, InstanceNumber)`` of slice ``index`` (array order).

        Raises
        ------
        IndexError
            If ``index`` is not a slice of the series.
        """
        if not 0 <= index < self.n_slices:
            raise IndexError(f"Slice {index} is not in a series of {self.n_slices} slices.")
        return self.series_number, self.instance_numbers[index]

    @property
    def series_name(self) -> str:
        """``"Se 103"``, or "" when the headers carry no SeriesNumber (IRCADb's): a "Se ?"
        names nothing a reader can look up."""
        return f"Se {self.series_number}" if self.series_number is not None else ""

    def label(self, index: int) -> str:
        """``"Se 103 · Im 37"`` (PACS names; ``"Im 37"`` without a SeriesNumber), with
        ``· Fr n`` for a frame of a multi-frame object; ``"slice k / n"`` (1-based) when the
        headers give no instance number."""
        _series, instance = self.numbers(index)
        if instance is None:
            return f"slice {index + 1} / {self.n_slices}"
        text = " · ".join(t for t in (self.series_name, f"Im {instance}") if t)
        frame = self.frame_numbers[index] if index < len(self.frame_numbers) else None
        return text if frame is None else f"{text} · Fr {frame}"

    def title(self) -> str:
        """Patient, study date and series, e.g. ``"HCC_006 · 1999-08-06 · Se 103 LIVER..."``."""
        date = self.study_date.isoformat() if self.study_date else "no date"
        series = f"{self.series_name} {self.series_description}".strip()
        parts = [self.patient_id or "no patient id", date, series]
        return " · ".join(p.strip() for p in parts if p.strip())


def _first_number(value: Any) -> float | None:
    """The first value of a (possibly multi-valued) DS element, or None."""
    if value is None or value == "":
        return None
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        if len(value) == 0:
            return None
        value = value[0]
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _window_of(ds: Any) -> tuple[float, float] | None:
    """WindowCenter / WindowWidth of a dataset (top level, else an enhanced object's
    shared or first per-frame FrameVOILUTSequence)."""
    holders = [ds]
    for group_name in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
        groups = ds.get(group_name)
        if groups:
            voi = groups[0].get("FrameVOILUTSequence")
            if voi:
                holders.append(voi[0])
    for holder in holders:
        center = _first_number(holder.get("WindowCenter"))
        width = _first_number(holder.get("WindowWidth"))
        if center is not None and width is not None and width > 0:
            return (center, width)
    return None


def series_display_info(volume: CTVolume, *, window: bool = True) -> SeriesDisplayInfo:
    """The PACS numbers and identity of ``volume``'s slices, read from its files' headers.

    Uses ``volume.metadata["files"]`` (one path per slice) and ``["frame_indices"]``, which
    :func:`lesion_tool.io.load_series` and the plugin's lazy loaders record. A volume built
    without files (a test array), or a file gone since, gets no instance number (its label says
    ``slice k / n``). Only header elements are read (about 1 ms per file); where
    ``metadata["instance_numbers"]`` (from the headers :func:`lesion_tool.io.load_series` already
    read) gives the numbers and the series number is known, files are only checked to exist and
    read until one gives the window; with ``window=False`` (slice names need no window) they are
    not read at all.
    """
    files = list(volume.metadata.get("files") or [])
    frames = list(volume.metadata.get("frame_indices") or [None] * len(files))
    series_number = volume.metadata.get("series_number")
    instances: list[int | None] = []
    shown: tuple[float, float] | None = None
    cache: dict[str, Any] = {}
    known = volume.metadata.get("instance_numbers")
    if known is not None and series_number is not None and len(known) == len(files):
        # (a file gone since loading leaves its slice unnumbered, as when read here)
        instances = [
            None if n is None or not os.path.isfile(f) else int(n)
            for n, f in zip(known, files, strict=True)
        ]
    for path in files:
        if len(instances) == len(files) and (shown is not None or not window):
            break
        import pydicom  # here: slice names from recorded numbers never need it
        from pydicom.errors import InvalidDicomError

        ds = cache.get(path)
        if ds is None:
            try:
                ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=_TAGS)
            except (OSError, InvalidDicomError):
                ds = pydicom.Dataset()  # moved or unreadable since loading: no number
            cache[path] = ds
        if len(instances) < len(files):
            number = ds.get("InstanceNumber")
            instances.append(int(number) if number not in (None, "") else None)
        if series_number is None and ds.get("SeriesNumber") not in (None, ""):
            series_number = int(ds.SeriesNumber)
        if shown is None:
            shown = _window_of(ds)
    if len(instances) != volume.shape[0]:
        instances = [None] * volume.shape[0]
        frames = [None] * volume.shape[0]
    return SeriesDisplayInfo(
        patient_id=volume.patient_id,
        study_date=volume.study_date,
        series_number=int(series_number) if series_number is not None else None,
        series_description=volume.series_description,
        instance_numbers=tuple(instances),
        frame_numbers=tuple(None if f is None else int(f) + 1 for f in frames),
        window=shown,
    )
