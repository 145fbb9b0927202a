"""An enhancing rim's outer edge on a thick slab: where half the slab still holds the rim (issue 11).

:func:`lesion_tool.measurement.ring._thin_rim_edge` puts a faint enhancing ring's edge half-way
from the rim's top back to the tissue 2-5 mm beyond it, on unsmoothed profiles aligned along the
rim. On thin slices that is the rim's edge (IRCADb 04's faint ring: within 1 mm of the expert).

On a slab of thickness T the image is the mean of the thin slices it spans. Where a lesion's
wall is inclined to the slab (everywhere but its equator), its in-plane border moves across the
slab, and the slab's value falls from the rim's top to the liver over a band of about
T * tan(inclination) in-plane: past the point where the rim fills the whole slab there is a
shoulder where part of the slab is rim and part liver. The lesion's border on a slab is where
half of the slab is lesion (how a reader, and the slab-resampled expert mask, draws it); there
the slab reads half of the contrast the lesion's own edge has on thin slices, itself about
half-way from the rim's top to the liver: a quarter of the way from the liver to the rim's top
(SLAB_EDGE_SHARE). The shoulder also lifts the tissue 2-5 mm beyond the rim above the liver,
so the half-way point to it falls short twice: IRCADb 03 given a necrotic core on 5 mm slabs
with 25 HU noise (a 4-6 mm thick rim falling 158 -> 130 HU over the last 2.5 mm, 2-5 mm beyond
it 127-129 HU, the liver 120 HU further out) was outlined 2-3 mm inside the expert's border on
every ray, 18.5-19.5 mm for 23.2 on three seeds' clicks and lines.

On slabs >= :data:`lesion_tool.measurement.ring.THICK_SLAB_MM` (the caller's test) the edge is therefore where the aligned median profile falls to
SLAB_EDGE_SHARE of the rim's height above the liver (the value the ring was sought against,
read over the whole neighbourhood, not the shoulder), kept only beyond the half-way edge and by
at most half a slab further out (the shoulder of a wall inclined at 45 degrees).
"""

from __future__ import annotations

import numpy as np

from lesion_tool.measurement.rimedge import aligned_median

SLAB_EDGE_SHARE = 0.25
"""On a thick slab the lesion's border reads this share of the rim's height above the liver:
half the slab is lesion there, at the half-height its own edge has on thin slices."""
REACH_MM = 8.0
"""How far past the rim's top the fall to the border is followed on the median profile."""
RUN_SAMPLES = 2
"""The median profile must stay past the border's level for this many samples (1 mm at the
ring's 0.5 mm step): one noisy sample is not the edge."""


def slab_rim_edge(
    prof: np.ndarray,
    path: np.ndarray,
    liver_s: float,
    step_mm: float,
    slab_mm: float,
    thin_mm: float | None,
) -> float | None:
    """How far (mm) beyond the path a bright rim's border lies on a thick slab, or None (no rim
    top, no fall to the border's level within REACH_MM, or not beyond the thin
    rim's edge ``thin_mm``).

    ``prof``: signed profiles (rays x samples, ``step_mm`` apart; the rim is the low side, as
    in :func:`lesion_tool.measurement.ring.find_ring`) on the unsmoothed plane; ``path``: each
    ray's rim sample; ``liver_s``: the liver's value, signed alike; ``slab_mm``: the slab's
    thickness (the caller applies this on thick slabs only). The result is at most
    ``thin_mm + slab_mm / 2``."""
    if thin_mm is None or len(path) < 5:
        return None
    d, med = aligned_median(prof, path, 2.0, REACH_MM, step_mm)
    near = (np.abs(d) <= round(1.0 / step_mm)) & ~np.isnan(med)
    if not near.any():
        return None
    k_rim = int(np.flatnonzero(near)[np.nanargmin(med[near])])
    height = liver_s - float(med[k_rim])
    if not height > 0:
        return None
    level = liver_s - SLAB_EDGE_SHARE * height
    tail = med[k_rim:]
    above = np.nan_to_num(tail, nan=-np.inf) >= level
    run = np.convolve(above.astype(int), np.ones(RUN_SAMPLES, dtype=int), "valid")
    hit = np.flatnonzero(run == RUN_SAMPLES)
    if not hit.size:
        return None
    k = k_rim + int(hit[0])
    below = med[k - 1] if k > k_rim else med[k]
    frac = 0.0 if med[k] == below else float((level - below) / (med[k] - below))
    edge = (float(d[k]) - 1.0 + frac) * step_mm if k > k_rim else float(d[k]) * step_mm
    if edge <= thin_mm:
        return None
    return min(edge, thin_mm + slab_mm / 2.0)
