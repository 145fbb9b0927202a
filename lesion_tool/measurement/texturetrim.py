"""Narrow protrusions of an outline found by texture are cut off (issue 11, w12-het04).

A lesion delineated by texture (the local standard deviation of the raw values, see
``segment._Window.texture_plane``) is a heterogeneous nodule whose mean value is the liver's:
IRCADb tumour 04, a mottled core with bright specks inside a faint enhancing ring. The texture
of a vessel's partial-volume fringe, a septum or a run of specks next to it is texture too, so
the rays run out along it: 04's texture outlines reached 24-33 mm for 17-18.5 mm through
tongues a few millimetres wide towards the vessels beside it (5 mm slabs, and single clicks on
1.6 and 2.5 mm slices). The texture window (2 mm sigma) spreads one speck or a vessel's fringe
over about 8 mm (+-2 sigma), so a tongue narrower than that says nothing about the nodule, while
a nodule worth measuring by texture is wider than it. The outline on each slice is therefore
opened (erosion then dilation) by a disk of TRIM_RADIUS_MM, and each ray is cut back to where it
leaves the opened outline (the part connected to the rays' centre) when that cuts it by
TONGUE_MIN_MM or more (a tongue, not a corner). Rays never move outwards;
a slice whose opening leaves nothing at the centre (a cap, a speck) keeps its outline; a round
outline is unchanged (the opening of a disk wider than the opening disk is the disk).

The same cut applies to a *faint enhancing* region found by value on an arterial image
(:func:`percolates`, w13-speck04): brighter than the liver by less than LOW_CONTRAST_HU or
LOW_CNR smoothed noise SDs (segment's low-contrast flag). Its threshold, half-way between the
two, then lies within about one smoothed noise SD of the liver's value, so patches of the
liver's own noise (as wide as the smoothing's correlation length, a few millimetres) pass it
and join the region: it runs out through the parenchyma in tongues, as a texture outline runs
out along a vessel's fringe. IRCADb 04 made hyper-enhancing on 2.5 and 5 mm slabs with 25-30
HU noise (8-14 HU over the liver at the click) gave 25-80 mm for 17 mm so. The nodule is the
part wider than the opening disk; a faint tumour larger than that is not shortened except
where tongues leave it. Not for hypo-attenuating regions: on HCC_006 (arterial, a capsule, 9
HU darker than the liver at two clicks, irregular outlines 70-74 % of their hulls, flagged) the
cut took 31.2 / 29.8 mm to 27.0 / 26.7 for readers' 28-33: a large hypo-attenuating nodule's
own lobulated edge there, not noise; nor on portal-venous images, not measured in that pass.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from lesion_tool.measurement.raster import disk_footprint, open_by

TRIM_RADIUS_MM = 3.5
"""Radius of the opening disk: a tongue narrower than 7 mm (the texture window's spread, +-2
sigma, is 8 mm) is not the nodule's. 04's slices that set its diameter are 12-18 mm across.
Tried on 04's texture results (8 prompts): 2.5 mm cut 24.7 -> 22.9 mm for 18.5 (still over),
3.0 mm 20.9, 3.5 mm 20.2 (within), and 28.1 -> 21.3 mm for 17.3 on 2.5 mm slabs only at 3.5."""
TONGUE_MIN_MM = 1.0
"""A ray is cut back only when the opening shortens it by at least this much: a tongue runs out
several millimetres, while the opening also shaves a millimetre or so off the corners of an
irregular (mottled) outline, which is the nodule's own edge. Without it 04's click near its edge
on IRCADb (101, 233, 202) fell from 17.8 to 15.3 mm for 18.5 (under); at 1.0 mm it gives 15.9,
at 1.5 and 2.0 mm 16.7-16.8, but then the tongue of the click at (97, 244, 199) is only partly
cut (21.5 mm for 18.5, over; 21.1 at 1.0 mm)."""
TRIM_STEP_MM = 0.25
"""Sampling step along a ray when its edge is cut back."""


def percolates(contrast_hu: float, noise_hu: float, arterial: bool) -> bool:
    """Whether a region found by value at ``contrast_hu`` (lesion minus liver, smoothed HU)
    against a smoothed liver noise SD of ``noise_hu`` is a faint enhancing region whose outline
    is cut back as a texture outline is (see the module's docstring): on arterial images,
    brighter than the liver by less than LOW_CONTRAST_HU or LOW_CNR noise SDs."""
    from lesion_tool.measurement.segment import low_contrast

    return arterial and contrast_hu > 0.0 and low_contrast(contrast_hu, noise_hu)


def trimmed_radii(
    radii: np.ndarray,
    cy: float,
    cx: float,
    mask: np.ndarray,
    spacing_yx: Sequence[float],
    radius_mm: float = TRIM_RADIUS_MM,
) -> np.ndarray | None:
    """The ray radii (mm) of a star-shaped outline from ``(cy, cx)`` (pixels) whose ``mask``
    is given, each cut back to where it leaves the outline opened by a disk of ``radius_mm``;
    None when the opening leaves nothing at the centre (the outline is then no wider than the
    disk, a cap or a speck: it is kept as it is)."""
    se = disk_footprint([radius_mm / s for s in spacing_yx])
    opened = open_by(mask, se)  # ndimage.binary_opening, per-row filters (raster.py)
    # Only the part of the opened outline connected to the centre is the nodule.
    lab, _ = ndimage.label(opened)
    iy, ix = round(cy), round(cx)
    if not (0 <= iy < mask.shape[0] and 0 <= ix < mask.shape[1]) or lab[iy, ix] == 0:
        return None
    opened = lab == lab[iy, ix]
    n = len(radii)
    angles = np.arange(n) * (2.0 * math.pi / n)
    out = np.array(radii, dtype=float)
    steps = np.arange(0.0, float(np.max(radii)) + TRIM_STEP_MM, TRIM_STEP_MM)
    # Every ray's samples at once (w17-speed): each ray's sine and cosine as its own scalar,
    # then the same products and sums per sample as one ray at a time, so the same pixels.
    sin = np.array([np.sin(a) for a in angles])[:, None]
    cos = np.array([np.cos(a) for a in angles])[:, None]
    py = np.rint(cy + sin * steps[None, :] / spacing_yx[0]).astype(int)
    px = np.rint(cx + cos * steps[None, :] / spacing_yx[1]).astype(int)
    ok = (py >= 0) & (py < mask.shape[0]) & (px >= 0) & (px < mask.shape[1])
    inside = np.zeros(py.shape, dtype=bool)
    inside[ok] = opened[py[ok], px[ok]]
    inside |= ~(steps[None, :] <= np.asarray(radii, dtype=float)[:, None])  # past the ray's end
    for i in np.flatnonzero(~inside.all(axis=1)):
        first_out = int(np.argmin(inside[i]))
        # The edge half a step before the first sample outside the opened outline.
        cut = max(steps[first_out] - 0.5 * TRIM_STEP_MM, 0.0)
        if radii[i] - cut >= TONGUE_MIN_MM:
            out[i] = cut
    return out
