"""A rough line across a heterogeneous lesion: a region by value inside it is only a part
(issue 11, w18-t04slice).

A lesion whose mean value is the liver's (a dark core and brighter patches in tissue as dense as
the parenchyma: IRCADb 04, 18.5 mm, portal venous) cannot be delineated by value: from a rough
line's middle the region by value is its dark core or one bright patch (8-10 mm), the rest of the
lesion reads like the liver. Its outline by texture (the local SD of the raw values, segment's
texture planes) holds that part and reaches the lesion's border (19.2-19.3 mm on IRCADb 04 with
a 13.7 mm line, seed 3, original and 30 HU noise). When the line is short the part agrees with it
first (0.73 times the line, within LINE_STRICT) and the texture whole is never looked at.

So, across a line whose middle lies in heterogeneous tissue (a texture delineation exists there
at all: the click's local SD is at least TEXTURE_MIN_RATIO times the liver's, which a
homogeneous lesion's middle is not), a region by value shorter than the line that the texture
outline holds (:data:`HOLD_SHARE` of its section on the line's slice) is a part of the lesion,
and the texture outline is returned when it stays within segment's LINE_RATIO of the line (it
keeps the texture flag, and the line's disagreement flag when outside LINE_STRICT). Why it holds
on another patient: a region by value nested in heterogeneous tissue that goes on past it is a
component of that tissue by construction (the texture was measured at the line's middle, inside
the region's own neighbourhood), and the line, longer than the region, says the reader sees more
lesion than the region; a homogeneous hypo- or hyper-attenuating lesion gets no texture outline
and keeps its region by value.
"""

from __future__ import annotations

import numpy as np

from lesion_tool.measurement.linebound import line_says_larger

HOLD_SHARE = 0.9
"""The share of the region by value's section (on the line's slice) the texture outline must
hold: nested in it (a texture outline's edge is spread by its window, so it holds all of a part
inside it; a neighbour's outline would hold little)."""


def part_of_whole(
    part_len_mm: float, part: np.ndarray, whole: np.ndarray, line_len_mm: float
) -> bool:
    """Whether a region by value of ``part_len_mm`` (section ``part`` on the line's slice) is a
    part of a texture outline whose section there is ``whole`` (boolean masks of one grid),
    across a line of ``line_len_mm``: shorter than the line and held by the outline."""
    if not line_says_larger(part_len_mm, line_len_mm, 1.0) or not part.any():
        return False
    return float((part & whole).sum()) / float(part.sum()) >= HOLD_SHARE


__all__ = ["HOLD_SHARE", "part_of_whole"]
