"""A lesion's own pointed end is kept from the trim past a rough line (issue 11, w19-taper05).

An outline found from a rough line is opened by a disk (``texturetrim.trimmed_radii``, radius
TRIM_RADIUS_MM, or RIM_TRIM_RADIUS_MM for a necrotic lesion's whole) past the line's reach
(``linebound``): a strand narrower than the disk running on past the line's ends is a vessel's
fringe or a leak. A convex body is unchanged by an opening, but a lesion's own pointed end is
not convex at the disk's scale: the opening shaves a wedge of half-angle ``a`` by
``rho (1 / sin a - 1)`` at its point. IRCADb tumour 05 (32.5 mm, an ovoid whose narrow end points
towards the vena cava, 18 mm from its centre) lost 1-2.5 mm at each end so, and a line drawn 10-20 %
short (its disk of half the line's length stops short of the ends) measured 28.9-29.0 mm on 2.5 mm
slabs and noisy images (on 2.5 mm 32.0 mm untrimmed; seed 3 of benchmarks/bench_stress.py).

What the trim exists for is a strand along a vessel (IRCADb 07 given a necrotic core: a spike
one ray wide along a 145-148 HU vessel past the line, ``tests/core/test_measure_rimpeak.py``).
A piece the opening cut off is the lesion's own taper, and is given back, only when all of:

- it is short: cut by at most TAPER_MAX_MM (the opening's radius): a wedge no sharper than 60 deg
  loses at most ``rho`` to the opening; a strand runs on further;
- its base is wide: its rays span at least TAPER_BASE_MM where the trim cut them (a vessel's
  partial-volume fringe is a spike about one point-spread wide, 1-1.5 mm; a pointed end is a
  wedge whose base is as wide as the rays' spacing allows at least twice);
- it narrows to one point: the cut lengths across its rays rise to one peak and fall (a wedge;
  two spikes side by side are not one taper);
- its value is the lesion's, not past it: its mean lies on the liver's side of the lesion's own
  value (a contrast-filled vessel is brighter than an enhancing lesion, a dark leak into fat or
  a gut loop darker than a hypo-attenuating one);
- it ends in the liver: within RUN_ON_MM past its point, tissue on the lesion's side of the
  threshold and connected to the point covers less than RUN_ON_SHARE of the disk there (a vessel
  as wide as the base carrying on fills more; the lesion's point is followed by parenchyma).

Rays never move out past their radius before the trim; the outline on other rays is unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from lesion_tool.measurement.texturetrim import TONGUE_MIN_MM, TRIM_RADIUS_MM

ENABLED = True
"""Whether a short wedge cut off by the trim past a rough line is given back (A/B switch)."""
TAPER_MAX_MM = TRIM_RADIUS_MM
"""A taper is cut by at most this much: an opening by a disk of radius ``rho`` shaves
``rho (1 / sin a - 1)`` off a wedge of half-angle ``a``, at most ``rho`` for ``a >= 30 deg``."""
TAPER_BASE_MM = 2.0
"""A taper's rays span at least this much where they were cut: wider than a vessel's
partial-volume fringe (one point-spread, 1-1.5 mm) and than one ray at the radii of lesions a
line is drawn across (5 deg at 10-20 mm is 0.9-1.7 mm)."""
RUN_ON_MM = 3.0
"""How far past a taper's point the tissue is read for a vessel carrying on."""
RUN_ON_SHARE = 0.2
"""A vessel TAPER_BASE_MM wide carrying on RUN_ON_MM past the point fills 6 mm^2, 21 % of the
disk of RUN_ON_MM there; a lesion's point followed by liver leaves that disk near empty."""


def _runs(cut: np.ndarray) -> list[np.ndarray]:
    """Circular runs of True in ``cut`` (ray indices, in order round the circle)."""
    n = len(cut)
    if cut.all():
        return [np.arange(n)]
    if not cut.any():
        return []
    start = int(np.argmin(cut))  # a False: no run wraps past it
    out, cur = [], []
    for i in (np.arange(n) + start) % n:
        if cut[i]:
            cur.append(int(i))
        elif cur:
            out.append(np.array(cur))
            cur = []
    if cur:
        out.append(np.array(cur))
    return out


def _unimodal(v: np.ndarray) -> bool:
    """Whether ``v`` rises (non-strictly) to one peak and then falls."""
    k = int(np.argmax(v))
    return bool(np.all(np.diff(v[: k + 1]) >= 0) and np.all(np.diff(v[k:]) <= 0))


def keep_taper(
    radii: np.ndarray,
    trimmed: np.ndarray,
    cy: float,
    cx: float,
    mask: np.ndarray,
    plane: np.ndarray,
    spacing_yx: Sequence[float],
    threshold_hu: float,
    lesion_hu: float,
    liver_hu: float,
) -> np.ndarray:
    """``trimmed`` (ray radii, mm, from ``(cy, cx)`` after the trim of ``radii``, whose outline's
    ``mask`` lies on ``plane``, smoothed HU) with each run of cut rays that is the lesion's own
    pointed end (see the module's docstring) restored to its radii before the trim."""
    radii = np.asarray(radii, dtype=float)
    out = np.asarray(trimmed, dtype=float).copy()
    if not ENABLED:
        return out
    sy, sx = float(spacing_yx[0]), float(spacing_yx[1])
    sign = -1.0 if lesion_hu < liver_hu else 1.0
    n = len(radii)
    step = 2.0 * math.pi / n
    cutlen = radii - out
    for run in _runs(cutlen >= TONGUE_MIN_MM):
        why = None  # why the piece is not a taper (None: it is)
        seg = cutlen[run]
        if seg.max() > TAPER_MAX_MM:
            why = "long"
        elif len(run) * step * float(out[run].mean()) < TAPER_BASE_MM:
            why = "narrow"
        elif not _unimodal(seg):
            why = "not one point"
        else:
            vals = []
            for i in run:
                d = np.arange(out[i], radii[i], 0.25)
                py = np.rint(cy + math.sin(i * step) * d / sy).astype(int)
                px = np.rint(cx + math.cos(i * step) * d / sx).astype(int)
                ok = (py >= 0) & (py < plane.shape[0]) & (px >= 0) & (px < plane.shape[1])
                vals.extend(plane[py[ok], px[ok]].tolist())
            if not vals or sign * (float(np.mean(vals)) - lesion_hu) > 0:
                why = "past the lesion's value"
            else:
                tip = int(run[int(np.argmax(seg))])
                ty = cy + math.sin(tip * step) * radii[tip] / sy
                tx = cx + math.cos(tip * step) * radii[tip] / sx
                r = RUN_ON_MM
                y0, y1 = max(int(ty - r / sy) - 1, 0), min(int(ty + r / sy) + 2, plane.shape[0])
                x0, x1 = max(int(tx - r / sx) - 1, 0), min(int(tx + r / sx) + 2, plane.shape[1])
                yy, xx = np.mgrid[y0:y1, x0:x1]
                near = np.hypot((yy - ty) * sy, (xx - tx) * sx) <= r
                m = mask[y0:y1, x0:x1]
                side = sign * (plane[y0:y1, x0:x1] - threshold_hu) > 0
                lab, _ = ndimage.label(near & (side | m))
                ids = np.unique(lab[near & m])
                beyond = np.isin(lab, ids[ids > 0]) & ~m
                share = float(beyond.sum()) / max(float(near.sum()), 1.0)
                if share >= RUN_ON_SHARE:
                    why = f"runs on ({share:.2f})"
        if why is None:
            out[run] = radii[run]
    return out
