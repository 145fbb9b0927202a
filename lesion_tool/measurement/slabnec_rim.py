"""An enhancing rim's outer edge on a thick slab: how far the rim reaches on average through the
slab (issue 11).

:func:`lesion_tool.measurement.ring._thin_rim_edge` puts a faint enhancing ring's edge half-way
from the rim's top back to the tissue 2-5 mm beyond it, on unsmoothed profiles aligned along the
rim and medianed over the rays. On thin slices that is the rim's edge (IRCADb 04's faint ring:
within 1 mm of the expert).

A slab of thickness T is the mean of the thin slices it spans. Where a lesion's wall is inclined
to the slab (everywhere but at its equator) its in-plane border moves across the slab, and past
the point where the rim fills the whole slab there is a shoulder, up to T * tan(inclination)
wide, where the slab holds rim over part of its thickness and liver over the rest. The profile
there reads the liver plus the share of the slab the rim fills times the rim's height; that
share falls from 1 to 0 across the shoulder, and its integral along the ray is how far the rim
reaches on average through the slab: about where half of the slab is lesion, the border a
reader (and the slab-resampled expert mask) draws. The half-way point on the other hand lies
where the profile falls fastest, at the start of the shoulder, and the tissue 2-5 mm beyond the
rim that it is measured against is still the shoulder. IRCADb 03 given a necrotic core on 5 mm
slabs with 25 HU noise (a 4-6 mm rim falling 158 -> 130 HU over its last 2.5 mm, then +7-13 HU
for 3-4 mm, the liver 120 HU beyond) was outlined 1.5-3 mm inside the expert's border on every
ray, 18.5-19.5 mm for 23.2 on clicks and lines of two seeds.

So on slabs >= :data:`lesion_tool.measurement.ring.THICK_SLAB_MM` (the caller's test) the edge
is the rim's top plus the sum, sample by sample, of the profile's height above the tissue beyond
the shoulder over the rim's height (each sample's share clipped to +-1, not to 0, so that noise
does not bias it outwards). The tissue beyond is read past the shoulder: RIM_TOP_MM plus a slab
past the rim's top. On a thin sharp rim the sum equals the half-way point (its noise-free
phantom: the same edge to 0.05 mm). The sum carries the noise of every sample it adds, so it
replaces the half-way edge only where the two differ by SHOULDER_Z of its standard errors (a
shoulder told apart from the noise: not on a faint 16 HU rim in 28 HU of noise, whose clicks keep
their edges), and by at most half a slab.
"""

from __future__ import annotations

import numpy as np

from lesion_tool.measurement.enhancement import robust_sd
from lesion_tool.measurement.rimedge import aligned_median

RIM_TOP_MM = 2.0
"""How far inside the point where the rim fills the whole slab its top (the path) may lie: half
a thick necrotic rim (4 mm). The shoulder ends at most a slab beyond that point (a wall at 45
degrees), where the tissue beyond is read."""
BEYOND_MM = 3.0
"""How much of the tissue beyond the shoulder is read (its median over the samples there)."""
TOP_SEARCH_MM = 1.0
"""How far from the path the rim's top is sought on the median profile (as the thin rule)."""
SHOULDER_Z = 2.0
"""The mean reach replaces the half-way edge only when they differ by this many of the sum's
standard errors: a shoulder told apart from the noise (a faint thin rim in 28 HU of noise moved
by -2.4 to +1.1 mm without it)."""
MEDIAN_SE = 1.2533
"""A median's standard error over a mean's (normal noise)."""
MIN_RAYS = 5
"""Fewer rays than this give no median profile to trust (the thin rule's RADII_WINDOW)."""


def slab_rim_edge(
    prof: np.ndarray,
    path: np.ndarray,
    step_mm: float,
    slab_mm: float,
    thin_mm: float | None,
) -> float | None:
    """How far (mm) beyond the path a bright rim's border lies on a thick slab (see the module's
    docstring), or None (no thin-rule edge ``thin_mm`` to start from, too few rays, no rim top
    above the tissue beyond).

    ``prof``: signed profiles (rays x samples, ``step_mm`` apart; the rim is the low side, as
    in :func:`lesion_tool.measurement.ring.find_ring`) on the unsmoothed plane; ``path``: each
    ray's rim sample; ``slab_mm``: the slab's thickness. The result lies within half a slab of
    ``thin_mm``."""
    if thin_mm is None or len(path) < MIN_RAYS:
        return None
    far_mm = RIM_TOP_MM + slab_mm
    d, med = aligned_median(prof, path, 2.0, far_mm + BEYOND_MM, step_mm)
    seen = ~np.isnan(med)
    near = (np.abs(d) <= round(TOP_SEARCH_MM / step_mm)) & seen
    far = (d >= round(far_mm / step_mm)) & seen
    if not near.any() or far.sum() < 3:
        return None
    # The rim's top read over three samples: the lowest single one of several is the noise's.
    top = np.convolve(np.where(seen, med, np.nan), np.ones(3) / 3.0, "same")
    near &= ~np.isnan(top)
    if not near.any():
        return None
    k_top = int(np.flatnonzero(near)[np.argmin(top[near])])
    beyond = float(np.median(med[far]))
    height = beyond - float(top[k_top])
    if not height > 0:
        return None
    # The share of the slab the rim fills, sample by sample from its top to the tissue beyond.
    span = (d >= d[k_top]) & (d < round(far_mm / step_mm))
    fill = np.clip((beyond - np.where(seen[span], med[span], beyond)) / height, -1.0, 1.0)
    edge = (float(d[k_top]) + float(fill.sum()) - 0.5) * step_mm
    # The sum's own noise: each sample's median over the rays (its spread across them in the
    # tissue beyond), and the tissue beyond's median, which every sample is read against.
    cols = path[:, None] + d[far][None, :]
    vals = np.take_along_axis(prof, np.clip(cols, 0, prof.shape[1] - 1), 1)
    resid = (vals - med[far][None, :])[cols < prof.shape[1]]
    se = MEDIAN_SE * robust_sd(resid) / np.sqrt(len(path))
    n = int(span.sum())
    edge_se = step_mm * se / height * np.sqrt(n + n**2 * MEDIAN_SE**2 / int(far.sum()))
    if not abs(edge - thin_mm) > SHOULDER_Z * edge_se:
        return thin_mm  # no shoulder told apart from the noise: the half-way edge stands
    return float(np.clip(edge, thin_mm - slab_mm / 2.0, thin_mm + slab_mm / 2.0))
