"""A click on a lesion's end slab: the lesion's body found beyond it, closed at both ends.

capclick.py measures a click whose region is seen on one slice only (a cap) again at the same
in-plane point on the slices next to it. It keeps a new region that is a lesion of its own right
and :data:`~capclick.CAP_GROWTH` times longer; when none is, but a longer region lies under the
click that it could not accept (low contrast, short of the growth bar), it refuses the click as
"no whole lesion" (notwhole.py): the cap is no measurement of the lesion.

A reader who clicks a lesion's end slab expects the whole lesion. The regions the cap rule
counted as the lesion going on (its "beyond" list: :data:`~capclick.CAP_GROWTH` times the cap's
length or more, holding the click's in-plane point, not running on through the slices) may hold
one that is that whole lesion: delineated by value and *closing at both ends* through the
slices - its widest section lies between its end slices (a lesion's sections grow from the cap
to the widest and shrink again), its growth through the slices was not cut (running on: a
vessel; widening abruptly: a neighbour) - and compact in-plane (no irregular or elongated outline:
a leak along a vessel) and in the liver (no flag that it lies mostly outside the liver outlined
or is not surrounded by liver, as capclick asks of its own). Such a region is the lesion measured
beyond its cap; the longest is returned, flagged (the click's slice and that the lesion was
measured from the slices beyond it), instead of the refusal. A region widest on its last slice
(open: the lesion, or a leak, goes on) is no whole lesion either, and the click stays refused.

Seen on IRCADb (stress bench, ``bench_stress``):

- Tumour 04 (17.1 mm; expert slabs 29-32 of 5 mm: 128 / 309 / 512 / 470 px) made hyper-enhancing
  or necrotic in 5 mm slabs with 25 HU of noise, seed 8, random click (29, 245, 195) on its end
  slab 29. Slab by slab at the click (5x5 mean): 128 (28, past the lesion), 168 (29), 130 (30),
  106 (31, its dark middle), 139 (32) HU; liver 113-115. The click's region: 8.2 mm on slab 29
  alone (lesion 160 against liver 115 HU). From slab 28 (the click again) the cap rule's chain
  reaches slab 30 and finds 15.5 mm on slabs 29-32 (8.3 / 15.5 / 8.5 / 14.3 mm), widest on 30,
  closed at both ends - the expert's very slabs - but low contrast (125 against 113 HU, noise
  3.6 HU), so the cap rule could not accept it and refused the click. 15.5 mm is within the
  tolerance of 17.1 mm.
- Same tumour, plain 5 mm seed 8: the region from slab 30 is 25.4 mm on slabs 29-30, widest on
  its last slab 30 (a leak: 724 px there against the expert's 309): open, so still refused.
- Tumour 03 (23.2 mm) with a necrotic core on the 1.6 mm original, seed 7, random click
  (97, 150, 261) on Im 97 (expert 571 px, Im 98 161 px, the lesion's last): the click's region
  is 14.2 mm on Im 97 alone. Two slices down (Im 95) the rule's chain measures the whole lesion,
  core and rim, 21.2 mm on Im 92-97 (widest on 95), sound (no flag but the necrotic core's),
  but 1.49 times the cap's length, short of the 1.5 growth bar; upwards (Im 99) a 51.4 mm
  low-contrast region widest on its last slice (Im 106, past the lesion), cut where it widened
  abruptly. The refusal named the 51.4 mm one. Not changed: the closed region is under the
  growth bar (and the slice is thin, below).
- A no-tumour click in plain liver on "hyper 5 mm 25 HU" and "necrotic 5 mm 25 HU", seed 9,
  (12, 227, 157), 9 HU of contrast:
  16.2 mm on slab 12 alone; a closed low-contrast region of 21.2 mm (1.31 times) was found from
  the next slab. Taking any closed region longer than the cap made it a flagged "lesion"; taking
  only the regions past the growth bar (the evidence the refusal rests on) keeps it refused.
- A no-tumour click on a vessel on plain 5 mm slabs, seed 9, (14, 205, 147): 12.8 mm on slab 14
  alone; beyond it a closed 43.7 mm region of 7 HU of contrast, irregular (61 % of its hull) and
  elongated (44 mm long for the area of a 26 mm disk): a leak along the vessel. Only compact
  bodies are taken; it stays refused.
- No-tumour clicks in plain liver on 2.5 mm slabs: seed 8 (53, 159, 101), 6.0 mm on slice 53
  alone, beyond it a closed 22.4 mm region of which only 15 % lies in the liver outlined on
  slice 48; seed 9 (76, 195, 290), a region whose surroundings look like liver on 35 % of them.
  Bodies outside the liver are not taken (capclick's own test of a region under a cap); both
  are as before (refused; 23.4 mm by texture, flagged).

Slabs only (``segment.SLAB_MM``, 2 mm, or thicker: the end slab's partial volume is what makes
a cap region of one slab); the rule was not measured on the thin-slice variants (w27-nwh's
time), so it does not act there.

No-tumour clicks (stress bench, five slab variants, 50 per variant, seeds 7, 8, 9; four variants
of seed 3): none changed with the final gates (a first version without the growth bar, the
compact and the in-liver tests changed six, all flagged: the mechanisms are the bullets above);
every result the rule returns is flagged (its note first).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from lesion_tool.measurement.reseed import OPEN_END_FLAG
from lesion_tool.measurement.t23_leakcap import regular

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement

ENABLED = True
"""Module switch: off, a cap click with a longer region it cannot accept is refused as before."""

STOPPED = "it was stopped there"
"""Words of segment's flags on a region whose growth through the slices was cut (it ran on
beyond its width: a vessel or an organ; or widened abruptly: a neighbour): its end there is
where the delineation stopped, not where the image shows the lesion closing."""

ELONGATED_FLAG = "elongated outline"
"""The start of segment's flag on an outline much longer than a disk of its area."""

