"""A large heterogeneous lesion clicked off its middle: its end slices from the click, its
middle slices from the middle.

:mod:`~lesion_tool.measurement.recentre` clicks a lesion again at the middle of its region's
widest section when the click lay towards one end, and keeps the new region only when one region
nests in the other and the new one reaches the click's slice. On a large heterogeneous lesion
neither need hold, although both regions are the same lesion, each outlining a different part.

IRCADb tumour 01 (79.8 mm on Im 62, a hypo-attenuating mass of 65-99 HU against liver of 110-117 HU,
mottled, bulging to the abdominal wall), 30 HU noise, seed 3, click (56, 173, 121): the click's
slice gives 7.7 mm, the chain re-clicks on Im 57 and grows a region that follows the lesion through
all its slices (Im 49-83, as the expert's 48-84) but, on Im 55-65, covers only its lateral half: it
stops in the middle of tissue of the same value (row 165 of Im 62: 61-99 HU all the way to the
lesion's medial edge at x 205, the region stops at x 170), because on Im 57, where it was grown, the
lesion holds liver-like tissue (row 165, x 155-170, inside the expert mask: 101-113 HU, 7x7-voxel
means) that its rays stop at, and the slices above and below are cast from the centre of the outline
next to them. Its longest diameter, 69.2 mm on Im 66, is 10.6 mm short (tolerance 8.0). Clicked
again at the middle of its widest section (Im 67), the lesion grows over Im 60-83 and on Im 60-65
spans 64.5-72.9 mm (the expert 75.1-79.3 mm; 83-92 % of it in the expert mask): 73.4 mm.
``recentre`` rejects it: the first region's own end slices (Im 49-59) lie outside it (nested share
0.78 < 0.8) and it stops three slices short of the click's slice. On the slices both regions lie on,
the middle's region holds 91 % of the first region's voxels: the first is the same lesion, outlined
short of its medial part.

Here, when ``recentre`` rejected the middle's region for those two reasons only, it is kept together
with the first (their union: the first's end slices, towards the click, and the middle's wider
sections) when the first is at least :data:`MIN_FIRST_MM` long and reaches through the slices
:data:`MIN_DEPTH_SHARE` of its diameter and, on the slices both regions lie on, it holds
:data:`HOLD_SHARE` of the first region's voxels, it is attenuated as the first and does not run on
through the slices, and its own diameter is longer than the first's (it found more of the lesion,
not a part of it). The union is measured as a whole
(:func:`~lesion_tool.measurement.edit.remeasure_edited`) and flagged as found from two clicks. Not a
relaxation of ``recentre``'s nesting: a middle region that does not hold the first where both lie (a
neighbour, or a part of the lesion smaller than the first) is still rejected, and the first's extra
slices, found from the reader's click, are kept, not replaced."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from lesion_tool.measurement.naming import slice_name
from lesion_tool.measurement.reseed import attenuation, common_box, runs_on

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement

ENABLED = True
"""Module switch: keep the union of the click's and the middle's regions (see the docstring)."""

HOLD_SHARE = 0.85
"""On the slices both regions lie on, at least this share of the first region's voxels lies in
the middle's region: the middle's region holds the first there (tumour 01: 0.90), it is the same
lesion outlined further, not a neighbour or a smaller part of it."""

MIN_FIRST_MM = 20.0
"""The first region is at least this long: a lesion large enough for its heterogeneity to stop a
region part-way across it (tumour 01: 69.2 mm). Smaller regions are recentre's alone (its nesting
test): on the 30 HU noise variant (seed 4) a click in a vessel, 10.9 mm on 2 slices, flagged, was
joined to its middle's region (15.1 mm) without this bound."""

MIN_DEPTH_SHARE = 1.0 / 3.0
"""The first region reaches through the slices at least this share of its longest axial diameter:
a lesion's body (tumour 01: 35 slices of 1.6 mm, 56 mm, for 69.2 mm), not a flat section seen on a
slice or two (a no-tumour click in the 30 HU noise variant, seed 6: 21.8 mm on 2 slices, flagged,
was joined to 25.2 mm without this bound)."""


def _depth_mm(m: LesionMeasurement, slice_mm: float) -> float:
    """How far ``m``'s region reaches through the slices (mm, slices it lies on x thickness)."""
    return float(np.count_nonzero(m.mask.any(axis=(1, 2)))) * slice_mm


def _held_where_both(first: LesionMeasurement, new: LesionMeasurement) -> float:
    """Share of ``first``'s voxels, on the slices where both regions lie, that lie in ``new``."""
    box = common_box(first, new)
    if box is None:
        return 0.0
    sa, sb = box
    a, b = first.mask[sa], new.mask[sb]
    both = a.any(axis=(1, 2)) & b.any(axis=(1, 2))
    n = int(np.count_nonzero(a[both]))
    if n == 0:
        return 0.0
    return float(np.count_nonzero(a[both] & b[both])) / n


def union_with_middle(
    volume: CTVolume,
    first: LesionMeasurement,
    new: LesionMeasurement,
    click: tuple[int, int, int],
    spent: float,
) -> LesionMeasurement | None:
    """``first`` and ``new`` (the lesion measured again from ``click``, the middle of ``first``'s
    widest section) measured as one region, or None when ``new`` is not the same lesion
    outlined further (see the module's docstring)."""
    from dataclasses import replace

    from lesion_tool.measurement.edit import remeasure_edited

    if not ENABLED:
        return None
    if (
        attenuation(new) != attenuation(first)
        or attenuation(first) == "texture"
        or runs_on(new)
        or first.whole.length_mm < MIN_FIRST_MM
        or _depth_mm(first, float(volume.spacing_mm[0])) < MIN_DEPTH_SHARE * first.whole.length_mm
        or new.whole.length_mm <= first.whole.length_mm
        or _held_where_both(first, new) < HOLD_SHARE
    ):
        return None
    lo = np.minimum(first.offset, new.offset)
    hi = np.maximum(np.add(first.offset, first.mask.shape), np.add(new.offset, new.mask.shape))
    union = np.zeros(tuple(int(v) for v in hi - lo), dtype=bool)
    for m in (first, new):
        s = tuple(
            slice(int(o - b), int(o - b + n))
            for o, b, n in zip(m.offset, lo, m.mask.shape, strict=True)
        )
        union[s] |= m.mask
    try:
        out = remeasure_edited(volume, first, union, tuple(int(v) for v in lo))
    except Exception:  # noqa: BLE001 - nothing measurable: keep the first
        return None
    z0 = first.seed_voxel[0]
    note = (
        f"measured from the click on {slice_name(volume, z0)} ({first.whole.length_mm:.1f} mm) "
        f"and again from the middle of its widest section ({slice_name(volume, click[0])}, "
        f"{new.whole.length_mm:.1f} mm), which outlined more of it: the two regions together; "
        "check that this is the lesion clicked"
    )
    return replace(out, flags=(note, *out.flags), time_s=spent)
