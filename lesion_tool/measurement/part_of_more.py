"""A region that is a small part of a larger area of its own value on its widest slice: flagged.

A click in one part of a large lesion can grow a region that stops inside the lesion, where no
rule sees a border: the region's rays were held to their neighbours' lengths or to the slice
before, and the tissue past its outline reads as the region itself. Its diameter is that of the
part it holds. On the click-position census of the stress bench (issue 11, twenty-eighth pass;
development noise seeds, clicks from seed 1000 + the noise seed) five results came back more than
30 % off with no flag at all: IRCADb 01 (78.2 mm) on "necrotic 5 mm 25 HU", 30.4, 30.3 and 34.4
mm (noise seeds 0 and 3; a piece of the enhancing rim, or half the lesion on its lower slabs,
Dice 0.10-0.15), and IRCADb 07 (20.9 mm) on "necrotic 5 mm 25 HU", 8.2 mm, and on "hyper 5 mm 25
HU", 14.2 mm (noise seed 4).

On the region's widest slice, the pixels on the region's side of its own threshold (the half-way
value between lesion and liver the delineation used), and no further from the lesion's value than
the liver is (a vessel is not the lesion going on), are joined to the region; when the
connected area within :data:`REACH_MM` of it is :data:`GROW` times the region's own or more, the
region is a part of something larger at its value. Four of the five results above read 2.3-3.3
(01) and 2.6 (07 on "necrotic 5 mm 25 HU"); the census results within tolerance of 01 and 07 on
the same variants read 1.0-1.4. The fifth, 07 on "hyper 5 mm 25 HU", reads 1.8 on its widest
slice and is not flagged (8.3 on its small end slice, where results within tolerance read up to
3.3: end slices are not judged).

Only regions brighter than the liver are judged: past a dark region at the liver's edge the muscle
and bowel outside the liver (30-80 HU) read as the region does (IRCADb 02's whole lesion on
"original", 29.2 mm for 29.4 on the liver's surface, read 7.3 on development seed 7 in a first
version that judged both). Only regions delineated by value whose contrast stands well above the
noise (:data:`MIN_CNR`) are judged: at low contrast the half-way value lies within the noise and
the liver itself joins (07's low-contrast regions, 8-12 HU from the liver, read 2.6-3.0). The flag
only warns: the result is left as it is.

A dark region is judged the same way by :func:`flag_dark_more`, but only when every other rule
has left it unflagged (the last rule of :func:`~lesion_tool.measurement.segment.measure_lesion`).
On "noise 30 HU" (noise seed 31) a click in IRCADb 01 (79.8 mm) at (66, 190, 110) grew a region
by value (lesion 61.6 HU, threshold 85.0 HU, liver 113 HU) that stopped inside the lesion: 15 % of
01's voxels, a third of its area on each slice, though the rest of 01 reads 70 HU, under the
threshold; 47.7 mm, and no flag. On its widest slice the area below its threshold reads 3.4 times
its own; the whole lesion, measured from the same click on the noise-free image, 1.4-1.6. The
area ratio alone does not tell a dark part from a dark whole: a whole dark lesion at the liver's
surface joins the muscle or bowel beyond it (30-80 HU) and reads 2.9-7.7 (IRCADb 02, 05, 07 within
tolerance on census seed 3, 18 of them). What does is the region's own outline: a part cut inside
the lesion is bordered on much of it by tissue on its side of the threshold (01's: 0.56 of a ring
1-3 mm outside it), a whole lesion mostly by liver (0.03-0.40). Dark regions are flagged when both
read past their limits (:data:`GROW`, :data:`OPEN_SHARE`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage

from lesion_tool.measurement.naming import slice_name
from lesion_tool.measurement.raster import ring_mm, within_mm
from lesion_tool.measurement.reseed import slice_patch

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement

ENABLED = True
"""Module switch: False leaves every result unflagged by this rule (its tests show it matters)."""
GROW = 2.0
"""The connected area at the region's value, over the region's own area, from which the region is
flagged (census: the five unflagged results 2.3-3.3, results within tolerance 1.0-1.4)."""
REACH_MM = 40.0
"""How far (mm) past the region's outline the area at its value is counted: half the largest
lesion's diameter, so that the liver's far side or a distant organ does not count."""
MIN_CNR = 4.0
"""The least contrast between lesion and liver, in units of the smoothed image's noise SD, for
the half-way value to separate them (2 SD on either side)."""
PART_FLAG = "the region is part of a larger area of its own value"
"""The start of the flag's text."""