BODY_NOTE = "measured whole from the slices beyond the clicked end slice"
"""The flag's words on a body returned in place of a refusal."""


def closed(m: LesionMeasurement) -> bool:
    """Whether ``m`` closes at both ends through the slices: seen on at least three slices, its
    widest section (by area) on none of its end slices (the sections grow from one end to the
    widest and shrink again; segment's flag of a region widest on its last slice is checked
    too), its growth through the slices not cut (:data:`STOPPED`: running on, or widening
    abruptly)."""
    if any(f.startswith(OPEN_END_FLAG) or STOPPED in f for f in m.flags):
        return False
    areas = m.mask.sum(axis=(1, 2))
    zs = np.nonzero(areas)[0]
    if zs.size < 3:
        return False
    widest = int(zs[np.argmax(areas[zs])])
    return zs[0] < widest < zs[-1]


def compact(m: LesionMeasurement) -> bool:
    """Whether ``m``'s outline is a lesion's compact one: no irregular-outline flag
    (t23_leakcap's solidity) and no elongated-outline flag (segment's, a disk's area)."""
    return regular(m) and not any(f.startswith(ELONGATED_FLAG) for f in m.flags)


def _holds_point(m: LesionMeasurement, y: int, x: int) -> bool:
    yi, xi = y - m.offset[1], x - m.offset[2]
    if not (0 <= yi < m.mask.shape[1] and 0 <= xi < m.mask.shape[2]):
        return False
    return bool(m.mask[:, yi, xi].any())


def closed_body(
    volume: CTVolume,
    first: LesionMeasurement,
    measured: Sequence[LesionMeasurement],
    click: tuple[int, int, int],
) -> LesionMeasurement | None:
    """Of the regions ``measured`` from the slices next to the cap click ``click`` (volume
    index; capclick passes those past its growth bar), the longest that is the whole lesion
    beyond ``first`` (the click's own region): by value, holding the click's in-plane point,
    longer than ``first``, :func:`closed`, :func:`compact` and in the liver (no flag of
    capclick's ``OUTSIDE_FLAGS``); None
    when there is none, on thin slices (under ``segment.SLAB_MM``) or with the rule off."""
    from lesion_tool.measurement.capclick import OUTSIDE_FLAGS
    from lesion_tool.measurement.segment import SLAB_MM

    if not ENABLED or float(volume.spacing_mm[0]) < SLAB_MM:
        return None
    bodies = [
        m
        for m in measured
        if m.evidence.texture_sd_hu is None
        and m.whole.length_mm > first.whole.length_mm
        and _holds_point(m, click[1], click[2])
        and closed(m)
        and compact(m)
        and not any(o in f for f in m.flags for o in OUTSIDE_FLAGS)
    ]
    if not bodies:
        return None
    return max(bodies, key=lambda m: m.whole.length_mm)


__all__ = ["BODY_NOTE", "ELONGATED_FLAG", "ENABLED", "STOPPED", "closed", "closed_body", "compact"]
