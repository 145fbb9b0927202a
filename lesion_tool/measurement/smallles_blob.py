"""A small lesion's click whose region drifted off it: re-click at the blob that holds the click.

A 10 mm lesion on an arterial image (IRCADb 06 made necrotic: a 2-3 mm enhancing rim around a
5 mm core) is below the delineation's scale: its 1 mm click disk, read on a plane smoothed at
1 mm, mixes rim and core, so a click off the core's middle reads 96 HU against the liver's 105
and the rays run out into the liver (driftclick refuses the region, 19.8 mm wide and 3 mm off
the click). The click is in a blob nonetheless, and the blob's own scale tells where its middle
is: a scale-normalised Laplacian of Gaussian (sigma = r / sqrt(2) is the scale at which a disk of
radius r answers most) finds the dark core or the bright rim around the click, at the scale
of the lesion's part the reader hit, not of the 1 mm smoothing.

The lesion is then measured again from the most evident blob's middle (as a reader clicking its
middle would; one delineation, not the re-click chains, so that a refused click costs at most one
more) and kept only when

* the blob's contrast in HU (its inside against the ring just outside it, on the raw slice)
  stands above the liver's noise: it exceeds :data:`MIN_BLOB_HU` and :data:`MIN_BLOB_Z` standard
  errors of that difference (noise read as the ring's robust SD), so a plain-liver click's noise
  speck or mottle is no blob;
* the region found holds the reader's click (driftclick.DRIFT_MM), since the click is in the
  lesion;
* the region is of the size the blob says: its diameter at most :data:`MAX_SIZE_RATIO` times
  the blob's (a small part of a lesion - its core - may be half the lesion's size, and no more
  than that on the lesions this rule is for: a drift over a wide stretch of liver is not taken).

The result is flagged (:data:`BLOB_FLAG`): it was measured from a point the reader did not click.

Arterial images only (the caller, segment._measure_lesion, gates it): the scale problem is an
enhancing rim of 2-3 mm, narrower than the smoothing, round a core; on a portal-venous image a
small lesion is one dark blob that the delineation reads at its own scale. Measured on the
stress bench's portal-venous variants (integrator, fifteenth pass): the detector fixed no tumour
there and turned 5 plain-liver clicks of 2,200 (seeds 3 and 4, noisy images, where the scanner's
correlated noise makes a ring's standard error too small) from refused into flagged 5-19 mm
lesions.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import numpy as np
from scipy import ndimage

from lesion_tool.measurement.driftclick import DRIFT_MM, off_click
from lesion_tool.measurement.enhancement import robust_sd

ENABLED = True
"""Module switch (A/B runs)."""

BLOB_RADII_MM = (1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0)
"""The radii (mm) of the blobs looked for: a 3-12 mm lesion or its core / enhancing part; the
smallest is above the 1 mm click disk, the largest that of a lesion whose own click would not
drift on the delineation's 1 mm smoothing."""

MIN_BLOB_HU = 15.0
"""The least contrast (HU) of the blob against the ring around it: above the 6-10 HU a liver's
perfusion differences and slab partial volume make, below a small HCC's arterial enhancement or
a necrotic core's darkness (25-60 HU)."""

MIN_BLOB_Z = 5.0
"""The blob's contrast in standard errors of the inside-minus-ring difference (ring robust SD x
sqrt(1/n_in + 1/n_ring)): a noise speck of the liver is not one."""

MAX_SIZE_RATIO = 3.0
"""The region found from the blob's middle may be at most this many times the blob's diameter."""

SOFT_TISSUE_HU = -30.0
"""Below this a pixel is fat or air, not liver or lesion (fat is -150 to -50 HU, water 0)."""

MAX_RECLICKS = 1
"""Re-clicks tried at most: the most evident blob's (a refused click must not cost more than one
more delineation chain; a second blob's re-click doubled the slowest refused click's time)."""

BLOB_FLAG = "measured from the middle of a small blob found at the click"

Measure = Callable[..., object]


def _disk_offsets(r_px: float) -> tuple[np.ndarray, np.ndarray]:
    n = math.ceil(r_px)
    yy, xx = np.mgrid[-n : n + 1, -n : n + 1]
    keep = yy**2 + xx**2 <= r_px**2
    return yy[keep], xx[keep]


def _fill_soft(plane: np.ndarray) -> np.ndarray | None:
    """``plane`` with fat and air read as the soft tissue around (their edges with the liver -
    the lung base, the body's edge - would answer as blobs), or None when it is mostly not soft
    tissue."""
    soft = plane > SOFT_TISSUE_HU
    if soft.sum() < plane.size // 4:
        return None
    return np.where(soft, plane, np.median(plane[soft])).astype(np.float32)


def blob_on(plane: np.ndarray, cy: int, cx: int, px: float, dz: float, radii=BLOB_RADII_MM):
    """The strongest scale-normalised LoG extremum of ``plane`` (at the ``radii``, mm) whose
    middle lies within its radius of the click (``dz`` mm off this slice): ``(y, x, radius_mm,
    response)`` or None."""
    best = None
    for r_mm in radii:
        if dz >= r_mm:
            continue
        r_px = r_mm / px
        sigma = r_px / math.sqrt(2.0)
        resp = -(sigma**2) * ndimage.gaussian_laplace(plane, sigma)
        dy, dx = _disk_offsets(math.sqrt(r_mm**2 - dz**2) / px)
        ys, xs = cy + dy, cx + dx
        ok = (ys >= 1) & (ys < plane.shape[0] - 1) & (xs >= 1) & (xs < plane.shape[1] - 1)
        ys, xs = ys[ok], xs[ok]
        if ys.size == 0:
            continue
        v = resp[ys, xs]
        i = int(np.argmax(np.abs(v)))
        y, x, val = int(ys[i]), int(xs[i]), float(v[i])
        nb = resp[y - 1 : y + 2, x - 1 : x + 2]
        if (val > 0 and val < nb.max()) or (val < 0 and val > nb.min()):
            continue  # on the disk's edge, not an extremum: the blob's middle is further out
        if best is None or abs(val) > abs(best[3]):
            best = (y, x, r_mm, val)
    return best


