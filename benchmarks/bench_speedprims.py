"""The plane and mask operations w17-speed made faster, each against its old path (issue 11: time
per click; results must not change).

The slowest stress prompts (necrotic-core clicks re-measured by capclick's and necro_rimclick's
chains) spend their CPU in many small operations. w17-speed replaced three of them by exact
equivalents; this script times each against the code it replaced (kept here verbatim as
``old_*``) on inputs like the delineation's, checks that every output is the same, and prints
the ratio:

1. ``raster.fill_holes`` against ``ndimage.binary_fill_holes`` (the liver estimate's,
   wallrim's, vesselclick's and refine's hole fills) on liver-like window planes with vessels
   and lesions inside and fissures open to the outside;
2. ``necrosis.longest_chord_within`` (mRECIST's viable chord not across necrosis) against the
   old one, on rims around a necrotic core, 25 slices;
3. ``texturetrim.trimmed_radii`` against the old per-ray loop, on 72-ray fans;
4. ``raster.grey_close_by`` against ``ndimage.grey_closing`` by the same disk (surfacevalley's
   fat-plane valleys; eighteenth pass) on the same planes flattened to the liver's value.

Tried and taken back: keeping ``segment._liver_estimate`` per prompt
(``speedmemo.plane_derived``): it was asked 78 times in the six slowest prompts and never
for the same plane and levels twice.

Run: ``PYTHONPATH=$PWD:$PWD/plugins .venv/bin/python benchmarks/bench_speedprims.py``
(about half a minute; small arrays only).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import numpy as np
from scipy import ndimage

from lesion_tool.measurement import necrosis, texturetrim
from lesion_tool.measurement.necrosis import CHORD_BATCH, CHORD_TOLERANCE_MM, MAX_CHORD_POINTS
from lesion_tool.measurement.raster import disk_footprint, fill_holes, grey_close_by, open_by
from lesion_tool.measurement.segment import _outline
from lesion_tool.measurement.surfacevalley import VALLEY_DISK_MM
from lesion_tool.measurement.texturetrim import TONGUE_MIN_MM, TRIM_RADIUS_MM, TRIM_STEP_MM


def old_longest_chord_within(
    mask: np.ndarray, spacing: Sequence[float]
) -> tuple[float, int, tuple[float, float], tuple[float, float]] | None:
    """necrosis.longest_chord_within before w17-speed (every candidate sampled in full)."""
    from skimage.measure import find_contours

    sy, sx = float(spacing[1]), float(spacing[2])
    close = max(1, round(CHORD_TOLERANCE_MM / (2.0 * min(sy, sx))))
    best: tuple[float, int, tuple[float, float], tuple[float, float]] | None = None
    for z in range(mask.shape[0]):
        sl = mask[z]
        if not sl.any():
            continue
        ok = (
            ndimage.binary_closing(np.pad(sl, close + 1), iterations=close)[
                close + 1 : -close - 1, close + 1 : -close - 1
            ]
            | sl
        )
        pts = np.concatenate(find_contours(np.pad(sl, 1).astype(float), 0.5)) - 1.0
        if len(pts) > MAX_CHORD_POINTS:
            pts = pts[:: math.ceil(len(pts) / MAX_CHORD_POINTS)]
        mm = pts * [sy, sx]
        d = np.sqrt(((mm[:, None, :] - mm[None, :, :]) ** 2).sum(axis=2))
        if best is not None and d.max() <= best[0]:
            continue
        i, j = np.triu_indices(len(pts), 1)
        order = np.argsort(-d[i, j])
        i, j = i[order], j[order]
        if best is not None:
            keep = d[i, j] > best[0]
            i, j = i[keep], j[keep]
        steps = max(2, math.ceil(float(d.max()) / (0.5 * min(sy, sx))))
        t = np.linspace(0.0, 1.0, steps)[None, :, None]
        for s0 in range(0, len(i), CHORD_BATCH):
            a, b = pts[i[s0 : s0 + CHORD_BATCH]], pts[j[s0 : s0 + CHORD_BATCH]]
            seg = np.rint(a[:, None, :] + t * (b - a)[:, None, :]).astype(int)
            seg = np.clip(seg, 0, np.array(sl.shape) - 1)
            inside = ok[seg[..., 0], seg[..., 1]].all(axis=1)
            if inside.any():
                k = int(np.argmax(inside))
                length = float(d[i[s0 + k], j[s0 + k]])
                best = (
                    length,
                    z,
                    (float(a[k, 0]), float(a[k, 1])),
                    (float(b[k, 0]), float(b[k, 1])),
                )
                break
    return best


def old_trimmed_radii(
    radii: np.ndarray,
    cy: float,
    cx: float,
    mask: np.ndarray,
    spacing_yx: Sequence[float],
    radius_mm: float = TRIM_RADIUS_MM,
) -> np.ndarray | None:
    """texturetrim.trimmed_radii before w17-speed (one ray at a time)."""
    se = disk_footprint([radius_mm / s for s in spacing_yx])
    opened = open_by(mask, se)
    lab, _ = ndimage.label(opened)
    iy, ix = round(cy), round(cx)
    if not (0 <= iy < mask.shape[0] and 0 <= ix < mask.shape[1]) or lab[iy, ix] == 0:
        return None
    opened = lab == lab[iy, ix]
    n = len(radii)
    angles = np.arange(n) * (2.0 * math.pi / n)
    out = np.array(radii, dtype=float)
    steps = np.arange(0.0, float(np.max(radii)) + TRIM_STEP_MM, TRIM_STEP_MM)
    for i, a in enumerate(angles):
        r = steps[steps <= radii[i]]
        py = np.rint(cy + np.sin(a) * r / spacing_yx[0]).astype(int)
        px = np.rint(cx + np.cos(a) * r / spacing_yx[1]).astype(int)
        ok = (py >= 0) & (py < mask.shape[0]) & (px >= 0) & (px < mask.shape[1])
        inside = np.zeros(len(r), dtype=bool)
        inside[ok] = opened[py[ok], px[ok]]
        if inside.all():
            continue
        first_out = int(np.argmin(inside))
        cut = max(r[first_out] - 0.5 * TRIM_STEP_MM, 0.0)
        if radii[i] - cut >= TONGUE_MIN_MM:
            out[i] = cut
    return out


def liver_planes(rng: np.random.Generator, n: int) -> list[np.ndarray]:
    """Smoothed window planes (HU) like a delineation's: a liver (70 HU) cut by the window,
    with vessels (180 HU) and a hypo lesion inside, a fissure of fat, fat and muscle around."""
    out = []
    for _ in range(n):
        ny, nx = (int(v) for v in rng.integers(150, 260, 2))
        yy, xx = np.ogrid[:ny, :nx]
        cy, cx = rng.uniform(0.3, 0.7) * ny, rng.uniform(0.2, 0.8) * nx
        plane = np.full((ny, nx), -90.0, np.float32)
        liver = (yy - cy) ** 2 / (0.5 * ny) ** 2 + (xx - cx) ** 2 / (0.45 * nx) ** 2 <= 1.0
        plane[liver] = 70.0
        plane[(yy - 0.8 * ny) ** 2 + (xx - 0.2 * nx) ** 2 < (0.15 * ny) ** 2] = 45.0  # muscle
        for _ in range(int(rng.integers(3, 9))):
            vy, vx, vr = rng.uniform(0, ny), rng.uniform(0, nx), rng.uniform(2, 8)
            plane[((yy - vy) ** 2 + (xx - vx) ** 2 < vr * vr) & liver] = 180.0
        ly, lx, lr = cy + rng.uniform(-20, 20), cx + rng.uniform(-20, 20), rng.uniform(8, 30)
        plane[((yy - ly) ** 2 + (xx - lx) ** 2 < lr * lr) & liver] = 25.0
        plane[(np.abs(xx - cx - 0.3 * (yy - cy)) < 1.5) & (yy < cy)] = -80.0  # a fissure
        plane += rng.normal(0.0, 6.0, plane.shape).astype(np.float32)
        out.append(ndimage.gaussian_filter(plane, 1.0, mode="nearest"))
    return out


def rim_masks(rng: np.random.Generator, n: int) -> list[np.ndarray]:
    """Viable masks of necrotic lesions: an enhancing rim 3-9 pixels thick around a core,
    broken in places, on 25 slices."""
    out = []
    for _ in range(n):
        zz, yy, xx = np.ogrid[:25, :110, :110]
        radius = rng.uniform(25, 50) * np.sqrt(np.clip(1 - ((zz - 12) / 13.0) ** 2, 0.05, 1))
        r = np.sqrt((yy - 55) ** 2 + (xx - 55) ** 2)
        m = (r <= radius) & (r >= radius - rng.uniform(3, 9))
        m &= ~(ndimage.gaussian_filter(rng.normal(size=m.shape), (0, 2, 2)) > 0.5)
        out.append(m)
    return out


def fans(rng: np.random.Generator, n: int) -> list[tuple]:
    """72-ray star outlines with tongues (a texture delineation's), their masks and spacing."""
    out = []
    for _ in range(n):
        sp = (float(rng.choice([0.57, 0.7, 0.78])),) * 2
        shape = (int(rng.integers(80, 200)), int(rng.integers(80, 200)))
        cy, cx = shape[0] / 2 + rng.uniform(-5, 5), shape[1] / 2 + rng.uniform(-5, 5)
        radii = rng.uniform(8, 25) + rng.uniform(0, 30, 72) * (rng.random(72) < 0.25)
        out.append((radii, cy, cx, _outline(cy, cx, radii, sp, shape)[1], sp))
    return out


def timed(fn: Callable[[], object], repeat: int = 3) -> tuple[float, object]:
    """Best CPU time of ``repeat`` runs of ``fn`` and its result."""
    best, out = math.inf, None
    for _ in range(repeat):
        t0 = time.process_time()
        out = fn()
        best = min(best, time.process_time() - t0)
    return best, out


def same(a: object, b: object) -> bool:
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return a is not None and b is not None and np.array_equal(a, b)
    return a == b


def main() -> None:
    rng = np.random.default_rng(17)
    planes = liver_planes(rng, 40)
    like = [np.abs(p - 70.0) <= 25.0 for p in planes]
    rows = []
    t_old, a = timed(lambda: [ndimage.binary_fill_holes(m) for m in like])
    t_new, b = timed(lambda: [fill_holes(m) for m in like])
    rows.append(("fill_holes, 40 liver-like planes", t_old, t_new, same(a, b)))

    masks = rim_masks(rng, 4)
    sp3 = (1.6, 0.78, 0.78)
    t_old, a = timed(lambda: [old_longest_chord_within(m, sp3) for m in masks], 1)
    t_new, b = timed(lambda: [necrosis.longest_chord_within(m, sp3) for m in masks], 1)
    rows.append(("longest_chord_within, 4 rims x 25 slices", t_old, t_new, same(a, b)))

    fs = fans(rng, 200)
    t_old, a = timed(lambda: [old_trimmed_radii(*f) for f in fs])
    t_new, b = timed(lambda: [texturetrim.trimmed_radii(*f) for f in fs])
    rows.append(("trimmed_radii, 200 fans of 72 rays", t_old, t_new, same(a, b)))

    flat = [np.minimum(p, 70.0) for p in planes]
    se = disk_footprint([VALLEY_DISK_MM / 0.7] * 2)
    t_old, a = timed(lambda: [ndimage.grey_closing(p, footprint=se) for p in flat])
    t_new, b = timed(lambda: [grey_close_by(p, se) for p in flat])
    rows.append(("grey closing by a 3 mm disk, 40 planes", t_old, t_new, same(a, b)))

    print(f"{'operation':46s} {'old s':>8s} {'new s':>8s} {'ratio':>6s}  identical")
    for name, o, n, ok in rows:
        print(f"{name:46s} {o:8.3f} {n:8.3f} {o / max(n, 1e-9):6.1f}  {'yes' if ok else 'NO'}")
    if not all(r[3] for r in rows):
        raise SystemExit("an output differs from the old path")


if __name__ == "__main__":
    main()
