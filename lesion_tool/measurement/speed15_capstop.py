"""The cap rule does not look under a region already too large to be a lesion's cap (issue 11:
time per click; w19-speed).

``capclick.follow_cap`` measures a click again from the slices next to it, each time with every
re-click step, and keeps a new region only when it is :data:`~.capclick.CAP_GROWTH` times longer
than the click's own region (a cap's section is much smaller than the lesion's body one slice
on). When the click's own region is already long, the body it would take is longer than the
lesions a click is made to delineate (:data:`CAP_BODY_MAX_MM`): the search cannot give an
answer better than the region in hand, and it is skipped. The region in hand carries the flag
that sent it to the cap rule (found on one slice, or mostly outside the liver), so the reader
is still told to check it.

On the slowest stress prompts (IRCADb 01, 79.8 mm, clicked where its region is flagged as
lying mostly outside the liver estimate, 62-74 mm) the four re-clicks took 1.2-1.3 of 1.5-1.8 s
CPU and none was kept (they gave 36-73 mm, and would have had to exceed 93-111 mm).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lesion_tool.measurement.segment import LesionMeasurement

ENABLED = True
"""Switch for A/B runs (benchmarks); True in use."""

CAP_BODY_MAX_MM = 80.0
"""The largest lesion a click is made to delineate (segment.CLICK_SEARCH_MM: rays of 60 mm
from a click reach across an 80 mm lesion clicked off its centre). A body sought under a cap
longer than this is not looked for."""


def worth_following(first: LesionMeasurement | None, growth: float) -> bool:
    """True when the cap rule may find a body ``growth`` times longer than ``first`` (the
    click's own region; None when the click was refused) within :data:`CAP_BODY_MAX_MM`."""
    if not ENABLED or first is None:
        return True
    return growth * first.whole.length_mm <= CAP_BODY_MAX_MM
