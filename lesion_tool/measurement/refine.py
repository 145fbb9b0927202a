"""A 3-D refinement of a delineation by rays: the random walker (issue 11, w9-refine).

The delineation in :mod:`lesion_tool.measurement.segment` casts rays per slice. This module
re-decides the lesion's border in 3-D, in physical spacing, inside a box around its result:
the voxels that are surely lesion (the result eroded, on the lesion's side of the half-way
value) and surely not (liver-like tissue 3-8 mm outside it, fat and air, tissue on the far side
of the liver from the lesion, and everything beyond 8 mm) seed a random walker
(:func:`skimage.segmentation.random_walker`, Grady 2006) on the smoothed box, down-sampled to
about 1.5 mm in-plane; its edge weights fall with the local gradient measured in units of the
lesion's contrast, scaled by the measured noise. The lesion is where a walk reaches the lesion
seeds first with probability over one half; tissue within 2 mm outside that border on the
lesion's side of the rays' edge level joins (the walker's border is the steepest gradient,
the rays' the outer part of a blurred border, as the expert masks have it).

Applied only where the rays' result is in doubt and the per-slice rays are weakest
(:func:`refine_where_doubtful`): a flagged result for a hyper-attenuating lesion on an arterial
image of slabs (slices of 2 mm or more). Elsewhere it did not pay (README, "Why the prompts
fail", w9-refine): on 1.6 mm slices and on hypo-attenuating lesions the walker's border lies
inside the expert's graded one or spreads into the partial volume of the slabs.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage
from skimage.segmentation import random_walker

from lesion_tool.io.volume import CTVolume
from lesion_tool.measurement.diameter import (
    boundary_points,
    longest_axial_diameter,
)
from lesion_tool.measurement.dome_capslab import outline_doubts
from lesion_tool.measurement.raster import fill_holes, padded_mask
from lesion_tool.measurement.segment import FAT_HU, SLAB_MM, viable_part
from lesion_tool.measurement.speed15_remask import remasked
from lesion_tool.measurement.t5s_halokeep import keeps_halo
from lesion_tool.measurement.t23_darknote import doubts_left

if TYPE_CHECKING:
    from lesion_tool.measurement.segment import LesionMeasurement

REFINE_MARGIN_MM = 8.0
"""The box reaches this far beyond the delineation; beyond it nothing is lesion."""
REFINE_SHELL_MM = (3.0, 8.0)
"""Liver-like tissue this far outside the delineation seeds the background."""
REFINE_ERODE_MM = 2.0
"""The delineation eroded by this much (at most 40 % of its depth) seeds the lesion."""
REFINE_GRID_MM = 1.5
"""In-plane grid of the random walker (the box is down-sampled to it)."""
REFINE_MAX_VOXELS = 40000
"""The down-sampled box holds at most about this many voxels."""
REFINE_BETA = 1.0
"""Edge weight exp(-REFINE_BETA * (gradient / noise gradient)^2)."""
REFINE_SMOOTH_MM = 1.0
"""In-plane Gaussian smoothing before the walk (as the rays' SMOOTH_SIGMA_MM)."""
REFINE_MIN_CNR = 2.0
"""Below this contrast-to-noise ratio the refinement does not apply."""
REFINE_FLAG_CHANGE = 0.2
"""A refinement changing the diameter by more than this fraction is flagged."""
REFINE_EDGE_OUT_MM = 2.0
"""The walker's border is moved out this far at most, to the rays' edge level (see the
module's docstring)."""


def refine_3d(volume: CTVolume, m: LesionMeasurement) -> LesionMeasurement | None:
    """The measurement ``m`` with its mask and diameters re-decided in 3-D by a random walker.

    ``volume`` is the CT in HU, ``(z, y, x)``; ``m`` a result of
    :func:`~lesion_tool.measurement.segment.measure_lesion` on it. Its flags are kept, and one
    is added when the diameter moves by more than REFINE_FLAG_CHANGE. The viable mask (arterial
    images) is re-taken inside the new mask with ``m``'s threshold.

    Returns None when the refinement does not apply (a result by texture, too little contrast
    for its noise, no lesion seed left).
    """
    ev = m.evidence
    if ev.texture_sd_hu is not None:
        return None
    contrast = ev.lesion_hu - ev.liver_hu
    noise = max(ev.noise_sd_hu, 1.0)
    if abs(contrast) < REFINE_MIN_CNR * noise or abs(contrast) < 6.0:
        return None
    sz, sy, sx = (float(s) for s in volume.spacing_mm)
    mz = max(1, math.ceil(REFINE_MARGIN_MM / sz))
    my, mx = math.ceil(REFINE_MARGIN_MM / sy), math.ceil(REFINE_MARGIN_MM / sx)
    box, cur = padded_mask(m.mask, m.offset, (mz, my, mx), volume.shape)
    raw = np.asarray(volume.array[box], dtype=np.float32)
    sm = ndimage.gaussian_filter(raw, (0.0, REFINE_SMOOTH_MM / sy, REFINE_SMOOTH_MM / sx))

    # Down-sampled to about REFINE_GRID_MM, coarser for a large box (time: about linear in
    # the number of voxels).
    grid = max(REFINE_GRID_MM, (raw.size * sz * sy * sx / REFINE_MAX_VOXELS) ** (1.0 / 3.0))
    fy = max(1, round(grid / sy))
    fx = max(1, round(grid / sx))
    fz = max(1, round(grid / sz))
    d = ((sm - ev.liver_hu) / contrast)[::fz, ::fy, ::fx]
    hu = sm[::fz, ::fy, ::fx]
    cd = cur[::fz, ::fy, ::fx]
    sp = (sz * fz, sy * fy, sx * fx)
    if not cd.any():
        return None
    inside = ndimage.distance_transform_edt(cd, sampling=sp)
    outside = ndimage.distance_transform_edt(~cd, sampling=sp)
    erode = min(REFINE_ERODE_MM, 0.4 * float(inside.max()))
    labels = np.zeros(d.shape, dtype=np.int32)
    lesion = cd & (inside > erode) & (d > 0.5)
    if not lesion.any():
        return None
    back = (outside >= REFINE_SHELL_MM[0]) & (d < 0.25)
    back |= outside >= REFINE_SHELL_MM[1]
    back |= (outside > 1.0) & ((hu < FAT_HU) | (d < -0.75))
    labels[back] = 2
    labels[lesion] = 1
    # Edge weights exp(-beta * g^2 / (10 * std(d))) in skimage: beta chosen so that a gradient
    # as large as the noise's (noise SD over one grid step, in contrast units) weighs exp(-1).
    noise_d = noise / abs(contrast)
    g_noise2 = (noise_d / min(sp)) ** 2
    beta = REFINE_BETA / g_noise2 * 10.0 * float(d.std())
    with warnings.catch_warnings():
        # "probability range outside [0, 1] given the tolerance": the loose tolerance (1e-2)
        # keeps the solve fast; the probabilities are only compared with one half.
        warnings.simplefilter("ignore", UserWarning)
        prob = random_walker(
            d.astype(np.float64),
            labels,
            beta=beta,
            mode="cg_j",
            tol=1e-2,
            spacing=sp,
            return_full_prob=True,
        )[0]
    # Back onto the box's grid (linear), then the component holding the lesion seeds.
    zoom = [n / k for n, k in zip(raw.shape, prob.shape, strict=True)]
    up = ndimage.zoom(prob, zoom, order=1, mode="nearest", grid_mode=True)
    new = up > 0.5
    # The walker's border is the steepest gradient, the half-way value; a blurred border's
    # outer part is lesion too (as the rays place it): tissue within REFINE_EDGE_OUT_MM outside
    # it on the lesion's side of the edge level joins.
    dfull = (sm - ev.liver_hu) / contrast
    level = min(max(0.25, 2.0 * noise / abs(contrast)), 0.5)
    near = ndimage.distance_transform_edt(~new, sampling=(sz, sy, sx)) <= REFINE_EDGE_OUT_MM
    new |= near & (dfull > level) & (dfull < 1.5) & (sm > FAT_HU)
    lab, _ = ndimage.label(new)
    seeds_full = np.zeros(raw.shape, dtype=bool)
    seeds_full[::fz, ::fy, ::fx] = lesion
    keep = np.unique(lab[seeds_full & new])
    keep = keep[keep > 0]
    if keep.size == 0:
        return None
    new = np.isin(lab, keep)
    for k in range(new.shape[0]):
        new[k] = fill_holes(new[k])
    sub = ndimage.find_objects(new.view(np.uint8))[0]
    mask = new[sub]
    z0, y0, x0 = (b.start for b in box)
    offset = (z0 + sub[0].start, y0 + sub[1].start, x0 + sub[2].start)
    whole, whole_p = longest_axial_diameter(boundary_points(mask, offset), volume)
    flags = list(m.flags)
    old = m.whole.length_mm
    if old > 0 and abs(whole.length_mm - old) > REFINE_FLAG_CHANGE * old:
        flags.append(
            f"the 3-D refinement moved the diameter from {old:.0f} to {whole.length_mm:.0f} mm: "
            "check the contour"
        )
    viable, viable_p, viable_mask = m.viable, m.viable_perpendicular, m.viable_mask
    if m.viable_mask is not None and ev.viable_threshold_hu is not None:
        viable, viable_p, viable_mask = viable_part(
            volume, mask, offset, sm[sub], ev.viable_threshold_hu
        )
    return remasked(
        m, volume, mask, offset, (whole, whole_p), (viable, viable_p, viable_mask), flags
    )


def refine_where_doubtful(volume: CTVolume, m: LesionMeasurement) -> LesionMeasurement:
    """``m`` refined by :func:`refine_3d` when it is flagged (a cap re-click's note on where it
    was measured from does not count: ``dome_capslab.outline_doubts``), on an arterial image of
    slabs (slices of segment.SLAB_MM or more), for a hyper-attenuating lesion; otherwise ``m``."""
    doubts = doubts_left(outline_doubts(m.flags), m.mask)  # darktail's note: t23_darknote.py
    if not doubts or str(m.phase) != "arterial" or m.evidence.contrast_hu <= 0:
        return m
    if float(volume.spacing_mm[0]) < SLAB_MM:
        return m
    # A graded halo the rays followed lies outside the walker's border (t5s_halokeep.py).
    if keeps_halo(volume, m):
        return m
    r = refine_3d(volume, m)
    return m if r is None else r
