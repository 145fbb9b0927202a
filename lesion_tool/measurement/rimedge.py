"""Where an enhancing rim's outer edge lies, corrected for the smoothing it was found on.

An enhancing rim around a necrotic core is often only 2-4 mm thick, brightest next to the core
and fading to the liver's value at the tumour's border. Its rays are followed on a plane
smoothed further (``RIM_SMOOTH_MM`` in :mod:`.segment`), so that the rim is found at 25 HU of
voxel noise; but a Gaussian spreads a thin bump outwards: on that plane the half-way value
between the rim's peak and the liver lies at the foot of the blur, 1.5-3 mm past the border an
expert draws (IRCADb tumour 07 given a necrotic core on 5 mm slabs: every ray +1 to +4 mm,
26.8 mm for 20.9). Here the profiles of the plane smoothed as for every other edge
(``SMOOTH_SIGMA_MM``: partial volume, not the extra smoothing) are aligned on each ray's edge
as found and medianed over the rays: the noise falls with the number of rays while the rim keeps
its shape, and the edge is moved to where that median profile falls from the rim's peak to
:data:`EDGE_SHARE` of its contrast above the liver beyond (a blurred edge's partial-volume
point). One offset per slice: the rim's blur is the same all round, its noise is not.

Not out to a quarter of the contrast as the delineation by value places its edge
(EDGE_FRACTION in :mod:`.segment`): the tissue just beyond an enhancing rim reads a few HU above
the liver (IRCADb: +5-8 HU over 2-5 mm past the expert's border), a quarter of a faint rim's
contrast, and that margin ran into it (IRCADb 07: the edge moved in by 0.2 mm only, 26.0 mm).
"""

from __future__ import annotations

import warnings

import numpy as np

RIM_EDGE_FLAG = "the whole lesion, core and rim, is outlined by the rim's outer edge"
"""Part of the flag of a lesion outlined by its rim's outer edge (segment builds the flag from
it): :func:`lesion_tool.measurement.refine.refine_where_doubtful` leaves such an outline as it
is (the random walker's border moved out to a quarter of the rim's faint contrast went back to
the foot of the blur: IRCADb 07 given a necrotic core on 5 mm slabs, 24.8 -> 26.0 mm for 20.9;
a 24 mm phantom rim 24.9 -> 26.4 mm)."""
BRIGHT_RING_FLAG = "delineated by its enhancing rim"
"""The start of the flag of a lesion outlined by a faint enhancing ring (:mod:`.ring`, whose
edge is placed half-way on the unsmoothed plane); left as it is by the refinement too (a 24 mm
phantom with a 3.5 mm rim, 20 HU noise, 5 mm slabs: 24.1 -> 26.8 mm refined)."""
ALIGN_MM = (-6.0, 4.0)
"""The profiles are compared from this far inside to this far outside each ray's edge as found
(mm): the rim (2-6 mm thick) inside it, the liver beyond."""
LIVER_MM = (2.5, 4.0)
"""The liver's value: the median profile this far past the edge as found (beyond a blurred rim's
foot)."""
EDGE_SHARE = 0.35
"""The edge is where the median profile comes within this share of the rim's contrast of the
liver's value beyond (0.5: half-way). On IRCADb given a necrotic core the expert's border lies
at 0.18-0.43 of the rim's contrast (1 mm smoothing; tumours 02 and 07, 1.6 and 5 mm slices):
half-way put 02 inside it (24.7 mm for 27.8 from its deepest point on 5 mm slabs), 0.25 left
07 at the foot (26.0 mm for 20.9); 0.35 gives 25.5 and 23.6 (26.9 and 23.6 on seed 1)."""
MAX_SHIFT_MM = 4.0
"""The edge moves inwards by at most this (two extra smoothing sigmas), never outwards."""
MIN_RAYS = 9
"""Fewer rays with an edge than this: no correction (the median would carry the noise)."""


def rim_edge_shift(
    fine: np.ndarray, edge_j: np.ndarray, step_mm: float, min_contrast_hu: float
) -> float:
    """How far (mm, <= 0) to move the rays' edges found on a more smoothed plane so that they
    lie at the rim's partial-volume edge on ``fine``: where the median of the profiles aligned
    on those edges falls from its peak (the rim) to EDGE_SHARE of the way to its value LIVER_MM
    beyond.

    ``fine`` holds ``(ray, sample)`` profiles of the less smoothed plane every ``step_mm`` along
    the rays whose edge was found, ``edge_j`` each ray's edge sample. 0 when the median profile
    shows no rim at least ``min_contrast_hu`` above the liver beyond it, or too few rays."""
    if len(edge_j) < MIN_RAYS:
        return 0.0
    d = np.arange(round(ALIGN_MM[0] / step_mm), round(ALIGN_MM[1] / step_mm) + 1)
    cols = edge_j[:, None] + d[None, :]
    inside = (cols >= 0) & (cols < fine.shape[1])
    at = np.take_along_axis(fine, np.clip(cols, 0, fine.shape[1] - 1), 1)
    vals = np.where(inside, at, np.nan)
    if not inside.all(axis=0).any():
        return 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a column with no ray inside: NaN
        med = np.nanmedian(vals, axis=0)
        dm = d * step_mm
        liver = float(np.nanmedian(med[(dm >= LIVER_MM[0]) & (dm <= LIVER_MM[1])]))
    before = dm <= 0.0
    k_peak = int(np.nanargmax(np.where(before, med, -np.inf)))
    peak = float(med[k_peak])
    contrast = peak - liver
    if not np.isfinite(contrast) or contrast < min_contrast_hu:
        return 0.0
    k_edge = _crossing(med, k_peak, liver + EDGE_SHARE * contrast)
    if k_edge is None:
        return 0.0
    shift = float(np.interp(k_edge, np.arange(len(dm)), dm))
    return float(min(0.0, max(-MAX_SHIFT_MM, shift)))


def _crossing(med: np.ndarray, k0: int, level: float) -> float | None:
    """The fractional sample index, past ``k0``, where ``med`` first falls below ``level``."""
    below = np.flatnonzero(med[k0:] < level)
    if not below.size:
        return None
    k = k0 + int(below[0])
    if k == k0:
        return float(k)
    a, b = float(med[k - 1]), float(med[k])
    return k - 1 + (a - level) / (a - b) if a != b else float(k)
