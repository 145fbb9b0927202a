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

from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage

from lesion_tool.measurement.diameter import boundary_points, longest_axial_diameter
from lesion_tool.measurement.enclosed import enclosed_patches
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
    bright map inside the body's outline). Bright specks of noise in the liver are not body."""
    side = (plane > lv.threshold) & (plane < lv.ceiling)
    lab, _ = ndimage.label(side, structure=np.ones((3, 3), dtype=bool))
    ids = np.unique(lab[region & side])
    body = np.isin(lab, ids[ids > 0])
    isles = enclosed_patches(side, plane < fat_hu, spacing_yx)
    if isles is None:
        return body, np.zeros_like(body)
    return body, isles & ndimage.binary_fill_holes(body)


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

    def maps_in(win: _Window) -> tuple[dict, dict, int]:
        regions = {z: _slice_mask(m, win, z) for z in range(z0, z0 + nz)}
        maps = {z: _maps(win.hu_plane(z), r, lv, (sy, sx), FAT_HU) for z, r in regions.items()}
        return regions, maps, max(ndimage.label(isles)[1] for _, isles in maps.values())

    # Most results >= 40 mm are not mottled: the islets are first counted in a window just
    # wider than the result (a quarter of the rays' window's area).
    near = _Window(volume, cy0, cx0, GATE_REACH * max(ny * sy, nx * sx) + margin)
    if maps_in(near)[2] < MIN_ISLETS:
        return m
    win = _Window(volume, cy0, cx0, REACH * max(ny * sy, nx * sx) + margin)
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
