"""A necrotic core's rim must be a band: enhancing tissue with the liver beyond it.

On an arterial image a necrotic HCC is a dark core ENCLOSED by a viable rim 2-10 mm thick, and
beyond the rim lies the liver. ``necrosis.enhancing_rim`` finds the rim as tissue brighter than
the liver's value (measured just outside the dark region) in the band around the core; the whole
lesion is then delineated by the rim's value. Where the liver round the lesion is itself brighter
than that value (a graded halo rising towards the lesion, a brighter lobe; IRCADb 05 given a
necrotic core: liver 112 HU measured at the core, 134-141 HU round the lesion, rim 143 HU), the
liver reads as "rim" too, the rim's value does not stop at the lesion's border, and the whole
grows into the liver (05, seed 4: 49.3 mm for 32.5, every slice 10-15 mm wider than the expert's
section, the excess at 134-141 HU).

On thin slices (arterial), a dark region by value with CORE_BRIGHT_SHARE of its pixels reading
as enhancing took in its rim: it is cut back to its dark part at the click (:func:`dark_core`).
That bright tissue inside the region is the evidence that tissue as bright as the rim lies round
the core, so the rim is then also judged with the tissue beyond it (``necrosis.RIM_BEYOND_MM``,
8-16 mm out of the core: the liver past a rim up to 8 mm thick): the rim is a band only when, in
at least RIM_ENCLOSE_SHARE of the directions, it stands out by the rim margin from tissue beyond
that reads as the liver (:func:`rim_is_band`). When it is a band, no liver as bright as the rim
lies round the core: the bright share was the core's blurred seam, the region by value is the core
after all, and its own enclosing rim's value bounds the whole (:func:`uncut_rim`). When it is
not, the whole is taken by the rim's outer edge per ray instead (``segment._rim_around_click``:
where each ray's rim falls half-way back to the lowest value just past it, the local liver), and
its surroundings test reads the liver just outside the rim (:func:`outside_liver`).

From a cut core the whole by the rim's value is cast from the core's middle
(:func:`core_middle`), not from the click. The region by value that took in part of the rim
says the click may lie anywhere in core or seam; rays cast from an eccentric point meet the far
rim's outer edge obliquely and stop short of it there, while the core's middle is the lesion's
middle, from which every ray crosses the rim straight out (IRCADb 02 given a necrotic core, seed
1 click (75, 325, 177) 1.2 mm inside the core's edge: the whole 26.2 mm for 29.4, from the core's
middle 26.5; the expert's last 3 mm at the liver's surface read as liver, 118-124 HU, and no
rule can see them).

Measured and not kept: a higher CORE_BRIGHT_SHARE. The bright share of 05's deepest click (no
noise, a 22 mm core: 0.22, its one-pixel seam) and of the leaked 42 mm "core" (seed 4: 0.76) are
far apart, but the cut's gains on 02 (a 27-28 mm core) read 0.29-0.44 and 01's line 0.58-0.64:
no share separates the seam from a leak over the four seeds; the band test does.

Measured and not kept: the band test and the local liver on every enhancing rim (thin slices and
slabs). On necrotic core, seeds 0 / 3 / 4, rims that are bands by the rim's value already but
whose liver 8-16 mm out is heterogeneous lost their whole (03's clicks 20.8-23.7 -> 18.6-19.8 mm
for 23.2, 07's line 21.4 -> 17.4, 05's click 32.9 -> 28.9 for 32.5), and on 5 mm slabs 01's line
(seed 3) 71.7 -> 63.9 mm for 78.2; and the cut on slabs took 01 (seed 4) 74.4 -> 26.5 mm.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from lesion_tool.measurement.necrosis import (
    RIM_BEYOND_MM,
    RIM_ENCLOSE_SHARE,
    enhancing_rim,
    rim_margin_hu,
)
from lesion_tool.measurement.raster import deepest_pixel, depth_mm

__all__ = [
    "CENTRE_ENABLED",
    "CORE_BRIGHT_SHARE",
    "DARK_ENABLED",
    "ENABLED",
    "KEEP_ENABLED",
    "core_middle",
    "dark_core",
    "rim_is_band",
    "uncut_rim",
]

ENABLED = True
"""Module switch (A/B measurement) of the band test."""
DARK_ENABLED = True
"""Module switch (A/B measurement) of the dark core."""
HALO_ENABLED = True
"""Module switch (A/B measurement) of the liver outside a core's rim."""
KEEP_ENABLED = True
"""Module switch (A/B measurement) of the uncut region's rim when the rim is a band."""
CENTRE_ENABLED = True
"""Module switch (A/B measurement) of the whole cast from the cut core's middle."""

