"""An enhancing lesion that fades towards its edge is outlined to the foot of the fade (issue 11).

A hyper-attenuating region's edge is placed where the smoothed image crosses half-way between
the lesion and the liver, then moved out to the outer quarter of the contrast
(``segment.EDGE_FRACTION``). For a lesion of even enhancement (a flat top, a sharp border
blurred by the scanner and the smoothing) that is its border: the median radial profile of an
analytic 22 mm sphere (190 HU in 110 HU liver) is flat inside, 97 / 89 % of the contrast 4 and
2.5 mm inside the edge as placed, and back at the liver 1 mm past it.

IRCADb's tumours made hyper-enhancing are not flat: their enhancement fades over the outer
millimetres. The clean median profile (rays meeting no other tissue, the fitted step's amplitude
as 100 %) of 02, 03 and 07 on the "hyper" stand-in and on 5 mm slabs with 25 HU of noise (seed
0) still falls by 13-23 % of the contrast from 4 to 2.5 mm inside the edge (the sphere: 8 %), and
the expert's border lies past the edge as placed, at the foot of that fade: 02 on 5 mm slabs
reads 117 HU at the expert's edge for a centre of 184 and a liver of 108 (12 % of the contrast),
the edge as placed lies 1.25 mm inside it (median over rays), and the median profile reaches 10
% of the fitted step 0.5-1.1 mm past the edge as placed (02 0.6-1.0, 03 0.5-1.1, 07 0.5-0.9).
Measured to the half-way value these lesions were short on every arterial stand-in (02 25.0-26.3
mm for 27.8-29.4, 03 19.5-21.7 for 23.2, 07 18.4-20.0 for 20.9-21.4): a reader outlines where the
lesion stops showing, the foot of the fade, not half-way down it (w19-edge02 found the same on
every IRCADb tumour; HCC_006's readers, 28.9-34.0 mm against 28.3, draw outside too). The step
fit of ``segment._enhancing_halo_mm`` sees these borders as sharp (width 1.25-1.75 mm, under
its 2.25 mm bar for a halo), because the fade is inside the lesion, not past its edge.

The fade is read on the finished result (after every delineation and re-click, so that no
later decision is taken on a wider region than it was tuned on): on the diameter's slice, rays
from the region's middle, each aligned on its own edge, their median over the rays that meet no
other tissue (``segment``'s halo rules' HALO_OTHER_FRACTION, HALO_MIN_RAYS). When the step is
sharp but the profile inside it is still graded - it falls by at
least GRADED_SHARE of the step's amplitude between FADE_MM[0] and FADE_MM[1] inside the edge,
and by more than its noise - the edge moves out to where the median profile comes down to
FOOT_SHARE of the amplitude above the liver (or its noise), at most FOOT_MAX_MM, and every slice
of the region takes in the pixels within that distance of it that read above that level and
below the lesion's threshold (the fade, not a vessel's lumen). The profile must end at the
liver's value with no trough (a fissure, a vessel or a dark neighbour beyond the lesion are not
taken for a fade). Only enhancing regions by value on arterial images, with no necrotic part.
A lesion too small for its inside to lie beyond the blur of its far side (median edge radius
under MIN_RADIUS_MM: IRCADb 06, 10 mm, whose whole section is a blurred peak) is left as it is.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage

from lesion_tool.measurement.diameter import boundary_points, longest_axial_diameter
from lesion_tool.measurement.lowcnr_border import _plane_crop
from lesion_tool.measurement.raster import within_mm
from lesion_tool.measurement.speed15_remask import remasked

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement

ENABLED = True
"""Module switch: off, a sharp step's edge stays at the outer quarter of the contrast."""

FADE_MM = (-4.0, -2.5)
"""Where the profile's fade inside the edge is read (mm, negative inside) ..."""
GRADED_SHARE = 0.12
"""... and how much of the step's height (the profile at FADE_MM[0] over the liver) it must
fall over it to be graded (the flat-topped sphere 8 %, IRCADb 02, 03, 07 made hyper-enhancing
13-23 %)."""
FOOT_SHARE = 0.10
"""The foot: the median profile within this share of the step's height of the liver's value."""
FOOT_MAX_MM = 2.0
"""The edge moves out by at most this (the fade's foot, not a neighbour's)."""
MIN_RADIUS_MM = 8.0
"""Lesions whose median edge radius is under this are not judged (two fade windows)."""
NOISE_K = 2.0
"""The fade must exceed this many standard errors of the median profile (two samples)."""
FAR_MM = (3.0, 5.0)
"""The liver's value past the edge is the median profile's here."""
NECROSIS_DEPTH_MM = 4.0
"""Tissue that does not enhance deeper than this inside the region is necrosis, not the fade."""
N_RAYS = 72
STEP_MM = 0.25


