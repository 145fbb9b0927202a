"""Where a thin enhancing rim ends, placed on profiles aligned along the rim (issue 11).

A necrotic lesion's rim on a thick noisy slab is found on a plane smoothed well beyond its own
width (:func:`lesion_tool.measurement.segment._rim_cut`: the window's smoothing and
RIM_SMOOTH_MM more). Smoothing spreads a thin bright rim outwards, so its half-way point back to
the liver lies 1.5-4 mm beyond the rim's real outer edge on every ray (IRCADb 07 given a necrotic
core on 5 mm slabs, 25 HU noise, seed 3: radii 9-12 mm where the expert's border is at 7-11 mm,
24.9 mm measured for 20.9). Aligning the less-smoothed profiles on each ray's rim peak and taking
their median over the rays keeps the edge sharp while the noise drops with the number of rays
(as :func:`lesion_tool.measurement.ring._thin_rim_edge` does for a faint ring); the edge is then
half-way from the rim's top to the tissue beyond it on that median profile.
"""

from __future__ import annotations

import numpy as np

from lesion_tool.measurement.raster import nanmedian_axis

ALIGN_BEFORE_MM = 2.0
"""How far inside each ray's rim peak the aligned profiles start."""
BEYOND_MM = (2.0, 5.0)
"""Where, past the rim's top on the median profile, the tissue beyond it (the liver) is read."""
PEAK_SEARCH_MM = 1.0
"""How far from the smoothed peak the rim's top is sought on the median profile."""
MIN_RAYS = 8
"""Fewer rays than this with a rim give no median profile to trust."""


def aligned_median(
    prof: np.ndarray, path: np.ndarray, before_mm: float, after_mm: float, step_mm: float
) -> tuple[np.ndarray, np.ndarray]:
    """Profiles (rays x samples, ``step_mm`` apart) lined up on each ray's sample ``path`` and
    medianed over the rays, from ``before_mm`` inside it to ``after_mm`` beyond: the offsets (in
    samples) and the median profile, NaN where no ray reaches. Averaging along a thin rim
    instead of across it keeps its edge sharp while the noise drops with the number of rays
    (used here and by :func:`lesion_tool.measurement.ring._thin_rim_edge`)."""
    d = np.arange(-round(before_mm / step_mm), round(after_mm / step_mm) + 1)
    cols = path[:, None] + d[None, :]
    ok = (cols >= 0) & (cols < prof.shape[1])
    vals = np.where(ok, np.take_along_axis(prof, np.clip(cols, 0, prof.shape[1] - 1), 1), np.nan)
    med = np.full(d.size, np.nan)
    seen = ok.any(axis=0)  # columns past the profiles' ends on every ray stay NaN
    med[seen] = nanmedian_axis(vals[:, seen], 0)
    return d, med


def rim_edge_offset(prof: np.ndarray, peak: np.ndarray, step_mm: float) -> float | None:
    """How far (mm) beyond each ray's rim peak the rim's outer edge lies.

    ``prof``: HU profiles (rays x samples, ``step_mm`` apart) on a plane smoothed less than the
    one the peaks were found on; ``peak``: each ray's peak index on that smoothed plane. The
    profiles are aligned on their peaks and medianed over the rays; the rim's top is the highest
    value within PEAK_SEARCH_MM of the peak, the tissue beyond it the median of BEYOND_MM past
    the peak, and the edge is where the median profile falls below half-way between the two
    (linearly interpolated). None when fewer than MIN_RAYS rays are given or the median profile
    does not fall back (no thin rim to place an edge on)."""
    if len(peak) < MIN_RAYS:
        return None
    d, med = aligned_median(prof, peak, ALIGN_BEFORE_MM, BEYOND_MM[1], step_mm)
    seen = ~np.isnan(med)
    near = (np.abs(d) <= round(PEAK_SEARCH_MM / step_mm)) & seen
    far = (d >= round(BEYOND_MM[0] / step_mm)) & seen
    if not near.any() or not far.any():
        return None
    k_top = int(np.flatnonzero(near)[np.argmax(med[near])])
    beyond = float(np.median(med[far]))
    if not med[k_top] > beyond:
        return None
    half = (med[k_top] + beyond) / 2.0
    fall = np.flatnonzero(np.nan_to_num(med[k_top:], nan=-np.inf) < half)
    if not fall.size:
        return None
    k = k_top + int(fall[0])
    above = med[k - 1]
    if np.isnan(med[k]):
        return (float(d[k]) - 1.0) * step_mm
    frac = 0.0 if above == med[k] else float((above - half) / (above - med[k]))
    return (float(d[k]) - 1.0 + frac) * step_mm
