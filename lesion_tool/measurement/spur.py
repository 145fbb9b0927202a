"""A vessel touching an enhancing lesion's edge is not lesion: cut where it joins the outline.

On an arterial (or any enhanced) image a hyper-enhancing lesion lies next to enhancing hepatic
artery and portal branches. Smoothed for the delineation, a 3 mm vessel reads no brighter than
the lesion (250 HU blurred to about 175 HU beside a 190 HU lesion), and the liver between them,
1-2 mm, reads above the half-way value: the rays run on into the vessel and the outline takes
in a spur, pointing along the rays (a vessel through the slices beside the lesion) or along the
vessel (one entering or ending at it). The longest diameter goes through it: a sharp 22 mm
sphere with such a vessel measured 27-31 mm, unflagged.

Two rules, both from what a vessel is and a lesion is not. Where the vessel lies beside the lesion,
the ray's profile falls past the lesion's edge (the strip of liver, lifted by the blur) and rises
again (the vessel), then falls to the liver: a ray longer than most whose outer end dips and rises
so ends at the dip (:func:`vessel_cut_rays`, on each ray before the angular clip). And whatever
joins the outline, its width tells a spur from lesion: a hepatocellular carcinoma grows as an
expansile, roundish nodule, and a lobulation of it is as wide as it is deep, whereas the spur is no
wider than the vessel and its partial-volume rim. So the outline of a slice is opened by a disk of
:data:`SPUR_WIDTH_MM` (a morphological opening keeps every part of a shape a disk that size fits
in) and a ray that the opening shortens by more than :data:`SPUR_MIN_CUT_MM` ends where the opened
outline does. Parts a disk of that size fits in (the lesion's body, its lobulations, the convex
outline at any scale above the disk's) are left as they were.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import ndimage

SPUR_WIDTH_MM = 5.0
"""Protrusions of the outline narrower than this are cut: a liver vessel of up to 3-4 mm (the
hepatic artery's and the segmental portal branches' calibre near a tumour) with the 0.5-1 mm of
partial volume on either side that joins it to the lesion."""
SPUR_MIN_CUT_MM = 1.0
"""A ray is shortened only when the opening takes more than this off it (the opening of a pixel
mask moves every ray's end by up to a pixel)."""


def spur_cut_radii(
    radii: np.ndarray,
    mask: np.ndarray,
    cy: float,
    cx: float,
    spacing_yx: Sequence[float],
) -> np.ndarray | None:
    """Ray lengths ``radii`` (mm, evenly spaced angles from ``(cy, cx)``, window pixels) with
    the narrow spurs of their outline ``mask`` ``(y, x)`` cut (see the module's docstring); None
    when nothing is cut."""
    sy, sx = float(spacing_yx[0]), float(spacing_yx[1])
    ry, rx = SPUR_WIDTH_MM / 2.0 / sy, SPUR_WIDTH_MM / 2.0 / sx
    hy, hx = math.ceil(ry), math.ceil(rx)
    yy, xx = np.ogrid[-hy : hy + 1, -hx : hx + 1]
    disk = (yy / ry) ** 2 + (xx / rx) ** 2 <= 1.0
    m = np.asarray(mask, dtype=bool)
    if not m.any():
        return None
    box = ndimage.find_objects(m.view(np.uint8))[0]  # the opening stays inside the mask
    pad = hy + hx + 1
    opened = np.zeros_like(m)
    opened[box] = ndimage.binary_opening(np.pad(m[box], pad), structure=disk)[pad:-pad, pad:-pad]
    lab, _ = ndimage.label(opened)
    iy, ix = round(cy), round(cx)
    inside = 0 <= iy < m.shape[0] and 0 <= ix < m.shape[1]
    if not inside or lab[iy, ix] == 0:
        return None  # the centre itself lies in a narrow part: not a round lesion to guard
    body = lab == lab[iy, ix]
    step = 0.25 * min(sy, sx)
    r = np.arange(0.0, float(np.max(radii)) + 2.0 * step, step)
    angles = np.arange(len(radii)) * (2.0 * math.pi / len(radii))
    ys = cy + np.outer(np.sin(angles), r) / sy
    xs = cx + np.outer(np.cos(angles), r) / sx
    on = ndimage.map_coordinates(body.view(np.uint8), [ys, xs], order=0, mode="constant") > 0
    on[:, 0] = True
    off = ~on
    first_off = np.where(off.any(axis=1), np.argmax(off, axis=1), len(r))
    # The opened outline ends half a pixel past the last pixel centre inside it.
    reach = r[np.maximum(first_off - 1, 0)] + 0.5 * min(sy, sx)
    cut = reach < np.asarray(radii) - SPUR_MIN_CUT_MM
    if not cut.any():
        return None
    return np.where(cut, np.minimum(reach, radii), radii)


VESSEL_REACH_MM = 6.0
"""The outer end of a ray looked at for a vessel: a vessel of up to 4 mm and the strip of liver
(up to 2 mm) between it and the lesion that blur and smoothing fill in."""
DIP_NOISE_K = 3.0
"""A ray whose outer end dips and rises again by this many noise SDs of the smoothed liver ..."""
DIP_CONTRAST = 0.25
"""... the dip at least this share of the contrast below the lesion's value, crossed a strip of
liver into a separate bright structure."""
BODY_MM = 1.0
"""Only rays longer than the slice's median ray by this are looked at: inside a heterogeneous
lesion, near its border, its texture dips and rises as well."""


def vessel_cut_rays(
    prof: np.ndarray,
    r: np.ndarray,
    edge_r: np.ndarray,
    liver_hu: float,
    lesion_hu: float,
    threshold_hu: float,
    noise_hu: float,
) -> np.ndarray | None:
    """Edges ``edge_r`` (mm, one per ray) of an enhancing lesion with the vessels beyond a thin
    strip of liver cut off (None when none is), from the ray ``(ray, sample)`` profiles
    ``prof`` (smoothed HU at distances ``r``): a ray longer than most (:data:`BODY_MM`) whose
    last :data:`VESSEL_REACH_MM` dip below the lesion's value (:data:`DIP_CONTRAST`) and rise
    again above ``threshold_hu`` by :data:`DIP_NOISE_K` noise SDs ends at the dip. (A rule
    ending a ray that reads brighter than the lesion past its neighbours', for a vessel leaving
    it, cut IRCADb 01 made hyper-enhancing on 5 mm slabs from 79.6 to 36.8 mm: not kept.)"""
    edge_r = np.asarray(edge_r, dtype=float)
    out = edge_r.copy()
    dip_below = lesion_hu - DIP_CONTRAST * (lesion_hu - liver_hu)
    for i in np.flatnonzero(edge_r > float(np.median(edge_r)) + BODY_MM):
        hi = int(np.searchsorted(r, edge_r[i], side="right"))
        lo = int(np.searchsorted(r, edge_r[i] - VESSEL_REACH_MM))
        seg = prof[i, lo:hi]
        if seg.size < 3:
            continue
        run_min = np.minimum.accumulate(seg)
        rise = np.where(run_min < dip_below, seg - run_min, 0.0)
        j = int(np.argmax(rise))
        if rise[j] > DIP_NOISE_K * noise_hu and seg[j] > threshold_hu:
            out[i] = r[lo + int(np.argmin(seg[: j + 1]))]
    return None if np.array_equal(out, edge_r) else out
