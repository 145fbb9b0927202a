"""A lesion followed through the slices crosses a short stretch where it meets the liver's
surface: the liver-share stop looks a few millimetres ahead before it ends the lesion.

While :func:`~lesion_tool.measurement.segment._delineate` follows a lesion through the slices it
stops where less than ``SLICE_LIVER_SHARE`` (0.3) of the ring just beyond the slice's outline reads
like the liver: the outline has left the liver (a neighbouring organ). A large tumour replacing the
liver's tip, against the abdominal wall, gives the same low share on a few slices while the lesion
goes on: the wall's muscle (50-60 HU on portal-venous images), its fat, the bowel beside it, and
the lesion's own mottled outer part beyond rays that stopped at liver-like specks inside it fill
the ring. Past those slices, where the tumour again lies inside the liver towards its dome, the
share recovers.

IRCADb tumour 01 (79.8 mm, 65-99 HU against liver 112-118 HU, against the abdominal wall), 2.5 mm
slabs, seed 8, click (44, 186, 134); the expert's outline runs over slices 30-53 and is 79.3 mm on
slices 39-40. Followed upwards from the click, the ring's liver share per slice (slice: share,
nested share of the outline in the slice before) reads 43: 0.48, 42: 0.52, 41: 0.32, 40: 0.35,
**39: 0.25, 38: 0.26, 37: 0.15**, 36: 0.31, 35: 0.41, 34: 0.55, 33: 0.61 (each outline 0.81-0.92
inside the one before); the non-liver part of the ring on slices 37-39 is 49-60 % as dark as the
lesion (its median 68 HU against the lesion's 71) and 29-31 % darker still (wall fat). The region
stopped at slice 39, missing slices 30-39 (expert 24.8-79.3 mm per slice): 65.5 mm, a miss
(tolerance 8.0 mm). The same on the hyper-enhancing 2.5 mm 30 HU variant (arterial), seed 7,
click (49, 143, 179): 40: 0.47, **39: 0.30 (0.296)**, 38: 0.32, 37: 0.39, 36: 0.44, 35: 0.57, the
region stopped at slice 39: 71.7 mm for a tolerance of 71.8.

So the stop at a low-share slice is taken only when the lesion does not come back inside the liver
within :data:`DIP_MM` (three 2.5 mm slabs, one 5 mm slab; slabs only): the following
slices are cast from the same centre with the same tests (the centre on the lesion's side of the
threshold, a radius, no abrupt widening, each ray capped by the slice before) and one of them must
have at least ``SLICE_LIVER_SHARE`` of its ring like the liver. The dip slice must also lie
:data:`NEST_SHARE` inside the outline before it (a lesion's end narrows inside its body; a leak
into a neighbour widens out of it), and at least :data:`MIN_BEYOND_SHARE` of its ring must be darker
than both lesion and liver (the fat and muscle beyond the liver's surface). A region that left the
liver for a neighbouring organ does not come back to a liver-like ring, so it still stops where it
did. Nothing is replaced: the slices
added are those the same follow would have kept without the dip.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

ENABLED = True
"""Module switch: off, every low-share slice ends the lesion as before."""

DIP_MM = 7.5
"""How far past a low-share slice the lesion may come back inside the liver (01: 3 slices of 2.5
mm on 2.5 mm slabs seed 8, 1 slice on the hyper 2.5 mm 30 HU variant seed 7)."""

NEST_SHARE = 0.8
"""The low-share slice's outline lies at least this share inside the outline before it (01:
0.92-0.97 on the dip slices)."""


MIN_SLICE_MM = 2.0
"""Slabs only (2.5-5 mm, as HCC studies are read): where 01 met the wall on 1.6 mm slices (the
hyper variant, click (56, 173, 121), test_measure_capsule_edge), crossing carried the region onto
slices whose rings are not liver and the whole region was refused as not surrounded by liver
(14 %) instead of being re-clicked by capclick (75.9 mm). Both gains were on 2.5 mm slabs."""

MIN_BEYOND_SHARE = 0.2
"""At least this share of the dip slice's ring is darker than both lesion and liver by their band:
the fat and muscle beyond the liver's surface (01: 0.29-0.31 on 2.5 mm slabs seed 8, 0.39 on the
hyper 2.5 mm 30 HU variant seed 7). A ring that is short of liver because it is the lesion's own
value or brighter (a vessel, an enhancing neighbour) is not the liver's surface: IRCADb 05's line
on the hyper 2.5 mm 30 HU variant, seed 8, beside the vena cava, rings 0.80-0.82 brighter than the
liver by the band and 0.00 darker; crossing there cut it 30.2 -> 28.0 mm for 32.5."""


def nested_share(mask: np.ndarray, prev: np.ndarray) -> float:
    """Share of ``mask`` inside ``prev`` (same window)."""
    n = int(mask.sum())
    return float((mask & prev).sum() / n) if n else 0.0


def crosses_dip(
    share_at: Callable[[int], float | None],
    z: int,
    step: int,
    slice_mm: float,
    nested: float,
    min_share: float,
    beyond: float,
) -> bool:
    """Whether a slice ``z`` whose ring is too little liver-like is a stretch of the lesion
    against the liver's surface rather than its end: nested in the slice before and, within
    :data:`DIP_MM` beyond it, a slice with at least ``min_share`` of its ring liver-like.
    ``share_at(k)`` casts the ``k``-th slice past ``z`` (1, 2, ...) and gives its ring's liver
    share, or None where the lesion ends by another test (it is then not followed further).
    ``beyond`` is the share of the dip slice's ring darker than both the lesion and the liver by
    their band (fat, the wall's muscle on an arterial image): at least :data:`MIN_BEYOND_SHARE`."""
    if not ENABLED or slice_mm < MIN_SLICE_MM or nested < NEST_SHARE or beyond < MIN_BEYOND_SHARE:
        return False
    n = int(DIP_MM // max(slice_mm, 1e-6))
    for k in range(1, n + 1):
        share = share_at(k)
        if share is None:
            return False
        if share >= min_share:
            return True
    return False
