"""A rough line bounds the search when the region by value leaks past it (issue 11, w15-slab04).

On a thick noisy slab a small low-contrast lesion is averaged with the liver around it: IRCADb
tumour 04 made hyper-enhancing on 5 mm slabs with 25 HU of noise reads 122 HU in a 112 HU liver,
while the liver itself varies by 11-12 HU SD at every smoothing scale from 1 to 3 mm (vessels,
texture: structure, not noise, so no patch size separates the two). A delineation by value from
the line then leaks into the liver until its rays meet the search limit (0.75 x the line + 3 mm,
a radius: up to 1.5 x the line + 6 mm across), 32.7 mm for 17.1 from a 15 mm line.

The reader's line is then the only evidence of extent there is: its ends lie at the lesion's
edge within LINE_BORDER_SLACK (15 %) of its length each (a line drawn 20 % short leaves the
border 12.5 % past each end; segment.LINE_BORDER_SLACK). So when every delineation disagrees
with the line by overshooting it and has run to the search limit (a leak, not a lesion larger
than drawn: a lesion's edge stops rays, a leak's rays stop only at the limit), the first region
is kept, on every slice, within the disk centred on the line's middle of radius (0.5 +
LINE_BORDER_SLACK) x the line: the whole border the line allows, and no further; its diameter
is then at most 1.3 x the line. It stays flagged (low contrast, the leak's search limit, and
that it was bounded by the line), so the reader sees that the outline was bounded, not found.
Tumour 04's lines on 5 mm slabs with 25 HU: 32.7 / 26.9 mm -> 20.0 / 17.9 for 17.1 (seeds 0/1).

A lesion truly larger than the line drawn is not affected when its border stops the rays before
the first search limit (its result is not a leak); clicks, which state no extent, never are.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

LEAK_RATIO = 1.5
"""A line's result at least this many times the line's length, run to the search limit, is a
leak (segment.LINE_RATIO's upper bound: a reader's line is never that far short)."""


def bounded_reach_mm(line_len_mm: float, border_slack: float) -> float:
    """The longest ray from the line's middle the line allows: half its length plus the slack
    by which its ends may fall short of the border (``border_slack`` x its length)."""
    return (0.5 + border_slack) * line_len_mm


def leaked(length_mm: float, line_len_mm: float, limit_flagged: bool) -> bool:
    """Whether a line's result (diameter ``length_mm``) is a leak past the line: far longer than
    the line and with its rays run to the search limit (``limit_flagged``)."""
    return limit_flagged and length_mm >= LEAK_RATIO * line_len_mm


BOUNDED_FLAG = "bounded by the line drawn"
"""In the flag of a leaked region clipped to the line's disk (:func:`clip_to_line`)."""


def clip_to_line(volume, m, line, line_len_mm: float, border_slack: float, disagrees: str):
    """The measurement ``m`` (a region that leaked past a rough ``line``, two ``(z, y, x)``
    voxel points of length ``line_len_mm``) with its mask kept, on every slice, within the disk
    centred on the line's middle of radius :func:`bounded_reach_mm`, re-measured and flagged
    (the flag holding ``disagrees``, the old diameter's with the line, dropped); None when
    nothing is left."""
    from lesion_tool.errors import MeasurementError
    from lesion_tool.measurement.edit import remeasure_edited

    a, b = (np.asarray(p, dtype=float) for p in line)
    mid = (a[1:] + b[1:]) / 2.0
    reach = bounded_reach_mm(line_len_mm, border_slack)
    sy, sx = (float(s) for s in volume.spacing_mm[1:])
    mask = np.asarray(m.mask, dtype=bool)
    _, oy, ox = m.offset
    yy = (np.arange(mask.shape[1]) + oy - mid[0]) * sy
    xx = (np.arange(mask.shape[2]) + ox - mid[1]) * sx
    disk = yy[:, None] ** 2 + xx[None, :] ** 2 <= reach**2
    clipped = mask & disk[None]
    if not clipped.any():
        return None
    try:
        out = remeasure_edited(volume, m, clipped, m.offset)
    except MeasurementError:
        return None
    share = 1.0 - clipped.sum() / max(mask.sum(), 1)
    flag = (
        f"the region by value ran past the line into tissue as dense; {BOUNDED_FLAG} "
        f"({reach:.0f} mm from its middle; {100 * share:.0f}% of the region cut): the lesion's "
        "edge is not seen, check the contour"
    )
    # The old diameter's disagreement with the line no longer holds; the leak's flags do.
    kept = tuple(f for f in out.flags if disagrees not in f)
    return replace(out, flags=(*kept, flag))