CORE_BRIGHT_SHARE = 0.2
"""A dark region by value with this share or more of its pixels reading as enhancing tissue
(rim_margin_hu above the liver, smoothed) is not a necrotic core: its region took in the rim,
and past the rim the liver where it reads as bright as the rim (a graded halo); only the blurred
seam with the rim, a pixel or two of a 10-40 mm core's edge, reads so in a core. Thin slices
only (the caller): on a slab of SLAB_MM or more the core is averaged with the rim above and below
it and legitimately reads near or above the liver's value (IRCADb 01 on 5 mm slabs: cutting its
dark region back to its darkest part took 74.4 mm to 26.5 for 78.2)."""


def rim_is_band(
    plane: np.ndarray,
    core: np.ndarray,
    liver_hu: float,
    noise_sd_hu: float,
    spacing_yx: Sequence[float],
) -> bool:
    """Whether the enhancing rim round the dark ``core`` (boolean ``(y, x)`` mask on the smoothed
    ``plane``) is a band with the liver (``liver_hu``) beyond it in at least RIM_ENCLOSE_SHARE of
    the directions (see the module docstring). True when the switch is off."""
    if not ENABLED:
        return True
    rim = enhancing_rim(plane, core, liver_hu, noise_sd_hu, spacing_yx, RIM_BEYOND_MM)
    return rim is not None and rim.share >= RIM_ENCLOSE_SHARE


def uncut_rim(
    plane: np.ndarray,
    region: np.ndarray,
    liver_hu: float,
    noise_sd_hu: float,
    spacing_yx: Sequence[float],
):
    """The enhancing rim round the uncut dark ``region`` when it encloses it (share at least
    RIM_ENCLOSE_SHARE), else None (switch off: None). Called when the region was cut back
    (:func:`dark_core`) but the rim round the cut core is a band with the liver beyond it
    (:func:`rim_is_band`): no liver as bright as the rim lies round the core, so the bright
    share was the blurred seam of the core with its rim, not rim and halo taken in; the region
    by value is the core, and the rim judged round it keeps its value (judged round the smaller
    cut core, the rim's value reads from the rim's brighter inner part, and the whole delineated
    by it shrinks: IRCADb 05's deepest click on necrotic core, 30.9 -> 30.45 mm for 32.5)."""
    if not KEEP_ENABLED:
        return None
    rim = enhancing_rim(plane, region, liver_hu, noise_sd_hu, spacing_yx)
    if rim is None or rim.share < RIM_ENCLOSE_SHARE:
        return None
    return rim


def dark_core(
    core: np.ndarray,
    plane: np.ndarray,
    liver_hu: float,
    noise_sd_hu: float,
    spacing_yx: Sequence[float],
    at: tuple[int, int],
) -> np.ndarray:
    """The necrotic core inside the dark region ``core`` (boolean ``(y, x)`` on the smoothed
    ``plane``) found by value from the click ``at`` (pixel): ``core`` itself unless
    CORE_BRIGHT_SHARE of it reads as enhancing; else its part darker than the liver by the rim
    margin that holds the click (or the deepest such part), when it is at least CORE_MIN_DEPTH_MM
    deep; ``core`` when there is none (see CORE_BRIGHT_SHARE)."""
    from lesion_tool.measurement.necro_rimclick import CORE_MIN_DEPTH_MM

    if not DARK_ENABLED or not core.any():
        return core
    margin = rim_margin_hu(noise_sd_hu)
    bright = core & (plane >= liver_hu + margin)
    if bright.sum() < CORE_BRIGHT_SHARE * core.sum():
        return core
    labels, n = ndimage.label(core & (plane <= liver_hu - margin))
    if n == 0:
        return core
    depth = depth_mm(labels > 0, spacing_yx)
    lab = int(labels[at])
    if lab == 0:
        lab = int(labels.flat[int(np.argmax(depth))])
    comp = labels == lab
    if float(depth[comp].max()) < CORE_MIN_DEPTH_MM:
        return core
    return comp


def outside_liver(commonest_hu: float, local_hu: float, rim_hu: float) -> float:
    """The liver's value the tissue just outside a rim outlined from a dark core is compared
    with: the local value (median just outside the first outline) when it lies between the
    commonest value and the rim's, a liver brighter round the lesion (a graded halo: IRCADb 05,
    134-141 HU against 112 HU); else the commonest value. The abdominal wall's muscle, bowel
    and fat beside a rim read darker than the arterial liver, so a neighbour's wall still fails
    the surroundings test; a vessel lumen reads above the rim's value."""
    if HALO_ENABLED and commonest_hu < local_hu < rim_hu:
        return local_hu
    return commonest_hu


def core_middle(
    core: np.ndarray, seed: tuple[int, ...], y0: int, x0: int, spacing_yx: Sequence[float]
) -> tuple[int, ...]:
    """The voxel (volume index, on the click's slice ``seed[0]``) at the middle of the dark
    ``core`` (window pixels; window origin ``(y0, x0)``): its pixel farthest from its edge, where
    the whole by the rim's value is cast from (see the module docstring); ``seed`` when the switch
    is off."""
    if not CENTRE_ENABLED:
        return seed
    y, x = deepest_pixel(core, spacing_yx)
    return (seed[0], y + y0, x + x0)
