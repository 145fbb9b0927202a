"""A border re-placed, ray by ray, where the tissue beyond it is neither lesion nor liver.

A delineation by value puts a lesion's border where the smoothed image crosses the half-way
value between the lesion and the liver. That level is right where the lesion meets the liver.
Where it meets something else through a thin layer - the liver's dome over the lung base, 1-2 mm
thick and averaged with the lung through the slice, the capsule over the abdominal wall - the
tissue beyond the lesion never reaches the liver's value: it rises (for a hypo-attenuating lesion)
to a low peak and falls into the air or fat, or stays in a band within the noise of the
threshold. The crossing of the global threshold is then not the lesion's step: on the dark side
of the band the ray runs on through the thin liver into the lung's partial-volume ramp until a
fat or air stop ends it; in a band near the threshold it falls wherever the noise puts it.

IRCADb tumour 06 (10 mm at the liver dome) with 25 HU of added noise, seed 3: on the diameter's
slice the rays towards the lung read 80-83 HU (lesion) rising to 88-93 HU at 4-4.5 mm (the thin
liver), then falling into the lung; the threshold (96 HU) is never crossed and the region runs
1.5-3 mm into the lung's ramp; towards the liver two rays stay in 92-98 HU for 5 mm. The result
was 14.7 mm for 10.0, flagged "border uncertain" (:mod:`.lowcnr_border`).

Premise (physics): a border is where the value changes most, between the lesion's plateau and the
tissue just beyond it. Where that tissue is not liver, the border is half-way between the lesion
and *that tissue's* value, not the liver's. :func:`reborder_band` re-reads only a result already
found uncertain by :func:`.lowcnr_border.border_uncertainty_mm` (its diameter's ends in such a
band; an end on a thin layer over fat or air counted over the layer's whole length,
:mod:`.layer_end`); on each slice it casts rays from the region's middle; on a ray whose tissue
at and just beyond the edge stays below the threshold's noise band (no step to the liver measured
there), the edge moves in to where the ray first reaches half-way between the lesion and the
highest value (towards the liver) the ray holds up to its edge - the peak of that thin layer. The
new radii are smoothed over neighbouring rays (a border is continuous; one noisy ray is not a
border), the region only shrinks, and the diameter may not shrink by more than the band's own
uncertainty (how far the ends could lie). A ray that reaches the liver's value at its edge keeps
its edge: a lesion in the liver's body, and every border to the liver, are unchanged.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Literal

import numpy as np
from scipy import ndimage

from lesion_tool.measurement.lowcnr_border import (
    UNCERTAIN_SHARE,
    _plane_crop,
    border_uncertainty_mm,
)

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement

ENABLED = True
"""Module switch (A/B runs)."""
N_RAYS = 72
"""Rays per slice (5 degrees apart: about 0.5 mm of arc at 6 mm, the size of a 10 mm lesion)."""
STEP_MM = 0.25
"""Sampling step along a ray (mm)."""
BEYOND_MM = 1.5
"""The tissue 'at and just beyond' an edge is read over +-this (mm): the scanner's blur and the
smoothing combined (about 1.2 mm), rounded up, as in :mod:`.lowcnr_border`."""
MIN_RISE_NOISE = 1.0
"""The layer beyond must stand this many smoothed noise SDs above the lesion for its half-way
level to be a measurement; a ray whose peak is lower is left as it was."""
SMOOTH_RAYS = 5
"""Neighbouring rays over which the new radii are taken as a median (25 degrees)."""
MIN_MOVED_MM = 0.5
"""A slice is changed only where some ray's edge moved at least this far (mm)."""
PLATEAU_SD_RATIO = 2.0
"""The lesion's inside (its region eroded by 2 pixels on the diameter's slice, smoothed) must vary
by at most this many smoothed noise SDs (robust SD) for it to have a plateau whose end is a
border: a necrotic or mosaic lesion varies by more than the noise, its median is no level of its
own, and half-way from it to a layer beyond is not an edge."""
REBORDER_NOTE = "border re-placed where the tissue beyond it is neither lesion nor liver"
"""In the note (tests look for it)."""


