"""A small necrotic lesion on a thick slab, read by its ring: a bright rim closed round a dark core.

A 10 mm lesion whose core is necrotic (5 mm at 70-85 HU) inside a 2-3 mm enhancing rim, seen on a
5 mm slab, averages slab by slab to about the liver's value: IRCADb 06 made necrotic, at the
liver's dome, reads 114-120 HU over its outline on its top slab against the parenchyma's
117-124 HU further in. A click there reads the liver's value and is refused ("the commonest
value"), and a region grown from the core by value runs out into the dome's tissue, which the
slab averages with the lung above (93-97 HU, darker than the core). What a reader sees is a
ring: on that slab the annulus 2-4 mm from the middle is 15-30 HU brighter than the middle and
20-30 HU brighter than the tissue 6-14 mm out, round the whole circle (measured on seeds 0, 1,
3 and 4 with 25 HU noise; `/tmp/w20-t06/readme.md`).

Here, on an arterial image, a click refused for its value is looked at once more: the dark blob
that holds it (``smallles_blob.find_blobs``: a scale-normalised LoG, contrast in HU and in
standard errors of the ring's noise) is a core only when a rim closes round it on its slab:

* the annulus from the core's radius to :data:`RIM_MM` beyond it (the rim) is brighter than the
  core and than the annulus :data:`BEYOND_MM` beyond the rim (the tissue the lesion lies in) by
  at least :data:`MIN_RING_HU` and :data:`MIN_RING_Z` standard errors of each difference (the
  noise read as the outer annulus's robust SD) - the same evidence ``smallles_blob`` asks of a
  blob;
* in at least :data:`MIN_CLOSED_SECTORS` of :data:`SECTORS` directions the rim is brighter than
  the tissue beyond it (a rim wraps its core; a dark gap between two vessels, or liver beside a
  bright vessel, is bright on one side only).

The lesion's outline on that slab then runs, ray by ray, to where the image beyond the rim's
peak falls half-way from the rim's value to the tissue beyond (the rim's outer edge: the whole
lesion, core and rim), no further than the outer annulus. The result is flagged: it was found
by its ring, on one slab, not grown by value.
"""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
from scipy import ndimage

from lesion_tool.measurement.diameter import boundary_points, longest_axial_diameter
from lesion_tool.measurement.enhancement import robust_sd
from lesion_tool.measurement.smallles_blob import (
    BLOB_RADII_MM,
    MIN_BLOB_HU,
    MIN_BLOB_Z,
    _fill_soft,
    find_blobs,
)

ENABLED = True
"""Module switch (A/B runs)."""

RIM_MM = 3.0
"""The rim's width looked for beyond the core's radius (mm): an HCC's enhancing rim round a
necrotic core is 2-10 mm thick; on a small lesion 2-3 mm, and a 1 mm smoothing plus a slab's
averaging spread it by about 1 mm."""

BEYOND_MM = (1.0, 5.0)
"""The tissue the lesion lies in: the annulus this far (mm) beyond the rim's outer radius (1 mm
clear of the rim's blurred edge; 4 mm wide, enough pixels for its noise)."""

MIN_RING_HU = MIN_BLOB_HU
"""The rim must stand above the core and above the tissue beyond by at least this (HU): the
blob's own least contrast (above the 6-10 HU of a liver's perfusion differences)."""

MIN_RING_Z = MIN_BLOB_Z
"""...and by this many standard errors of each difference (as smallles_blob asks of a blob)."""

SECTORS = 8
MIN_CLOSED_SECTORS = 7
"""Directions (of SECTORS) in which the rim must be brighter than the tissue beyond it: a rim
closes round its core (one direction may be lost to noise or to a vessel touching it)."""

RAY_STEP_MM = 0.25
RAYS = 72

RING_FLAG = "found by its ring"


def ring_window(volume, y0: int, x0: int) -> tuple[int, int, int, int]:
    """The in-plane window ``(ya, yb, xa, xb)`` round the click ``(y0, x0)`` that a ring is read
    in: the largest blob, its rim and the tissue beyond, with room for the blob's search. Its
    soft-tissue fill (the lung's stand-in) is the window's median, so every rule reading a ring
    reads this window."""
    px = min(float(s) for s in volume.spacing_mm[1:])
    reach = max(BLOB_RADII_MM) + RIM_MM + BEYOND_MM[1]
    half = math.ceil((2.5 * max(BLOB_RADII_MM) + reach) / px)
    ya, xa = max(y0 - half, 0), max(x0 - half, 0)
    yb, xb = min(y0 + half + 1, volume.shape[1]), min(x0 + half + 1, volume.shape[2])
    return ya, yb, xa, xb


