"""Whether a larger region found past a click's open end is the lesion going on beyond it.

notwhole.py refuses a click's region that stops at its widest end slice when the re-click one
slice past that end (reseed.py) finds a region :data:`~notwhole.GROWTH` times longer over it: a
lesion's sections are nested towards its widest slice, so the larger region is taken for the
lesion's body beyond the end. That reading holds only when the larger region's sections do grow
*beyond* the end: its largest section lies past the end slice, in the direction stepped, and
every section between the end slice and that largest one is at least as large as the first
region's end section (the body widens away from the cap, it does not pinch).

A region that is largest back over or behind the first region (on the first region's far side)
or that narrows to a neck between the end and its largest section is another structure that the
re-click reached through the partial volume of the end slice: a leak into a vessel or a brighter
stretch of liver, not evidence that the first region is a cap. IRCADb 06 (10 mm) made
hyper-enhancing in 2.5 mm slices with 30 HU noise: clicked on slice 70, its region (9.5-9.8 mm,
widest on slice 69) was refused because the re-click on slice 68 grew a 42.9 mm low-contrast
region whose largest section (2,431 voxels) lies on slice 74, five slices on the *other* side,
and whose section on slice 69 (263 voxels) is half that on slice 68 (568): a neck at the lesion.
The anatomy does not depend on the patient: a lesion's cap and its body are one convex-ish
solid, so the body lies on the cap's open side with no waist between them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from lesion_tool.measurement.segment import LesionMeasurement


def grows_beyond(
    first: LesionMeasurement, beyond: LesionMeasurement, end_z: int, step: int
) -> bool:
    """Whether ``beyond`` (measured from a click one slice past ``first``'s widest end slice
    ``end_z``, volume index, in direction ``step`` = +1 or -1) grows past that end: its largest
    section lies beyond ``end_z`` in the direction stepped, and its section on every slice from
    ``end_z + step`` to that largest one is at least ``first``'s section on ``end_z``."""
    areas = beyond.mask.sum(axis=(1, 2))
    zs = np.nonzero(areas)[0]
    if zs.size == 0:
        return False
    widest = int(zs[np.argmax(areas[zs])]) + beyond.offset[0]
    if (widest - end_z) * step <= 0:
        return False
    zi = end_z - first.offset[0]
    end_area = int(first.mask[zi].sum()) if 0 <= zi < first.mask.shape[0] else 0
    for z in range(end_z + step, widest, step):
        k = z - beyond.offset[0]
        if not 0 <= k < areas.size or areas[k] < end_area:
            return False
    return True


__all__ = ["grows_beyond"]
