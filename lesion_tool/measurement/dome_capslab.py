"""A cap click on a slab whose point lies at the edge of the lesion's section one slab on.

:mod:`capclick` measures a refused cap click again at the same in-plane point on the slices
within ``CAP_MM`` (3.5 mm): on slabs of 5 mm that is the next slab alone. A lesion's top is not
always on its axis: under the liver's dome the tumour follows the curved surface, so the point
above its tip lies near the border of the section one slab on, and the region grown from there
slides off the point (into the bright vena cava beside IRCADb's tumour 05, whose top slab is
averaged with the lung: 109 HU for the lesion's 177). The lesion is still under the point: its
section grows towards the widest slab, so one slab further the point lies well inside it.

So, on slabs (``SLAB_MM`` or thicker), when the nearest slab in one direction gave a region
longer than the cap's that does not hold the clicked point (it drifted off it), the same point is
measured once more one slab further in that direction. The farther region must pass every test
the nearer one must (:func:`capclick._acceptable`: seen on enough slabs, by value, not running on,
in the liver, not of low contrast, and holding the clicked point) and, being twice as far from
the point clicked, carry no flag at all (IRCADb's 17 mm tumour 04 on the same slabs: a click on
its end slab, whose next slab drifted too, found two slabs on a 22.6 mm rim-delineated region
flagged as a one-slab leak and a possible vessel piece: 23.7 mm for 17.1, refused before). It is
flagged like any cap re-click. Not on thin slices: there CAP_MM already spans two of them.
"""

from __future__ import annotations

EXTRA_SLABS = 1
"""Slabs tried beyond the nearest one, in the direction where its region drifted off the point:
a slab of 2.5-5 mm holds at most the cap's partial volume, and the section under the clicked
point grows with every slab towards the lesion's widest one."""


def farther_steps(slice_mm: float, drifted: set[int]) -> list[int]:
    """The slice offsets (signed) to try after the nearest slab(s) gave no acceptable region:
    one slab further in each direction whose region drifted off the clicked point
    (``drifted``: the signed offsets of those regions), on slabs only."""
    from lesion_tool.measurement.segment import SLAB_MM

    if slice_mm < SLAB_MM or not drifted:
        return []
    out: list[int] = []
    for step in sorted(drifted, key=lambda s: (abs(s), s)):
        sign = 1 if step > 0 else -1
        for k in range(1, EXTRA_SLABS + 1):
            nxt = step + sign * k
            if nxt not in out:
                out.append(nxt)
    return out


CAP_NOTE = "(the lesion's end?): measured from the same point on"
"""The words of :mod:`capclick`'s note on a result measured from the slice next to the click's
(capclick writes its note with them; :func:`outline_doubts` recognises it)."""


def outline_doubts(flags: tuple[str, ...]) -> tuple[str, ...]:
    """``flags`` less the cap re-click's note: that note says where the region was measured from
    (check that it is the lesion clicked), not that its outline is in doubt. The same region
    measured from a click on that slice carries its other flags only, and
    ``refine.refine_where_doubtful`` re-decides an outline only for those: a cap click then
    gets the outline that a click one slab on gets (IRCADb 05's top slab in 5 mm slabs: the
    random walker cut the re-click's 29.8 mm region, unflagged from that slab, to 26.9 mm)."""
    return tuple(f for f in flags if CAP_NOTE not in f)
