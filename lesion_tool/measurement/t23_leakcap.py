"""A click's one-slab region that leaked out of the lesion is no lower bound for the lesion
found under the click (issue 11, w25-t23).

The cap rule (:mod:`.capclick`) measures a click again on the slices next to it when its own
region was found on the click's slice only (a cap's partial volume) or lies at the liver's edge;
a region found there replaces the click's only when it is CAP_GROWTH (1.5) times longer, since a
cap's section is much smaller than the lesion's body one slice on, while a lesion measured whole
gives about its own length again from the next slice. That bound assumes the click's region is
part of the lesion. When it is a leak, it is not: its length is the lesion's section plus the
tissue it ran into, and the lesion under the click, found cleanly on the slabs next to it, is
shorter than that and is thrown away.

What the image shows: IRCADb tumour 02 (27.8 mm on 5 mm slabs, lying against the bowel) made
hyper-enhancing with 25 HU noise ("hyper 5 mm 25 HU"), clicked at its deepest point
(25, 338, 179), seeds 8 and 9. The expert outline spans slabs 22-27 (15.0, 25.6, 27.8, 25.1,
18.1, 10.5 mm). The click's own region lies on slab 25 only and is a leak: 34.0 mm (seed 8) /
30.4 mm (seed 9), its area 60-61 % of its convex hull, only 41-45 % of its surroundings liver:
from the tumour's upper part it runs out of the liver through the tumour's lower edge into the
darker tissue beyond (fat and bowel wall, -60 to 100 HU on the slab). Its liver sample is then
mixed: the noise read there is 21-22 HU against 5-6 HU on the same slab's clean regions. The
cap rule clicked slabs 24 and 26 at the same point: both give the tumour on slabs 23-26,
25.7 / 25.8 mm (seed 8) and 25.5 / 27.2 mm (seed 9), contrast 53-64 HU, noise 5-9 HU, no
partial-volume flag, in the liver, under the click; but 1.5 x 34.0 = 51 mm (45.6 mm on seed 9)
was asked for, so the leak was kept. The 3-D refinement then re-decided the leak with its
inflated noise (a diffuse walk, half-way edge level) and cut it to the tumour's core:
15.8 / 13.8 mm for 27.8.

Rule: a click's region on one slab only (slices of segment.SLAB_MM or more) whose outline there
is irregular (area under segment.MIN_SOLIDITY of its convex hull) and that is not surrounded by
the liver (share under segment.SURFACE_LIVER_SHARE): the two marks of a leak on that slab, the
same two the region's own flags state. For such a region the cap rule keeps a lesion found
under the click on the slabs next to it when it is at least KEEP_SHARE of the leak's length
(rather than CAP_GROWTH times it), and the lesion found must be regular itself (no irregular
outline flag): a leak is not replaced by another leak. Everything else of the cap rule is
unchanged (the lesion found must be seen on 2 slices or more without a partial-volume, texture,
low-contrast or outside-the-liver flag, not run on through the slices, and hold the click's
in-plane point; a region it does not keep is not turned into a refusal by this rule).

Why it holds on another patient: a one-slab region that is at once irregular and not surrounded
by liver is what a region grown into a neighbour (bowel, vessel, the tissue beyond the liver's
surface) looks like on a slab averaged with that neighbour; a lesion found from the next slab on
at least two slabs, regular, in the liver and under the click is the lesion the reader clicked,
and its length is not bounded below by what leaked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement

ENABLED = True
"""Module switch."""

KEEP_SHARE = 0.6
"""A lesion found under a leaked click's region is kept when at least this share of the leak's
length: a leak adds the tissue it ran into (IRCADb 02: 25.5-27.2 mm found under leaks of
30.4-34.0 mm, 0.76-0.89), while a region found on the next slab that is much shorter than the
click's is a part of it, not the lesion."""

IRREGULAR_FLAG = "irregular outline"
"""The start of segment's flag on an outline under MIN_SOLIDITY of its convex hull."""


def is_slab_leak(volume: CTVolume, m: LesionMeasurement) -> bool:
    """Whether ``m`` (a click's region) lies on one slab only, with an irregular outline there
    and not surrounded by the liver: a leak on that slab (module docstring)."""
    from lesion_tool.measurement.segment import (
        MIN_SOLIDITY,
        SLAB_MM,
        SURFACE_LIVER_SHARE,
        _solidity,
    )

    if not ENABLED or float(volume.spacing_mm[0]) < SLAB_MM:
        return False
    on = [k for k in range(m.mask.shape[0]) if m.mask[k].any()]
    if len(on) != 1:
        return False
    share = getattr(m.evidence, "liver_share", None)  # (the cap rule's tests pass stand-ins)
    if share is None or share >= SURFACE_LIVER_SHARE:
        return False
    return _solidity(m.mask[on[0]]) < MIN_SOLIDITY


def least_kept_mm(
    volume: CTVolume, first: LesionMeasurement | None, growth: float
) -> tuple[float, bool]:
    """The length (mm) a lesion found under a cap click must exceed to replace ``first`` (the
    click's own region, None when refused), and whether ``first`` is a slab leak (then
    KEEP_SHARE of its length instead of ``growth`` times it)."""
    if first is None:
        return 0.0, False
    if is_slab_leak(volume, first):
        return KEEP_SHARE * first.whole.length_mm, True
    return growth * first.whole.length_mm, False


def regular(m: LesionMeasurement) -> bool:
    """Whether ``m`` carries no irregular-outline flag."""
    return not any(f.startswith(IRREGULAR_FLAG) for f in m.flags)
