"""A region whose sections narrow to a neck between two bodies through the slices: flagged.

A lesion's sections grow from one end to its widest and shrink to the other end; they do not
shrink to a third and grow again. A click in plain liver under heavy noise can grow a region of
noise that joins blobs on neighbouring slices. On the no-tumour census of the stress bench (issue
11, thirtieth pass; noise seed 1, "noise 25 HU", extra plain-liver click (109, 216, 291)) one
such region came back a 16.6 mm result with no flag at all: sections of 268, 373, 328, 117, 135,
72, 154 and 221 pixels on Im 107-114, two bodies (373 and 221 pixels) joined by a neck of 72.

A region is flagged when one of its inner sections holds under :data:`NECK` of the smaller of the
widest sections on either side of it, both of those at least :data:`BODY_SHARE` of the region's
widest (a small piece at an end, a vessel's or a neighbour's edge taken in on an end slab, is not
a second body). The region above reads 0.33. On the census of the five slab variants (noise seeds
4 and 6, 20 clicks per tumour, 1,400 clicks; 288 results unflagged, 277 within tolerance) no
result within tolerance reads under 0.6, and one miss is flagged: IRCADb 05 on "hyper 2.5 mm 30
HU" (noise seed 4, (75, 212, 206)), 26.7 mm for 32.5, whose sections dip to 422 pixels between
1,130 and 1,343 (0.37). Only results no other rule flags are judged; the flag only warns: the
result is left as it is.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from lesion_tool.measurement.naming import slice_name

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement

ENABLED = True
"""Module switch: False leaves every result unflagged by this rule (its tests show it matters)."""
NECK = 0.4
"""An inner section under this share of the smaller body beside it is a neck (the noise region
above: 0.33)."""
BODY_SHARE = 0.5
"""The sections on either side of a neck must reach this share of the region's widest to be two
bodies."""
NECK_FLAG = "the region narrows to a neck between two bodies through the slices"
"""The start of the flag's text."""


def neck(areas: np.ndarray) -> tuple[int, float] | None:
    """The index of the section in ``areas`` (the region's section areas by slice) that is the
    narrowest neck between two bodies, and its area over the smaller body's; None when there is
    no inner section between two bodies (module docstring)."""
    ks = np.flatnonzero(areas)
    if ks.size < 3:
        return None
    a = areas[ks[0] : ks[-1] + 1].astype(float)
    left = np.maximum.accumulate(a)
    right = np.maximum.accumulate(a[::-1])[::-1]
    best: tuple[int, float] | None = None
    for i in range(1, a.size - 1):
        body = min(left[i - 1], right[i + 1])
        if body < BODY_SHARE * a.max():
            continue
        share = a[i] / body
        if best is None or share < best[1]:
            best = (int(ks[0]) + i, float(share))
    return best


def flag_necked(volume: CTVolume, m: LesionMeasurement) -> LesionMeasurement:
    """``m`` with a flag when it is otherwise unflagged and its sections narrow to a neck under
    :data:`NECK` of the bodies beside it (module docstring); ``m`` itself otherwise."""
    if not ENABLED or m.flags or m.whole.length_mm <= 0:
        return m
    found = neck(m.mask.reshape(m.mask.shape[0], -1).sum(axis=1))
    if found is None or found[1] >= NECK:
        return m
    k, share = found
    flag = (
        f"{NECK_FLAG}: on {slice_name(volume, m.offset[0] + k)} it holds {100 * share:.0f}% of "
        "the sections on either side, where a lesion grows to its widest and shrinks: it may be "
        "noise or two structures joined, not a lesion; check its outline through the slices"
    )
    return replace(m, flags=(*m.flags, flag))
