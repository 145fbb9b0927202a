"""A hypo-attenuating lesion at the liver's surface ends at the fat plane, even where the plane is
averaged away (issue 11, w14-bowel02).

Between the liver and the organ beside it (bowel, stomach, kidney, the heart) lies a thin plane
of fat, 1-3 mm, under the peritoneum or the pericardium. On thin slices it reads below FAT_HU
and ends every ray (segment's ``_fat_stop``); on 2.5-5 mm slabs and with noise the smoothing and
the slab average raise it to 10-45 HU, which lies on a hypo-attenuating lesion's side of the
half-way value (IRCADb tumour 02, 40-55 HU against the liver's 110, bowel wall 57-78 beyond):
the rays cross it and the outline runs 5-8 mm along the bowel (5 mm slabs 31.6 mm for 27.8;
noise 30 HU 32.8-33.5 for 29.4). What remains of the plane there is its *shape*: a valley, a
line darker than the tissue on both sides of it, a few millimetres wide and as long as the
organs' contact (tens of millimetres), while the lesion's own edge against the liver or a
neighbour is a step, not a valley.

A valley is found as the black top-hat of the smoothed plane (closing by a disk of
VALLEY_DISK_MM minus the plane), after every value brighter than the liver is set to the
liver's: otherwise parenchyma between two bright vessels would read as a valley. It must be
deeper than VALLEY_MIN_HU and VALLEY_NOISE_K smoothed noise SDs, and belong to a connected
valley at least VALLEY_MIN_LENGTH_MM long (a plane between organs, not a speck of noise or a
dark fleck inside the lesion); the valley holding the ray's origin is never a stop (a lesion
narrower than the disk is itself a valley). A ray meeting such a valley leaves the lesion there.
For every delineation by value of a lesion darker than the liver: a hypo-attenuating lesion and,
on arterial images, a necrotic core delineated from its own value (longaxis_valley.py: the core
holding the rays' origin is never a stop, and a core wide enough to click is not filled by the
disk). Not for an enhancing lesion's delineation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from lesion_tool.measurement.raster import disk_footprint, grey_close_by

VALLEY_DISK_MM = 3.0
"""Radius of the closing disk: a fat plane up to 6 mm across after smoothing and slab averaging
(1-3 mm of fat, a 1 mm smoothing sigma) is filled, the lesion (10 mm or more) is not."""
VALLEY_MIN_HU = 20.0
"""A valley shallower than this is not a fat plane: in plain liver (vessels flattened to the
liver's value) 99 % of the top-hat lies under 20-27 HU on IRCADb, inside tumour 02 every value
under 14 HU; the plane beside 02 reads 20-25 HU deep on its median."""
VALLEY_NOISE_K = 4.0
"""And deeper than this many smoothed noise SDs of the liver."""
VALLEY_GRID_MM = 1.2
"""The valleys are found on every k-th pixel, k the largest with k x pixel <= this (1.2 mm: the
plane is smoothed with a 1 mm sigma, a 2 mm fat plane is still two samples across)."""
VALLEY_MIN_LENGTH_MM = 20.0
"""A connected valley shorter than this (its bounding box's diagonal) is a speck or a fleck; the
plane between the liver and a neighbour runs along the whole contact."""


def fat_plane_valleys(
    plane: np.ndarray,
    liver_hu: float,
    noise_hu: float,
    spacing_yx: Sequence[float],
    cy: float,
    cx: float,
    cache: dict | None = None,
    key: object = None,
) -> np.ndarray | None:
    """The pixels of ``plane`` (smoothed HU) on a long dark valley (see the module's docstring),
    without the valley holding ``(cy, cx)``; None when there is none. With ``cache`` (a dict
    kept per window) and ``key`` (the plane's slice), the long valleys of a plane are found once
    per liver value and noise (1 HU, 0.1 HU): the casts of one prompt revisit each slice."""
    ck = None if cache is None else (key, round(liver_hu), round(noise_hu, 1))
    if ck is not None and ck in cache:
        lab = cache[ck]
    else:
        lab = _long_valleys(plane, liver_hu, noise_hu, spacing_yx)
        if ck is not None:
            cache[ck] = lab
    if lab is None:
        return None
    iy, ix = round(cy), round(cx)
    own = lab[iy, ix] if (0 <= iy < plane.shape[0] and 0 <= ix < plane.shape[1]) else 0
    out = lab > 0
    if own:
        out &= lab != own
    return out if out.any() else None


def _long_valleys(
    plane: np.ndarray, liver_hu: float, noise_hu: float, spacing_yx: Sequence[float]
) -> np.ndarray | None:
    """Labels of the long valleys of ``plane`` (0 elsewhere), or None when it has none."""
    # On a grid of about VALLEY_GRID_MM (the plane is smoothed: nothing narrower is lost), which
    # makes the closing some ten times cheaper; labels are brought back to every pixel.
    step = [max(1, math.floor(VALLEY_GRID_MM / s)) for s in spacing_yx]
    flat = np.minimum(plane[:: step[0], :: step[1]], liver_hu)
    grid = [s * k for s, k in zip(spacing_yx, step, strict=True)]
    se = disk_footprint([VALLEY_DISK_MM / s for s in grid])
    depth = grey_close_by(flat, se) - flat
    valley = depth >= max(VALLEY_MIN_HU, VALLEY_NOISE_K * noise_hu)
    if not valley.any():
        return None
    lab, n = ndimage.label(valley, structure=np.ones((3, 3), dtype=bool))
    keep = np.zeros(n + 1, dtype=bool)
    for k, sl in enumerate(ndimage.find_objects(lab), start=1):
        if sl is None:
            continue
        h = (sl[0].stop - sl[0].start) * grid[0]
        w = (sl[1].stop - sl[1].start) * grid[1]
        keep[k] = math.hypot(h, w) >= VALLEY_MIN_LENGTH_MM
    if not keep.any():
        return None
    lab = np.where(keep[lab], lab, 0)
    lab = np.repeat(np.repeat(lab, step[0], axis=0), step[1], axis=1)
    return lab[: plane.shape[0], : plane.shape[1]]
