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

Within one prompt, what is derived from a whole plane alone (w15-speed) is kept too
(:func:`plane_derived`): every ray fan cast on a slice (``segment._cast``: the click's, its
re-centred casts, the casts again with the liver's value measured around the outline, and the
re-click chains' casts on the same window box) computed again the vessels' and fat's rim and an
enhancing lesion's bright blobs over the whole window plane, though they depend only on that
plane and a few levels. They are kept per plane (the very array: shared planes are the same
object for every window on the box) and per the levels they depend on, compared exactly; the
values are those computed afresh, bit for bit, and read-only. A window's texture plane is
shared the same way per box, slice and the liver value it leaves vessels out by
(:func:`shared_textures`).

Also tried, and not kept: remembering whole delineations within the prompt (keyed by prompt,
phase and offliver's and seam's context switches). On the slowest stress prompts (necrotic
core, seed 0) and IRCADb 05's cap click the chains never delineated the same prompt twice (50
of 50, 7 of 7 delineations run either way): it saved nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from lesion_tool.io.volume import CTVolume

__all__ = ["one_prompt", "plane_derived", "shared_planes", "shared_textures"]


class _Shared:
    """What one prompt's windows share: the smoothed planes per (box, smoothing), the texture
    planes per box, and what is derived from a plane alone per (plane, key)."""

    __slots__ = ("derived", "planes", "textures", "volume")

    def __init__(self, volume: CTVolume) -> None:
        self.volume = volume
        self.planes: dict[tuple, dict[int, np.ndarray]] = {}
        self.textures: dict[tuple, dict[tuple, np.ndarray]] = {}
        self.derived: dict[tuple, tuple[np.ndarray, object]] = {}


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


def shared_textures(
    volume: CTVolume, box: tuple[int, int, int, int]
) -> dict[tuple, np.ndarray] | None:
    """The dict of texture planes (keyed by slice and the liver value vessels are left out by)
    shared by every window of this prompt on ``volume`` with pixel box ``(y0, y1, x0, x1)``;
    None outside :func:`one_prompt`."""
    shared = _shared.get()
    if shared is None or shared.volume is not volume:
        return None
    return shared.textures.setdefault(box, {})


def plane_derived(plane: np.ndarray, key: Hashable, compute: Callable[[], object]) -> object:
    """``compute()``, a value derived from ``plane`` alone and the levels ``key`` names (an
    array made read-only, or None), kept for this prompt: the same plane object with an equal
    key gives it again. The plane is held with the value, so its identity cannot be reused by
    another array while the prompt lasts. Outside :func:`one_prompt`, computed every time."""
    shared = _shared.get()
    if shared is None:
        return compute()
    k = (id(plane), key)
    hit = shared.derived.get(k)
    if hit is not None and hit[0] is plane:
        return hit[1]
    value = compute()
    if value is not None and hasattr(value, "flags"):
        value.flags.writeable = False  # type: ignore[attr-defined]
    shared.derived[k] = (plane, value)
    return value
