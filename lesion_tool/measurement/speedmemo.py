"""Work shared between the delineations of one reader's prompt (issue 11: time per click).

One prompt to :func:`~lesion_tool.measurement.segment.measure_lesion` runs many delineations:
the click's own, then the re-click steps (``margin.follow_core``, ``nodule_seam.follow_seam``,
``reseed.follow_open_end``, ``recentre.follow_middle``), and under a cap click
(``capclick.follow_cap``) each of those again from the slices next to the click. Those chains
often click the same voxel twice (a cap re-click one slice down is followed back up to the
slice of the reader's click) and always open windows on the same in-plane point.

Within one prompt (:func:`one_prompt`) this module keeps

- each delineation's outcome (:func:`memoised`): a delineation is a pure function of the image,
  the prompt, the phase and the two context switches that change what it does (offliver's
  lifted liver refusals, seam's one-level guard), so the same key gives the same result. Each
  caller gets its own copy of the result (masks copied: callers test ``found.mask is
  first.mask`` to see whether a re-click was kept) and refusals are raised again as copies;
- the Gaussian-smoothed window planes (:func:`shared_planes`), keyed by the window's box and
  smoothing: a window on the same in-plane point smooths the same pixels the same way. The
  planes are made read-only, so a caller that wrote into one would fail loudly, not silently
  change another window's values.

Nothing is kept beyond the prompt: the next prompt (or a changed image) starts afresh. Results
are bit for bit those computed without the memo (the stress bench's prompts dumped before and
after: see ``tests/core/test_measure_speedmemo.py`` and the README); only ``time_s`` differs,
which counts the time actually spent.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from lesion_tool.errors import LesionToolError

if TYPE_CHECKING:
    import numpy as np

    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement, LesionPrompt

__all__ = ["memoised", "one_prompt", "shared_planes"]


class _Memo:
    """What one prompt's delineations share (see the module docstring)."""

    __slots__ = ("planes", "results", "volume")

    def __init__(self, volume: CTVolume) -> None:
        self.volume = volume
        self.results: dict[tuple, LesionMeasurement | LesionToolError] = {}
        self.planes: dict[tuple, dict[int, np.ndarray]] = {}


_memo: ContextVar[_Memo | None] = ContextVar("speed_memo", default=None)


@contextmanager
def one_prompt(volume: CTVolume) -> Iterator[None]:
    """Share work between the delineations of one prompt on ``volume`` (nested scopes on the
    same volume join the outer one)."""
    outer = _memo.get()
    if outer is not None and outer.volume is volume:
        yield
        return
    token = _memo.set(_Memo(volume))
    try:
        yield
    finally:
        _memo.reset(token)


def _switches() -> tuple[bool, bool]:
    """The context switches a delineation depends on besides its arguments."""
    from lesion_tool.measurement.offliver import off_liver_kept
    from lesion_tool.measurement.seam import _ACTIVE

    return off_liver_kept(), _ACTIVE.get()


def _own_copy(m: LesionMeasurement, time_s: float | None = None) -> LesionMeasurement:
    """``m`` as a new result with masks of its own (and ``time_s`` when given)."""
    vm = None if m.viable_mask is None else m.viable_mask.copy()
    out = replace(m, mask=m.mask.copy(), viable_mask=vm)
    return out if time_s is None else replace(out, time_s=time_s)


Delineate = Callable[["CTVolume", "LesionPrompt", Any], "LesionMeasurement"]


def memoised(fn: Delineate) -> Delineate:
    """``fn(volume, prompt, phase)`` remembered within :func:`one_prompt` (outside it, ``fn``
    itself). ``phase_key`` of the phase must be hashable; LesionPrompt is (frozen)."""

    def wrapper(volume: CTVolume, prompt: LesionPrompt, phase: Any) -> LesionMeasurement:
        memo = _memo.get()
        if memo is None or memo.volume is not volume:
            return fn(volume, prompt, phase)
        t0 = time.perf_counter()
        key = (fn, prompt, str(phase), *_switches())
        hit = memo.results.get(key)
        if hit is None:
            try:
                found = fn(volume, prompt, phase)
            except LesionToolError as err:
                memo.results[key] = copy.copy(err)
                raise
            memo.results[key] = _own_copy(found)
            return found
        if isinstance(hit, LesionToolError):
            raise copy.copy(hit).with_traceback(None) from None
        return _own_copy(hit, time.perf_counter() - t0)

    wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
    wrapper.__doc__ = fn.__doc__
    wrapper.__name__ = getattr(fn, "__name__", "memoised")
    return wrapper


def shared_planes(volume: CTVolume, box: tuple[int, int, int, int], sigma: tuple) -> dict | None:
    """The dict of smoothed planes (slice index -> plane) shared by every window of this
    prompt on ``volume`` with pixel box ``(y0, y1, x0, x1)`` and smoothing ``sigma``; None
    outside :func:`one_prompt` (the window keeps its own)."""
    memo = _memo.get()
    if memo is None or memo.volume is not volume:
        return None
    return memo.planes.setdefault((*box, *sigma), {})
