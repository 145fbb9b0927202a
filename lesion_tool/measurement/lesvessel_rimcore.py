"""A click on an arc of a necrotic lesion's enhancing rim, whose core reads as the liver.

On thick slabs (5 mm) a necrotic core is averaged with the enhancing rim above and below it,
and with noise the core no longer reads CORE_MARGIN_HU under the liver: IRCADb 03 given a
necrotic core on 5 mm slabs with 25 HU noise, core 100-110 HU (smoothed) against the liver's
125 HU. A click on the rim then grows an arc of the rim alone, a crescent a few slices deep that
``vessel`` takes for a tube ("this looks like a vessel": 11.0 mm for 23.2), and
:func:`lesion_tool.measurement.necro_rimclick.necrotic_core_clicks` finds no dark core beside it.

What separates the rim's arc from a vessel is what lies beside it, not its own shape: a rim
wraps the lesion's inside, so next to the arc (within the rim band the core's rule searches,
``necrosis.RIM_SEARCH_MM``) there is tissue that is not enhancing and around which enhancing
tissue closes (``necrosis.enhancing_rim``, in RIM_ENCLOSE_SHARE of the directions, judged as
``segment._rim_around_click`` judges a click whose value is the liver's). Beside a vessel the
liver is open on the far side: a tube's wall curves around its own lumen, away from the liver
beside it. Here such a point is sought on the click's slice and handed to ``necro_rimclick``
as the core to click again on; the core's own rule then has to outline the lesion whole, hold
the reader's click and be longer, as for a dark core.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage

from lesion_tool.measurement.necrosis import (
    RIM_ENCLOSE_SHARE,
    RIM_SEARCH_MM,
    enhancing_rim,
    rim_margin_hu,
)
from lesion_tool.measurement.raster import beyond_mm, depth_mm, within_mm
from lesion_tool.measurement.reseed import region_patch
from lesion_tool.measurement.seam import CORE_MARGIN_HU

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement

__all__ = ["CANDIDATE_STEP_MM", "enclosed_core_click", "inner_core_clicks"]

CANDIDATE_STEP_MM = 1.0
"""Points beside the arc are tried on a grid this fine (a core is several mm across; the rule
it is handed to reads a disk of CLICK_CORE_MM around the click)."""


def enclosed_core_click(
    volume: CTVolume, m: LesionMeasurement
) -> tuple[tuple[int, int, int], float] | None:
    """The point ``(z, y, x)`` on ``m``'s click slice, within RIM_SEARCH_MM of its enhancing
    region and not enhancing itself (below the liver + ``rim_margin_hu``, a disk of CLICK_CORE_MM
    around it the same, no fat within FAT_CLEAR_MM), around which enhancing tissue closes in the
    largest share of the directions, at least RIM_ENCLOSE_SHARE; with its smoothed value. None
    when there is none (a vessel in plain liver) or ``m`` is not an enhancing region by value."""
    from lesion_tool.measurement.necro_rimclick import FAT_CLEAR_MM
    from lesion_tool.measurement.segment import CLICK_CORE_MM, FAT_HU, SMOOTH_SIGMA_MM

    ev = m.evidence
    if ev.texture_sd_hu is not None or ev.contrast_hu <= 0:
        return None
    patch = region_patch(volume, m, SMOOTH_SIGMA_MM)
    if patch is None:
        return None
    z, y0, x0, raw, plane, here, sp = patch
    level = ev.liver_hu + rim_margin_hu(ev.noise_sd_hu)
    quiet = (plane < level) & ~here & beyond_mm(raw >= FAT_HU, sp, FAT_CLEAR_MM)
    # A disk of CLICK_CORE_MM fits in tissue that is not enhancing, and the point itself is
    # no brighter than the liver: a core is necrosis, darker than the liver, at most averaged
    # up to the liver's value by the rim above and below it on a slab.
    inner = depth_mm(quiet, sp)
    cand = (inner >= CLICK_CORE_MM) & (plane <= ev.liver_hu) & within_mm(here, sp, RIM_SEARCH_MM)
    step = (max(round(CANDIDATE_STEP_MM / sp[0]), 1), max(round(CANDIDATE_STEP_MM / sp[1]), 1))
    grid = np.zeros_like(cand)
    grid[:: step[0], :: step[1]] = True
    ys, xs = np.nonzero(cand & grid)
    best: tuple[tuple[float, float], int, int] | None = None
    yy, xx = np.ogrid[: plane.shape[0], : plane.shape[1]]
    for y, x in zip(ys, xs, strict=True):
        disk = ((yy - y) * sp[0]) ** 2 + ((xx - x) * sp[1]) ** 2 <= CLICK_CORE_MM**2
        rim = enhancing_rim(plane, disk, ev.liver_hu, ev.noise_sd_hu, sp)
        if rim is None or rim.share < RIM_ENCLOSE_SHARE:
            continue
        # The most enclosed point; of equally enclosed ones, the darkest (the core's middle).
        key = (rim.share, -float(plane[y, x]))
        if best is None or key > best[0]:
            best = (key, int(y), int(x))
    if best is None:
        return None
    _, y, x = best
    return (z, y + y0, x + x0), float(plane[y, x])


def inner_core_clicks(
    volume: CTVolume, m: LesionMeasurement
) -> list[tuple[tuple[int, int, int], float]]:
    """Per slice of ``m``'s region, the deepest point ``(z, y, x)`` of tissue at least
    CORE_MARGIN_HU darker than the liver (smoothed as the delineation smooths, no fat within
    FAT_CLEAR_MM) inside its outline (holes filled), when it lies at least CORE_MIN_DEPTH_MM deep,
    with its smoothed value: at most MAX_CORES, deepest first (the core's rule outlines the whole
    from its widest sections). Empty when ``m`` is not an enhancing region by value.

    A region grown by value from an enhancing click holds enhancing tissue: its rays stop where
    the value falls to the liver's. Necrosis inside it means that on the slices past the click
    the rays set out from the outline's centre inside a dark core (IRCADb 03 given a necrotic
    core, clicked in its enhancing cap on 1.6 mm slices: on the slices where the core opens, the
    region is the core and a thin inner band of the rim, 19.8 mm for 23.2, and nothing flagged).
    """
    from lesion_tool.measurement.necro_rimclick import CORE_MIN_DEPTH_MM, FAT_CLEAR_MM, MAX_CORES
    from lesion_tool.measurement.segment import FAT_HU, SMOOTH_SIGMA_MM

    ev = m.evidence
    if ev.texture_sd_hu is not None or ev.contrast_hu <= 0:
        return []
    sy, sx = (float(s) for s in volume.spacing_mm[1:])
    pad_y, pad_x = (int(np.ceil(3 * SMOOTH_SIGMA_MM / s)) for s in (sy, sx))
    found: list[tuple[float, tuple[int, int, int], float]] = []
    for k in range(m.mask.shape[0]):
        inside = ndimage.binary_fill_holes(m.mask[k])
        if not inside.any():
            continue
        ys, xs = np.nonzero(inside)
        y0 = max(m.offset[1] + int(ys.min()) - pad_y, 0)
        x0 = max(m.offset[2] + int(xs.min()) - pad_x, 0)
        y1 = min(m.offset[1] + int(ys.max()) + pad_y + 1, volume.shape[1])
        x1 = min(m.offset[2] + int(xs.max()) + pad_x + 1, volume.shape[2])
        z = k + m.offset[0]
        raw = np.asarray(volume.array[z, y0:y1, x0:x1], dtype=np.float32)
        plane = ndimage.gaussian_filter(raw, (SMOOTH_SIGMA_MM / sy, SMOOTH_SIGMA_MM / sx))
        here = np.zeros(plane.shape, dtype=bool)
        ry, rx = ys + m.offset[1] - y0, xs + m.offset[2] - x0
        ok = (ry >= 0) & (ry < here.shape[0]) & (rx >= 0) & (rx < here.shape[1])
        here[ry[ok], rx[ok]] = True
        dark = (
            (plane <= ev.liver_hu - CORE_MARGIN_HU)
            & here
            & beyond_mm(raw >= FAT_HU, (sy, sx), FAT_CLEAR_MM)
        )
        if not dark.any():
            continue
        depth = depth_mm(dark, (sy, sx))
        y, x = np.unravel_index(int(np.argmax(depth)), depth.shape)
        d = float(depth[y, x])
        if d >= CORE_MIN_DEPTH_MM:
            found.append((d, (z, int(y) + y0, int(x) + x0), float(plane[y, x])))
    found.sort(key=lambda c: -c[0])
    return [(c[1], c[2]) for c in found[:MAX_CORES]]
