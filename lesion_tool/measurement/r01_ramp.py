"""A necrotic lesion's slice whose region holds only part of the dark core (issue 11,
w20-ramp01): the rays to the rim's outer edge are cast from the whole core.

rimedge_outer widens each slice of a necrotic lesion's whole to its rim's outer edge, casting
rays from the dark core found inside the slice's region. On the slice a line or a click started
from, the region may hold only part of the core: a region by the rim's value that ran along the
rim on one side and stopped on the seam on the other (IRCADb 01 given a necrotic core, its
widest slice under the abdominal wall: the region crossed the core and left its far half out).
Rays leaving that partial core then run on through the rest of the core, meet no rim within the
ramp's reach, and keep the region's border: 70.8 mm for 79.8.

Here the core on such a slice is the dark tissue connected to the region's dark part (as on the
slices beyond the region's ends, where rimedge_outer already follows the core so), unless that
grows too large, the wall's muscle or fat joined through a gap in the rim: then the region's own
dark part, as before.

Why it holds on another patient: necrosis is one connected dark body inside the rim; the part of
it a region happened to hold says nothing about where the rim lies on the other side. A dark
body more than CORE_GROWTH times the region's own dark part is not that core (rimedge_outer's
own bound on the slices it adds).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

WHOLE_CORE = True
"""Whether rays are cast from the whole dark core connected to the region's dark part."""
CORE_GROWTH = 2.0
"""The connected dark body is taken when at most this many times the region's dark part (plus
CORE_SLACK_PX): rimedge_outer's bound on a core followed beyond the region's ends."""
CORE_SLACK_PX = 50


def whole_core(part: np.ndarray, plane: np.ndarray, core_top_hu: float) -> np.ndarray:
    """The dark core (``plane`` < ``core_top_hu``) connected to ``part`` (the region's dark part
    on the slice), or ``part`` itself when that body exceeds CORE_GROWTH x ``part`` (+ slack)."""
    if not WHOLE_CORE or not part.any():
        return part
    dark = plane < core_top_hu
    lab, _ = ndimage.label(dark)
    ids = np.unique(lab[part & dark])
    core = np.isin(lab, ids[ids > 0])
    if not core.any() or core.sum() > CORE_GROWTH * part.sum() + CORE_SLACK_PX:
        return part
    return core | part
