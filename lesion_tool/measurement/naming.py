"""How measurement messages name a slice: as PACS does where the volume came from DICOM.

A reader looks for "Se 103 · Im 37" on the workstation, not for the 0-based array index 72 of
the volume the tool built. :func:`slice_name` gives the core's PACS label
(:meth:`lesion_tool.io.slices.SeriesDisplayInfo.label`) when the volume's files carry an
InstanceNumber, and keeps the array index (``"slice 72"``, the ``z`` of ``--seed Z,Y,X``) only
where no DICOM numbering exists (an array built in memory, a NIfTI volume).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import replace
from typing import Any

from lesion_tool.io.slices import SeriesDisplayInfo, series_display_info
from lesion_tool.io.volume import CTVolume

__all__ = ["remember_display_info", "slice_name"]

_CACHE_SIZE = 8
_cache: OrderedDict[tuple[Any, ...], SeriesDisplayInfo] = OrderedDict()
_lock = threading.Lock()  # the plugin measures in worker threads


def _key(volume: CTVolume) -> tuple[Any, ...] | None:
    files = tuple(str(f) for f in volume.metadata.get("files") or ())
    if len(files) != volume.shape[0]:
        return None
    return (files, volume.metadata.get("series_number"), volume.shape[0])


def _keep(key: tuple[Any, ...], info: SeriesDisplayInfo) -> None:
    with _lock:
        _cache[key] = info
        _cache.move_to_end(key)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)


def remember_display_info(volume: CTVolume, info: SeriesDisplayInfo) -> None:
    """Keep ``info``, ``series_display_info(volume)`` as the viewer read it to show the series,
    for :func:`slice_name`: the first click's messages then name slices without reading the
    headers again (w20-speed: on IRCADb's 129 files, which carry no SeriesNumber, the first
    click read every header, 0.19 s of CPU on top of a 0.2 s click). Only the window differs
    from what :func:`slice_name` reads itself (``window=False``), and it is left out."""
    key = _key(volume)
    if key is not None:
        _keep(key, replace(info, window=None))


def _display_info(volume: CTVolume) -> SeriesDisplayInfo | None:
    """The volume's PACS numbers, read once per series (its headers take 0.2-0.3 s for 100
    files, more than a click's measurement) and kept for the last few series."""
    key = _key(volume)
    if key is None:
        return None
    with _lock:
        info = _cache.get(key)
        if info is not None:
            _cache.move_to_end(key)
            return info
    info = series_display_info(volume, window=False)  # a name needs no window
    _keep(key, info)
    return info


def slice_name(volume: CTVolume, index: int) -> str:
    """Name slice ``index`` (0-based, array order ``z``) of ``volume`` for a message.

    Returns ``"Se 103 · Im 37"`` when the slice's file has an InstanceNumber (``"Im 37"``
    when the series has no SeriesNumber), else
    ``"slice 72"`` (the array index, as the CLI's ``--seed Z,Y,X`` takes it).
    """
    info = _display_info(volume)
    if info is not None and 0 <= index < info.n_slices and info.numbers(index)[1] is not None:
        return info.label(index)
    return f"slice {index}"
