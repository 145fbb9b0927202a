"""A bright result the bright structure runs on from at both ends, at its own calibre: a vessel.

A click in a contrast-filled vessel that runs obliquely through the slices gives a short stub:
the delineation follows a region through the slices from the centre of its outline on the
slice before, and an oblique tube moves sideways from slice to slice, so the next slice's
centre falls off the lumen after two or three slices and the region stops there, a
"nodule" a few slices deep. Segment's vessel tests may miss it: the stub is not a tube at its
own scale (its outline holds partial-volumed tissue beside the lumen), and too little of the
vessel's tissue within two of the region's radii reaches the level ``vessel.runs_on_ratio``
counts (three quarters of the way from the liver to the region's value) for the vessel to
"run on" there.

IRCADb made arterial (variants "hyper" and "necrotic core", 1.6 mm slices, seed 9): the
no-tumour click at (102, 189, 295) lies in the expert's portal vein (a branch 5-7 mm across,
159 HU against hyper-enhancing tumours of 151-174 HU and a liver of 111 HU). The branch runs
obliquely: its centre moves from x 265 on Im 94 to x 298 on Im 103 (2 mm sideways per 1.6 mm
slice) and branches on Im 104. The region found covers Im 101-103 only (12.8 mm, largest
section 66 mm2, mean 143 HU, threshold 134 HU); blob ratio 0.55 (not a tube), runs-on ratio
0.91 (< 2). It came back with no flag. Beyond its ends the branch goes on at the region's own
value and calibre: on Im 100 down to Im 89, sections of 21-72 mm2 at 153-162 HU (the region's
widest: 66 mm2, 157 HU), above Im 103 4 more slices of 21-36 mm2 at 149-158 HU.

A lesion ends in liver: beyond its end slices the tissue above its threshold shrinks to its cap
within a slice or two, or goes on as a vessel much thinner than the lesion (a feeding or
draining vessel: sections of 3-8 % of the lesion's widest) or much brighter than it (a
neighbouring organ or a larger vessel: 240-250 HU beside a 200 HU tumour). So on the five
arterial variants of seed 9, every tumour result without a flag; the closest, tumour 03 on
"necrotic core" (25.2 mm, widest 350 mm2), has vessel-valued tissue beyond both ends, but its
sections fall to 28 mm2 (8 %) three slices below and 19 mm2 one slice above.

So here, for a bright result that no other flag warns of (a flagged one is already to be
checked), the tissue above the result's own threshold (smoothed in-plane as the delineation
smooths, :data:`SIGMA_MM`) is followed slice by slice beyond each end slice: the bright
components touching the previous section (within :data:`TOUCH_MM`), kept within
:data:`LIMIT_MM` plus one slice spacing of it (an oblique tube's sideways step), while the
section is at least :data:`CALIBRE_SHARE` and at most :data:`AREA_RATIO` times the region's
widest section and reads no brighter than the region's value plus half its contrast. When
that runs on at least :data:`RUN_MM` (and two slices) beyond both ends, the result is a piece
of a tube of its own calibre running through it: flagged, measured as found. A real portal or
hepatic vein branch does the same on any patient, whatever the phase; a lesion does not.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage

from lesion_tool.measurement.naming import slice_name
from lesion_tool.measurement.raster import padded_mask, within_mm
from lesion_tool.measurement.reseed import slice_span
from lesion_tool.measurement.vessel import TUBE_MAX_RADIUS_MM

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement

__all__ = ["ENABLED", "TUBE_FLAG", "flag_tube", "run_beyond_ends"]

ENABLED = True
"""Module switch."""
SIGMA_MM = 1.0
"""In-plane smoothing (mm): the delineation's own (``segment.SMOOTH_SIGMA_MM``)."""
TOUCH_MM = 1.0
"""A bright component on the next slice belongs to the structure when it comes this near the
previous section (mm): the blur between slices."""
LIMIT_MM = 3.0
"""The section kept is the part of those components within this plus one slice spacing (mm) of
the previous section: an oblique tube steps sideways about one spacing per slice (2 mm per
1.6 mm slice on the portal branch above); a large structure it touches is not followed whole."""
CALIBRE_SHARE = 0.2
"""A section smaller than this share of the region's widest is a thinner vessel leaving a
lesion (3-8 % beside IRCADb's hyper tumours), or its cap; the vessel clicked: 32-110 %."""
AREA_RATIO = 1.5
"""...and one larger than this many times the region's widest is a larger body (the lesion
the region is a part of), not a tube of the region's calibre."""
RUN_MM = 4.5
"""The structure must run on at least this far (mm) beyond both ends: three 1.6 mm slices,
two 2.5 mm ones (the tumours' caps above: at most one slice past an end, on one side)."""
MIN_SLICES = 2
"""...and over at least this many slices (one 5 mm slab past an end is a cap's partial volume)."""
MIN_AREA_MM2 = 3.0
"""A section smaller than this (mm2, a disk 2 mm across) is noise, not a vessel."""
TUBE_FLAG = "this looks like a piece of a vessel running through the slices"
"""Start of this module's flag."""


