"""An unflagged region that is a small part of a larger area of its own value on a slice of its
body: flagged, as :mod:`~lesion_tool.measurement.part_of_more` flags it on its widest slice.

``part_of_more`` judges a bright region by value on its widest slice only. A click in a large
enhancing lesion's rim can grow a region whose widest slice holds much of the lesion while its
middle slices hold only a strip of it. On the click-position census of the stress bench (issue
11, twenty-ninth pass; noise seed 6, clicks from seed 1006) IRCADb 01 (78.2 mm) on "necrotic 5 mm
25 HU", clicked at (22, 131, 141), came back 44.2 mm (Dice 0.30) with no flag: widest on slab 21
(2,190 pixels), where the area at its value reads 1.7 times its own, but on slabs 16-19 (609-633
pixels) 6.7-8.3 times and on slab 15 (1,327 pixels) 3.6 times.

Here a result that no rule has flagged and that ``part_of_more`` judges is judged on each of its
inner slices (its two end slices left out: a lesion's partial-volumed end reads past its outline)
holding at least :data:`BODY_SHARE` of its widest section; when the area at its value reaches
:data:`BODY_GROW` times the section on any of them, it is flagged with ``part_of_more``'s flag.
On the census of the five slab variants ("2.5 mm", "5 mm", "hyper 2.5 mm 30 HU", "hyper 5 mm 25
HU", "necrotic 5 mm 25 HU"; noise seeds 4 and 6, 20 clicks per tumour, 1,400 clicks) 117 results
are unflagged and judged; the 108 within tolerance read at most 1.67 on those slices, and the
rule flags two misses: the result above, and 01 on "hyper 2.5 mm 30 HU" (noise seed 6, (41, 182,
102)) 63.5 mm for 79.8, 2.71 on slice 41 where its sections dip. Flag only: no result changes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from lesion_tool.measurement.naming import slice_name
from lesion_tool.measurement.part_of_more import PART_FLAG, judged, ratio_on

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement

ENABLED = True
"""Module switch: False leaves every result unflagged by this rule (its tests show it matters)."""
BODY_SHARE = 0.25
"""The inner sections judged: at least this share of the region's widest."""
BODY_GROW = 2.5
"""The connected area at the region's value, over a section's own, from which the region is
flagged (01's cut region: 3.6-8.3 on its inner sections; census results within tolerance up to
1.67; ``part_of_more`` flags from 2.0 on the widest)."""


def body_spread(volume: CTVolume, m: LesionMeasurement) -> tuple[int, float] | None:
    """The volume slice of ``m``'s judged inner section where the area at its value is largest
    over the section's own, and that ratio; None when ``m`` is not judged or has no such section."""
    if not judged(m):
        return None
    areas = m.mask.reshape(m.mask.shape[0], -1).sum(axis=1)
    ks = np.flatnonzero(areas)
    best: tuple[int, float] | None = None
    for k in ks[1:-1]:
        if areas[k] < BODY_SHARE * areas.max():
            continue
        found = ratio_on(volume, m, int(k))
        if best is None or found[1] > best[1]:
            best = found
    return best


def flag_part_body(volume: CTVolume, m: LesionMeasurement) -> LesionMeasurement:
    """``m`` with ``part_of_more``'s flag when it is otherwise unflagged and a small part of a
    larger area of its own value on an inner slice (module docstring); ``m`` itself otherwise."""
    if not ENABLED or m.flags or m.whole.length_mm <= 0:
        return m
    found = body_spread(volume, m)
    if found is None or found[1] < BODY_GROW:
        return m
    z, ratio = found
    flag = (
        f"{PART_FLAG}: on {slice_name(volume, z)}, inside its extent, the tissue past its outline "
        f"reads as it does, over {ratio:.1f} times its area there: it may hold only part of the "
        "lesion, and the diameter be short; check its outline there, or drag a line across the "
        "whole lesion"
    )
    return replace(m, flags=(*m.flags, flag))
