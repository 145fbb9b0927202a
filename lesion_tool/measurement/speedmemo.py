"""Smoothed window planes shared by the delineations of one reader's prompt (issue 11: time per
click; w14-speed).

One prompt to :func:`~lesion_tool.measurement.segment.measure_lesion` runs many delineations:
the click's own, then the re-click steps (``margin.follow_core``, ``nodule_seam.follow_seam``,
``reseed.follow_open_end``, ``recentre.follow_middle``, ``offliver.from_cap``), and under a cap
click (``capclick.follow_cap``) each of those again from the slices next to the click, at the
same in-plane point. Each delineation opens its own window and smoothed the same slices of it
again. Within one prompt (:func:`one_prompt`) the Gaussian-smoothed planes are kept per window
box and smoothing (:func:`shared_planes`): a window on the same pixels smooths them the same
way, so the values are bit for bit those computed afresh. The planes are made read-only, so a
caller writing into one fails loudly instead of changing another window's values. Nothing is
kept beyond the prompt (the next prompt, or a changed image, starts afresh).

Also tried, and not kept: remembering whole delineations within the prompt (keyed by prompt,
phase and offliver's and seam's context switches). On the slowest stress prompts (necrotic
core, seed 0) and IRCADb 05's cap click the chains never delineated the same prompt twice (50
of 50, 7 of 7 delineations run either way): it saved nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from lesion_tool.io.volume import CTVolume

__all__ = ["one_prompt", "shared_planes"]


class _Shared:
    """What one prompt's windows share: the smoothed planes per (box, smoothing)."""

    __slots__ = ("planes", "volume")

    def __init__(self, volume: CTVolume) -> None:
        self.volume = volume
        self.planes: dict[tuple, dict[int, np.ndarray]] = {}


_shared: ContextVar[_Shared | None] = ContextVar("speed_shared_planes", default=None)


@contextmanager
def one_prompt(volume: CTVolume) -> Iterator[None]:
    """Share smoothed planes between the windows of one prompt on ``volume`` (a nested scope
    on the same volume joins the outer one)."""
    outer = _shared.get()
    if outer is not None and outer.volume is volume:
        yield
        return
    token = _shared.set(_Shared(volume))
    try:
        yield
    finally:
        _shared.reset(token)


def shared_planes(
    volume: CTVolume, box: tuple[int, int, int, int], sigma: tuple[float, ...]
) -> dict[int, np.ndarray] | None:
    """The dict of smoothed planes (slice index -> plane) shared by every window of this
    prompt on ``volume`` with pixel box ``(y0, y1, x0, x1)`` and smoothing ``sigma``; None
    outside :func:`one_prompt` (the window then keeps its own)."""
    shared = _shared.get()
    if shared is None or shared.volume is not volume:
        return None
    return shared.planes.setdefault((*box, *sigma), {})
