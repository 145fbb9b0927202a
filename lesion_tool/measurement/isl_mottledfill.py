"""Liver-valued islets enclosed by a large mottled enhancing lesion are crossed: its final region
cast again across them (issue 11, w28-islets).

What the image shows. IRCADb 01 (79.8 mm) made hyper-enhancing on 2.5 mm slabs with 30 HU of
noise reads 160-185 HU (smoothed 1 mm) against a liver of 113, and encloses islets of 2-6 mm at
the liver's value (120-145 HU, under the 149 HU half-way value): a mosaic, as a large HCC shows
on the arterial phase. A ray of ``segment._cast`` leaves the lesion after 2.5 mm (arterial) of
tissue on the liver's side, so every ray that meets an islet stops there and the outline on a
slice becomes a star: seed 9's random click (47, 154, 173) gave 4,460-5,553 pixels on slices
39-42 against the expert's 7,825-8,018 (68.1 mm for 79.8); seed 7's (49, 143, 179) 71.7 mm.
``enclosed.py`` counts such patches as lesion inside every cast of a dark lesion; done so for
enhancing lesions (w27-t01) it fixed 01 but changed the path of the rules that read a first
region (the necrotic variants' rim-and-core rules, seed 8 -4) and let 03 on "hyper 5 mm 25 HU"
run on (three prompts too long).

The rule, applied once to the final result, so that no other rule sees it: on an arterial image,
for an unflagged result by value brighter than the liver and at least MIN_LENGTH_MM long (01
alone of IRCADb's seven; 03's results on "hyper 5 mm 25 HU" are 20-25 mm and flagged), on each
slice: the lesion's body is the bright tissue (half-way value to the ceiling) connected to the
region, so that noise specks in the liver around are not; its islets are the patches it
encloses (:func:`lesion_tool.measurement.enclosed.enclosed_patches`: at most 30 mm^2, not near
fat). Rays are cast from the region's centre twice, on the body alone at the usual exit run and
on body and islets with ISLET_RUN_MM; where the second reaches past the first (an islet was
crossed) the second cast's outline is joined to the region. The bright body alone is read:
with the darker-than-liver side (lesion on arterial images) the rays crossed the liver's
surface into the muscle beyond (seed 7's deepest click 75.7 -> 87.4 mm). The result is kept
when the lesion is mottled (MIN_ISLETS islets on a slice) and the diameter grows by MIN_GAIN_MM
to MAX_GROWTH times; its flags are kept. Seed 9: 68.1 -> 74.4 mm, seed 7: 71.7 -> 73.2 mm.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage

from lesion_tool.measurement.diameter import boundary_points, longest_axial_diameter
from lesion_tool.measurement.enclosed import ENCLOSED_FAT_MM, enclosed_patches
from lesion_tool.measurement.raster import padded_box
from lesion_tool.measurement.speed15_remask import remasked

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement, LesionPrompt, _Levels

ENABLED = True
"""Module switch (A/B runs): a large mottled enhancing lesion's islets crossed at the end."""

MIN_LENGTH_MM = 40.0
"""Only a result at least this long is cast again: a mosaic of liver-valued islets is a large
tumour's (IRCADb 01, 80 mm; the other six, 9-32 mm, are never touched)."""
MIN_ISLETS = 5
"""The lesion is mottled when its body encloses at least this many islets on one of its slices
(01 on "hyper 2.5 mm 30 HU": 6-14 on its widest slice, up to 8 on a random click's region)."""
ISLET_RUN_MM = 6.0
"""A ray of the second cast leaves the lesion only after this much tissue off its body: the
width of the largest enclosed islet (``enclosed.ENCLOSED_MAX_MM2``, 30 mm^2, a 6.2 mm disk),
so that an islet open to the liver by a channel narrower than the smoothing does not stop it
either. 4 mm left seed 9's click at 71.9 mm, at the tolerance's edge."""
MAX_GROWTH = 1.25
"""The recast result replaces the result only when its diameter is at most this many times the
result's ..."""
MIN_GAIN_MM = 1.0
"""... and at least this much longer (a recast that crosses no islet moves the outline by a
pixel: 52.0 -> 52.3 mm on a whole 50 mm cylinder)."""
REACH = 1.25
"""Rays are cast this many times the region's farthest reach on the slice from its centre."""
GATE_REACH = 0.6
"""The islets are first counted in a window of this many times the result's box side (plus the
smoothing's margin) round its box's centre: the box and a little liver round it, where a
lesion's enclosed islets lie. Counted again in the rays' window before anything is cast."""


