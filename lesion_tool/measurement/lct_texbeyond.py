"""A faint bright region by value on thick slabs, widest on its end slab: the texture region
beyond it.

IRCADb 04 (17.1 mm on the "5 mm" stress variant, slabs 29-32) is a faint mottled lesion whose
mean value is the liver's: clicked on slabs 31-32 it is delineated by texture and mostly comes
within. Clicked on slab 30, the slab averages its upper end with the liver and reads 8 HU above
it (121 against 113 HU, noise 4 HU): a region by value, flagged low contrast and bright on a
non-arterial image, over slabs 29-30 and widest on 30 (slab 29 reads 145-157 HU, so the slab
rule re-levels it), that takes in a lobe of liver: 22-27 mm, Dice 0.31-0.33. Census on "5 mm",
40 random clicks of 04 per seed drawn as the bench draws them (seeds 1003 / 1004 / 1006, on
ec2662f): 20 / 14 / 24 within; on slab 30 1 / 1 / 0 of 7 / 8 / 5 within, 5 / 5 / 4 of them this
region. The open-end re-click (``reseed.follow_open_end``) clicks the deepest point of that
leaked outline one slab on and finds a short bright fleck (10-11 mm, running on through the
slices), which it rightly does not keep.

Here such a region is measured again from the reader's own in-plane point one slab on, towards
the region's widest end, where a reader would click next. When that gives a region delineated
by texture, shorter, not running on through the slices, and the two outlines seen through the
slices overlap (:data:`SAME_SHARE` of the smaller lies in the other: the same lesion on the next
slabs, though the two regions share no voxel), the texture region is kept, flagged with where it
was measured from. Census after: 24 / 17 / 28 within (+4 / +3 / +4: 15.5-19.4 mm, Dice
0.51-0.66), none lost. Only bright (hyper) regions on slabs of :data:`MIN_SLICE_MM` or more,
where the cause was counted (06, a faint dark region widest on its end slab, is left alone and
pays no re-click). Texture results always carry their texture flag, and the region replaced was
flagged low contrast, so a no-tumour click's flagged result stays flagged; refusals are never
touched. Cost: one more measurement for a click whose region qualifies (about 0.5-1 s).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from lesion_tool.measurement.naming import slice_name
from lesion_tool.measurement.notwhole import LOW_CONTRAST_FLAG
from lesion_tool.measurement.reseed import (
    OPEN_END_FLAG,
    as_clicked,
    attenuation,
    measure_again,
    open_end_click,
    runs_on,
)

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.reseed import Measure
    from lesion_tool.measurement.segment import LesionMeasurement, LesionPrompt

ENABLED = True
"""Module switch: False leaves every faint region by value as found (its tests show it matters)."""

MIN_SLICE_MM = 4.0
"""Only on slabs at least this thick (the census counted the cause on 5 mm slabs only)."""

SAME_SHARE = 0.5
"""At least this share of the smaller of the two regions' outlines seen through the slices lies
in the other's: the same lesion on the slabs next to each other (04: 0.61-0.81)."""


def projected_share(a: LesionMeasurement, b: LesionMeasurement) -> float:
    """Share of the smaller of ``a``'s and ``b``'s outlines seen through the slices (the union of
    their sections) that lies in the other's."""
    pa, pb = a.mask.any(axis=0), b.mask.any(axis=0)
    n = min(int(pa.sum()), int(pb.sum()))
    lo = np.maximum(a.offset[1:], b.offset[1:])
    hi = np.minimum(np.add(a.offset[1:], pa.shape), np.add(b.offset[1:], pb.shape))
    if n == 0 or np.any(hi <= lo):
        return 0.0
    sa = tuple(slice(int(s - o), int(e - o)) for s, e, o in zip(lo, hi, a.offset[1:], strict=True))
    sb = tuple(slice(int(s - o), int(e - o)) for s, e, o in zip(lo, hi, b.offset[1:], strict=True))
    return float(np.count_nonzero(pa[sa] & pb[sb])) / n


def _flagged(m: LesionMeasurement, start: str) -> bool:
    """Whether one of ``m``'s flags starts with ``start``."""
    return any(f.startswith(start) for f in m.flags)


def beyond_click(
    volume: CTVolume, prompt: LesionPrompt, first: LesionMeasurement
) -> tuple[int, int, int] | None:
    """The reader's click moved one slab towards ``first``'s widest end, when ``first`` is a
    click's faint bright region by value on thick slabs widest on its end slab; None otherwise."""
    if prompt.seed is None or prompt.line is not None or first.seed_voxel is None:
        return None
    if float(volume.spacing_mm[0]) < MIN_SLICE_MM:
        return None
    if attenuation(first) != "hyper" or not _flagged(first, LOW_CONTRAST_FLAG):
        return None
    if not _flagged(first, OPEN_END_FLAG):
        return None
    found = open_end_click(first, volume.shape)
    if found is None:
        return None
    z, y, x = first.seed_voxel
    z += found[1]
    return (z, y, x) if 0 <= z < volume.shape[0] else None


def texture_beyond(
    volume: CTVolume,
    prompt: LesionPrompt,
    phase: object,
    first: LesionMeasurement,
    measure: Measure,
) -> LesionMeasurement:
    """``first``, or the texture region found from the reader's point one slab on towards its
    widest end (module docstring)."""
    if not ENABLED:
        return first
    click = beyond_click(volume, prompt, first)
    if click is None:
        return first
    new = measure_again(volume, prompt, phase, click, measure)
    if new is None:
        return first
    spent = first.time_s + new.time_s
    if (
        attenuation(new) != "texture"
        or runs_on(new)
        or new.whole.length_mm >= first.whole.length_mm
        or projected_share(first, new) < SAME_SHARE
    ):
        return replace(first, time_s=spent)
    note = (
        f"the faint region by value from the click ({first.whole.length_mm:.1f} mm, widest on "
        f"its last slice) measured again by texture from the same point on "
        f"{slice_name(volume, click[0])}; check that this is the lesion clicked"
    )
    return as_clicked(first, new, note, spent)


__all__ = [
    "ENABLED",
    "MIN_SLICE_MM",
    "SAME_SHARE",
    "beyond_click",
    "projected_share",
    "texture_beyond",
]