def graded_foot_mm(
    g: np.ndarray,
    d: np.ndarray,
    bottom: float,
    height: float,
    se: float,
    radius_mm: float,
) -> float:
    """How far (mm) past the edge the foot of a graded enhancing border lies, or 0.

    ``g`` is the median radial profile (HU) of the clean rays at distances ``d`` (mm, from the
    edge), ``bottom`` the liver's value beyond, ``height`` the profile's height over it at
    FADE_MM[0], ``se`` the median profile's standard error and ``radius_mm`` the slice's
    median edge radius.
    """
    if not ENABLED or height <= 0 or radius_mm < MIN_RADIUS_MM:
        return 0.0
    inner = float(np.interp(FADE_MM[0], d, g))
    outer = float(np.interp(FADE_MM[1], d, g))
    fade = inner - outer
    if fade < GRADED_SHARE * height or fade < NOISE_K * math.sqrt(2.0) * se:
        return 0.0
    level = bottom + max(FOOT_SHARE * height, se)
    foot = (d >= 0.0) & (g <= level)
    if not foot.any():
        return 0.0
    return float(min(d[int(np.argmax(foot))], FOOT_MAX_MM))


def _median_profile(
    plane: np.ndarray, region: np.ndarray, spacing_yx: tuple[float, float], m: LesionMeasurement
) -> tuple[np.ndarray, np.ndarray, float, int] | None:
    """The median profile across the border of ``region`` (on ``plane``, smoothed) over the
    clean rays, its distances (mm from each ray's edge), the median edge radius and the number
    of clean rays; None when too few rays are clean."""
    from lesion_tool.measurement.segment import HALO_MIN_RAYS, HALO_OTHER_FRACTION

    e = m.evidence
    sy, sx = spacing_yx
    cy, cx = ndimage.center_of_mass(region)
    yy, xx = np.nonzero(region)
    r_max = float(np.hypot((yy - cy) * sy, (xx - cx) * sx).max()) + 1.0
    r = np.arange(0.0, r_max + FAR_MM[1] + STEP_MM, STEP_MM)
    ang = np.linspace(0.0, 2.0 * math.pi, N_RAYS, endpoint=False)
    ys = cy + np.outer(np.sin(ang), r) / sy
    xs = cx + np.outer(np.cos(ang), r) / sx
    ok = (ys >= 0) & (ys <= plane.shape[0] - 1) & (xs >= 0) & (xs <= plane.shape[1] - 1)
    prof = ndimage.map_coordinates(plane, [ys, xs], order=1, mode="nearest")
    inside = ndimage.map_coordinates(region.astype(np.float32), [ys, xs], order=0) > 0.5
    out = ~inside
    out[:, 0] = False
    edge = np.where(out.any(axis=1), np.argmax(out, axis=1), len(r) - 1)
    d = np.arange(FADE_MM[0], FAR_MM[1] + STEP_MM / 2, STEP_MM)
    idx = edge[:, None] + np.rint(d / STEP_MM).astype(int)[None, :]
    valid = (idx >= 0) & (idx < len(r))
    idx = np.clip(idx, 0, len(r) - 1)
    vals = np.take_along_axis(prof, idx, axis=1)
    past = vals[:, d >= 1.0]
    clean = (
        (valid & np.take_along_axis(ok, idx, axis=1)).all(axis=1)
        & ~(past > e.threshold_hu).any(axis=1)
        & ~(past < e.liver_hu - HALO_OTHER_FRACTION * e.contrast_hu).any(axis=1)
    )
    if clean.mean() < HALO_MIN_RAYS:
        return None
    g = np.median(vals[clean], axis=0)
    return g, d, float(np.median(r[edge])), int(clean.sum())