def _maps(
    plane: np.ndarray,
    region: np.ndarray,
    lv: _Levels,
    spacing_yx: tuple[float, float],
    fat_hu: float,
) -> tuple[np.ndarray, np.ndarray]:
    """On one slice: the lesion's body (the bright tissue, from the half-way value to the
    ceiling, 8-connected to ``region``) and the islets it encloses (``enclosed_patches`` of the
    bright map inside the body's outline). Bright specks of noise in the liver are not body.

    Both maps are read round the body alone (its box, widened by ENCLOSED_FAT_MM for the fat an
    islet may not lie near): a hole of the body lies inside its box, and so does every patch
    of non-bright tissue that touches one: the maps are those of the whole window."""
    side = (plane > lv.threshold) & (plane < lv.ceiling)
    lab, n = ndimage.label(side, structure=np.ones((3, 3), dtype=bool))
    keep = np.zeros(n + 1, dtype=bool)
    keep[lab[region & side]] = True
    keep[0] = False
    body = keep[lab]
    isles = np.zeros_like(body)
    if not keep.any():
        return body, isles
    box = ndimage.find_objects(body.view(np.uint8))[0]
    pad = [math.ceil(ENCLOSED_FAT_MM / s) + 1 for s in spacing_yx]
    box = padded_box(box, pad, body.shape)
    found = enclosed_patches(side[box], plane[box] < fat_hu, spacing_yx)
    if found is not None:
        isles[box] = found & ndimage.binary_fill_holes(body[box])
    return body, isles


def _rays_radius_mm(m: LesionMeasurement, centre: tuple[int, int], sy: float, sx: float) -> float:
    """Half the side (mm) of the square window round ``centre`` (volume pixels) that holds
    every sample of the rays :func:`fill_islets` casts on each slice of ``m``'s region (from
    its centre, REACH times its farthest reach, SHELL_MM beyond) with the smoothing's and the
    islets' fat test's margin round them: the planes and maps they read are those of any
    wider window."""
    from lesion_tool.measurement.segment import RAY_STEP_MM, SHELL_MM, SMOOTH_SIGMA_MM

    far = 0.0
    for k in range(m.mask.shape[0]):
        yy, xx = np.nonzero(m.mask[k])
        if not yy.size:
            continue
        cy, cx = float(yy.mean()), float(xx.mean())
        rmax = REACH * float(np.hypot((yy - cy) * sy, (xx - cx) * sx).max())
        off = max(abs(m.offset[1] + cy - centre[0]) * sy, abs(m.offset[2] + cx - centre[1]) * sx)
        far = max(far, off + rmax)
    # Samples reach rmax + SHELL_MM[1] (+ a step); linear reads one pixel on; the smoothing
    # reads 4 sigmas (scipy's truncation) round a pixel, the fat test ENCLOSED_FAT_MM.
    px = max(sy, sx)
    return far + SHELL_MM[1] + RAY_STEP_MM + px + ENCLOSED_FAT_MM + 4.0 * SMOOTH_SIGMA_MM + px