def _annulus(shape, y: float, x: float, px: float, r0: float, r1: float):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    r = np.hypot(yy - y, xx - x) * px
    ang = np.arctan2(yy - y, xx - x)
    return (r >= r0) & (r < r1), ang


def _z(a: np.ndarray, b: np.ndarray, sd: float) -> float:
    se = sd * math.sqrt(1.0 / a.size + 1.0 / b.size)
    return (float(np.median(a)) - float(np.median(b))) / max(se, 1e-6)


def ring_test(plane: np.ndarray, y: int, x: int, r_core: float, px: float):
    """``(rim_hu, beyond_hu, sd)`` when a bright rim closes round the dark blob of radius
    ``r_core`` (mm) at ``(y, x)`` of ``plane`` (raw HU, soft tissue filled), else None."""
    r_rim = r_core + RIM_MM
    core, _ = _annulus(plane.shape, y, x, px, 0.0, r_core)
    rim, ang_r = _annulus(plane.shape, y, x, px, r_core, r_rim)
    out, ang_o = _annulus(plane.shape, y, x, px, r_rim + BEYOND_MM[0], r_rim + BEYOND_MM[1])
    if core.sum() < 5 or rim.sum() < 20 or out.sum() < 40:
        return None
    c, r, o = plane[core], plane[rim], plane[out]
    sd = robust_sd(o)
    rim_hu, beyond_hu = float(np.median(r)), float(np.median(o))
    if rim_hu - float(np.median(c)) < MIN_RING_HU or rim_hu - beyond_hu < MIN_RING_HU:
        return None
    if _z(r, c, sd) < MIN_RING_Z or _z(r, o, sd) < MIN_RING_Z:
        return None
    edges = np.linspace(-math.pi, math.pi, SECTORS + 1)
    closed = 0
    for a0, a1 in itertools.pairwise(edges):
        rs = r[(ang_r[rim] >= a0) & (ang_r[rim] < a1)]
        os_ = o[(ang_o[out] >= a0) & (ang_o[out] < a1)]
        if rs.size and os_.size and np.median(rs) > np.median(os_):
            closed += 1
    if closed < MIN_CLOSED_SECTORS:
        return None
    return rim_hu, beyond_hu, sd


def _outline(plane, y, x, r_core, px, rim_hu, beyond_hu) -> np.ndarray:
    """The lesion's outline on ``plane``: per ray, the rim's outer edge (half-way level)."""
    sm = ndimage.gaussian_filter(plane, 1.0 / px)
    half = 0.5 * (rim_hu + beyond_hu)
    r_max = r_core + RIM_MM + BEYOND_MM[0]
    rr = np.arange(0.0, r_core + RIM_MM + BEYOND_MM[1], RAY_STEP_MM)
    th = np.linspace(0, 2 * math.pi, RAYS, endpoint=False)
    ys = y + np.outer(np.sin(th), rr) / px
    xs = x + np.outer(np.cos(th), rr) / px
    prof = ndimage.map_coordinates(sm, [ys, xs], order=1, mode="nearest")
    # Neighbouring rays averaged (noise), circularly.
    prof = ndimage.uniform_filter1d(prof, 5, axis=0, mode="wrap")
    edge = np.empty(RAYS)
    inner = rr >= r_core
    for i in range(RAYS):
        p = prof[i]
        k0 = int(np.argmax(np.where(inner & (rr <= r_core + RIM_MM), p, -np.inf)))
        below = np.nonzero(p[k0:] < half)[0]
        e = rr[k0 + below[0]] if below.size else rr[-1]
        edge[i] = min(e, r_max)
    edge = ndimage.median_filter(edge, 5, mode="wrap")
    yy, xx = np.mgrid[: plane.shape[0], : plane.shape[1]]
    r = np.hypot(yy - y, xx - x) * px
    a = np.mod(np.arctan2(yy - y, xx - x), 2 * math.pi)
    idx = np.round(a / (2 * math.pi) * RAYS).astype(int) % RAYS
    return r <= edge[idx]


