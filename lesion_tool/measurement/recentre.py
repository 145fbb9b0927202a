"""A click off the middle of the lesion's widest slice: measure again from that middle.

A random click inside a small lesion often falls on one of its end slices, where the lesion is
a thin, partial-volumed cap. The region grown from it can reach the widest slice (the lesion is
small, the click's levels still cover it), yet its edges are placed by the click's own value,
which is diluted towards the liver's or lies on the lesion's pale margin: the threshold moves
out and the outline is too large. IRCADb's 10 mm tumour 06 clicked on its end slices measured
13.3-16.8 mm (tolerance 3 mm) on the original, 2.5 mm, 5 mm and noisy variants, and
10.8-11.8 mm when clicked again at the middle of the region's widest section.

Here, when the click's slice is not the region's widest and holds a smaller section of it (the
click was nearer an end than the middle), the lesion is clicked again, once, at the deepest
point of the region's widest section, as a reader would click the lesion's middle. The new
region is kept when it is the same lesion: one region nests in the other
(:data:`NESTED_SHARE`), it is attenuated as the first (hypo or hyper; regions delineated by
texture are left as they are), it reaches the click's slice or the next one, and it does not
run on through the slices where the first did not. A kept result is flagged with the slice
clicked and the slice measured.

Not on arterial images: there an enhancing lesion's widest section is often centred on its
necrosis or on a bright nodule other than the tissue clicked, and the stress variants showed no
gain and three losses (IRCADb 07 with a necrotic core: 24.7 mm from its core for 21.4; 03 and 05
on 5 mm hyper-enhancing slabs: 19.5 for 23.2, 27.5 for 31.8), against seven prompts of 06 won on
the portal-venous variants.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from lesion_tool.io.phase import Phase
from lesion_tool.measurement.naming import slice_name
from lesion_tool.measurement.raster import deepest_pixel
from lesion_tool.measurement.reseed import (
    as_clicked,
    attenuation,
    common_box,
    measure_again,
    runs_on,
    slice_span,
)

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement, LesionPrompt

Measure = Callable[["CTVolume", "LesionPrompt", object], "LesionMeasurement"]

OFF_MIDDLE_SHARE = 0.8
"""The click's slice holds less than this share of the region's widest section (by area): the
click lay towards one of the lesion's ends, not on its middle slices."""
CLICK_SLICE_GAP = 1
"""The new region reaches the click's slice or lies at most this many slices from it (the
cap's partial volume may fall below the middle's threshold): the lesion the reader clicked,
not a region of the widest slice alone (IRCADb 04, clicked on its largest expert section and
delineated by texture over 7 slices: from the widest one, a 1-slice bright fleck, 12.9 mm for
18.5, when regions by texture were followed)."""
NESTED_SHARE = 0.8
"""At least this share of the smaller of the two regions lies in the other: the same lesion,
delineated from its middle with a tighter or looser threshold, not a neighbour."""


def middle_click(m: LesionMeasurement) -> tuple[int, int, int] | None:
    """The deepest point ``(z, y, x)`` of ``m``'s widest section (farthest from its edge), or
    None when the click lies on that slice or on a section at least :data:`OFF_MIDDLE_SHARE` of
    it (already on the lesion's middle), or the region has one slice."""
    areas = m.mask.sum(axis=(1, 2))
    if np.count_nonzero(areas) < 2:
        return None
    widest = int(np.argmax(areas))
    zi = m.seed_voxel[0] - m.offset[0]
    if zi == widest or (0 <= zi < areas.size and areas[zi] >= OFF_MIDDLE_SHARE * areas[widest]):
        return None
    y, x = deepest_pixel(m.mask[widest])
    return widest + m.offset[0], y + m.offset[1], x + m.offset[2]


def nested_share(a: LesionMeasurement, b: LesionMeasurement) -> float:
    """Share of the smaller of ``a``'s and ``b``'s regions that lies in the other (1.0: one
    nests in the other, as a lesion's outlines from two clicks do when one threshold is
    looser)."""
    n = min(int(a.mask.sum()), int(b.mask.sum()))
    box = common_box(a, b)
    if n == 0 or box is None:
        return 0.0
    sa, sb = box
    return float(np.count_nonzero(a.mask[sa] & b.mask[sb])) / n


def _slice_gap(m: LesionMeasurement, z: int) -> int:
    """Slices between volume slice ``z`` and ``m``'s region (0 when the region lies on it)."""
    span = slice_span(m)
    if span is None:
        return 1 << 30
    return max(span[0] - z, z - span[1], 0)


def follow_middle(
    volume: CTVolume,
    prompt: LesionPrompt,
    phase: object,
    first: LesionMeasurement,
    measure: Measure,
) -> LesionMeasurement:
    """``first``, or the lesion measured again from the deepest point of ``first``'s widest
    section when the click lay off the middle (:func:`middle_click`) and the new region is the
    same lesion (see the module's docstring). Only clicks are followed (a line says on which
    slice the reader sees the lesion), not on arterial images (see the module's docstring), and
    only regions delineated by value: a region by texture has no middle by value (IRCADb 04
    with 25 HU noise, by texture: 23.6 -> 24.4 mm for 18.5 when it was followed)."""
    if (
        prompt.seed is None
        or prompt.line is not None
        or first.phase is Phase.ARTERIAL
        or attenuation(first) == "texture"
    ):
        return first
    click = middle_click(first)
    if click is None:
        return first
    new = measure_again(volume, prompt, phase, click, measure)
    if new is None:
        return first
    spent = first.time_s + new.time_s
    if (
        nested_share(first, new) < NESTED_SHARE
        or attenuation(new) != attenuation(first)
        or (runs_on(new) and not runs_on(first))
        or _slice_gap(new, first.seed_voxel[0]) > CLICK_SLICE_GAP
    ):
        return replace(first, time_s=spent)
    z0 = first.seed_voxel[0]
    note = (
        f"measured again from the middle of its widest section ({slice_name(volume, click[0])}): "
        f"the click on {slice_name(volume, z0)} lay towards the lesion's end "
        f"({first.whole.length_mm:.1f} mm from there); check that this is the lesion clicked"
    )
    return as_clicked(first, new, note, spent)
