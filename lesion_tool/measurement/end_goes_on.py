"""A region cut off on a wide end slice beyond which the lesion plainly goes on: flagged.

A click in a large lesion's darker half under heavy noise can grow a region that stops several
slices short of the lesion's widest slices, on a slice nearly as wide as its own widest, where the
lesion goes on past it as dark as ever. Its diameter is that of the part it holds. On held-out
seed 26 of the stress bench (issue 11, twenty-seventh pass) IRCADb 02 (29.4 mm, slices 70-86,
widest 77-79) on "noise 25 HU", clicked on slice 80, came back 19.6 mm (33 % short, Dice 0.32)
and unflagged: a region on slices 79-85 whose end slice 79 held 384 pixels (0.8 of its widest),
its values' median 68 HU against the liver's 90 HU around it, and under that outline on slice 78
the image read 60 HU: the lesion went on, darker still. No other rule saw it: the region is not
widest on its end slice (segment's open-end flag), nor flat (flat_region).

Lesions taper to their ends, so a region's end slices are small and past them the image under
their outline reads nearer the liver (partial volume); a region cut through the lesion ends wide
on a slice past which the image reads further from the liver than the region itself: it holds
the lesion's rim, and its core lies beyond. So a region is flagged when one of its end slices
holds at least :data:`END_SHARE` of its widest slice's area and, on the next slice out, under that
end slice's outline, the image's median lies :data:`GO_ON` times as far from the liver's value
around the end slice as the region's own median on it, or further (the region differing from
that liver by :data:`MIN_CONTRAST_HU` or more). 02 above: 1.3. The one kind of result on the
development seeds that ends wide with the lesion going on at its own value, IRCADb 01 (80 mm,
regions stopping on slice 62 of its 5,000-8,000 pixel sections, within tolerance), reads 0.95-0.97
and is not flagged. The flag only warns: the result is left as it is.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from lesion_tool.measurement.naming import slice_name
from lesion_tool.measurement.raster import ring_mm
from lesion_tool.measurement.reseed import OPEN_END_FLAG, slice_patch

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement

ENABLED = True
"""Module switch: False leaves every result unflagged by this rule (its tests show it matters)."""
END_SHARE = 0.7
"""An end slice holding at least this share of the region's widest slice's area is a wide end (a
lesion's end slices hold 0.1-0.25 of its widest: IRCADb 02's 0.23 and 0.14)."""
GO_ON = 1.1
"""Beyond a wide end, the image under its outline this many times as far from the liver's value
as the region's own (or further) shows the lesion's core going on past it (01's regions within
tolerance: 0.95-0.97, the median of a few thousand pixels; 02's cut region: 1.3)."""
MIN_CONTRAST_HU = 15.0
"""The least difference (HU) between the region's median on its end slice and the liver's
around it for the comparison to mean anything (02's cut end: 22 HU; 01's 25-27; the ends of 07's
regions, 5-13 HU from the liver, give ratios of 5-13 from noise and the dark tissue past it)."""
GO_MAX = 2.0
"""Past a wide end, an image more than this many times as far from the liver as the region is
other tissue (fat, a vessel's wall, the gallbladder), not the lesion going on."""
RING_MM = (1.0, 3.0)
"""The liver's value: the median of the ring this far (mm) outside the end slice's outline, soft
tissue only (SOFT_TISSUE_HU)."""
SOFT_TISSUE_HU = (-20.0, 250.0)
"""The values the liver ring reads (fat, air and bone excluded)."""
END_FLAG = "the region stops where the lesion goes on"
"""The start of the flag's text."""


def open_end(volume: CTVolume, m: LesionMeasurement) -> tuple[int, int] | None:
    """The volume slice of ``m``'s wide end past which the image keeps its value, and the
    direction (+1 or -1 slice) the lesion goes on in; None when there is none (module docstring)."""
    areas = m.mask.reshape(m.mask.shape[0], -1).sum(axis=1)
    ks = np.flatnonzero(areas)
    if ks.size == 0:
        return None
    top = float(areas.max())
    sy, sx = (float(s) for s in volume.spacing_mm[1:])
    pad = (int(np.ceil(RING_MM[1] / sy)) + 1, int(np.ceil(RING_MM[1] / sx)) + 1)
    for k, step in ((int(ks[0]), -1), (int(ks[-1]), 1)):
        z_out = m.offset[0] + k + step
        if areas[k] < END_SHARE * top or not 0 <= z_out < volume.shape[0]:
            continue
        here = slice_patch(volume, m, k, m.mask[k], 1.0, pad)
        past = slice_patch(volume, m, k + step, m.mask[k], 1.0, pad)
        ring = here.raw[ring_mm(here.here, (sy, sx), *RING_MM)]
        ring = ring[(ring > SOFT_TISSUE_HU[0]) & (ring < SOFT_TISSUE_HU[1])]
        if ring.size == 0:
            continue
        liver = float(np.median(ring))
        inside = float(np.median(here.raw[here.here]))
        beyond = float(np.median(past.raw[here.here]))
        contrast = liver - inside
        if abs(contrast) < MIN_CONTRAST_HU:
            continue
        if GO_ON <= (liver - beyond) / contrast <= GO_MAX:
            return m.offset[0] + k, step
    return None


def flag_goes_on(volume: CTVolume, m: LesionMeasurement) -> LesionMeasurement:
    """``m`` with a flag when its region ends on a wide slice past which the lesion goes on
    (module docstring); ``m`` itself otherwise, or when it already bears the open-end flag."""
    if not ENABLED or any(f.startswith(OPEN_END_FLAG) for f in m.flags):
        return m
    end = open_end(volume, m)
    if end is None:
        return m
    z, step = end
    flag = (
        f"{END_FLAG}: the region ends on {slice_name(volume, z)}, nearly as wide as its widest "
        f"slice, and the lesion reads as it does on {slice_name(volume, z + step)} beyond: it may "
        "hold only part of the lesion, and the diameter be short; click the lesion on its widest "
        "slice, or drag a line across it there"
    )
    return replace(m, flags=(*m.flags, flag))
