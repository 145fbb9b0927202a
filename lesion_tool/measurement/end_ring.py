"""A region cut off on a wide end slice where the lesion, at its own value, spreads far beyond it.

Seed 34 of the stress bench (issue 11, thirty-fourth pass) found three random clicks on IRCADb
01's lowest slices (01: 79.8 mm, Im 48-84) returning a bright piece of it with no flag. On
"necrotic core", (55, 185, 157) gave 26.5 mm: a region on Im 49-55 whose sections read 115, 395,
686, 980, 1,128, 1,111, 1,003 pixels; it stops on Im 55, 0.89 as wide as its widest, where 01's
dark core begins above and its enhancing tissue turns into a ring round it. On Im 56, under Im
55's outline, 62 % of the image still reads on the lesion's side of its threshold, and the
lesion's tissue there (one connected area on a lightly smoothed slice) covers 01's whole 4,984
pixel section, not the region's 1,003. The same on "hyper 5 mm 25 HU" (17, 166, 142), 33.5 mm:
it stops on slab 18 (0.91 of its widest), and on slab 19 81 % of its outline reads as the lesion.
No rule saw them: the region is not widest on its end slice (the open-end flag), the median past
its end reads as the region does (end_goes_on.py, which looks for a core darker still), and on
its widest slice it is not a small part of more (part_of_more.py: 1.17 against 2.0).

A lesion's sections taper to its ends, and a region measured whole ends on a small section past
which the image reads as the liver. A region that ends wide while, on the next slice out, most of
its outline still reads as the lesion and that tissue forms one area many times the region's end
section has stopped inside the lesion, not at its edge. So an unflagged result is flagged when one
of its end slices holds at least :data:`END_SHARE` of its widest slice's area and, on the next
slice out, at least :data:`HELD` of that end outline lies on the lesion's side of its threshold
and the connected area of such tissue over it is at least :data:`SPREAD` times the end section.
The flag only warns: the result is left as it is.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError

from lesion_tool.measurement.end_goes_on import END_SHARE  # what a wide end is, stated once
from lesion_tool.measurement.naming import slice_name

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement

ENABLED = True
"""Module switch: False leaves every result unflagged by this rule (its tests show it matters)."""
HELD = 0.5
"""The least share of the end outline that, on the next slice out, reads on the lesion's side of
its threshold: the lesion plainly goes on under it (01's pieces: 0.58-0.81)."""
SPREAD = 1.75
"""The least ratio of the lesion-valued area over the end outline on the next slice out to the end
section: the region is a small part of what goes on (01's pieces: see module docstring)."""
BAND = 2.0
"""The lesion's own values on the next slice: from its threshold to this many times the
threshold's distance from the lesion's value. Without it, a dark lesion's side of its threshold
takes in fat and air: IRCADb 01 on the original image (portal-venous, within tolerance, ending on
Im 62 with 01 going on) read 31-34 times its end section and was flagged."""
SMOOTH_MM = 1.0
"""The Gaussian (mm) the next slice is smoothed by before it is thresholded, so noise does not
break the lesion's tissue apart or bridge it to the liver's."""
WIDER = 1.3
"""The least ratio of that area's longest extent (mm) on the next slice out to the region's
diameter: past its end the lesion is plainly wider than the whole measurement, so the diameter is
short. IRCADb 01 on the original image, measured 73-76 mm (within) and ending on Im 62 with 2.5
times its end section of lesion-valued tissue past it, is not flagged by this: that tissue is no
wider than the region's diameter."""
MIN_FILL = 0.2
"""The least area of that tissue (mm2) over its extent squared: a lesion's section past the end is a
compact body (a disc 0.79, 01's enhancing ring 0.29-0.36), not a band run out along the liver or
into the tissue round it. IRCADb 01 on the original image (within, ending on Im 62) reaches 215 mm
past its end through such a band, and is not flagged."""
END_FLAG = "the region stops inside a larger lesion"
"""The start of the flag's text."""


def extent_mm(area: np.ndarray, spacing: tuple[float, float]) -> float:
    """The longest distance (mm) between two pixels of ``area`` (a 2-D mask), over its hull."""
    pts = np.argwhere(area) * np.asarray(spacing)
    if len(pts) < 3:
        return 0.0
    with contextlib.suppress(QhullError):
        pts = pts[ConvexHull(pts).vertices]
    d = pts[:, None, :] - pts[None, :, :]
    return float(np.sqrt((d**2).sum(axis=-1)).max())


def spread_beyond(
    volume: CTVolume, m: LesionMeasurement
) -> tuple[int, int, float, float, float] | None:
    """For ``m``'s wide end that goes on most, the volume slice, the direction (+1 / -1), the
    share of its outline on the lesion's side of the threshold one slice out, and the ratio of the
    connected lesion-valued area there to the end section; None when no end is wide."""
    areas = m.mask.reshape(m.mask.shape[0], -1).sum(axis=1)
    ks = np.flatnonzero(areas)
    ev = m.evidence
    if ks.size == 0 or ev is None:
        return None
    top = float(areas.max())
    sign = 1.0 if ev.lesion_hu >= ev.threshold_hu else -1.0
    sy, sx = (float(s) for s in volume.spacing_mm[1:])
    best: tuple[int, int, float, float, float] | None = None
    for k, step in ((int(ks[0]), -1), (int(ks[-1]), 1)):
        z_out = m.offset[0] + k + step
        if areas[k] < END_SHARE * top or not 0 <= z_out < volume.shape[0]:
            continue
        plane = ndimage.gaussian_filter(
            np.asarray(volume.array[z_out], dtype=np.float32), (SMOOTH_MM / sy, SMOOTH_MM / sx)
        )
        # The lesion's own values: on its side of the threshold, no further past its value than
        # the threshold is short of it (fat, air or bright vessels beyond it are not the lesion).
        past = sign * (plane - ev.threshold_hu)
        side = (past >= 0) & (past <= BAND * abs(ev.lesion_hu - ev.threshold_hu))
        end = np.zeros(volume.shape[1:], dtype=bool)
        h, w = m.mask.shape[1:]
        end[m.offset[1] : m.offset[1] + h, m.offset[2] : m.offset[2] + w] = m.mask[k]
        held = float(side[end].mean())
        labels, _ = ndimage.label(side)
        over = np.unique(labels[end & side])
        beyond = np.isin(labels, over[over > 0])
        area = float(beyond.sum())
        found = (m.offset[0] + k, step, held, area / float(areas[k]), extent_mm(beyond, (sy, sx)))
        if best is None or found[2] * found[3] > best[2] * best[3]:
            best = found
    return best


def flag_ring_end(volume: CTVolume, m: LesionMeasurement) -> LesionMeasurement:
    """``m`` with a flag when, unflagged, its region ends on a wide slice inside a larger
    area of the lesion's own value (module docstring); ``m`` itself otherwise."""
    if not ENABLED or m.flags or m.whole.length_mm <= 0:
        return m
    found = spread_beyond(volume, m)
    if found is None:
        return m
    z, step, held, spread, extent = found
    sy, sx = (float(s) for s in volume.spacing_mm[1:])
    fill = spread * float(m.mask[z - m.offset[0]].sum()) * sy * sx / max(extent, 1e-6) ** 2
    if held < HELD or spread < SPREAD or extent < WIDER * m.whole.length_mm or fill < MIN_FILL:
        return m
    flag = (
        f"{END_FLAG}: the region ends on {slice_name(volume, z)}, nearly as wide as its widest "
        f"slice, and on {slice_name(volume, z + step)} the lesion's tissue goes on over it and "
        f"{spread:.1f} times as wide: it may hold only part of the lesion, and the diameter be "
        "short; click the lesion on its widest slice, or drag a line across it there"
    )
    return replace(m, flags=(*m.flags, flag))
