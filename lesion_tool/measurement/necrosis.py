"""A necrotic core inside an enhancing rim, and the viable rim's diameter (mRECIST).

After TACE an HCC often shows a hypo-attenuating (necrotic, non-enhancing) core inside a rim of
enhancing tumour. A click in the core, delineated by value, finds the core alone: a dark region
as large as the necrosis, not the lesion. Here the tissue just outside such a region is looked
at all around it: when most directions meet tissue brighter than the liver within a rim's width,
the region is the core of a larger lesion, and the rim's value is what the whole lesion is
delineated by (core and rim together: the whole-lesion diameter). On an arterial image the rim
is the viable part; mRECIST measures its longest diameter "not across major areas of necrosis"
(``../shared/spec/response-rules.md``): :func:`longest_chord_within` gives the longest axial
chord that stays in the viable tissue.

Arrays are ``(y, x)`` planes or ``(z, y, x)`` boxes; lengths in millimetres, values in HU.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

RIM_SEARCH_MM = 6.0  # RIM_BINS x RIM_BIN_MM
"""The rim is looked for in a band of this width just outside the dark region (an enhancing rim
around necrosis is 2-10 mm thick; a sharp seam between them is blurred over about 2 mm)."""
RIM_SECTORS = 36
"""Directions (10 degrees each) around the region's centre in which the band is judged."""
RIM_BIN_MM = 1.0
RIM_BINS = 6
RIM_WIDTH_BINS = 2
"""A direction has rim when the median of its band over some RIM_WIDTH_BINS x RIM_BIN_MM of
distance from the region is enhancing: a rim 2 mm thick or more, anywhere within the band, and
judged over several pixels, so that the noise of the smoothed liver (7-15 HU) does not light a
direction by itself."""
RIM_ENCLOSE_SHARE = 0.5
"""The region is the core of a larger lesion when at least this share of the directions meet
rim: an enhancing rim closes around its core (a vessel or an enhancing neighbour runs along one
side)."""
RIM_MAX_GROWTH = 1.75
"""On a portal-venous, delayed or unenhanced image a hypo-attenuating lesion is the usual
finding and an enhancing rim around a necrotic core the unusual one; there a rim still bright
is thin, the core most of the lesion. A brighter neighbour (vessels, or a vessel's partial
volume in a thick slab) along part of a plain hypo-attenuating tumour looks like a partial rim,
and the 'whole' grown from its value takes in the liver around. Off the arterial phase the whole
from a rim is therefore kept only when its diameter is at most this many times the core's (a rim
thinner than three quarters of the core's radius): a phantom's 21 mm core in a 3.5 mm rim gives
a whole of 32.0 mm (1.52 times; truth 28); IRCADb's tumour 05 in 5 mm slabs, portal venous, its
whole (27-30 mm for 31.8) read as a core in a 'rim' around 56-61% of it, 54-69 mm (2.0-2.3)."""
RIM_PARTIAL_SHARE = 0.4
"""With rim in this share of the directions or more, but less than RIM_ENCLOSE_SHARE, the region
may still be a core (a rim broken by the liver's surface or a vessel): it is flagged."""
RIM_MIN_ENHANCEMENT_HU = 15.0
"""Rim tissue is at least this, or RIM_NOISE_K noise SDs of the smoothed liver, above the
liver's value (the low-contrast limit of the delineation). The percentile of a direction's band
averages several independent pixels, hence fewer noise SDs than for one pixel."""
RIM_NOISE_K = 1.5
RIM_BEYOND_MM = (8.0, 16.0)
"""Where the liver's value is in doubt (the rim judged against the commonest value around, lower
than the tissue just outside the region: a thick rim fills that shell, or the lesion lies in a
brighter part of the liver), a direction's rim must also stand out, by the same margin, from the
soft tissue this far out of the region in that direction, which must itself read as the liver
(the commonest value, within the margin): an enhancing rim is a band with liver beyond it, while
a brighter part of the liver (a graded halo rising to it, IRCADb tumour 05) reads the same value
out there, and at the liver's surface fat's partial volume lies beyond."""
SOFT_TISSUE_HU = 0.0
"""Beyond the rim only tissue at or above this value (smoothed HU) is compared: fat and air
(the liver's surface) say nothing about the liver's value."""
CHORD_TOLERANCE_MM = 1.0
"""A viable chord may cross gaps in the viable mask this short (a pixel's partial volume, a
seam); a longer gap is necrosis or liver, which mRECIST's viable diameter does not cross."""
MAX_CHORD_POINTS = 160
"""Outline points per slice among which the longest viable chord is sought (every other one
beyond: the chord's ends move by under a pixel)."""
CHORD_BATCH = 512
"""Candidate chords checked at once, longest first."""
CHORD_COARSE = 8
"""A batch's chords are first sampled at every this-many-th of their samples (about 4 pixels
apart): most candidates of a rim around necrosis leave it there, and only the rest are sampled
in full (w17-speed; the same chord is found, the same samples decide)."""