def run_beyond_ends(volume: CTVolume, m: LesionMeasurement) -> tuple[float, float]:
    """How far (mm) a bright structure of ``m``'s own calibre and value runs on beyond its first
    and its last slice (see the module docstring); 0 where it does not."""
    sp = tuple(float(s) for s in volume.spacing_mm)
    ev = m.evidence
    thr = float(ev.threshold_hu)
    ceiling = float(ev.lesion_hu) + 0.5 * float(ev.lesion_hu - ev.liver_hu)
    zs = np.nonzero(m.mask.any(axis=(1, 2)))[0]
    widest = float(m.mask.sum(axis=(1, 2)).max()) * sp[1] * sp[2]
    n = max(int(np.ceil(RUN_MM / sp[0])), MIN_SLICES)
    reach = n * (LIMIT_MM + sp[0]) + 3.0 * SIGMA_MM
    pad = [int(np.ceil(reach / s)) for s in sp[1:]]
    runs = []
    for step, end in ((-1, int(zs[0])), (1, int(zs[-1]))):
        (rows, cols), prev = padded_mask(m.mask[end], m.offset[1:], pad, volume.shape[1:])
        run = 0
        for k in range(1, n + 1):
            z = m.offset[0] + end + step * k
            if not 0 <= z < volume.shape[0]:
                break
            raw = np.asarray(volume.array[z, rows, cols], dtype=np.float32)
            bright = ndimage.gaussian_filter(raw, (SIGMA_MM / sp[1], SIGMA_MM / sp[2])) > thr
            lab, _ = ndimage.label(bright)
            ids = np.unique(lab[within_mm(prev, sp[1:], TOUCH_MM) & bright])
            cur = np.isin(lab, ids[ids > 0]) & within_mm(prev, sp[1:], LIMIT_MM + sp[0])
            area = float(cur.sum()) * sp[1] * sp[2]
            if area < max(MIN_AREA_MM2, CALIBRE_SHARE * widest) or area > AREA_RATIO * widest:
                break
            if float(np.mean(raw[cur])) > ceiling:
                break
            run, prev = k, cur
        runs.append(run * sp[0] if run >= MIN_SLICES else 0.0)
    return runs[0], runs[1]


def flag_tube(volume: CTVolume, m: LesionMeasurement) -> LesionMeasurement:
    """``m`` flagged :data:`TUBE_FLAG` when it is a bright result with no flag, no wider than a
    liver vessel, that a structure of its own calibre and value runs on from beyond both its
    ends by :data:`RUN_MM` or more; ``m`` itself otherwise (see the module docstring)."""
    if not ENABLED or m.flags or not m.mask.any():
        return m
    ev = m.evidence
    if ev.lesion_hu <= ev.liver_hu:
        return m
    sp = volume.spacing_mm
    widest = float(m.mask.sum(axis=(1, 2)).max()) * float(sp[1]) * float(sp[2])
    if np.sqrt(widest / np.pi) > TUBE_MAX_RADIUS_MM:
        return m
    lo, hi = run_beyond_ends(volume, m)
    if min(lo, hi) < RUN_MM:
        return m
    first_z, last_z = slice_span(m) or (0, 0)
    flag = (
        f"{TUBE_FLAG}: tissue of its value and calibre goes on beyond both its ends "
        f"({slice_name(volume, first_z)} and {slice_name(volume, last_z)}) for at "
        f"least {lo:.0f} and {hi:.0f} mm, where a lesion would end in liver; check it on the "
        "slices above and below, and click inside a lesion"
    )
    return replace(m, flags=(*m.flags, flag))