def fill_islets(
    volume: CTVolume, m: LesionMeasurement, prompt: LesionPrompt, ph: object
) -> LesionMeasurement:
    """``m``, or ``m`` with each slice widened across the liver-valued islets it encloses when
    it is a large mottled enhancing lesion on an arterial image (module docstring)."""
    from lesion_tool.measurement.segment import (
        FAT_HU,
        SHELL_MM,
        SMOOTH_SIGMA_MM,
        Phase,
        _cast,
        _Levels,
        _phase,
        _slice_mask,
        _Window,
    )

    e = m.evidence
    if (
        not ENABLED
        or _phase(ph) is not Phase.ARTERIAL
        or e.texture_sd_hu is not None
        or e.contrast_hu <= 0
        or m.whole.length_mm < MIN_LENGTH_MM
        or m.flags
    ):
        return m
    lv = _Levels(e.liver_hu, e.lesion_hu, e.noise_sd_hu, prompt.threshold_offset_hu, mixed=True)
    spacing = tuple(float(s) for s in volume.spacing_mm)
    sy, sx = spacing[1:]
    z0, nz, ny, nx = m.offset[0], *m.mask.shape
    margin = SHELL_MM[1] + 3.0 * SMOOTH_SIGMA_MM
    cy0, cx0 = m.offset[1] + ny // 2, m.offset[2] + nx // 2

    done: dict[tuple[int, int], tuple[np.ndarray, np.ndarray, np.ndarray, int]] = {}

    def maps_in(win: _Window, until: int | None = None) -> tuple[dict, dict, int]:
        """Regions and maps per slice, and the most islets on one; with ``until``, stopped at
        the first slice that has that many (a window's slices are read once)."""
        regions, maps, most = {}, {}, 0
        for z in range(z0, z0 + nz):
            key = (id(win), z)
            if key not in done:
                region = _slice_mask(m, win, z)
                if region.any():
                    body, isles = _maps(win.hu_plane(z), region, lv, (sy, sx), FAT_HU)
                else:
                    body = isles = region  # no body, no islets
                done[key] = (region, body, isles, ndimage.label(isles)[1] if isles.any() else 0)
            regions[z], body, isles, count = done[key]
            maps[z] = (body, isles)
            most = max(most, count)
            if until is not None and most >= until:
                break
        return regions, maps, most

    # Most results >= 40 mm are not mottled: the islets are first counted in a window just
    # wider than the result, slice by slice until one holds MIN_ISLETS.
    near_mm = GATE_REACH * max(ny * sy, nx * sx) + margin
    near = _Window(volume, cy0, cx0, near_mm)
    if maps_in(near, MIN_ISLETS)[2] < MIN_ISLETS:
        return m
    # The rays' window: as wide as the rays of every slice need, and never narrower than the
    # counting window (so that the islets counted there are in it too) nor wider than the
    # REACH times the result's box it was (wider reads nothing the rays sample).
    rays_mm = _rays_radius_mm(m, (cy0, cx0), sy, sx)
    rays_mm = min(max(near_mm, rays_mm), REACH * max(ny * sy, nx * sx) + margin)
    win = near if rays_mm <= near_mm else _Window(volume, cy0, cx0, rays_mm)
    regions, maps, n_isles = maps_in(win)
    if n_isles < MIN_ISLETS:
        return m
    grown = {}
    for z, old in regions.items():
        body, isles = maps[z]
        if not old.any() or not isles.any():
            grown[z] = old
            continue
        yy, xx = np.nonzero(old)
        cy, cx = float(yy.mean()), float(xx.mean())
        rmax = REACH * float(np.hypot((yy - cy) * sy, (xx - cx) * sx).max())
        base = _cast(win, z, cy, cx, lv, rmax, lesion_map=body)
        fill = _cast(win, z, cy, cx, lv, rmax, lesion_map=body | isles, exit_run_mm=ISLET_RUN_MM)
        if not (fill.mask & ~base.mask).any():
            grown[z] = old  # no islet crossed on this slice
            continue
        new = old | fill.mask
        lab, _ = ndimage.label(new)
        keep = np.unique(lab[old])
        grown[z] = np.isin(lab, keep[keep > 0])
    full = np.stack([grown[z] for z in range(z0, z0 + nz)])
    if (full == np.stack([regions[z] for z in range(z0, z0 + nz)])).all():
        return m
    sub = ndimage.find_objects(full.view(np.uint8))[0]
    mask = full[sub]
    offset = (z0 + sub[0].start, win.y0 + sub[1].start, win.x0 + sub[2].start)
    whole, whole_p = longest_axial_diameter(boundary_points(mask, offset), volume)
    if not m.whole.length_mm + MIN_GAIN_MM <= whole.length_mm <= MAX_GROWTH * m.whole.length_mm:
        return m
    viable, viable_p, viable_mask = m.viable, m.viable_perpendicular, m.viable_mask
    if viable_mask is not None and e.viable_threshold_hu is not None:
        from lesion_tool.measurement.edit import paste

        before = np.zeros_like(mask)
        paste(before, offset, m.mask, m.offset)
        old_vm = np.zeros_like(mask)
        paste(old_vm, offset, viable_mask, m.offset)
        sm = np.stack([win.hu_plane(z) for z in range(z0, z0 + nz)])[sub]
        viable_mask = old_vm | (mask & ~before & (sm > e.viable_threshold_hu))
        if viable_mask.any():
            viable, viable_p = longest_axial_diameter(boundary_points(viable_mask, offset), volume)
    return remasked(
        m,
        volume,
        mask,
        offset,
        (whole, whole_p),
        (viable, viable_p, viable_mask),
        m.flags,
    )


__all__ = [
    "ENABLED",
    "ISLET_RUN_MM",
    "MAX_GROWTH",
    "MIN_GAIN_MM",
    "MIN_ISLETS",
    "MIN_LENGTH_MM",
    "fill_islets",
]
