"""A necrotic lesion's whole from its rim: the rim's own brightest part kept, tongues cut.

A dark click in a necrotic core enclosed by an enhancing rim is measured as the whole lesion,
core and rim, delineated by the rim's value (``segment._necrotic_whole``, :mod:`.necrosis`).
That delineation has a ceiling like any enhancing lesion's (``segment._Levels.ceiling``: the
rim's value plus a headroom of half the contrast, 20 HU at least), above which tissue is taken
for a contrast-filled vessel and left out with a 1.5 mm partial-volume fringe. Two errors
follow (issue 11, w13-core07, IRCADb patient 1 made arterial with a necrotic core):

* A viable rim is not uniform: its brightest part (often beside the necrosis, where the tumour
  is best perfused) lies above that ceiling. IRCADb 05: rim 151 HU, liver 125, ceiling 171;
  a crescent of 175-195 HU beside the core was left out as a "vessel" and the outline stopped
  inside the rim on those sides. The ceiling of a whole from a rim is therefore at least the
  rim's own peak (:func:`rim_peak`): a high percentile (RIM_PEAK_PERCENTILE) of the rim tissue
  on the click's slice, in the dark region found by value (which takes in the rim next to the
  core) and in the band around it where the rim is looked for (RIM_SEARCH_MM). It is held
  under the rim's value plus VESSEL_MAX_HEADROOMS headrooms, the brightest an enhancing
  lesion's tissue is allowed anywhere in the delineation (contrast-filled arteries beyond).
* Rays from the core that leave the rim through a millimetre of bright liver run on along a
  vessel whose partial volume reads at the rim's value (IRCADb 07: 3-4 adjacent rays per slice
  running 2-3 mm along a 145-148 HU vessel, 23.9-24.8 mm for 21.4). A rim around a necrotic
  core is a closed band a few millimetres thick on every side; a tongue a few rays wide leaving
  it is a vessel's fringe, not the rim. Each slice's outline is opened by a disk of
  RIM_TRIM_RADIUS_MM and rays are cut back where they leave it
  (:func:`.texturetrim.trimmed_radii`).

A click in the rim itself is delineated by value as an enhancing lesion (necrosis counted as
lesion on an arterial image) with the same ceiling, and its rays run out along the same vessels
(07: 25.6 mm for 21.4 from a rim click, unflagged). When the region on the click's slice closes
around a dark core (:func:`core_in_rim`: darker than the liver by the rim's margin, at least
CORE_MIN_SHARE of the region, the region covering CORE_ENCLOSED_SHARE of a RIM_MIN_THICK_MM ring
around it) the click is in such a rim: the same peak (from that core) and the same cut apply. A
vessel or a solid enhancing lesion holds no such enclosed dark core; it never fired on the
"hyper" stand-in (seed 0).

The second alone (w13-core07) cut 05 short (31.3 -> 28.5 mm for 32.5): with its bright crescent
left out, 05's outline had tongues of its own through the rim's gaps, and those had made up its
length; with the crescent kept, the outline is the rim's, and the opening only removes what
leaves it.

The peak read on the click's slice is not the rim's peak on the others (issue 11, w36-rim). A rim's
brightness changes from slice to slice: 05's rim reads 168-176 HU at its 99th percentile beside the
core on Im 111-112 and 181-193 HU on Im 113-118, so a whole cast from a click or a line on Im 112
(ceiling 175 HU) lost that crescent on every slice below, with its 1.5 mm fringe, and the outline
ran along the core's edge there (the rough lines of development seeds 27, 29 and 30: 28.5-28.6 mm
for 32.45). On thin slices each other slice the core reaches therefore gets its own peak
(:func:`slice_peaks`), and a slice's ceiling is the higher of it and the click slice's. On those
slices the peak is read within RIM_MIN_THICK_MM of that slice's core only: tissue that near the
necrosis is rim (a rim is at least that thick), while the band RIM_SEARCH_MM out reaches past a
thin rim into the neighbours (05's Im 117-118: a 180-217 HU structure outside the liver 3-4 mm
beyond the core read as a 195-208 HU "peak", and the whole leaked into it). The click slice keeps
the peak read as before (a second reading there, a percentile of a subset of the same tissue, moved
its ceiling by 1-2 HU and a 5 mm slab click from 30.0 to 28.3 mm: noise, not rim). Not on slabs
(``segment.SLAB_MM``): a slab averages the rim's change from slice to slice, and its band beside
the core takes in the partial volume of a neighbour above or below (05 on 5 mm slabs with 25 HU of
noise, census seed 3: slab 37 read 196 HU, the cap, from the structure below, and a right 34.8 mm
result went to 35.7).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy import ndimage

from lesion_tool.measurement.necrosis import RIM_SEARCH_MM
from lesion_tool.measurement.raster import ring_mm, within_mm

RIM_PEAK_PERCENTILE = 99.0
"""The rim's peak: this percentile of its tissue's smoothed values (the brightest 1 % may be a
vessel's section touching the band)."""
RIM_TRIM_RADIUS_MM = 2.5
"""Radius of the opening disk: a rim around necrosis is at least 2 mm thick all round (the
rim is judged over RIM_WIDTH_BINS x 1 mm, necrosis.py), so the whole, core and rim, is wider
than 5 mm everywhere; a vessel's fringe leaving it through the liver is a tongue 1-4 mm wide."""


def rim_peak(
    plane: np.ndarray,
    region: np.ndarray,
    level_hu: float,
    spacing_yx: Sequence[float],
    percentile: float = RIM_PEAK_PERCENTILE,
    reach_mm: float = RIM_SEARCH_MM,
) -> float | None:
    """The rim's own peak (HU): ``percentile`` of the smoothed ``plane``'s values above
    ``level_hu`` (enhancing tissue: the liver's value plus the rim's margin) in the dark
    ``region`` (boolean ``(y, x)``) and within ``reach_mm`` of it; None when there are none."""
    if not region.any():
        return None
    near = within_mm(region, spacing_yx, reach_mm)
    vals = plane[near & (plane > level_hu)]
    if vals.size == 0:
        return None
    return float(np.percentile(vals, percentile))


CORE_MIN_SHARE = 0.15
"""A click in an enhancing rim: the region on its slice holds a necrotic core when tissue darker
than the liver (by the rim's margin) makes up at least this share of it ..."""
CORE_ENCLOSED_SHARE = 0.8
"""... and the rim closes around it: at least this share of the ring RIM_MIN_THICK_MM outside
the core lies in the region."""
RIM_MIN_THICK_MM = 2.0


def core_in_rim(
    region: np.ndarray, plane: np.ndarray, dark_hu: float, spacing_yx: Sequence[float]
) -> np.ndarray | None:
    """The necrotic core that the enhancing ``region`` (boolean ``(y, x)``, the outline of a
    click in the rim, necrosis counted as lesion) closes around: its largest component darker
    than ``dark_hu`` when it makes up CORE_MIN_SHARE of the region and the region surrounds it
    (CORE_ENCLOSED_SHARE of a RIM_MIN_THICK_MM ring); None otherwise."""
    dark = region & (plane < dark_hu)
    if dark.sum() < CORE_MIN_SHARE * region.sum():
        return None
    lab, n = ndimage.label(dark)
    if n == 0:
        return None
    sizes = ndimage.sum(dark, lab, index=np.arange(1, n + 1))
    core = lab == 1 + int(np.argmax(sizes))
    if core.sum() < CORE_MIN_SHARE * region.sum():
        return None
    ring = ring_mm(core, spacing_yx, 0.0, RIM_MIN_THICK_MM)
    if (ring & region).sum() < CORE_ENCLOSED_SHARE * ring.sum():
        return None
    return core


def slice_peaks(
    hu_plane: Callable[[int], np.ndarray],
    cores: dict[int, np.ndarray],
    level_hu: float,
    top_hu: float,
    spacing_yx: Sequence[float],
) -> dict[int, float]:
    """Per slice ``z`` of ``cores`` (the dark core's boolean ``(y, x)`` mask on each slice it
    reaches), the rim's own peak there: :func:`rim_peak` of the smoothed plane ``hu_plane(z)``
    within RIM_MIN_THICK_MM of the core (the rim beside the necrosis, not the neighbours a band
    RIM_SEARCH_MM out reaches), held under ``top_hu`` (contrast-filled vessels above). Slices
    with no enhancing tissue beside their core are left out."""
    out: dict[int, float] = {}
    for z, core in cores.items():
        if not core.any():
            continue
        peak = rim_peak(hu_plane(z), core, level_hu, spacing_yx, reach_mm=RIM_MIN_THICK_MM)
        if peak is not None:
            out[z] = min(peak, top_hu)
    return out