def judged(m: LesionMeasurement) -> bool:
    """Whether ``m`` is judged at all: a region by value brighter than the liver whose contrast
    stands :data:`MIN_CNR` noise SDs clear (module docstring)."""
    ev = m.evidence
    contrast = float(ev.contrast_hu)
    return ev.texture_sd_hu is None and contrast >= MIN_CNR * float(ev.noise_sd_hu)


def ratio_on(volume: CTVolume, m: LesionMeasurement, k: int) -> tuple[int, float]:
    """The volume slice of ``m``'s section ``k`` (an index into its mask) and the connected area
    at the region's value there within :data:`REACH_MM`, over the section's own area."""
    from lesion_tool.measurement.segment import SMOOTH_SIGMA_MM

    ev = m.evidence
    contrast = float(ev.contrast_hu)
    sy, sx = (float(s) for s in volume.spacing_mm[1:])
    pad = (int(np.ceil(REACH_MM / sy)) + 1, int(np.ceil(REACH_MM / sx)) + 1)
    p = slice_patch(volume, m, k, m.mask[k], SMOOTH_SIGMA_MM, pad)
    # Between the threshold and as far past the lesion's value as the liver lies on the other
    # side: above the threshold for a bright region, below it for a dark one.
    lo, hi = sorted((float(ev.threshold_hu), float(ev.lesion_hu) + contrast))
    at_value = (p.plane > lo) & (p.plane < hi)
    labels, _ = ndimage.label(at_value | p.here)
    ids = np.unique(labels[p.here])
    joined = np.isin(labels, ids[ids > 0]) & within_mm(p.here, (sy, sx), REACH_MM)
    return p.z, float(joined.sum()) / float(p.here.sum())


def spread_ratio(volume: CTVolume, m: LesionMeasurement) -> tuple[int, float] | None:
    """The volume slice of ``m``'s widest section and the connected area at the region's value
    there over the region's area (module docstring); None when ``m`` is not judged (darker than
    the liver, delineated by texture, or its contrast within the noise)."""
    return widest_ratio(volume, m) if judged(m) else None


def widest_ratio(volume: CTVolume, m: LesionMeasurement) -> tuple[int, float] | None:
    """:func:`ratio_on` on ``m``'s widest section (the volume slice, the ratio); None for an empty
    region. What :func:`spread_ratio` and :func:`dark_ratio` read once their gates pass."""
    areas = m.mask.reshape(m.mask.shape[0], -1).sum(axis=1)
    if not areas.any():
        return None
    return ratio_on(volume, m, int(np.argmax(areas)))


def part_note(volume: CTVolume, start: str, z: int, ratio: float) -> str:
    """The flag of a region that is part of a larger area of its own value (``start``: the
    rule's :data:`PART_FLAG` or :data:`DARK_FLAG`) on volume slice ``z``, ``ratio`` times its
    area."""
    return (
        f"{start}: on {slice_name(volume, z)} the tissue past its outline reads as it does, "
        f"over {ratio:.1f} times its area: it may hold only part of the lesion, and the diameter "
        "be short; check its outline there, or drag a line across the whole lesion"
    )


def flag_part(volume: CTVolume, m: LesionMeasurement) -> LesionMeasurement:
    """``m`` with a flag when its region is a small part of a larger area of its own value on its
    widest slice (module docstring); ``m`` itself otherwise."""
    if not ENABLED or m.whole.length_mm <= 0:
        return m
    found = spread_ratio(volume, m)
    if found is None or found[1] < GROW:
        return m
    return replace(m, flags=(*m.flags, part_note(volume, PART_FLAG, *found)))


