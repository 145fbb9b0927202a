"""A rough line's lesion beyond a bay: the outline cut the reader's line inside enhancing tissue
(issue 11, w14-bay01).

Rays cast from a large lesion's centre stop at the first stretch of tissue at the half-way value.
A large enhancing tumour (IRCADb 01 made arterial, 79.8 mm) holds a bay of near-liver tissue
(130-145 HU against 175-181 in its body, liver 117) opening onto the liver at one border: the
rays aimed past it stop at 13-14 mm while the lobe behind the bay reaches 40 mm, the rays beside
them are held to their neighbours, and the slices above and below inherit the bay through the
follow's growth cap. The line's own path tells: from where it leaves the outline it runs on
through tissue brighter than the half-way value, for 15-20 mm, up to near its end.

A reader drags the line from border to border across the lesion; the tissue along it that is
continuously brighter than the half-way value (and below the ceiling of contrast-filled
vessels) from the outline's edge is the lesion's, whatever lies beside the line. Such a stretch
(at least BAY_RUN_MM: longer than any run of noise or partial volume past a true border, where
the line meets the liver at once) is delineated by rays cast from its middle with the same
levels and joined to the slice's outline, when the liver surrounds that part as it surrounds any
liver lesion. Only enhancing lesions (a darker lesion's line runs on through fat or a
neighbour's wall as readily as through the lesion). The other slices are left as they are: the
diameter is measured on the line's slice, where the reader drew it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from scipy import ndimage

from lesion_tool.measurement.raster import ring_mm

BAY_RUN_MM = 5.0
"""The shortest stretch of enhancing tissue along the line past the outline's edge that makes
the outline's edge there a bay, not the lesion's border (two exit runs of 2.5 mm: a true border
meets the liver within one)."""

GAP_MM = 1.5
"""A run of darker samples along the line no longer than this does not end the stretch (a speck,
the smoothed noise; EXIT_RUN_MM of the rays)."""

STEP_MM = 0.25

LIVER_SHARE_MIN = 0.5
"""The share of the new part's surroundings (beyond the old outline) that must read like the
liver: a lobe of a liver lesion is surrounded by liver, a neighbour's bright tissue is not."""


def stretches(
    plane: np.ndarray,
    mask: np.ndarray,
    ends: np.ndarray,
    spacing_yx: Sequence[float],
    threshold: float,
    ceiling: float,
) -> list[tuple[np.ndarray, float]]:
    """For each half of the line (middle to end, window pixels ``ends`` ``(2, 2)`` ``y, x``):
    the stretch of enhancing tissue (``threshold < value < ceiling``) past where the path first
    leaves ``mask``, as (its middle point ``y, x``, its length mm), when at least BAY_RUN_MM."""
    mid = ends.mean(axis=0)
    out = []
    for end in ends:
        d_mm = float(np.hypot(*((end - mid) * np.asarray(spacing_yx))))
        n = max(int(d_mm / STEP_MM), 2)
        t = np.linspace(0.0, 1.0, n + 1)
        pts = mid + t[:, None] * (end - mid)
        ok = (pts >= 0).all(axis=1) & (pts <= np.asarray(plane.shape) - 1).all(axis=1)
        pts = pts[ok]
        if len(pts) < 2:
            continue
        vals = ndimage.map_coordinates(plane, pts.T, order=1)
        iy = np.clip(np.round(pts[:, 0]).astype(int), 0, mask.shape[0] - 1)
        ix = np.clip(np.round(pts[:, 1]).astype(int), 0, mask.shape[1] - 1)
        inside = mask[iy, ix]
        if not inside[0]:
            continue
        out_at = np.flatnonzero(~inside)
        if out_at.size == 0:
            continue
        j0 = int(out_at[0])
        bright = (vals > threshold) & (vals < ceiling)
        gap = max(1, math.ceil(GAP_MM / STEP_MM))
        j, dark = j0, 0
        last = j0 - 1
        while j < len(vals):
            if bright[j]:
                dark, last = 0, j
            else:
                dark += 1
                if dark > gap:
                    break
            j += 1
        length = (last - j0 + 1) * STEP_MM
        if length >= BAY_RUN_MM:
            out.append((pts[(j0 + last) // 2], length))
    return out


def beyond_bay(
    plane: np.ndarray,
    mask: np.ndarray,
    ends: np.ndarray,
    spacing_yx: Sequence[float],
    threshold: float,
    ceiling: float,
    cast: Callable[[float, float, float], tuple[np.ndarray, np.ndarray]],
    liver_like: Callable[[np.ndarray], np.ndarray],
    shell_mm: tuple[float, float],
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The parts of the lesion past a bay on the line's slice: for each stretch (see
    :func:`stretches`), the outline ``(n, 2)`` and mask of rays cast from its middle
    (``cast(cy, cx, rmax_mm)`` -> outline, mask), kept when its surroundings beyond the slice's
    outline (``shell_mm`` out: the rays' own shell, segment.SHELL_MM, passed in) read like
    the liver (``liver_like(values)``: boolean per value) on LIVER_SHARE_MIN of them."""
    parts = []
    for centre, length in stretches(plane, mask, ends, spacing_yx, threshold, ceiling):
        outline, part = cast(float(centre[0]), float(centre[1]), length)
        if not (part & ~mask).any():
            continue
        ring = ring_mm(part, spacing_yx, *shell_mm, closed=True) & ~mask
        if not ring.any() or float(liver_like(plane[ring]).mean()) < LIVER_SHARE_MIN:
            continue
        parts.append((outline, part))
    return parts
