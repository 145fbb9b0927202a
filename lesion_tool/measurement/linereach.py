"""A rough line's result far longer than the line: refused, not returned (issue 11, w15-leak06).

The reader's line states the lesion's extent on its slice. Every delineation tried across it
(segment._measure_line: by value, as a click at its middle, by the rim, by a ring, by texture)
is checked against it; when none agrees, the first was returned, flagged. A result more than
:data:`REACH_RATIO` times the line is never the lesion the line crossed: it is a region that ran
out of it (IRCADb 06, 10 mm, necrotic and on 5 mm slabs with 25 HU of noise: its core averaged
with its rim reads 8 HU from the liver, and the region by value ran along the slices to 32.7 mm
for a 15 mm line; 04 on noisy slabs, 26.9-32.7 mm for 17.1). A line scaled by the reader's
usual error (+-20 %) and jittered by a few mm stays well inside that ratio for a lesion it
crosses; a leak's extent is set by the neighbour it ran into, not by the lesion.

Every such leak seen (IRCADb 04 and 06 on noisy slabs, both seeds) is of low contrast to the liver;
a region far past a short line that plainly differs from the liver is the lesion (the line was drawn
short) and is returned, flagged. Such a leak is refused with the reason (the reader redraws the line
on the lesion's largest slice, or clicks its middle); a result nearer the line (within segment's
LINE_RATIO) from another delineation is still returned, flagged, before refusing. On a line
under 12 mm the ratio is tighter than the reader's own error at the line's ends: a region past it
but held by the ends, along the line and across it on every slice, is the lesion and is returned,
flagged (:mod:`.lineends_reach`, w36-line06: IRCADb 06's 7.1-7.6 mm lines, 12 mm regions).
"""

from __future__ import annotations

from lesion_tool.errors import MeasurementError

REACH_RATIO = 1.5
"""The longest result a rough line admits, as a multiple of its length: segment's LINE_RATIO
upper bound (the line's and the lesion's outline's disagreement still flagged up to it)."""


class PastLine(MeasurementError):
    """Every delineation across a rough line ran far past it."""


def too_long(length_mm: float, line_len_mm: float, low_contrast: bool = True) -> bool:
    """Whether a result of ``length_mm`` is more than :data:`REACH_RATIO` times the line and of
    low contrast to the liver (``low_contrast``: segment's flag). A region that plainly differs
    from the liver ends at an edge the image shows: the line was drawn short, and the result is
    returned, flagged as disagreeing with it (a 50 mm phantom lesion across a 16 mm line)."""
    return low_contrast and length_mm > REACH_RATIO * line_len_mm


def past_line(length_mm: float, line_len_mm: float) -> PastLine:
    """The refusal of a result of ``length_mm`` across a line of ``line_len_mm``."""
    return PastLine(
        f"No lesion bounded by the line drawn: the region found across it measures "
        f"{length_mm:.0f} mm, {length_mm / line_len_mm:.1f} times the line ({line_len_mm:.0f} "
        "mm), so it ran out of the lesion (a vessel, a brighter stretch of liver, or noise on a "
        "thick slab). Redraw the line across the lesion on its largest slice, or click its middle."
    )
