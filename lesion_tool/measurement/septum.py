"""A thin fat plane between organs, seen on a slab: where a ray leaves a lesion for a neighbour.

On thin slices the fat between the liver and a neighbouring organ (bowel, the gallbladder's bed,
a fissure) reads below -30 HU and a ray stops at it (``segment._fat_stop``). A slab 2.5-5 mm
thick averages that plane, cut at a slant, with the tissue above and below it: a fat plane 1-3 mm
thick then reads 0-40 HU over a band a few millimetres wide, darker than a hypo-attenuating
lesion but far above any fat threshold. A ray leaving the lesion crosses the thin liver wall
beyond it (which, blurred, stays under the lesion's half-way value) and the diluted fat without
meeting anything that stops it, and runs on into the organ beyond (IRCADb tumour 02, under the
liver's surface with bowel below it: 37.6 mm for 27.8 on 5 mm slabs, 32.5 for 28.8 on 2.5 mm).

Such a plane is a trough in a ray's profile just after the lesion's border: the profile first
rises towards the liver's value (the wall), then falls beyond the lesion's own value on the side
away from the liver (the diluted fat), and rises again past it (the organ beyond). A lesion's own
darker part is not a narrow trough right after a rise, nor is fat or air that the ray never
leaves. The ray ends at the wall's top. Arrays are ``(ray, sample)`` profiles of smoothed HU
along rays from the lesion's centre outwards, sampled every ``step_mm``.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["septum_stop"]


def septum_stop(
    prof: np.ndarray,
    lesion_hu: float,
    liver_hu: float,
    margin_hu: float,
    width_mm: float,
    step_mm: float,
) -> np.ndarray:
    """Where each ray of ``prof`` ``(ray, sample)`` (smoothed HU, from the lesion outwards,
    every ``step_mm``) meets a thin septum: True at the top of the wall before it, False
    elsewhere.

    A trough is a run of samples ``margin_hu`` or more beyond ``lesion_hu`` on the side away
    from ``liver_hu``. The septum is the ray's first trough that is at most ``width_mm`` wide,
    that the profile leaves again on its far side, and before which the profile rose
    ``margin_hu`` towards the liver. ``margin_hu`` is the lesion's edge margin (a quarter of the
    contrast, at least two noise SDs), so neither the rise nor the fall is noise. A wider trough
    (the lesion's own darker part) or one the ray never leaves (fat, air: the fat stop ends the
    ray) ends the search on that ray. The first sample (the click) is never a stop."""
    n = prof.shape[1]
    out = np.zeros(prof.shape, dtype=bool)
    if n < 3 or margin_hu <= 0:
        return out
    sign = 1.0 if liver_hu > lesion_hu else -1.0
    toward = sign * (prof - lesion_hu)  # > 0 towards the liver, < 0 beyond the lesion
    deep = toward <= -margin_hu
    deep[:, 0] = False
    if not deep.any():
        return out
    width = max(1, math.ceil(width_mm / step_mm))
    risen = np.maximum.accumulate(toward, axis=1) >= margin_hu
    for ray in np.nonzero(deep.any(axis=1))[0]:
        d = deep[ray]
        starts = np.nonzero(d[1:] & ~d[:-1])[0] + 1
        for s in starts:
            rest = ~d[s:]
            if not rest.any():
                break  # fat or air to the ray's end: the fat stop's business
            if int(np.argmax(rest)) > width:
                break  # a wide dark region: the lesion's own darker part, not a plane
            if risen[ray, s - 1]:
                out[ray, max(int(np.argmax(toward[ray, :s])), 1)] = True
                break
    return out
