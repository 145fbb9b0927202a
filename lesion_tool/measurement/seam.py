"""A click in the seam between a necrotic core and its enhancing rim: measure from the core.

On an arterial image a necrotic (hypo-attenuating) core sits inside a rim of enhancing tumour.
The seam between the two, blurred over a millimetre or two (and averaged with the rim above or
below it on a thick slab), reads as the liver does. A click there has the liver's value: the
click was refused by value and delineated by texture, which follows the seam's own speckle and
finds a sliver of the lesion (IRCADb 02 given a necrotic core, clicked at Im 75: 13.6 mm for
29.4; 07 on 5 mm slabs with 25 HU noise: 13.4-13.9 mm for 20.9) or runs on past it.

A reader who sees the dark core next to the click means the lesion it belongs to. Here the
darkest point of the smoothed click slice within SEAM_SEARCH_MM of the click is taken as a new
click when it is clearly darker than the liver (CORE_MARGIN_HU), and the lesion measured from
it is kept only when the core's own rule found it (a dark core inside an enhancing rim, the
whole lesion outlined: ``segment._necrotic_whole`` or ``segment._rim_around_click``) and the
outline holds the reader's click. Anything else (no dark tissue near, a dark region that is not
a core, a whole that leaves the click out) leaves the click to texture as before.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage

from lesion_tool.measurement.raster import beyond_mm

if TYPE_CHECKING:
    from lesion_tool.measurement.segment import LesionMeasurement, LesionPrompt

__all__ = ["CORE_MARGIN_HU", "SEAM_SEARCH_MM", "core_beside", "from_core_beside", "holds_voxel"]

SEAM_SEARCH_MM = 4.0
"""How far from the click a necrotic core is looked for (a seam is 1-2 mm wide, blurred by the
smoothing and, on slabs, by the rim above and below)."""
CORE_MARGIN_HU = 30.0
"""The core must read this much darker than the liver (smoothed): well beyond the liver's
noise, as necrosis is (IRCADb cores 45-70 HU under the liver); a faint hypo-attenuating patch
of liver is not taken for one."""
PICK_SMOOTH_MM = 1.5
"""The click slice is smoothed this much more (Gaussian sigma) to pick the core's point."""
WHOLE_MARKERS = ("inside an enhancing rim (", "closes around it within")
"""Words of the flags ``segment`` adds when a dark core's whole lesion was outlined through its
enhancing rim (``_necrotic_whole``'s note, ``_rim_around_click``'s flag)."""

_ACTIVE: ContextVar[bool] = ContextVar("seam_active", default=False)


@contextmanager
def _once() -> Iterator[None]:
    token = _ACTIVE.set(True)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def core_beside(
    plane: np.ndarray,
    cy: int,
    cx: int,
    spacing_yx: Sequence[float],
    liver_hu: float,
) -> tuple[int, int] | None:
    """The darkest pixel of the smoothed ``plane`` within SEAM_SEARCH_MM of ``(cy, cx)`` when
    it reads at least CORE_MARGIN_HU under ``liver_hu`` (a necrotic core beside the click),
    else None. Fat (below 0 HU) and what lies within 2 PICK_SMOOTH_MM of it are not a core."""
    ry = math.ceil(SEAM_SEARCH_MM / spacing_yx[0])
    rx = math.ceil(SEAM_SEARCH_MM / spacing_yx[1])
    y0, y1 = max(cy - ry, 0), min(cy + ry + 1, plane.shape[0])
    x0, x1 = max(cx - rx, 0), min(cx + rx + 1, plane.shape[1])
    yy, xx = np.mgrid[y0:y1, x0:x1]
    near = np.hypot((yy - cy) * spacing_yx[0], (xx - cx) * spacing_yx[1]) <= SEAM_SEARCH_MM
    # Smoothed once more, the darkest point lies towards the core's middle, not on a speck of
    # noise at its edge (a click there finds the core alone, not the whole lesion).
    crop = ndimage.gaussian_filter(
        plane[y0:y1, x0:x1], [PICK_SMOOTH_MM / s for s in spacing_yx], mode="nearest"
    )
    # Fat's partial-volume rim, smoothed, reads as dark as a core: it is left out.
    clear = beyond_mm(plane[y0:y1, x0:x1] >= 0.0, spacing_yx, 2.0 * PICK_SMOOTH_MM)
    vals = np.where(near & clear, crop, np.inf)
    j = np.unravel_index(int(np.argmin(vals)), vals.shape)
    if not vals[j] <= liver_hu - CORE_MARGIN_HU:
        return None
    return int(y0 + j[0]), int(x0 + j[1])


def is_core_whole(m: LesionMeasurement) -> bool:
    """Whether ``m`` was outlined as a necrotic core's whole lesion (its flags carry one of
    :data:`WHOLE_MARKERS`: a rim closing round the core)."""
    return any(w in f for f in m.flags for w in WHOLE_MARKERS)


def holds_voxel(m: LesionMeasurement, voxel: tuple[int, ...]) -> bool:
    """Whether ``m``'s mask holds ``voxel`` ``(z, y, x)``."""
    idx = tuple(v - o for v, o in zip(voxel, m.offset, strict=True))
    return all(0 <= i < n for i, n in zip(idx, m.mask.shape, strict=True)) and bool(m.mask[idx])


def from_core_beside(
    prompt: LesionPrompt,
    seed: tuple[int, ...],
    plane: np.ndarray,
    origin_yx: tuple[int, int],
    spacing_yx: Sequence[float],
    liver_hu: float | None,
    measure: Callable[[LesionPrompt], LesionMeasurement],
) -> LesionMeasurement | None:
    """The whole lesion measured from a necrotic core beside a click whose value is the
    liver's (see the module docstring), flagged; None when there is no such core or what is
    measured from it is not a core's whole lesion holding the click.

    ``plane`` is the click's slice (smoothed HU) on a window whose pixel (0, 0) is voxel
    ``origin_yx``; ``measure`` delineates a click prompt (errors mean no result)."""
    from lesion_tool.errors import LesionToolError

    if _ACTIVE.get() or prompt.line is not None or liver_hu is None:
        return None
    cy, cx = seed[1] - origin_yx[0], seed[2] - origin_yx[1]
    at = core_beside(plane, cy, cx, spacing_yx, liver_hu)
    if at is None:
        return None
    voxel = (seed[0], at[0] + origin_yx[0], at[1] + origin_yx[1])
    try:
        with _once():
            m = measure(replace(prompt, seed=voxel))
    except LesionToolError:
        return None
    if not is_core_whole(m) or not holds_voxel(m, seed):
        return None
    dist = math.hypot((at[0] - cy) * spacing_yx[0], (at[1] - cx) * spacing_yx[1])
    flag = (
        f"the click's value is the liver's (the seam between a necrotic core and its rim?): "
        f"measured from the dark core {dist:.1f} mm from it, at voxel {voxel}; check the contour"
    )
    return replace(m, flags=(*m.flags, flag))
