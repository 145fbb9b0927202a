"""A faint enhancing ring's rays whose path left the rim for a vessel's flank (issue 11).

:func:`lesion_tool.measurement.ring.find_ring` with ``bright`` finds a faint enhancing rim as
the brightest closed path around the click, moving by at most one step per ray. Where a vessel
touches the rim, or lies a few millimetres beyond a stretch of rim that is fainter than the
rest, the brightest closed path leaves the rim and climbs the vessel's flank: the sum along the
path gains more from the vessel's bright border than it loses on the rays in between. A rim is
a ridge across each ray (brighter than the tissue just inside and just outside it); on those rays
the path lies on a slope instead, well below the top of the profile within a rim's width of it.

IRCADb 04 (a faint ring, +10-20 HU round a core as dense as the liver) on arterial slabs, where a
portal branch runs beneath it and a small branch lies upper-left:

- 5 mm slabs, 25 HU noise, seed 8, deepest click (31, 241, 197), slice 31. On 52 of 72 rays the
  path lies within 1 HU of the top of its ray's smoothed profile within +-1.5 mm (a ridge), its
  radius within 0.5 mm of the expert's border. On rays 26-34 (130-170 degrees) the branch
  touches the rim (the profile rises 133 -> 166-190 HU from the path at 5-5.5 mm to the lumen at
  8-10 mm) and the path lies 9-13 HU below the top within 1.5 mm; on rays 36-46 (180-230 degrees)
  the rim reads only 121-128 HU at 6 mm and the path wanders out to 9.5-10.5 mm (expert border
  7.5-8 mm) towards the small branch at 10.5-11 mm (132-144 HU), 3-9 HU below the top (on the
  inner rim or the branch's flank). Edge radii there 10.4-10.9 mm for 7.5-8.0; diameter 20.7 mm
  for the expert's 17.1 (the rough line: 20.4, same rays).
- 2.5 mm slabs, 30 HU noise, seed 8: the same two stretches (rays 26-35, 40-46) lie 5-24 HU below
  the top on every ring found round 04 (deepest, random click, line); on every other ray 0-3 HU.

A rim is also brighter than the tissue beyond it. Where the rim fades (one side of the nodule
on the slices off its widest, the darker core there meeting the liver directly), the path runs
on through flat liver, and a ridge test alone keeps it: it is the top of a flat profile.

- 2.5 mm slabs (no enhancement, no added noise), seed 9, the rough line across slice 63; the
  ring carried to slice 64 (expert 471 px). Rays 36-48 (180-240 degrees): the profile rises
  from the core (86-102 HU at 2-4 mm) to flat liver (108-118 HU) with no ridge; the path wanders
  out to 8-11.5 mm against the expert's 6.5-9.0, 0.4-2.5 HU below the top within 1.5 mm (not
  caught), but only -0.3 to +1.1 HU above the mean 2-5 mm beyond it (the flat liver) or below it
  (a branch's flank at ray 39: -9). On every ray of the ring where it follows the rim: +5 to +23
  HU. Edges there 10.2-13.7 mm, slice 64's ring 21.8 mm for the expert's 17.3 (21.4 with the ridge
  test alone, which also trims slice 63: then within 1.5 times the line, so it became the result,
  a new miss; without either, 21.8 was past the line's ratio and texture measured 18.7).
- Hyper 2.5 mm 30 HU, seed 3, deepest click (63, 242, 200): 34.5 mm for 17.3 (20.4 with the
  ridge test alone). On the ring that set it, rays 36-48 ran out to 7.5-10.5 mm (edges 9.6-12.6)
  with the path -0.3 to +2.4 HU above the tissue beyond it, or on a flank (-9 to -15); 18.3 mm
  with them given their neighbours' edges (8.3-9.4 mm).

So a ray whose path lies more than DEFICIT_HU below the top of its own smoothed profile within
RIDGE_MM, or less than OVER_OUTSIDE_HU above the tissue OUTSIDE_MM beyond it, is not on the rim
there, and its edge takes its neighbours' (circular interpolation
between the rays on the rim), as a ray that meets a vessel takes its neighbours' length in
:func:`lesion_tool.measurement.segment._rim_cut`. Only when most of the ring is on the rim
(at most MAX_OFF_SHARE of its rays off it): a ring mostly off a ridge is left as found. The
ring's test (its confirmation on the slices next to it) is not changed, only its edge.

Only on arterial slabs (MIN_SLAB_MM), where the rim enhances and the rule was measured. On the
portal-venous 2.5 mm slabs a rough line across 04 is measured by the first delineation that
agrees with it (within 0.7-1.4 times its length: the bright ring before texture), and there a
trimmed ring changes which one that is without being right: seed 8, the ring carried to slice
64 runs out over a small branch, a ridge 5-8 HU above the liver beyond it at 10-10.5 mm (rays
42-46, expert 6.8-7.2 mm), which neither test can tell from a rim; trimming slice 63 (20.1 ->
18.9 mm) brought the ring to 21.5 mm, under 1.4 times the line, so it displaced texture's 19.0
(a new miss). Seed 9 the other way (18.7 -> 18.5, within both times).
"""