@dataclass(frozen=True)
class EnhancingRim:
    """Tissue brighter than the liver around a dark region on one slice.

    Attributes
    ----------
    share
        Share (0-1) of the directions around the region in which its band meets the rim.
    rim_hu
        The rim's value: median over the directions with rim of their bump (smoothed HU).
    liver_hu
        The liver's value it was compared with.
    """

    share: float
    rim_hu: float
    liver_hu: float


def rim_margin_hu(noise_sd_hu: float) -> float:
    """How far above the liver's value rim tissue reads at least (HU): RIM_MIN_ENHANCEMENT_HU or
    RIM_NOISE_K smoothed noise SDs of the liver, whichever is larger."""
    return max(RIM_MIN_ENHANCEMENT_HU, RIM_NOISE_K * noise_sd_hu)


def enhancing_rim(
    plane: np.ndarray,
    region: np.ndarray,
    liver_hu: float,
    noise_sd_hu: float,
    spacing_yx: Sequence[float],
    beyond_mm: tuple[float, float] | None = None,
) -> EnhancingRim | None:
    """The enhancing rim around ``region`` (a boolean ``(y, x)`` mask of a dark region on the
    smoothed ``plane``, HU), judged in RIM_SECTORS directions within RIM_SEARCH_MM of its edge;
    None when no direction meets enhancing tissue. With ``beyond_mm`` (see RIM_BEYOND_MM), a
    direction has rim only when the soft tissue that far out is liver at ``liver_hu`` and the
    rim stands out from it (a direction with none there has no rim)."""
    if not region.any():
        return None
    dist = ndimage.distance_transform_edt(~region, sampling=spacing_yx)
    far = (dist > beyond_mm[0]) & (dist <= beyond_mm[1]) if beyond_mm else None
    band = (dist > 0) & (dist <= RIM_SEARCH_MM)
    if not band.any():
        return None
    yy, xx = np.nonzero(region)
    cy, cx = float(yy.mean()), float(xx.mean())
    by, bx = np.nonzero(band)
    ang = np.arctan2((by - cy) * spacing_yx[0], (bx - cx) * spacing_yx[1])
    sector = ((ang + math.pi) / (2.0 * math.pi) * RIM_SECTORS).astype(int) % RIM_SECTORS
    vals = plane[by, bx]
    ring = np.minimum((dist[by, bx] / RIM_BIN_MM).astype(int), RIM_BINS - 1)
    margin = rim_margin_hu(noise_sd_hu)
    level = liver_hu + margin
    beyond = _beyond_by_sector(plane, far, cy, cx, spacing_yx) if far is not None else None
    counted = 0
    bumps: list[float] = []
    # The rim is a bump of the sector's radial profile (medians over RIM_BIN_MM rings,
    # RIM_WIDTH_BINS at a time): wherever it lies in the band, however thin it is.
    tops = _sector_tops(sector, ring, vals)
    for k in range(RIM_SECTORS):
        if not np.isfinite(tops[k]) and not (sector == k).any():
            continue
        counted += 1
        top = float(tops[k])
        if top >= level and (beyond is None or _liver_beyond(top, beyond[k], liver_hu, margin)):
            bumps.append(top)
    if not bumps:
        return None
    share = len(bumps) / max(counted, 1)
    return EnhancingRim(share, float(np.median(bumps)), float(liver_hu))