def _contrast(plane: np.ndarray, y: int, x: int, r_mm: float, px: float) -> tuple[float, float]:
    """The blob's contrast (HU: median inside its radius minus median of the ring 1.3-2 radii
    out) and that contrast in standard errors (ring robust SD)."""
    r_px = r_mm / px
    iy, ix = _disk_offsets(r_px)
    oy, ox = _disk_offsets(2.0 * r_px)
    ring = (oy**2 + ox**2) > (1.3 * r_px) ** 2
    oy, ox = oy[ring], ox[ring]
    h, w = plane.shape

    def take(dy: np.ndarray, dx: np.ndarray) -> np.ndarray:
        yy, xx = y + dy, x + dx
        ok = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
        return plane[yy[ok], xx[ok]]

    inside, around = take(iy, ix), take(oy, ox)
    if inside.size < 5 or around.size < 20:
        return 0.0, 0.0
    contrast = float(np.median(inside) - np.median(around))
    se = robust_sd(around) * math.sqrt(1.0 / inside.size + 1.0 / around.size)
    return contrast, abs(contrast) / max(se, 1e-6)


def find_blobs(
    stack: np.ndarray, k0: int, cy: int, cx: int, spacing_mm: tuple[float, ...]
) -> list[tuple[int, int, int, float, float, float]]:
    """The blobs holding voxel ``(k0, cy, cx)`` of ``stack`` (HU, raw slices), one per slice:
    ``(k, y, x, radius_mm, contrast_hu, z)`` of the strongest scale-normalised LoG extremum on
    that slice whose middle lies within its radius of the click (3-D, mm) and whose contrast
    stands above the noise; the most evident (contrast in standard errors) first. Each
    slice is read at its own scale (slabs of any thickness)."""
    sz, px = spacing_mm[0], min(spacing_mm[1:])
    found = []
    for k in range(stack.shape[0]):
        dz = abs(k - k0) * sz
        if dz >= max(BLOB_RADII_MM):
            continue
        plane = _fill_soft(stack[k])
        if plane is None:
            continue
        b = blob_on(plane, cy, cx, px, dz)
        if b is None:
            continue
        y, x, r_mm, val = b
        contrast, z = _contrast(plane, y, x, r_mm, px)
        if np.sign(contrast) != np.sign(val) or abs(contrast) < MIN_BLOB_HU or z < MIN_BLOB_Z:
            continue
        found.append((k, y, x, r_mm, contrast, z, abs(val)))
    found.sort(key=lambda b: -b[5])
    return [b[:6] for b in found]


def reclick_blob(volume, prompt, phase, measure: Measure):
    """The lesion measured from the middle of the blob that holds ``prompt``'s click, or None
    (see the module's docstring)."""
    if not ENABLED or prompt.seed is None or prompt.line is not None:
        return None
    seed = tuple(round(v) for v in prompt.seed)
    z0, y0, x0 = seed
    sp = tuple(float(s) for s in volume.spacing_mm)
    px = min(sp[1:])
    half = math.ceil((2.5 * max(BLOB_RADII_MM) + 3.0 * max(BLOB_RADII_MM) / math.sqrt(2)) / px)
    ya, xa = max(y0 - half, 0), max(x0 - half, 0)
    yb, xb = min(y0 + half + 1, volume.shape[1]), min(x0 + half + 1, volume.shape[2])
    nz = math.ceil(max(BLOB_RADII_MM) / sp[0])
    za, zb = max(z0 - nz, 0), min(z0 + nz + 1, volume.shape[0])
    stack = np.asarray(volume.array[za:zb, ya:yb, xa:xb], dtype=np.float32)
    blobs = find_blobs(stack, z0 - za, y0 - ya, x0 - xa, sp)
    for bk, by, bx, r_mm, contrast, _ in blobs[:MAX_RECLICKS]:
        at = (bk + za, by + ya, bx + xa)
        if at == seed:
            continue  # the click is the blob's middle already: nothing new to measure from
        found = _kept(volume, prompt, phase, measure, at, seed, 2.0 * r_mm)
        if found is not None:
            note = (
                f"{BLOB_FLAG} (voxel {at}; {2 * r_mm:.0f} mm across, {contrast:+.0f} HU against "
                "the ring around it): the click's own region drifted off it; check the contour"
            )
            return replace(found, flags=(note, *found.flags))
    return None


def _kept(volume, prompt, phase, measure: Measure, at, seed, blob_mm: float):
    """The lesion measured from ``at`` when it holds the click ``seed`` and is of the blob's
    size (see the module's docstring), else None."""
    try:
        found = measure(volume, replace(prompt, seed=at), phase)
    except Exception:  # noqa: BLE001 - a refused re-click leaves the click refused
        return None
    sp = tuple(float(s) for s in volume.spacing_mm)
    m = found.mask
    zi = seed[0] - found.offset[0]
    if not 0 <= zi < m.shape[0]:
        return None
    d = off_click(m[zi], seed[1] - found.offset[1], seed[2] - found.offset[2], sp[1:])
    if d > DRIFT_MM or found.whole.length_mm > MAX_SIZE_RATIO * blob_mm:
        return None
    return found


__all__ = ["BLOB_FLAG", "ENABLED", "blob_on", "find_blobs", "reclick_blob"]
