"""A click in a necrotic lesion's enhancing tissue whose region holds the lesion's dark core.

On an arterial image a necrotic hepatocellular carcinoma is a dark core inside an enhancing rim.
A click in its enhancing cap (the slices above or below the core, where the rim closes over it)
grows a region by value; on the next slices the rays set out from the outline's centre, which
now lies inside the core, and the outline becomes the core and a thin inner band of the rim
(IRCADb 03 given a necrotic core on 1.6 mm slices, clicked in its cap: 19.8 mm for 23.2, Dice
0.54, nothing flagged). A region by value of enhancing tissue cannot hold tissue CORE_MARGIN_HU
darker than the liver over a disk CORE_MIN_DEPTH_MM deep (its rays stop where the value falls to
the liver's): when its own outline holds such tissue, the lesion is measured again from that
core (``necro_rimclick``: the core's rule must outline the whole, and the result must hold the
click or half the first region, and be longer).

Tried and not kept (w17-edge03): on 5 mm noisy slabs a core averaged with the rim reads as the
liver, and a rim click's arc was taken for a vessel; clicking again on the point beside the arc
that enhancing tissue closes around fixed 03 (11.0 -> 23.9 mm) but also turned 9 of 50 vessel
clicks on seed 0 into 18-33 mm flagged "necrotic" lesions: the liver between portal branches at
the hilum is as enclosed (rim share 0.56-0.69) and as dark (+3 to -6 HU) as 03's averaged core
(0.5-0.69, -2 to -10 HU).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from lesion_tool.measurement.raster import beyond_mm, depth_mm, fill_holes
from lesion_tool.measurement.reseed import slice_patch
from lesion_tool.measurement.seam import CORE_MARGIN_HU

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement

__all__ = ["inner_core_clicks"]


def inner_core_clicks(
    volume: CTVolume, m: LesionMeasurement, slabs: bool = False
) -> list[tuple[tuple[int, int, int], float]]:
    """Per slice of ``m``'s region, the deepest point ``(z, y, x)`` of tissue at least
    CORE_MARGIN_HU darker than the liver (smoothed as the delineation smooths, no fat within
    FAT_CLEAR_MM) inside its outline (holes filled), when it lies at least CORE_MIN_DEPTH_MM deep,
    with its smoothed value: at most MAX_CORES, deepest first (the core's rule outlines the whole
    from its widest sections). Empty when ``m`` is not an enhancing region by value, or on slices
    SLAB_MM thick or more.

    A region grown by value from an enhancing click holds enhancing tissue: its rays stop where
    the value falls to the liver's. Necrosis inside it means that on the slices past the click
    the rays set out from the outline's centre inside a dark core (IRCADb 03 given a necrotic
    core, clicked in its enhancing cap on 1.6 mm slices: on the slices where the core opens, the
    region is the core and a thin inner band of the rim, 19.8 mm for 23.2, and nothing flagged).
    With ``slabs`` also on slabs (``n5b_rimcore``: a flagged region's inner core).
    """
    from lesion_tool.measurement.necro_rimclick import CORE_MIN_DEPTH_MM, FAT_CLEAR_MM, MAX_CORES
    from lesion_tool.measurement.segment import FAT_HU, SLAB_MM, SMOOTH_SIGMA_MM

    ev = m.evidence
    thick = volume.spacing_mm[0] >= SLAB_MM and not slabs
    if ev.texture_sd_hu is not None or ev.contrast_hu <= 0 or thick:
        # On slabs the core's whole is outlined by a rim the slab's partial volume spreads (IRCADb
        # 05 on 5 mm: 35.8 mm for 31.8 from its core, 32.4 from the region by value): thin only.
        return []
    sy, sx = (float(s) for s in volume.spacing_mm[1:])
    pad_y, pad_x = (int(np.ceil(3 * SMOOTH_SIGMA_MM / s)) for s in (sy, sx))
    found: list[tuple[float, tuple[int, int, int], float]] = []
    for k in range(m.mask.shape[0]):
        inside = fill_holes(m.mask[k])
        if not inside.any():
            continue
        p = slice_patch(volume, m, k, inside, SMOOTH_SIGMA_MM, (pad_y, pad_x))
        z, y0, x0, raw, plane, here = p.z, p.y0, p.x0, p.raw, p.plane, p.here
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