def ring_lesion(volume, prompt, phase):
    """The lesion found by its ring round a dark blob holding the click (module docstring), as a
    flagged measurement on one slab, or None."""
    if not ENABLED or prompt.seed is None or prompt.line is not None:
        return None
    t0 = time.perf_counter()
    seed = tuple(round(v) for v in prompt.seed)
    z0, y0, x0 = seed
    sp = tuple(float(s) for s in volume.spacing_mm)
    px = min(sp[1:])
    ya, yb, xa, xb = ring_window(volume, y0, x0)
    nz = math.ceil(max(BLOB_RADII_MM) / sp[0])
    za, zb = max(z0 - nz, 0), min(z0 + nz + 1, volume.shape[0])
    stack = np.asarray(volume.array[za:zb, ya:yb, xa:xb], dtype=np.float32)
    blobs = [b for b in find_blobs(stack, z0 - za, y0 - ya, x0 - xa, sp) if b[4] < 0]
    if not blobs:
        return None
    bk, by, bx, r_core, _contrast, _ = blobs[0]
    plane = _fill_soft(stack[bk])
    if plane is None:
        return None
    found = ring_test(plane, by, bx, r_core, px)
    if found is None:
        return None
    box_mm = (sp[0] * stack.shape[0], px * stack.shape[1], px * stack.shape[2])
    return ring_measurement(
        volume,
        plane,
        (bk + za, ya, xa),
        (by, bx),
        r_core,
        found,
        seed,
        phase,
        t0,
        check_click=bk + za == z0,
        box_mm=box_mm,
    )


def ring_measurement(
    volume,
    plane: np.ndarray,
    offset: tuple[int, int, int],
    centre: tuple[int, int],
    r_core: float,
    found: tuple[float, float, float],
    seed: tuple[int, int, int],
    phase,
    t0: float,
    note: str = "",
    check_click: bool = True,
    box_mm: tuple[float, float, float] | None = None,
):
    """The flagged one-slab measurement of the ring ``found`` by :func:`ring_test` round the core
    at ``centre`` (of ``plane``, the slab ``offset[0]``, whose pixel (0, 0) is voxel
    ``offset``), or None when the reader's click (``seed``) is not inside its outline (on its
    own slab, or at its in-plane place on a neighbouring slab that the lesion also spans).
    ``note``: said in the flag after how the ring was found; ``check_click``: whether the click
    must be inside the outline; ``box_mm``: the evidence's box (default: the plane's)."""
    from lesion_tool.measurement.segment import LesionEvidence, LesionMeasurement, _phase

    sp = tuple(float(s) for s in volume.spacing_mm)
    px = min(sp[1:])
    kz, ya, xa = offset
    by, bx = centre
    _, y0, x0 = seed
    rim_hu, beyond_hu, sd = found
    inside = _outline(plane, by, bx, r_core, px, rim_hu, beyond_hu)
    cy, cx = y0 - ya, x0 - xa
    inplane = 0 <= cy < inside.shape[0] and 0 <= cx < inside.shape[1]
    if check_click and (not inplane or not inside[cy, cx]):
        return None  # the click is not in the lesion found
    lab, _ = ndimage.label(inside)
    inside = lab == lab[by, bx]
    mask = inside[None]
    whole, whole_p = longest_axial_diameter(boundary_points(mask, offset), volume)
    ev = LesionEvidence(
        liver_hu=beyond_hu,
        lesion_hu=rim_hu,
        threshold_hu=0.5 * (rim_hu + beyond_hu),
        contrast_hu=rim_hu - beyond_hu,
        noise_sd_hu=sd,
        liver_share=1.0,
        box_mm=box_mm or (sp[0], px * plane.shape[0], px * plane.shape[1]),
    )
    flag = (
        f"{RING_FLAG}: the click's value is the liver's, but a rim ({rim_hu:.0f} HU) closes round "
        f"a dark core ({2 * r_core:.0f} mm) at voxel {(kz, by + ya, bx + xa)}, against "
        f"{beyond_hu:.0f} HU beyond it{note}; measured on that slice only, at the rim's outer "
        "edge; check the contour"
    )
    return LesionMeasurement(
        whole=whole,
        whole_perpendicular=whole_p,
        viable=None,
        viable_perpendicular=None,
        viable_reason="the lesion was found by its ring; its viable part was not delineated",
        mask=mask,
        viable_mask=None,
        offset=offset,
        volume_ml=float(mask.sum()) * sp[0] * sp[1] * sp[2] / 1000.0,
        seed_voxel=seed,
        phase=_phase(phase),
        flags=(flag,),
        evidence=ev,
        time_s=time.perf_counter() - t0,
    )


__all__ = ["ENABLED", "RING_FLAG", "ring_lesion", "ring_measurement", "ring_test", "ring_window"]
