"""A faint dark result that is a thin sheet along the liver's surface, darkest against the tissue
beyond it: flagged (issue 11, w35-surface).

What the image shows. IRCADb patient 1, portal venous ("original" and "noise 15 HU", which adds
no noise to it; fresh seed 27's no-tumour click): a click at voxel (79, 284, 213), in plain liver
by the expert masks, at the liver's posterior-medial surface beside a thin fat plane, grew a 14.4
mm region on slices 76-81 (87 HU against the liver's 103, noise SD 5.3, 56 % of its
surroundings like liver) with no flag. Across the surface the smoothed image falls from the
liver's 100-110 HU through 88-93 HU to a layer of 80-84 HU 1-4 mm from the fat, then steeply
into the fat plane (25 to -40 HU). The region is that layer and the slope above it: 14.4 mm
along the surface (9.6 mm through the slices), yet 90 % of its voxels lie within 5.1 mm of the
tissue darker than it beyond the surface, and its value rises with the distance from that tissue
(Spearman 0.57; 72 HU within 1 mm of it, 91-94 HU 5-7 mm in).

Why :mod:`.ngd_edgeband` missed it. That rule flags the partial-volume ramp of the liver's edge:
a faint dark region along the dark tissue beyond it (here 60 % of it within 3 mm), its value
rising with the distance (0.57), and *no core at its own value*: its quarter farthest from the
dark tissue reads at least half way up to the threshold. Here that quarter reads 90 HU, a third
of the way from 87 to 95: the layer of 80-84 HU is a plateau of its own, and the rule takes it
for a lesion's core. It is a core only one layer deep: a sheet along the surface.

What tells it from a lesion at the surface: its shape. A sheet along the surface is shallow
from the dark tissue beyond it and flat along it. (1) Depth: the 90th percentile of its voxels'
in-plane distance from that tissue, 5.1 mm for 14.4 mm here (0.35; 0.29-0.31 where noise is
added); a disk touching the surface reads 0.85 of its diameter, half out of the liver 0.51. (2)
Flatness: on each section of at least half its widest, its extent across the surface (along the
mean gradient of that distance: the surface's normal) over its extent along it, 0.55-0.57 here
(0.59-0.64 with noise); a sphere touching the surface or bulging half out of the liver reads
0.74-1.0 (the analytic phantom of the tests; such a lesion's voxels all lie near the fat wrapped
round it, so its depth by distance alone reads as shallow as a sheet's, 0.36). So a result by
value (not texture) darker than the liver by less than ngd_edgeband's faint limit (30 HU), that
no other flag warns of, is flagged (:data:`FLAG`) when it passes ngd_edgeband's band tests
(:data:`~.ngd_edgeband.NEAR_SHARE` of it within 3 mm of the dark tissue, its value rising with
the distance, Spearman >= :data:`~.ngd_edgeband.MIN_RHO`), its depth is at most
:data:`SHEET_SHARE` of its diameter and its flatness at most :data:`FLAT_SHARE`, whatever its
farthest quarter reads. A lesion's value does not rise with the distance from the surface: IRCADb
06 at the dome, faint (-22 to -26 HU) on the portal-venous variants, reads Spearman -0.06 to 0.08
wherever it is measured right (seed 27). Only a flag, on the final result: the outline, the
diameter and every other rule's path are kept.

Evidence (w35-surface; every result kept with its mask and read offline). Development seeds 27,
28 and 7 in full (924 tumour prompts, 1,650 no-tumour clicks) and a census of the tumours at
the surface (01, 02, 07; noise seeds 3 and 6, 5 clicks per tumour on all 11 variants, 330
clicks): the rule reads as a sheet the target click on its two variants (its only unflagged
results) and 14 other no-tumour results, all flagged already (bands along the surface on the
slab and noisy variants); no tumour result at all (of the 98 faint dark ones, none is a sheet),
so no within count, refusal or right result's flags change. It also reads ngd_edgeband's own
seed-13 band as a sheet (6.8 mm deep for 18.7 mm). About 4 ms for a result it reads (a faint
dark unflagged one); nothing for the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage

from lesion_tool.measurement.ngd_edgeband import (
    MIN_RHO,
    NEAR_SHARE,
    beyond_sections,
    edge_ramp,
    flag_faint_band,
)

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement

__all__ = [
    "ENABLED",
    "FLAG",
    "FLAT_SHARE",
    "SHEET_SHARE",
    "across_along",
    "flag_sheet",
    "surface_sheet",
]

ENABLED = True
"""Module switch: False leaves every result unflagged by this rule (its tests show it matters)."""
SHEET_SHARE = 0.4
"""The region's depth from the dark tissue beyond the surface (90th percentile of its voxels'
in-plane distance) at most this share of its diameter: a sheet along the surface (the click
above: 0.35). A disk three-quarters out of the liver reads 0.40, half out 0.51, touching the
surface 0.85."""
FLAT_SHARE = 0.65
"""And its extent across the surface at most this share of its extent along it (median over its
sections of at least half the widest; the click above: 0.55-0.57, 0.59-0.64 where noise is
added): flat and tangent to the surface. A sphere touching the surface or half out of the liver
reads about 1, a 14 x 7 mm lens along it 0.5. This keeps a faint lesion bulging out of the liver,
whose voxels all lie near the fat wrapped round it (a shallow depth by distance), unflagged."""
FLAG = (
    "a faint dark sheet along the liver's surface: {depth:.1f} mm deep from the darker tissue "
    "beyond for {length:.1f} mm along it, its value rising from {outer:.0f} HU next to that "
    "tissue to {inner:.0f} HU inside (threshold {thr:.0f} HU); a layer of the liver's surface "
    "(partial volume, or the tissue beside it) rather than a lesion? check it on the slices above "
    "and below"
)


def surface_sheet(
    volume: CTVolume, m: LesionMeasurement, band_min_hu: float
) -> dict[str, float] | None:
    """:func:`.ngd_edgeband.edge_ramp`'s numbers when ``m``'s region is a sheet along the dark
    tissue beyond the liver's surface whose value rises with the distance from it (the tests of
    the module docstring, without its gates: flags, texture, contrast); else None.
    ``band_min_hu``: segment's LIVER_BAND_MIN_HU (the dark tissue is what reads darker than the
    region by max(this, half its contrast), as ngd_edgeband reads it)."""
    length = float(m.whole.length_mm)
    if length <= 0.0 or not m.mask.any():
        return None
    r = edge_ramp(volume, m, max(band_min_hu, abs(float(m.evidence.contrast_hu)) / 2.0))
    if r is None or r["near"] < NEAR_SHARE or not r["rho"] >= MIN_RHO:
        return None
    if r["d90"] > SHEET_SHARE * length:
        return None
    flat = across_along(volume, m, max(band_min_hu, abs(float(m.evidence.contrast_hu)) / 2.0))
    if flat is None or flat > FLAT_SHARE:
        return None
    return {**r, "across_along": flat}


def across_along(volume: CTVolume, m: LesionMeasurement, band_hu: float) -> float | None:
    """The median, over ``m``'s sections of at least half its widest, of the section's extent
    across the liver's surface over its extent along it (mm over mm). The surface's inward normal
    on a section is the mean gradient, over the section, of the in-plane distance from the tissue
    darker than the region by ``band_hu`` (smoothed as the delineation smooths; as
    :func:`.ngd_edgeband.edge_ramp` reads it). None when no section has such tissue nearby."""
    sp = tuple(float(s) for s in volume.spacing_mm)
    areas = m.mask.reshape(m.mask.shape[0], -1).sum(axis=1)
    ratios = []
    wide = np.flatnonzero(areas >= 0.5 * areas.max())
    for _, _, reg, beyond in beyond_sections(volume, m, band_hu, wide):
        dist = ndimage.distance_transform_edt(~beyond, sampling=sp[1:])
        gy, gx = np.gradient(dist, sp[1], sp[2])
        n = np.array([gy[reg].mean(), gx[reg].mean()])
        if not np.hypot(*n) > 0.0:
            continue
        n /= np.hypot(*n)
        yy, xx = np.nonzero(reg)
        yy, xx = yy * sp[1], xx * sp[2]
        across = np.ptp(yy * n[0] + xx * n[1]) + sp[1]
        along = np.ptp(xx * n[0] - yy * n[1]) + sp[1]
        ratios.append(float(across / along))
    return float(np.median(ratios)) if ratios else None


def flag_sheet(
    volume: CTVolume,
    m: LesionMeasurement,
    low_contrast_hu: float,
    band_min_hu: float,
) -> LesionMeasurement:
    """``m`` with :data:`FLAG` added when it is an otherwise unflagged faint dark result by value
    that is a sheet along the liver's surface (module docstring; ``low_contrast_hu`` and
    ``band_min_hu`` are segment's LOW_CONTRAST_HU and LIVER_BAND_MIN_HU); else ``m``."""
    e = m.evidence
    return flag_faint_band(
        volume,
        m,
        enabled=ENABLED,
        low_contrast_hu=low_contrast_hu,
        band_min_hu=band_min_hu,
        read=surface_sheet,
        note=lambda r: FLAG.format(
            depth=r["d90"],
            length=float(m.whole.length_mm),
            outer=r["outer"],
            inner=r["inner"],
            thr=float(e.threshold_hu),
        ),
    )