from __future__ import annotations

import numpy as np

ENABLED = True
"""Module switch."""
RIDGE_MM = 1.5
"""Half the width over which a ray's profile is searched for the rim's top around the path: a
faint rim is 2-4 mm wide on the plane smoothed at 1.5 mm."""
DEFICIT_HU = 5.0
"""A path lower than the top within RIDGE_MM by more than this (smoothed HU) is on a slope, not
on the rim: a third to a half of a faint rim's 10-20 HU; on the rim, 0-3 HU in 25-30 HU of voxel
noise (IRCADb 04 on 2.5 and 5 mm slabs, above)."""
OUTSIDE_MM = (2.0, 5.0)
"""The tissue beyond a rim is read this far beyond the path (as the ring's own test reads it)."""
OVER_OUTSIDE_HU = 3.0
"""A path no brighter than the mean of the tissue OUTSIDE_MM beyond it by this much (smoothed HU)
is not on a rim: on 04's rim rays 4-28 HU (2.5 mm slabs, seed 9, below), in flat liver -0.3 to
+1.1, on a vessel's flank negative; a third of the ring test's 6 HU own-slab bar
(:data:`lesion_tool.measurement.ring.SLAB_MIN_RIM_HU`)."""
MIN_SLAB_MM = 2.5
"""Only on slices this thick or thicker (2.5 and 5 mm slabs), where the rule was measured: on
1.6 mm slices (IRCADb as acquired) it moved no result (w24-t4h, seed 7), and 04's thin-slice
results are another rule's (w25-t4t). Arterial images only (see above)."""
MAX_OFF_SHARE = 0.4
"""At most this share of the rays may be set aside (their neighbours must be the ring)."""


def off_ridge(
    prof_s: np.ndarray, path: np.ndarray, rim_rays: np.ndarray, step_mm: float
) -> np.ndarray:
    """Rays (boolean, per ray) whose path is not on a rim: its sample ``path`` (index into
    ``prof_s``'s columns) lies more than DEFICIT_HU above the lowest value within RIDGE_MM of it
    on its signed profile (rays x samples, ``step_mm`` apart, the rim the low side as in
    :func:`lesion_tool.measurement.ring.find_ring`), or less than OVER_OUTSIDE_HU below the mean
    of the profile OUTSIDE_MM beyond it; only among ``rim_rays`` (rays that met the rim, not the
    liver's surface)."""
    w = round(RIDGE_MM / step_mm)
    n, m = prof_s.shape
    cols = path[:, None] + np.arange(-w, w + 1)[None, :]
    vals = np.where(
        (cols >= 0) & (cols < m), np.take_along_axis(prof_s, np.clip(cols, 0, m - 1), 1), np.inf
    )
    at = prof_s[np.arange(n), path]
    off = at - vals.min(axis=1) > DEFICIT_HU
    # Nor is a path no brighter than the tissue beyond it (flat liver, or a slope up to it).
    a, b = round(OUTSIDE_MM[0] / step_mm), round(OUTSIDE_MM[1] / step_mm)
    cols = path[:, None] + np.arange(a, b + 1)[None, :]
    beyond = np.take_along_axis(prof_s, np.clip(cols, 0, m - 1), 1).mean(axis=1)
    off |= beyond - at < OVER_OUTSIDE_HU
    return rim_rays & off


def fill_off_ridge(
    radii: np.ndarray,
    prof_s: np.ndarray,
    path: np.ndarray,
    rim_rays: np.ndarray,
    step_mm: float,
    slab_mm: float,
    arterial: bool,
) -> np.ndarray:
    """``radii`` (mm per ray, a closed ring) with the rays whose path is off the rim
    (:func:`off_ridge`) given their neighbours' radii (circular linear interpolation between the
    rays on it); unchanged when the module is off, the image is not an ``arterial`` one, the
    slices are thinner than MIN_SLAB_MM (``slab_mm``), no ray is off, or more than MAX_OFF_SHARE
    are."""
    if not ENABLED or not arterial or slab_mm < MIN_SLAB_MM:
        return radii
    off = off_ridge(prof_s, path, rim_rays, step_mm)
    n = len(radii)
    if not off.any() or off.sum() > MAX_OFF_SHARE * n:
        return radii
    idx = np.arange(n)
    good = idx[~off]
    out = radii.copy()
    out[off] = np.interp(
        idx[off], np.concatenate([good - n, good, good + n]), np.tile(radii[~off], 3)
    )
    return out
