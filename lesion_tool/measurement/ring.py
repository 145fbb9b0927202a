"""A nodule as dense as the liver, found by the darker rim (capsule) around it.

An encapsulated hepatocellular carcinoma is often as dense as the liver inside and delimited
only by a thin, slightly hypo-attenuating rim, 5-15 HU below the parenchyma in a voxel noise of
20-30 HU. By value the click is then the liver's. Here the plane is smoothed, and the ring is
the closed path around the click, in polar coordinates, of lowest mean value (dynamic
programming; never beyond the soft tissue, so that against the liver's surface it runs along
it). Each ray's edge is the rim's outer side (half-way back to the tissue beyond). The darkest
path through pure noise is dark too, so the ring is tested where its noise is independent: on
the slices above and below, the rim must be darker than the mean of the tissue on its two sides
by RING_Z_SCORE standard errors, on most rays. Plain liver is then not taken for a nodule.

The same search finds a faint *enhancing* rim (``bright``): a thin ring of viable tumour 10-20
HU above the liver around a core as dense as the liver or darker (IRCADb tumour 04), whose
mean value is the liver's. The path is then the brightest closed one, a vessel (brighter than
a faint rim can be) ends the rays as fat does, and the edge is placed on the unsmoothed image,
the smoothing having spread the thin rim outwards.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from lesion_tool.measurement.raster import ray_profiles
from lesion_tool.measurement.rimedge import aligned_median
from lesion_tool.measurement.slabnec_rim import slab_rim_edge
from lesion_tool.measurement.t4f_slabshift import shifted_confirmation
from lesion_tool.measurement.t4h_ringridge import fill_off_ridge

RING_SMOOTH_MM = 1.5
"""Gaussian smoothing (sigma) before the rays: about half the width of a capsule seen on 5 mm
slices (2-4 mm), so that the rim survives while the voxel noise drops several-fold."""
RING_RAYS = 72
"""Rays cast (5 degrees apart: about 1 mm of arc on a 25 mm nodule)."""
RING_STEP_MM = 0.5
"""Sampling step along a ray; the path moves by one step at most from ray to ray."""
RADII_WINDOW = 5
"""Rays (of RING_RAYS, i.e. 25 degrees) over which the edge radii are median-filtered."""
RING_MIN_MM = 3.0
"""Rays look for the rim beyond this radius (a nodule smaller than 6 mm is not measured so)."""
RIM_MAX_MM = 6.0
"""The rays run this far past the search radius (the tissue beyond a rim at the limit)."""
RING_RAY_SHARE = 0.5
"""At least this share of the rays must find the rim itself (not only the liver's surface)."""
RING_Z_SCORE = 3.0
"""The rim must be darker than the mean of the tissue 2-5 mm inside and outside it by this many
standard errors (ray-to-ray spread over the square root of the number of independent rays),
measured on slices whose noise is independent of the one the ring was found on: a one-sided
test at about the 0.1 % level."""
RIM_HALF_WIDTH_MM = 1.0
"""On the check slices the rim is sampled this far either side of the path (a capsule is 2-4 mm
wide and moves a little from slice to slice)."""
CHECK_GAP_MM = 2.0
"""Slices at least this far apart have independent noise (the reconstruction's slice profile
is about as wide as the slice)."""
RING_CLIP_HU = 40.0
"""Values are clipped to the liver's +- this before the path is sought: a rim is tens of HU
darker at most; fat or a vessel must not pull the path more than a rim does."""
SURFACE_BLUR_MM = 2.0 * RING_SMOOTH_MM + 1.0
"""The liver's surface blurred by the smoothing (two sigmas) and a pixel's partial volume: the
path keeps this far inside the soft tissue, where it runs along the surface."""
SOFT_TISSUE_MIN_HU = -30.0
"""Below this the ray has left soft tissue (fat, air): the liver's surface."""
LINE_END_TOL = 0.25
LINE_END_TOL_MM = 3.0
"""A rough line's ends lie on the rim within max(LINE_END_TOL_MM, LINE_END_TOL * half the line):
the path passes within that of each end on the rays pointing at it. Dragged by eye at reading
zoom (one screen pixel is 0.3-0.8 mm), a line's ends miss a 2-4 mm capsule by a few millimetres;
a quarter of its half-length allows a line 1.5 times the nodule (LINE_RATIO) no more."""
LINE_END_RAYS = 2
"""Rays either side of the ray nearest a line end that are held near it (10 degrees: about the
arc over which a capsule's radius changes by less than a millimetre)."""
RING_MIN_DEPTH_RATIO = 0.25
"""A nodule is about as deep as it is wide: its rim, confirmed slice by slice, spans at least
this share of the ring's diameter through the slices (a capsule fades only at the caps, so a
sphere's rim stays confirmed over most of its depth: 0.35-0.7 of the diameter on HCC_006's
nodule and the phantom). A dark closed path confirmed on one or two slices only, 30-55 mm wide,
is a fissure, a vein's partial volume or the liver's surface crossing the plane, not a nodule."""
THICK_SLAB_MM = 4.0
"""On slabs this thick or thicker a small nodule's rim may be confirmed on one neighbouring slab
alone (each tested by itself at RING_Z_SCORE), not only on their mean. A neighbouring slab lies
a whole slab (5 mm) away: for a nodule of 15-20 mm whose centre lies between two slabs, the
slab on the far side is past its cap, where there is no rim, and averaging it in halves the rim's
contrast (IRCADb 04's faint ring on 5 mm slabs, from its deepest point: 2.3-3.5 standard errors
on the mean of both neighbours from the centres tried, under the 3.0 bar; 3.0 on the nearer one
alone). Testing each plane as well as their mean at most triples the chance that noise passes
(about 0.1 % -> 0.3 %), hence SLAB_MIN_RIM_HU."""
SLAB_MIN_RIM_HU = 6.0
"""A rim confirmed on one neighbouring slab alone must also be plain on the slab it was found
on: brighter (darker) than the mean of its two sides there by at least this much (smoothed HU,
mean over the rays). Significance alone is not enough on a thick slab, whose plane is smooth (a
small ray-to-ray spread): the brightest closed path through plain liver reached RING_Z_SCORE on
one neighbour with 2.3-3.1 HU on its own slab (two of 200 clicks in plain liver on 5 mm slabs,
portal-venous and arterial 25 HU), IRCADb 04's faint ring 10.4 HU (its raw ring +16 HU)."""
CARRY_BAND_MIN_MM = 2.0
"""From one slice to the next the rim moves by at most max(this, one slice spacing) in-plane:
a sphere's radius changes by the slice spacing at 45 degrees of latitude, less near its equator,
and the caps beyond are where the rim fades (there the ring is no longer confirmed)."""


@dataclass
class RingCut:
    """The ring on one slice: rays' end radii (mm) from ``(cy, cx)`` and its rim contrast."""

    cy: float
    cx: float
    radii: np.ndarray
    rim_hu: float
    inside_hu: float
    outside_hu: float
    z_score: float
    path_mm: np.ndarray
    """The rim's darkest point per ray (mm from the centre): the path the next slice's ring is
    sought near."""


def smooth_plane(raw: np.ndarray, spacing_yx: Sequence[float]) -> np.ndarray:
    """The plane smoothed at RING_SMOOTH_MM (HU)."""
    sig = (RING_SMOOTH_MM / spacing_yx[0], RING_SMOOTH_MM / spacing_yx[1])
    return ndimage.gaussian_filter(raw.astype(np.float32), sig, mode="nearest")


def find_ring(
    plane: np.ndarray,
    cy: float,
    cx: float,
    liver_hu: float,
    spacing_yx: Sequence[float],
    rmax_mm: float,
    check_planes: Sequence[np.ndarray] = (),
    *,
    prior_mm: np.ndarray | None = None,
    band_mm: float = 0.0,
    through: Sequence[tuple[float, float]] = (),
    bright: bool = False,
    raw: np.ndarray | None = None,
    slab_mm: float = 0.0,
    z_min: float = RING_Z_SCORE,
    arterial: bool = False,
) -> RingCut | None:
    """The closed dark ring around ``(cy, cx)`` (pixels) on a smoothed ``plane``, or None.

    The ring is the closed path around the click, in polar coordinates, of lowest mean value
    (values clipped to RING_CLIP_HU around the liver's, so that fat or a vessel does not weigh
    more than a rim), moving by at most one step of RING_STEP_MM per ray, and never beyond the
    soft tissue (at the liver's surface the path runs along it). It is accepted when it is darker
    than the tissue inside it and outside it by RING_Z_SCORE standard errors on
    ``check_planes``: smoothed neighbouring slices whose noise is independent of ``plane``'s
    (the darkest path through any noise is dark; only a real rim stays dark on other slices).
    Without them there is no unbiased test and no ring is accepted.

    ``prior_mm`` (radius per ray, mm, from the same centre) keeps the path within ``band_mm`` of
    the ring found on the slice before; ``through`` holds it near given points ``(angle in
    radians, radius in mm)``: the ends of a line the reader dragged across the nodule (within
    max(LINE_END_TOL_MM, LINE_END_TOL * radius), on LINE_END_RAYS rays either side).

    With ``bright`` the ring sought is brighter than both sides instead (an enhancing rim, see
    :func:`rim_sign`); the same path, edge and test apply to the values mirrored about zero,
    except that the edge is then placed on the unsmoothed ``raw`` plane when given
    (:func:`_thin_rim_edge`; on slabs >= THICK_SLAB_MM at the rim's mean reach through the slab
    where that stands out of the noise, :func:`.slabnec_rim.slab_rim_edge`).

    On slabs of ``slab_mm`` >= THICK_SLAB_MM the ring is also accepted when it is confirmed on
    one of ``check_planes`` by itself (the other may lie past a small nodule's cap).

    ``z_min`` is the bar of the test in standard errors (RING_Z_SCORE; lower only where other
    evidence says a lesion is there, see :mod:`.slabhyper_line`). ``arterial``: the image is an
    arterial one (a bright rim's rays off the rim are then given their neighbours' edge on slabs,
    :mod:`.t4h_ringridge`)."""
    k_hu = rim_sign(bright)
    sy, sx = spacing_yx
    angles = np.arange(RING_RAYS) * (2.0 * math.pi / RING_RAYS)
    r = np.arange(0.0, rmax_mm + RIM_MAX_MM + RING_STEP_MM, RING_STEP_MM)
    ys, xs, ok, prof = ray_profiles(plane, cy, cx, angles, r, (sy, sx))
    edge_hu = (liver_hu + SOFT_TISSUE_MIN_HU) / 2.0
    # A vessel is no rim: brighter than a faint rim can be (RING_CLIP_HU), it ends a bright
    # ring's rays as fat ends a dark one's (a vessel touching the nodule would pull the path).
    vessel_hu = liver_hu + RING_CLIP_HU if bright else math.inf
    soft = ok & (prof > edge_hu) & (prof < vessel_hu)
    # The first sample beyond the soft tissue on each ray: the path may not go past it.
    end = np.where(soft.all(axis=1), len(r), np.argmin(soft, axis=1))
    not_fat = ok & (prof > edge_hu)
    end_fat = np.where(not_fat.all(axis=1), len(r), np.argmin(not_fat, axis=1))
    j0 = round(RING_MIN_MM / RING_STEP_MM)
    jmax = min(len(r), round(rmax_mm / RING_STEP_MM) + 1)
    # Soft tissue is judged on the HU; the path, edge and test on the values signed so that the
    # rim is the low side (mirrored for a bright rim).
    prof_s = k_hu * prof
    liver_s = k_hu * liver_hu
    cost = np.clip(prof_s, liver_s - RING_CLIP_HU, liver_s + RING_CLIP_HU) - liver_s
    jj = np.arange(len(r))[None, :]
    # Not in the blurred border of the soft tissue (SURFACE_BLUR_MM), which is darker than any rim.
    blur = round(SURFACE_BLUR_MM / RING_STEP_MM)
    # A vessel's border is bright, not dark: the path keeps a smoothing's width off it only.
    stop = np.minimum(end_fat - blur, end - round(RING_SMOOTH_MM / RING_STEP_MM))
    allowed = (jj >= j0) & (jj < np.minimum(stop[:, None], jmax))
    if prior_mm is not None:
        allowed &= np.abs(r[None, :] - np.asarray(prior_mm)[:, None]) <= band_mm
    for angle, radius in through:
        k0 = round(angle / (2.0 * math.pi) * RING_RAYS)
        rows = np.arange(k0 - LINE_END_RAYS, k0 + LINE_END_RAYS + 1) % RING_RAYS
        tol = max(LINE_END_TOL_MM, LINE_END_TOL * radius)
        allowed[rows] &= np.abs(r - radius)[None, :] <= tol
    big = 1e6
    cost = np.where(allowed, cost, big)
    # Dynamic programming twice round the circle; the second lap's path closes on itself.
    n = RING_RAYS
    acc = cost[0].copy()
    back = np.zeros((2 * n, len(r)), dtype=np.int8)
    prev = np.full((3, len(r)), big)
    for k in range(1, 2 * n):
        # From one step in, the same radius, or one step out on the ray before.
        prev[0, 1:] = acc[:-1]
        prev[1] = acc
        prev[2, :-1] = acc[1:]
        move = np.argmin(prev, axis=0)
        back[k] = move - 1
        acc = prev[move, np.arange(len(r))] + cost[k % n]
        if k == n - 1:
            acc = acc - acc.min()  # the first lap only sets where the second starts
    path = np.zeros(2 * n, dtype=int)
    path[-1] = int(np.argmin(acc))
    for k in range(2 * n - 1, 0, -1):
        path[k - 1] = path[k] + back[k, path[k]]
    jr = np.empty(n, dtype=int)
    jr[np.arange(n, 2 * n) % n] = path[n:]
    if np.any(cost[np.arange(n), jr] >= big):
        return None
    # Each ray's edge: out from the rim's darkest point to half-way back to the tissue beyond.
    radii = np.empty(n)
    if not check_planes:
        return None
    checks = [ndimage.map_coordinates(c, [ys, xs], order=1, mode="nearest") for c in check_planes]
    # The mean of the check planes first; on thick slabs each one by itself too.
    qs = [k_hu * np.mean(checks, axis=0)]
    if slab_mm >= THICK_SLAB_MM and len(checks) > 1:
        qs += [k_hu * c for c in checks]
    # Soft tissue on every check slice too: the liver's surface moves from slice to slice, and
    # fat or its blurred border must not pass for a rim there.
    check_soft = (np.min(checks, axis=0) > edge_hu) & (np.max(checks, axis=0) < vessel_hu)
    check_soft = ndimage.minimum_filter1d(check_soft.astype(np.uint8), 2 * blur + 1, axis=1) > 0
    band = round(RIM_HALF_WIDTH_MM / RING_STEP_MM)
    rim_v: list[list[float]] = [[] for _ in qs]
    in_v: list[list[float]] = [[] for _ in qs]
    out_v: list[list[float]] = [[] for _ in qs]
    own_dip: list[float] = []
    tested: list[tuple[int, np.ndarray, np.ndarray]] = []
    for i in range(n):
        j = jr[i]
        p = prof_s[i]
        surface = end[i] <= j + blur + round(1.0 / RING_STEP_MM)
        if surface:
            radii[i] = r[min(end[i], len(r) - 1)]
            continue
        o_sel = slice(j + round(2.0 / RING_STEP_MM), j + round(5.0 / RING_STEP_MM) + 1)
        outside = p[o_sel][soft[i, o_sel]]
        i_sel = (r >= max(RING_MIN_MM / 2.0, r[j] - 5.0)) & (r <= r[j] - 2.0)
        if outside.size == 0:
            radii[i] = r[j]
            continue
        o = float(np.mean(outside))
        half = (p[j] + o) / 2.0
        k = j
        while k < o_sel.start and p[k] < half:
            k += 1
        radii[i] = r[k]
        span = slice(max(int(np.argmax(i_sel)) if i_sel.any() else j, 0), o_sel.stop)
        if not (i_sel.any() and soft[i, o_sel].any() and check_soft[i, span].all()):
            continue
        own_dip.append(
            (float(np.mean(p[i_sel])) + float(np.mean(p[o_sel][soft[i, o_sel]]))) / 2.0
            - float(np.mean(p[max(j - band, 0) : j + band + 1]))
        )
        o_idx = np.arange(o_sel.start, min(o_sel.stop, len(r)))[soft[i, o_sel]]
        tested.append((i, i_sel, o_idx))
        for t, check in enumerate(qs):
            q = check[i]
            rim_v[t].append(float(np.mean(q[max(j - band, 0) : j + band + 1])))
            in_v[t].append(float(np.mean(q[i_sel])))
            out_v[t].append(float(np.mean(q[o_sel][soft[i, o_sel]])))
    # The edge found ray by ray carries the noise; a circular median over RADII_WINDOW rays
    # (the arc a capsule's curvature does not change over) removes it, else the longest chord
    # would pick up the noise's outliers.
    if bright and raw is not None:
        rim_rays = np.array([end[i] > jr[i] + blur + round(1.0 / RING_STEP_MM) for i in range(n)])
        raw_prof = k_hu * ndimage.map_coordinates(raw, [ys, xs], order=1, mode="nearest")
        offset = _thin_rim_edge(raw_prof[rim_rays], jr[rim_rays])
        if slab_mm >= THICK_SLAB_MM:
            # On a thick slab the border lies out on the slab's partial-volume shoulder.
            on_slab = slab_rim_edge(raw_prof[rim_rays], jr[rim_rays], RING_STEP_MM, slab_mm, offset)
            offset = offset if on_slab is None else on_slab
        if offset is not None:
            radii[rim_rays] = r[jr[rim_rays]] + offset
        # Rays whose path climbed a vessel's flank instead of the rim take their neighbours'.
        radii = fill_off_ridge(radii, prof_s, jr, rim_rays, RING_STEP_MM, slab_mm, arterial)
    radii = ndimage.median_filter(radii, size=RADII_WINDOW, mode="wrap")
    if len(rim_v[0]) < RING_RAY_SHARE * n:
        return None  # the rim itself, not only the liver's surface, must close most of the ring
    # Independent rays: neighbours closer than the smoothing's width share their noise.
    r_typ = float(np.median(radii))
    spacing_arc = 2.0 * math.pi * r_typ / n
    n_eff = max(2.0, len(rim_v[0]) * min(1.0, spacing_arc / (2.0 * RING_SMOOTH_MM)))
    for t in range(len(qs)):
        rim_a, in_a, out_a = np.array(rim_v[t]), np.array(in_v[t]), np.array(out_v[t])
        z = _confirmed(rim_a, in_a, out_a, n_eff, z_min)
        if z is not None and (t == 0 or float(np.mean(own_dip)) >= SLAB_MIN_RIM_HU):
            break
    else:
        # A rim through a line's ends on a thick slab, at a shifted radius on the next slab
        # (the section changes size from slab to slab, t4f_slabshift.py).
        if not (
            bright
            and through
            and slab_mm >= THICK_SLAB_MM
            and float(np.mean(own_dip)) >= SLAB_MIN_RIM_HU
        ):
            return None
        shifted = shifted_confirmation(
            qs[1:] or qs, jr, tested, RING_STEP_MM, band, n_eff, z_min, _confirmed
        )
        if shifted is None:
            return None
        z, rim_a, in_a, out_a = shifted
    return RingCut(
        cy,
        cx,
        radii,
        k_hu * float(np.median(rim_a)),
        k_hu * float(np.median(in_a)),
        k_hu * float(np.median(out_a)),
        z,
        r[jr],
    )


def _confirmed(
    rim: np.ndarray,
    inside: np.ndarray,
    outside: np.ndarray,
    n_eff: float,
    z_min: float = RING_Z_SCORE,
) -> float | None:
    """The rim's dip in standard errors below the mean of its two sides (per ray values on a
    check plane), when it is a confirmed rim: at least ``z_min`` (RING_Z_SCORE), and darker than
    the tissue outside by ``z_min`` too (see :func:`_dip_z`), its median below both sides'; else
    None."""
    z = _dip_z((inside + outside) / 2.0 - rim, n_eff)
    if (
        z < z_min
        or np.median(inside) <= np.median(rim)
        or np.median(outside) <= np.median(rim)
        or _dip_z(outside - rim, n_eff) < z_min
    ):
        return None
    return z


def _thin_rim_edge(prof: np.ndarray, path: np.ndarray) -> float | None:
    """How far (mm) beyond the path a thin bright rim's outer edge lies: half-way from the rim
    back to the tissue 2-5 mm beyond, on the unsmoothed profiles (signed, rim low) aligned on
    the path and medianed over the rays. An enhancing rim is often thinner than the smoothing
    (1-2 mm of viable tumour), which spreads it outwards: on the smoothed plane its half-way
    point lies a smoothing's width beyond the rim's real edge (IRCADb 04: 1 mm beyond the
    expert's border on every ray). Averaging along the rim instead of across it keeps the edge
    sharp while the noise drops with the number of rays. None when there is no rim to place it
    on (fewer than RADII_WINDOW rays, or no rise back to the tissue beyond)."""
    if len(path) < RADII_WINDOW:
        return None
    d, med = aligned_median(prof, path, 2.0, 5.0, RING_STEP_MM)
    near = np.abs(d) <= round(1.0 / RING_STEP_MM)
    k_rim = int(np.flatnonzero(near)[np.nanargmin(med[near])])
    outside = float(np.nanmedian(med[d >= round(2.0 / RING_STEP_MM)]))
    half = (med[k_rim] + outside) / 2.0
    rise = np.flatnonzero(med[k_rim:] >= half)
    if not rise.size:
        return None
    k = k_rim + int(rise[0])
    # Between the samples either side of the half-way value (linearly).
    below = med[k - 1] if k > k_rim else med[k]
    frac = 0.0 if med[k] == below else float((half - below) / (med[k] - below))
    return (float(d[k]) - 1.0 + frac) * RING_STEP_MM if k > k_rim else float(d[k]) * RING_STEP_MM


def rim_sign(bright: bool) -> float:
    """The sign that makes a rim the low side of the values: 1 for a darker rim (a capsule), -1
    for a brighter one (an enhancing rim: a faint ring of viable tumour around a core as dense
    as the liver or darker, seen on portal-venous images as on arterial ones)."""
    return -1.0 if bright else 1.0


def _dip_z(diff: np.ndarray, n_eff: float) -> float:
    """How many standard errors the mean of ``diff`` (per ray) lies above zero.

    Used on the rim's dip below the mean of its two sides, and on tissue outside the rim minus
    the rim: a capsule is darker than the parenchyma around it (it encloses the nodule), not
    only darker than a brighter inside, which a dark band beside a vessel or the liver's
    surface also is. Without the second, plain liver gave rims in 7 of 40 clicks on HCC_006
    whose outside was as dense as the rim."""
    se = float(np.std(diff)) / math.sqrt(n_eff)
    return float(np.mean(diff)) / max(se, 1e-6)


def deep_enough(rings: dict[int, RingCut], slice_mm: float, diameter_mm: float) -> bool:
    """Whether the rim confirmed on ``rings`` (by slice) spans RING_MIN_DEPTH_RATIO of the
    ring's ``diameter_mm`` through the slices (each slice counting ``slice_mm``)."""
    return len(rings) * slice_mm >= RING_MIN_DEPTH_RATIO * diameter_mm


def carry_ring(
    plane_at: Callable[[int], np.ndarray | None],
    z0: int,
    ring: RingCut,
    spacing_zyx: Sequence[float],
    liver_hu: float,
    rmax_mm: float,
    max_depth_mm: float,
    *,
    bright: bool = False,
    raw_at: Callable[[int], np.ndarray | None] | None = None,
    z_min: float = RING_Z_SCORE,
    arterial: bool = False,
) -> dict[int, RingCut]:
    """The ring found on slice ``z0`` carried through the slices above and below.

    On each next slice the ring is sought from the same centre near the previous slice's path
    (within max(CARRY_BAND_MIN_MM, the slice spacing)), and kept only when it is confirmed as on
    the first slice: darker than both sides on the slices next to it (CHECK_GAP_MM away), whose
    noise is independent. The first slice where it is not confirmed (the nodule's cap, where the
    rim fades into partial volume) ends it, as does ``max_depth_mm`` from ``z0``.
    ``plane_at(z)`` gives the smoothed plane ``z`` (:func:`smooth_plane`) or None outside the
    volume; ``bright`` as in :func:`find_ring`, and ``raw_at(z)`` the unsmoothed plane it places
    a bright rim's edge on; ``z_min`` the test's bar and ``arterial`` the image's phase
    (:func:`find_ring`). Returns the rings by slice, ``z0``'s included."""
    dz = float(spacing_zyx[0])
    gap = max(1, math.ceil(CHECK_GAP_MM / dz))
    band = max(CARRY_BAND_MIN_MM, dz)
    rings = {z0: ring}
    for step in (1, -1):
        prev = ring
        z = z0 + step
        while abs(z - z0) * dz <= max_depth_mm:
            plane = plane_at(z)
            if plane is None:
                break
            checks = [c for c in (plane_at(z - gap), plane_at(z + gap)) if c is not None]
            nxt = find_ring(
                plane,
                ring.cy,
                ring.cx,
                liver_hu,
                spacing_zyx[1:],
                rmax_mm,
                checks,
                prior_mm=prev.path_mm,
                band_mm=band,
                bright=bright,
                raw=None if raw_at is None else raw_at(z),
                slab_mm=dz,
                z_min=z_min,
                arterial=arterial,
            )
            if nxt is None:
                break
            rings[z] = nxt
            prev = nxt
            z += step
    return rings
