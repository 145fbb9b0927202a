"""A lesion found by its rim is not followed on by its own liver-valued inside read by value.

A click whose region by value barely differs from the liver (low contrast) is delineated instead
by a closed rim round it when one is confirmed on the slices next to it
(``segment._delineate_ring``: "delineated by its enhancing rim" or "... darker rim"): the
lesion's inside is then as dense as the liver, and the rim is the evidence. When that region is
widest on its last slice, the open-end re-click (:func:`~.reseed.follow_open_end`) clicks its
deepest point one slice on, that is its inside again, and may find no rim there. The region by
value it then grows is the inside's value against the liver's: within the noise (low contrast),
its threshold sits among the liver's own noisy values and the region runs on through the
parenchyma wherever they lie, in no direction the image shows. The re-click's guard that the two
regions are attenuated the same way reads, for a rim region, the sign of a difference of a
few HU between two values that are the same by definition: which re-click is kept is a coin toss.

IRCADb 04 (17.3 mm) made hyper-enhancing, in 2.5 mm slabs with 30 HU of noise (stress seed 32),
clicked at its deepest point (63, 242, 200): its enhancing rim gives 18.7 mm on slices 63-64
(rim 124 HU, 5.8 standard errors; 511 of its 589 voxels on slice 63 inside the expert mask).
The re-click on slice 62 finds no rim and a region by value of 120 HU against the liver's 114
(6.1 HU of contrast for 6.0 HU of noise) that fills the parenchyma round the lesion on slices
59-64 (1,280 voxels on slice 62 for the expert's 513; 760 on slice 59 for 224), 34.2 mm: 62 %
of its 5,364 voxels lie outside the expert mask, all of them in the liver, reading 117 HU on
average as the liver round them does; 36 % of the liver's smoothed voxels there read above its
threshold (117 HU): its outline is where the noise happens to dip, no edge of the image. The
leak checks do not stop it: the rays it cut ran through liver, not out of it
(``LEAK_RAY_FACTOR`` holds rays ending outside the liver only), no vessel is crossed (the
region stays under its ceiling), and a click has no line to reach past. It was kept because its
contrast read +6 HU and the rim region's inside +1 HU: "hyper" both. On census seed 3 the
same re-click from 04's rim regions read -11 to -12 HU ("hypo") and was not kept.

Such a re-click's region is therefore not kept in place of a rim region: the lesion found by its
rim is followed on only by a region that is not low contrast (a body standing out by value) or
by another rim.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lesion_tool.measurement.notwhole import LOW_CONTRAST_FLAG

if TYPE_CHECKING:
    from lesion_tool.measurement.segment import LesionMeasurement

RIM_FLAG_START = "delineated by its "
"""The start of the flag of a region delineated by a closed rim round a liver-valued inside
(``segment._delineate_ring``: "delineated by its enhancing rim: its inside ..." or "... darker
rim ...")."""
RIM_FLAG_PART = " rim: its inside ("
"""The words that follow the rim's kind in that flag."""


def rim_flag_start(kind: str) -> str:
    """The start of the rim region's flag for a rim of ``kind`` ("enhancing" or "darker"), up to
    its inside's value: ``segment._delineate_ring`` writes the flag from it, :func:`by_rim`
    reads it, so the words live once."""
    return f"{RIM_FLAG_START}{kind}{RIM_FLAG_PART}"


def by_rim(m: LesionMeasurement) -> bool:
    """Whether ``m`` was delineated by a closed rim round an inside as dense as the liver."""
    return any(f.startswith(RIM_FLAG_START) and RIM_FLAG_PART in f for f in m.flags)


def liver_inside_follow(first: LesionMeasurement, new: LesionMeasurement) -> bool:
    """True when ``new``, the open-end re-click's region beyond ``first``, is ``first``'s
    liver-valued inside read by value: ``first`` was delineated by its rim, ``new`` was not, and
    ``new`` is flagged low contrast (see the module docstring). Such a ``new`` is not kept."""
    if not by_rim(first) or by_rim(new):
        return False
    return any(f.startswith(LOW_CONTRAST_FLAG) for f in new.flags)


__all__ = ["by_rim", "liver_inside_follow", "rim_flag_start"]
