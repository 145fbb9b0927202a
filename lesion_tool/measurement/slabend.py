"""On thick slabs, a re-click beyond a region's widest end slab is the same lesion when it holds
the first region's outline on that widest slab.

:func:`~lesion_tool.measurement.reseed.follow_open_end` clicks again one slice beyond a region
widest on its last slice, and keeps the new region when it holds most of the first region's
widest outline *on the slice clicked*: nearer the lesion's middle, sections are nested. That
holds for thin slices. On a thick slab (SLAB_MM or more) the slab past the widest one may be the
lesion's end slab, which averages the lesion's cap with the liver above or below it (partial
volume): its region, grown from that diluted value, is neither a nested nor a larger section, and
the nesting test refuses a re-click that measured the same lesion better. IRCADb's tumour 03
(23.2 mm, on 5 mm slabs): from its deepest point the first region stops on its two widest slabs
(19.5 mm, its end slab's centre reads under the half-way value); the re-click on the end slab
re-measures the lesion's value on the widest slab (partial volume re-levelled, ``_slab_levels``)
and the liver around it, and outlines the widest slab 15 % larger (21.5 mm), holding 92-100 % of
the first outline there but only 24-64 % on the end slab.

So on slabs the same lesion is also recognised where both regions hold its full section, the
first region's widest slab: the new region must hold SAME_SLAB_SHARE of the first's outline
there, and be no more than SAME_SLAB_AREA_RATIO times its area there (the same lesion
re-delineated moves its edge by a partial-volume ramp, about 1-2 mm of a 10 mm radius, 1.2-1.45
times the area; a leak into a neighbour adds more). The other conditions of follow_open_end
(longer, the same attenuation, not running on through the slices) are unchanged. The kept
region also holds the end slabs at their diluted value, wider than the cap (03's 3-D Dice 0.71 ->
0.69), while its diameter, on the widest slab, comes within tolerance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lesion_tool.measurement.segment import LesionMeasurement

SAME_SLAB_SHARE = 0.8
"""Share of the first region's outline on its widest slab the new region must hold there (the
nesting test's RESEED_KEEP_SHARE, applied on the slab both regions hold)."""
SAME_SLAB_AREA_RATIO = 1.5
"""The new region's area on that slab at most this times the first's: an edge moved by a
partial-volume ramp (1-2 mm of a 10 mm radius: 1.2-1.45 times), not a neighbour joined."""


def _area(m: LesionMeasurement, z: int) -> int:
    zi = z - m.offset[0]
    if not 0 <= zi < m.mask.shape[0]:
        return 0
    return int(m.mask[zi].sum())


def same_on_widest_slab(
    last: LesionMeasurement,
    new: LesionMeasurement,
    z_widest: int,
    slice_mm: float,
    share_on: float,
) -> bool:
    """Whether ``new`` (re-clicked beyond ``last``'s widest slice ``z_widest``, volume index) is
    the same lesion by its outline on that slice, on slices ``slice_mm`` thick; ``share_on`` is
    :func:`~lesion_tool.measurement.reseed._share_kept` of ``last`` on ``z_widest`` by ``new`` on
    the same slice. Always False on thin slices (their sections nest)."""
    from lesion_tool.measurement.segment import SLAB_MM

    if slice_mm < SLAB_MM or share_on < SAME_SLAB_SHARE:
        return False
    a_last, a_new = _area(last, z_widest), _area(new, z_widest)
    return a_last > 0 and a_new <= SAME_SLAB_AREA_RATIO * a_last
