"""A necrotic nodule's region by value cut back to its enhancing rim's outer edge on thick
arterial slabs (issue 11).

What the image shows. IRCADb 03 (23.2 mm, slabs 28-31) given a necrotic core on 5 mm slabs
with 25 HU noise lies just under the liver's capsule. On its equator slabs (29, 30), on rays
from the dark core (81-105 HU, smoothed 1.5 mm), the rim climbs to 140-152 HU 6-9 mm out and
falls back to the liver's 117-124 HU by the expert's border (8-12 mm) on the rays into the
liver. Towards the capsule the tissue left between the rim and the surface, 2-6 mm of it,
reads 126-135 HU for 4-8 mm before the air (partial volume of the rim's shoulder and the
sub-capsular liver on the slab), and beside the lesion isolated bright specks of 136-142 HU
(vessels) lie 14-16 mm from the core. The liver beyond is 122 HU (the result's "low contrast:
lesion 133 HU against liver 122 HU"). The region grown by value from a click on the rim
(seed 4, (29, 133, 258)) takes that band: 32.1 mm on slab 29 (expert 20.2), 25.8 on 30 (22.7),
27.6 on 28 (12.3), 24.5 on 31 (15.6), and slabs 26, 27 and 32 where the expert has nothing:
32.6 mm for 23.2, unflagged but for low contrast.

The rule. On slabs >= :data:`lesion_tool.measurement.ring.THICK_SLAB_MM`, for an arterial
result holding a dark core inside an enhancing rim (``segment._rim_context``, the core and rim
one rim margin from the liver: 03's rim reads 20-23 HU above it, its core 97 HU on seed 6), on
each slice of the region with a dark core, rays are cast from the core (:func:`_rim_outline`):
each ray's rim is its brightest sample within PEAK_MM of leaving the core, and its edge where
the ray falls below half-way from that peak back to the liver. The ray's own peak, not the
rim's median, sets the level: on 03's capsule side the 126-135 HU band never falls below
half-way from the rim's median (141 HU) to the liver (122), but it lies below half-way from
its ray's peak (149 -> 135.5) or holds no rim at all (a peak of 135 < the rim level 137).
Where at least RING_SHARE of the rays find such an edge (a ring closing round the core), the
slice is cut to the convex hull of those edges (outliers cut back as in
:mod:`.rimedge_outer`), widened by TOLERANCE_MM; the region's slices without a ring (the
nodule's caps, or a ring lost in the noise) are cut to the nearest slice's ring. The rays start
from the whole dark body the region holds: a slice whose region holds only a sliver of a larger
dark body gives no ring (IRCADb 05's seed-4 line, cast from such a sliver, found a half-moon and
cut a correct 30.1 mm to 25.5). The cut result replaces the region only
when it is shorter by more than the 10 % two border conventions differ by (MAX_SHARE); it
keeps the region's flags and adds a note. Seed 4, (29, 133, 258): 32.6 -> 25.9 mm; seed 6,
deepest (30, 143, 268): 30.5 -> 25.5 mm (23.2).

Why it holds on another patient: a necrotic HCC is a round nodule whose viable rim encloses the
necrosis (it outgrows its supply from the centre); its slabs above and below the equator lie
within the equator's outline (a convex body), and the rim's fall back to the liver is its edge.
Tissue beyond the rim's edge that a region by value takes - a sub-capsular band, a vessel's
blur, brighter liver - is not the nodule. A region without a closed ring round a dark core
(plain liver, vessels, hyper-enhancing lesions without necrosis, thin slices) is not touched.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage

from lesion_tool.measurement.diameter import boundary_points, longest_axial_diameter
from lesion_tool.measurement.r01_ramp import whole_core
from lesion_tool.measurement.raster import nanmedian_axis, ray_profiles
from lesion_tool.measurement.rimedge_outer import N_RAYS, NEIGHBOURS, OUTLIER_FACTOR
from lesion_tool.measurement.speed15_remask import remasked
from lesion_tool.measurement.wallrim import RIM_TOP_HU

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement

ENABLED = True
"""Module switch (A/B runs): a region by value cut back to its closed enhancing ring's outline."""