def _slice_radii(
    plane: np.ndarray,
    region: np.ndarray,
    spacing_yx: tuple[float, float],
    lesion: float,
    liver: float,
    thr: float,
    noise: float,
) -> np.ndarray | None:
    """``region`` (2-D, on ``plane``'s grid) trimmed on its rays whose edge is not a step to the
    liver (module docstring); None when nothing moved."""
    sy, sx = spacing_yx
    cy, cx = ndimage.center_of_mass(region)
    yy, xx = np.nonzero(region)
    r_reg = float(np.hypot((yy - cy) * sy, (xx - cx) * sx).max()) + 1.0
    r = np.arange(0.0, r_reg + BEYOND_MM + STEP_MM / 2, STEP_MM)
    ang = np.linspace(0.0, 2.0 * math.pi, N_RAYS, endpoint=False)
    ys = cy + np.outer(np.sin(ang), r) / sy
    xs = cx + np.outer(np.cos(ang), r) / sx
    prof = ndimage.map_coordinates(plane, [ys, xs], order=1, mode="nearest")
    inside = ndimage.map_coordinates(region.astype(np.float32), [ys, xs], order=0, mode="constant")
    span = liver - lesion
    if span == 0.0:
        return None
    h = (prof - lesion) / span  # 0 at the lesion, 1 at the liver (either attenuation)
    h_thr = (thr - lesion) / span
    h_noise = noise / abs(span)
    n_b = round(BEYOND_MM / STEP_MM)
    old = np.empty(N_RAYS)
    new = np.empty(N_RAYS)
    for k in range(N_RAYS):
        out = np.flatnonzero(inside[k] < 0.5)
        e = int(out[0]) if out.size else r.size - 1  # first sample outside, from the middle
        old[k] = r[e]
        new[k] = r[e]
        far = float(h[k, max(e - n_b, 0) : e + n_b + 1].max())
        if far >= h_thr + h_noise:
            continue  # a step to the liver's value: a measured border
        peak = float(h[k, : e + n_b + 1].max())
        if peak < MIN_RISE_NOISE * h_noise:
            continue
        hit = np.flatnonzero(h[k, : e + 1] >= peak / 2.0)
        if hit.size:
            new[k] = r[int(hit[0])]
    if float((old - new).max()) < MIN_MOVED_MM:
        return None
    pad = SMOOTH_RAYS // 2
    ext = np.concatenate([new[-pad:], new, new[:pad]])
    sm = np.array([np.median(ext[i : i + SMOOTH_RAYS]) for i in range(N_RAYS)])
    rad = np.minimum(old, sm)
    # Keep the region's pixels within the new radius at their angle.
    pa = np.mod(np.arctan2((yy - cy) * sy, (xx - cx) * sx), 2.0 * math.pi)
    pr = np.hypot((yy - cy) * sy, (xx - cx) * sx)
    lim = np.interp(pa, np.append(ang, 2.0 * math.pi), np.append(rad, rad[0]))
    keep = pr <= lim + 0.5 * min(sy, sx)
    outm = np.zeros_like(region)
    outm[yy[keep], xx[keep]] = True
    lab, n = ndimage.label(outm)
    if n == 0:
        return None
    c = lab[round(cy), round(cx)]
    if c == 0:
        c = int(np.argmax(np.bincount(lab.ravel())[1:])) + 1
    outm = ndimage.binary_fill_holes(lab == c)
    return outm