def grow_to_foot(volume: CTVolume, m: LesionMeasurement, arterial: bool) -> LesionMeasurement:
    """``m`` widened to the foot of its graded enhancing border (module docstring), or ``m``
    itself where the rule does not apply or nothing grows."""
    from lesion_tool.measurement.segment import HALO_FAR_SE, HALO_FOOT_FRACTION, _median_se

    e = m.evidence
    if not ENABLED or not arterial or m.mask.size == 0 or e.texture_sd_hu is not None:
        return m
    if e.contrast_hu <= 0 or m.whole.slice_index is None:
        return m
    spacing = volume.spacing_mm
    sy, sx = spacing[1:]
    oz, oy, ox = m.offset
    i = int(m.whole.slice_index) - oz
    if not 0 <= i < m.mask.shape[0] or m.mask[i].sum() < 20:
        return m
    if m.viable_mask is not None:
        # A part that does not enhance deeper than the fade: necrosis (rimedge_outer's).
        depth = ndimage.distance_transform_edt(m.mask[i], sampling=(sy, sx))
        if (m.mask[i] & ~m.viable_mask[i] & (depth > NECROSIS_DEPTH_MM)).any():
            return m
    yx = np.argwhere(m.mask[i]) + np.array([oy, ox])
    pad = FAR_MM[1] + 2.0
    plane, lo = _plane_crop(volume, oz + i, yx.astype(float), pad)
    reg = np.zeros(plane.shape, dtype=bool)
    reg[yx[:, 0] - lo[0], yx[:, 1] - lo[1]] = True
    got = _median_profile(plane, reg, (sy, sx), m)
    if got is None:
        return m
    g, d, radius, n_clean = got
    se = _median_se(e.noise_sd_hu, n_clean)
    bottom = float(np.median(g[d >= FAR_MM[0]]))
    tol = max(HALO_FOOT_FRACTION * e.contrast_hu, HALO_FAR_SE * se)
    if abs(bottom - e.liver_hu) > tol or float(g[d >= 0.0].min()) < bottom - tol:
        return m  # runs on past the liver's value, or through a trough: something else
    height = float(np.interp(FADE_MM[0], d, g)) - bottom
    foot = graded_foot_mm(g, d, bottom, height, se, radius)
    if foot < STEP_MM:
        return m
    level = bottom + max(FOOT_SHARE * height, se)
    # Every slice takes in its fade: pixels within the foot's distance reading above the foot's
    # level and below the lesion's threshold, connected to the region.
    py = math.ceil(foot / sy) + 1
    px = math.ceil(foot / sx) + 1
    nz, ny, nx = m.mask.shape
    y0, x0 = max(oy - py, 0), max(ox - px, 0)
    y1 = min(oy + ny + py, volume.shape[1])
    x1 = min(ox + nx + px, volume.shape[2])
    mask = np.zeros((nz, y1 - y0, x1 - x0), dtype=bool)
    mask[:, oy - y0 : oy - y0 + ny, ox - x0 : ox - x0 + nx] = m.mask
    for k in range(nz):
        sl = mask[k]
        if not sl.any():
            continue
        pts = np.argwhere(sl) + np.array([y0, x0])
        pl, plo = _plane_crop(volume, oz + k, pts.astype(float), foot + 1.0)
        sub = np.zeros(pl.shape, dtype=bool)
        sub[pts[:, 0] - plo[0], pts[:, 1] - plo[1]] = True
        add = within_mm(sub, (sy, sx), foot) & (pl >= level) & (pl < e.threshold_hu)
        grown = sub | add
        lab, _ = ndimage.label(grown)
        grown = np.isin(lab, np.unique(lab[sub]))
        gy, gx = np.nonzero(grown)
        gy, gx = gy + plo[0] - y0, gx + plo[1] - x0
        keep = (gy >= 0) & (gy < mask.shape[1]) & (gx >= 0) & (gx < mask.shape[2])
        sl[gy[keep], gx[keep]] = True
    offset = (oz, y0, x0)
    whole = longest_axial_diameter(boundary_points(mask, offset), volume)
    if whole[0].length_mm <= m.whole.length_mm:
        return m
    viable: tuple = (m.viable, m.viable_perpendicular, None)
    if m.viable_mask is not None:
        viable = (*longest_axial_diameter(boundary_points(mask, offset), volume), mask.copy())
    return remasked(m, volume, mask, offset, whole, viable, m.flags)