RING_SHARE = 0.6
"""A ring closes round the core when at least this share of the rays from the core find a rim
that ends (:func:`_rim_outline`)."""
PEAK_MM = 8.0
"""A ray's rim peaks within this distance of leaving the core (03: 2-5 mm on slabs, the core's
edge blurred into the rim; a rim is the wall round the necrosis, not tissue farther out)."""
RIM_MAX_MM = 20.0
"""The rim's edge lies within this distance of its peak (``rimedge_outer.RIM_MAX_MM``: IRCADb
01's rim is up to 15 mm thick)."""
EXIT_RUN_MM = 1.5
"""The rim has ended where the ray stays below half-way to the liver this long (as
``rimedge_outer.EXIT_RUN_MM``)."""
STEP_MM = 0.5
"""Sample spacing along a ray."""
TOLERANCE_MM = 0.5
"""Each ring's convex hull is widened by this much (one pixel at 0.57 mm): the hull runs through
the edge samples' pixel centres. 1 mm put 03's results 0.3-0.4 mm longer (26.2 / 25.8 for 23.2,
at the tolerance's edge)."""
RIM_K = 1.0
"""The rim need read only one rim margin above the liver, and the core one below it
(``_to_rim_edge`` asks two of each, as it places an edge half-way between rim and liver by value
alone): 03's rim reads 139-152 HU against 122 (median 20-23 HU above, under two 15 HU margins),
its core 97 HU on seed 6's slabs. The closed ring round the dark core (RING_SHARE) is what this
rule reads."""
MAX_SHARE = 0.9
"""The cut region replaces the region only when it measures at most this share of it: it ran
past the ring, not by the 10 % two border conventions differ by."""


def _rim_outline(
    plane: np.ndarray,
    core: np.ndarray,
    liver_hu: float,
    rim_level_hu: float,
    spacing_yx: tuple[float, float],
) -> np.ndarray | None:
    """The outline of the enhancing ring round ``core`` on one slice (window pixels): the
    convex hull of the core and of each ray's rim edge, or None when fewer than RING_SHARE of
    N_RAYS rays from the core's centre find a rim (module docstring).

    On each ray the rim is the brightest sample within PEAK_MM of leaving the core; it counts
    when it reads at least ``rim_level_hu`` (the liver + the rim margin) and less than a
    contrast-filled vessel (``wallrim.RIM_TOP_HU`` over the liver). Its edge is where the ray
    falls below half-way from that peak to the liver for EXIT_RUN_MM, within RIM_MAX_MM of the
    peak: the ray's own rim, so that a band a few HU above the liver beyond it (03's
    sub-capsular 126-135 HU) is not taken for rim."""
    sy, sx = spacing_yx
    yy, xx = np.nonzero(core)
    cy, cx = float(yy.mean()), float(xx.mean())
    far = float(np.hypot((yy - cy) * sy, (xx - cx) * sx).max())
    r = np.arange(0.0, far + PEAK_MM + RIM_MAX_MM + EXIT_RUN_MM, STEP_MM)
    angles = np.arange(N_RAYS) * (2.0 * math.pi / N_RAYS)
    ys, xs, inside, prof = ray_profiles(plane, cy, cx, angles, r, (sy, sx))
    iy = np.clip(np.round(ys).astype(int), 0, plane.shape[0] - 1)
    ix = np.clip(np.round(xs).astype(int), 0, plane.shape[1] - 1)
    in_core = core[iy, ix]
    n_peak = round(PEAK_MM / STEP_MM)
    n_rim = round(RIM_MAX_MM / STEP_MM)
    n_run = max(1, round(EXIT_RUN_MM / STEP_MM))
    top = liver_hu + RIM_TOP_HU
    edge = np.full(N_RAYS, np.nan)
    for k in range(N_RAYS):
        exits = np.flatnonzero(~in_core[k])
        if not exits.size:
            continue
        i0 = int(exits[0])
        seg = prof[k, i0 : i0 + n_peak + 1]
        if not seg.size or not inside[k, i0 : i0 + n_peak + 1].all():
            continue
        i1 = i0 + int(np.argmax(seg))
        peak = float(prof[k, i1])
        if peak < rim_level_hu or peak > top:
            continue
        half = 0.5 * (peak + liver_hu)
        below = 0
        for j in range(i1, min(i1 + n_rim + n_run, r.size)):
            if not inside[k, j]:
                break
            below = below + 1 if prof[k, j] < half else 0
            if below >= n_run:
                edge[k] = r[j - n_run + 1]
                break
    found = np.isfinite(edge)
    if found.mean() < RING_SHARE:
        return None
    # a single ray running far past its neighbours (noise, a vessel's blur) is cut back to
    # OUTLIER_FACTOR x their median, as rimedge_outer does
    idx = (np.arange(N_RAYS)[:, None] + np.arange(-NEIGHBOURS, NEIGHBOURS + 1)[None, :]) % N_RAYS
    med = nanmedian_axis(edge[idx], axis=1)
    edge = np.where(found, np.minimum(edge, OUTLIER_FACTOR * med), np.nan)
    pts = np.zeros(plane.shape, dtype=bool)
    py = np.clip(np.round(cy + np.sin(angles[found]) * edge[found] / sy).astype(int), 0, None)
    px = np.clip(np.round(cx + np.cos(angles[found]) * edge[found] / sx).astype(int), 0, None)
    pts[np.minimum(py, plane.shape[0] - 1), np.minimum(px, plane.shape[1] - 1)] = True
    return _hull(pts | core)