DARK_MIN_CNR = 3.0
"""The least contrast, in noise SDs, of a dark region judged by :func:`flag_dark_more`: lower than
:data:`MIN_CNR`, since the ring gate (:data:`OPEN_SHARE`) keeps the liver's noisy pixels from
flagging on their own (at 3 SD, 1.5 on either side of the threshold, about 7 % of them cross it,
far under half a ring). 01's cut region on "noise 30 HU": 46.8 HU at 13.2 HU noise, 3.6 SD."""
DARK_ENABLED = True
"""Switch for :func:`flag_dark_more`: False leaves every dark result unflagged by it."""
OPEN_SHARE = 0.5
"""A dark region is flagged only when at least this share of the ring 1-3 mm outside its outline on
its widest slice reads on its side of the threshold: most of its outline is no border at all.
A whole dark lesion is mostly bordered by liver, and the area at its value past it is muscle or
bowel touching it at the liver's surface (census seed 3, "noise 30 HU" and "original": IRCADb 02,
05, 07 within tolerance, area ratios 2.9-7.7 but ring shares 0.03-0.40); 01's cut region: 0.56."""
OPEN_RING_MM = (1.0, 3.0)
"""The ring (mm outside the outline) :data:`OPEN_SHARE` is read on."""
DARK_FLAG = "the dark region is part of a larger area of its own value"
"""The start of :func:`flag_dark_more`'s flag."""


def dark_judged(m: LesionMeasurement) -> bool:
    """Whether ``m`` is a region by value darker than the liver whose contrast stands
    :data:`DARK_MIN_CNR` noise SDs clear (:func:`flag_dark_more`)."""
    ev = m.evidence
    contrast = float(ev.contrast_hu)
    return ev.texture_sd_hu is None and -contrast >= DARK_MIN_CNR * float(ev.noise_sd_hu)


def dark_ratio(volume: CTVolume, m: LesionMeasurement) -> tuple[int, float] | None:
    """The volume slice of dark ``m``'s widest section and the connected area at its value there
    over the section's area; None when ``m`` is not :func:`dark_judged`."""
    return widest_ratio(volume, m) if dark_judged(m) else None


def open_share(volume: CTVolume, m: LesionMeasurement) -> float:
    """The share of the ring :data:`OPEN_RING_MM` outside dark ``m``'s outline on its widest
    slice that reads below its threshold (smoothed as the delineation read it)."""
    from lesion_tool.measurement.segment import SMOOTH_SIGMA_MM

    areas = m.mask.reshape(m.mask.shape[0], -1).sum(axis=1)
    k = int(np.argmax(areas))
    sy, sx = (float(s) for s in volume.spacing_mm[1:])
    # Past the ring by three smoothing SDs, so that the patch's edge does not reach the ring.
    reach = OPEN_RING_MM[1] + 3.0 * SMOOTH_SIGMA_MM
    pad = (int(np.ceil(reach / sy)) + 1, int(np.ceil(reach / sx)) + 1)
    p = slice_patch(volume, m, k, m.mask[k], SMOOTH_SIGMA_MM, pad)
    ring = ring_mm(p.here, (sy, sx), *OPEN_RING_MM)
    if not ring.any():
        return 0.0
    return float((p.plane[ring] < float(m.evidence.threshold_hu)).mean())


def flag_dark_more(volume: CTVolume, m: LesionMeasurement) -> LesionMeasurement:
    """Dark ``m``, still unflagged after every other rule, with a flag when it is a small part of
    a larger area of its own value on its widest slice; ``m`` itself otherwise."""
    if not DARK_ENABLED or m.flags or m.whole.length_mm <= 0:
        return m
    found = dark_ratio(volume, m)
    if found is None or found[1] < GROW or open_share(volume, m) < OPEN_SHARE:
        return m
    return replace(m, flags=(*m.flags, part_note(volume, DARK_FLAG, *found)))
