"""Where a ray leaves an enhancing lesion for a darker organ beside the liver.

On an arterial image the darker side of an enhancing lesion counts as lesion too (a necrotic
part beside the enhancing one, ``segment._Levels.mixed``). Necrosis lies inside the lesion:
a ray that crosses it comes back to enhancing tissue, or reaches the liver. A lesion at the
liver's surface, though, may touch a neighbour that is darker than the liver without being
fat: the abdominal wall's muscle (40-90 HU), a bowel loop (30-80 HU), the diaphragm. A ray
from an enhancing click ran on through it as if it were necrosis, until fat or its search
limit; the outline left the liver, its centre moved into the neighbour and the region was
refused ("not surrounded by liver") or cut short (IRCADb tumour 02 made hyper-enhancing,
clicked on its upper slices beside the bowel: the first outline 34-39 mm across, centred in
the bowel; tumour 01 clicked under the abdominal wall). ``segment._ramp_to_fat`` took only
the last 1.5 mm before fat from the lesion: the partial-volume ramp, not a neighbour a few
millimetres thick.

The rule here: on each ray, the run of darker-than-enhancing tissue at the end of the lesion
(after its last enhancing sample, up to where the ray leaves) is lesion only when liver lies
beyond it. When the ray instead leaves it into tissue darker than the liver (fat, the
neighbour itself) or runs on to its search limit, it ends where the run first falls below
half-way between the lesion and that darker tissue (else just after its last enhancing sample). A
necrotic part met on the way is kept: the ray comes back to enhancing tissue after it, or
leaves it into the liver. Arrays are ``(ray, sample)`` profiles of smoothed HU from the
click or the lesion's centre outwards.
"""

from __future__ import annotations

import math

import numpy as np

from lesion_tool.measurement.raster import nanmedian_axis

__all__ = ["BEYOND_MM", "dark_tail_exit"]

BEYOND_MM = 3.0
"""The tissue a ray leaves into is judged over this length past its exit."""
DARK_BEYOND_SHARE = 0.5
"""It is not liver when at least this share of it reads darker than the liver's band (fat,
or the darker neighbour itself)."""


def dark_tail_exit(
    prof: np.ndarray,
    exit_j: np.ndarray,
    left: np.ndarray,
    enhancing: np.ndarray,
    inside: np.ndarray,
    lesion_hu: float,
    liver_hu: float,
    threshold_hu: float,
    band_hu: float,
    step_mm: float,
    fat_hu: float = -30.0,
) -> np.ndarray:
    """Each ray's exit sample, moved back to just after its last enhancing sample when the
    darker run before the exit leads out of the liver.

    Parameters
    ----------
    prof
        ``(ray, sample)`` smoothed HU along each ray, every ``step_mm`` mm.
    exit_j
        ``(ray,)`` the sample where each ray left the lesion as found.
    left
        ``(ray,)`` whether the ray left the lesion at ``exit_j`` (False: it ran on to its
        search limit, which counts as leaving the liver).
    enhancing
        ``(ray, sample)`` enhancing lesion tissue (on the lesion's side of its half-way value,
        a bright blob of it, or a necrotic core known to be lesion).
    inside
        ``(ray, sample)`` samples inside the image window.
    lesion_hu, liver_hu, threshold_hu
        The lesion's and the liver's values and the half-way value between them.
    band_hu
        The half-width of the band of values that read as liver.

    Returns
    -------
    numpy.ndarray
        ``(ray,)`` the exits: where the run first falls below half-way between the lesion and
        the darker tissue in it (the blurred step's middle), else just after the last enhancing
        sample; unchanged where the run is empty, where liver lies beyond it, or where the ray
        holds no enhancing sample before its exit.
    """
    n = prof.shape[1]
    idx = np.arange(n)[None, :]
    before = enhancing & (idx < exit_j[:, None])
    before[:, 0] = False  # the click itself is lesion whatever it reads
    has = before.any(axis=1)
    last = np.where(has, n - 1 - np.argmax(before[:, ::-1], axis=1), 0)
    tail = exit_j - (last + 1)
    k = max(1, math.ceil(BEYOND_MM / step_mm))
    after = (idx >= exit_j[:, None]) & (idx < exit_j[:, None] + k) & inside
    dark = (prof < liver_hu - band_hu) & after
    share = dark.sum(axis=1) / np.maximum(after.sum(axis=1), 1)
    out_of_liver = ~left | (share >= DARK_BEYOND_SHARE)
    move = has & (tail > 0) & out_of_liver
    # The border is half-way between the lesion and the darker tissue beyond it (a blurred
    # step between the two), not the lesion's half-way value with the liver.
    run = (idx > last[:, None]) & (idx < exit_j[:, None])
    darker = run & (prof < liver_hu - band_hu)
    dark_hu = np.full(prof.shape[0], liver_hu - band_hu)
    rows = darker.any(axis=1)
    if rows.any():
        dark_hu[rows] = nanmedian_axis(np.where(darker[rows], prof[rows], np.nan), 1)
    mid = np.minimum((lesion_hu + dark_hu) / 2.0, threshold_hu)
    below = run & (prof < mid[:, None])
    cross = np.where(below.any(axis=1), np.argmax(below, axis=1), exit_j)
    return np.where(move, cross, exit_j)