def _has_plateau(volume: CTVolume, m: LesionMeasurement) -> bool:
    """True when ``m``'s inside on its diameter's slice varies within PLATEAU_SD_RATIO smoothed
    noise SDs (robust SD of the smoothed image over the region eroded by 2 pixels), and that
    level stands apart from the liver's by as much. A lesion found by its enhancing rim whose
    inside reads as the liver (contrast 2-6 HU in 5.7 HU of smoothed noise: a sphere's faint rim
    on 5 mm slabs, tests/core/test_measure_thin_ring.py) has no step of its own to re-place its
    border at: there the rule cut 18 mm to 9 mm."""
    from lesion_tool.measurement.enhancement import robust_sd

    if abs(m.evidence.contrast_hu) < PLATEAU_SD_RATIO * m.evidence.noise_sd_hu:
        return False
    z = m.whole.slice_index
    if z is None:
        return False
    i = int(z) - m.offset[0]
    if not 0 <= i < m.mask.shape[0]:
        return False
    reg = m.mask[i]
    inner = ndimage.binary_erosion(reg, iterations=2)
    if inner.sum() < 10:
        inner = reg
    yx = np.argwhere(inner) + np.array(m.offset[1:])
    if yx.shape[0] < 5:
        return False
    plane, lo = _plane_crop(volume, int(z), yx.astype(float), 2.0)
    vals = plane[yx[:, 0] - lo[0], yx[:, 1] - lo[1]]
    return robust_sd(vals) <= PLATEAU_SD_RATIO * m.evidence.noise_sd_hu


def reborder_band(
    volume: CTVolume,
    m: LesionMeasurement,
    u: tuple[float, float] | Literal["unread"] | None = "unread",
) -> LesionMeasurement:
    """``m`` with its border re-placed on the rays where the tissue beyond is neither lesion nor
    liver (module docstring), when its diameter's ends were found uncertain; ``m`` itself
    otherwise (also when nothing moved, or the diameter would shrink by more than the ends'
    uncertainty). ``u``: :func:`.lowcnr_border.border_uncertainty_mm` for ``m`` when the
    caller has read it already."""
    from lesion_tool.measurement.diameter import Geometry, boundary_points, longest_axial_diameter

    if not ENABLED or m.mask.size == 0:
        return m
    if u == "unread":
        u = border_uncertainty_mm(volume, m)
    if u is None or u[0] + u[1] <= UNCERTAIN_SHARE * m.whole.length_mm:
        return m
    ev = m.evidence
    if not _has_plateau(volume, m):
        return m
    spacing = volume.spacing_mm
    nz = m.mask.shape[0]
    oz, oy, ox = m.offset
    mask = m.mask.copy()
    changed = 0
    for i in range(nz):
        reg = m.mask[i]
        if reg.sum() < 5:
            continue
        yx = np.argwhere(reg) + np.array([oy, ox])
        plane, lo = _plane_crop(volume, oz + i, yx.astype(float), 6.0)
        sub = np.zeros(plane.shape, dtype=bool)
        sub[yx[:, 0] - lo[0], yx[:, 1] - lo[1]] = True
        got = _slice_radii(
            plane, sub, spacing[1:], ev.lesion_hu, ev.liver_hu, ev.threshold_hu, ev.noise_sd_hu
        )
        if got is None:
            continue
        mask[i] = False
        py, px = np.nonzero(got)
        mask[i, py + lo[0] - oy, px + lo[1] - ox] = True
        changed += 1
    if not changed or not mask.any():
        return m
    whole, whole_p = longest_axial_diameter(boundary_points(mask, m.offset), volume)
    if whole.length_mm >= m.whole.length_mm or whole.length_mm < m.whole.length_mm - (u[0] + u[1]):
        return m
    viable, viable_p, viable_mask = m.viable, m.viable_perpendicular, m.viable_mask
    if viable_mask is not None:
        viable_mask = viable_mask & mask
        if viable_mask.any():
            pts = boundary_points(viable_mask, m.offset)
            viable, viable_p = longest_axial_diameter(pts, volume)
    note = (
        f"{REBORDER_NOTE} (a thin layer read half-way between the lesion and that tissue): "
        f"{m.whole.length_mm:.1f} -> {whole.length_mm:.1f} mm on {changed} slice(s); "
        "check the contour"
    )
    return replace(
        m,
        whole=whole,
        whole_perpendicular=whole_p,
        viable=viable,
        viable_perpendicular=viable_p,
        mask=mask,
        viable_mask=viable_mask,
        volume_ml=float(mask.sum()) * Geometry.of(volume).voxel_volume_ml,
        flags=(*m.flags, note),
    )