def _sector_tops(sector: np.ndarray, ring: np.ndarray, vals: np.ndarray) -> np.ndarray:
    """Per direction (RIM_SECTORS), the highest median of ``vals`` over RIM_WIDTH_BINS
    consecutive rings (``ring``: each value's ring, ``sector``: its direction); -inf where no
    window holds a value. The same numbers as ``np.median`` of each window's values (the middle
    value, or the two middle ones' sum halved in ``vals``' dtype), from one sort by direction
    and value instead of a median per direction and window."""
    tops = np.full(RIM_SECTORS, -math.inf)
    if vals.size == 0:
        return tops
    order = np.lexsort((vals, sector))
    sv, ss, sr = vals[order], sector[order], ring[order]
    starts = np.searchsorted(ss, np.arange(RIM_SECTORS), side="left")
    ends = np.searchsorted(ss, np.arange(RIM_SECTORS), side="right")
    for j in range(RIM_BINS - RIM_WIDTH_BINS + 1):
        inw = (sr >= j) & (sr < j + RIM_WIDTH_BINS)
        c = np.concatenate([[0], np.cumsum(inw)])  # c[i]: values in the window before i
        base, n = c[starts], c[ends] - c[starts]
        has = n > 0
        # The t-th (0-based) value in the window of a direction is the first index i with
        # c[i + 1] == base + t + 1.
        lo = np.searchsorted(c, base + (n - 1) // 2 + 1, side="left") - 1
        hi = np.searchsorted(c, base + n // 2 + 1, side="left") - 1
        lo, hi = np.where(has, lo, 0), np.where(has, hi, 0)
        med = np.true_divide(sv[lo] + sv[hi], 2, dtype=sv.dtype)
        tops = np.where(has, np.maximum(tops, med.astype(np.float64)), tops)
    return tops


def _liver_beyond(top_hu: float, beyond_hu: float, liver_hu: float, margin_hu: float) -> bool:
    """Whether the tissue beyond a direction's rim is liver at ``liver_hu`` (within the margin)
    and the rim (``top_hu``) stands out from it by the margin: a band of enhancing tissue, not
    the liver's own value nor its edge at the surface (fat's partial volume beyond)."""
    return abs(beyond_hu - liver_hu) <= margin_hu and top_hu >= beyond_hu + margin_hu


def _beyond_by_sector(
    plane: np.ndarray, far: np.ndarray, cy: float, cx: float, spacing_yx: Sequence[float]
) -> np.ndarray:
    """Per direction around ``(cy, cx)`` (RIM_SECTORS), the median of the soft tissue (at or
    above SOFT_TISSUE_HU) of ``plane`` under the mask ``far``; +inf where there is none."""
    fy, fx = np.nonzero(far)
    vals = plane[fy, fx]
    ang = np.arctan2((fy - cy) * spacing_yx[0], (fx - cx) * spacing_yx[1])
    sector = ((ang + math.pi) / (2.0 * math.pi) * RIM_SECTORS).astype(int) % RIM_SECTORS
    out = np.full(RIM_SECTORS, np.inf)
    soft = vals >= SOFT_TISSUE_HU
    for k in range(RIM_SECTORS):
        v = vals[soft & (sector == k)]
        if v.size:
            out[k] = float(np.median(v))
    return out


def _chord_inside(
    ok: np.ndarray, a: np.ndarray, b: np.ndarray, t: np.ndarray, top: np.ndarray
) -> np.ndarray:
    """Whether each chord from ``a[k]`` to ``b[k]`` (pixel coordinates) has its samples at the
    fractions ``t`` (shape ``(1, n, 1)``), rounded to pixels, all in ``ok``."""
    seg = np.rint(a[:, None, :] + t * (b - a)[:, None, :]).astype(int)
    seg = np.clip(seg, 0, top)
    return ok[seg[..., 0], seg[..., 1]].all(axis=1)


def longest_chord_within(
    mask: np.ndarray, spacing: Sequence[float]
) -> tuple[float, int, tuple[float, float], tuple[float, float]] | None:
    """The longest axial chord of ``mask`` (boolean ``(z, y, x)``) whose segment stays inside it
    (gaps up to CHORD_TOLERANCE_MM crossed): mRECIST's viable diameter "not across major areas
    of necrosis". Returns ``(length_mm, z, (y0, x0), (y1, x1))`` with the ends in pixel
    coordinates of the box (pixel centres of the outline), or None for an empty mask.

    The spec is silent on a viable part in several pieces (a rim cut into arcs by necrosis): as
    RECIST 1.1 measures a lesion by one longest diameter, the longest chord within any one piece
    is taken; the caller gives the chord across the necrosis in a flag."""
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
        top = np.array(sl.shape) - 1
        for s0 in range(0, len(i), CHORD_BATCH):
            a, b = pts[i[s0 : s0 + CHORD_BATCH]], pts[j[s0 : s0 + CHORD_BATCH]]
            # Every CHORD_COARSE-th sample first: a chord leaving the mask there is not inside,
            # and only the others are sampled in full (the same samples, the same test).
            maybe = _chord_inside(ok, a, b, t[:, ::CHORD_COARSE], top)
            if not maybe.any():
                continue
            idx = np.flatnonzero(maybe)
            inside = np.zeros(len(a), dtype=bool)
            inside[idx] = _chord_inside(ok, a[idx], b[idx], t, top)
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