def _hull(mask: np.ndarray) -> np.ndarray:
    """The convex hull of a 2-D mask (its pixel centres), as a mask."""
    from skimage.morphology import convex_hull_image

    return np.asarray(convex_hull_image(mask), dtype=bool)


def trim_to_ring(volume: CTVolume, m: LesionMeasurement, ph: object) -> LesionMeasurement:
    """``m``, or ``m`` cut on every slice to the footprint of the closed enhancing ring round
    its dark core when that makes it shorter than MAX_SHARE of it (module docstring). The cut
    result keeps ``m``'s flags and adds a note."""
    from lesion_tool.measurement.edit import paste
    from lesion_tool.measurement.ring import THICK_SLAB_MM
    from lesion_tool.measurement.segment import Phase, _phase, _rim_context, _slice_mask

    if not ENABLED or float(volume.spacing_mm[0]) < THICK_SLAB_MM:
        return m
    ph = _phase(ph)
    if ph is not Phase.ARTERIAL:
        return m
    ctx = _rim_context(volume, m, ph, rim_k=RIM_K, core_k=RIM_K, holes=True)
    if ctx is None:
        return m
    win, liver_hu, _rim_hu, margin = ctx
    sy, sx = (float(s) for s in volume.spacing_mm[1:])
    z0, nz = m.offset[0], m.mask.shape[0]
    regions = {z: _slice_mask(m, win, z) for z in range(z0, z0 + nz)}
    core_top = liver_hu - margin
    steps = max(1, round(TOLERANCE_MM / min(sy, sx)))
    rings: dict[int, np.ndarray] = {}
    for z, reg in regions.items():
        if not reg.any():
            continue
        plane = win.hu_plane(z)
        core = ndimage.binary_fill_holes(reg) & (plane < core_top)
        if not core.any():
            continue
        lab, n = ndimage.label(core)
        if n > 1:
            core = lab == 1 + int(np.argmax(np.bincount(lab.ravel())[1:]))
        core = whole_core(core, plane, core_top)
        # the rays start from the whole dark core: where the region holds only a sliver of a
        # larger dark body (whole_core declined to grow it), its centre is not the core's
        lab, _ = ndimage.label(plane < core_top)
        ids = np.unique(lab[core])
        if (np.isin(lab, ids[ids > 0]) & ~core).any():
            continue
        ring = _rim_outline(plane, core, liver_hu, liver_hu + margin, (sy, sx))
        if ring is not None:
            rings[z] = ndimage.binary_dilation(ring, iterations=steps)
    if not rings:
        return m
    # a slab without a ring (towards the nodule's poles, or where the ring is lost in the
    # noise) is cut to the outline of the nearest slab with one
    near = {z: rings[min(rings, key=lambda k: (abs(k - z), k))] for z in regions}
    cut = {z: reg & near[z] for z, reg in regions.items()}
    zs = [z for z in sorted(cut) if cut[z].any()]
    if not zs:
        return m
    full = np.stack([cut[z] for z in range(zs[0], zs[-1] + 1)])
    sub = ndimage.find_objects(full.view(np.uint8))[0]
    mask = full[sub]
    offset = (zs[0] + sub[0].start, win.y0 + sub[1].start, win.x0 + sub[2].start)
    whole, whole_p = longest_axial_diameter(boundary_points(mask, offset), volume)
    if whole.length_mm > MAX_SHARE * m.whole.length_mm:
        return m
    viable, viable_p, viable_mask = m.viable, m.viable_perpendicular, None
    if m.viable_mask is not None:
        old = np.zeros_like(mask)
        paste(old, offset, m.viable_mask, m.offset)
        viable_mask = old & mask
        if viable_mask.any():
            viable, viable_p = longest_axial_diameter(boundary_points(viable_mask, offset), volume)
        else:
            viable_mask = None
    note = (
        f"the region grown by value ({m.whole.length_mm:.1f} mm) ran on past the outer edge of "
        f"the enhancing rim closing round its dark core: cut to the rim's outline, "
        f"{whole.length_mm:.1f} mm: check the contour"
    )
    return remasked(
        m, volume, mask, offset, (whole, whole_p), (viable, viable_p, viable_mask), (*m.flags, note)
    )


__all__ = ["ENABLED", "MAX_SHARE", "RING_SHARE", "TOLERANCE_MM", "trim_to_ring"]
