"""The note that rays ended at a darker neighbour does not, alone, send a result to the 3-D
refinement (issue 11, w25-t23).

The 3-D refinement (:mod:`.refine`, ``refine_where_doubtful``) re-decides the outline of every
flagged hyper-attenuating result on arterial slabs with a random walker, whose border is the
steepest gradient (moved out at most 2 mm to the rays' edge level). It was brought in (w9-refine)
for outlines that ran out in a few directions: IRCADb 02 on "hyper 2.5 mm 30 HU", whose rays ran
on into the bowel beside it (36.9 mm for 28.8). Since w11-hyper the rays stop there themselves
(``darktail.py``: a darker run at a ray's end that leads into tissue darker than the liver ends
half-way between the lesion's value and the neighbour's), and a result so cut on >= 15 % of its
rays on the click's slice carries a note saying so ("... ended at darker tissue beyond the liver
(muscle, bowel?)"). That note is itself a flag, so the refinement still runs on such a result,
where there is no leak left to take back, and its border, the steepest gradient, lies inside the
lesion's graded border on every side.

What the image shows: IRCADb 02 (28.8 mm on 2.5 mm slabs; hyper-enhancing, 30 HU noise), seed 7,
the deepest click (49, 336, 178) and a random click (49, 342, 167). The rays give 27.4 / 27.3 mm
on slab 49 (expert 28.8, within), spanning slabs 46-53 (expert 45-54), flagged only with the
note (17 % / 22 % of the rays ended at the bowel). The band between the half-way value's last
crossing and the outline's edge is 2.25 / 1.25 mm (``t5s_halokeep``: under its 3 mm, so not kept
as a halo), and 1-4 mm beyond the outline the image reads 110 HU against the liver's 112-114:
the rays' edge sits at the foot of the border, where the expert's does. The refinement then
measures 25.5 / 25.8 mm (under tolerance), 0.8-3.1 mm short on every slab (slab 49: 25.5 against
the rays' 27.5), not only on the bowel's side.

Rule: a result whose only outline doubt (``dome_capslab.outline_doubts``) is darktail's note, and
whose region closes at both ends (each end slab's section under END_SHARE of its widest
section's area), is not refined: the note says where the rays met the neighbour beyond the liver
and stopped, not that the outline is in doubt. A result with any other flag (low contrast,
partial volume, irregular outline, a leak, ...) is refined as before, note or not; so is one
whose region is still wide on an end slab. There the walker, in 3-D, follows the lesion onto the
next slab, where the rays had stopped: IRCADb 01 (78.2 mm, at the abdominal wall) on "hyper 5 mm
25 HU", seed 9, a random click (23, 168, 167): the rays' region spans slabs 20-26, its top slab's
section 0.96 of its widest; the expert's widest slab (19, 78.2 mm) lies beyond it. Refined:
73.3 mm on slab 20 (within); kept as the rays found it: 68.7 mm (a miss; without this gate the
rule lost this prompt). 02 above closes: its end slabs hold 0.46 and 0.35 of its widest section.

Why it holds on another patient: darktail stops a ray at a darker neighbour (bowel, muscle, the
abdominal wall) by the values the ray reads; what is left for the walker on such a result is the
border with the liver, which the rays already placed at its foot, while the walker places it at
the steepest gradient, inside a graded border.
"""

from __future__ import annotations

import numpy as np

ENABLED = True
"""Module switch."""

DARK_NOTE = "ended at darker tissue beyond the liver"
"""The words of segment's note on rays that darktail stopped at a darker neighbour."""


END_SHARE = 0.75
"""A region whose section on an end slab holds at least this share of its widest section's area
has not closed there: the lesion may go on beyond it (IRCADb 01, 0.96; 02, closed, 0.35-0.46)."""


def closed(mask: np.ndarray) -> bool:
    """Whether the region ``mask`` ``(z, y, x)`` closes at both ends: its first and last slices'
    sections under END_SHARE of its widest section's area."""
    areas = mask.sum(axis=(1, 2))
    areas = areas[areas > 0]
    if areas.size < 3:
        return False
    return bool(max(areas[0], areas[-1]) < END_SHARE * areas.max())


def doubts_left(doubts: tuple[str, ...], mask: np.ndarray) -> tuple[str, ...]:
    """The outline doubts ``doubts`` (flags) less darktail's note, for a region ``mask`` that
    closes at both ends (module docstring)."""
    if not ENABLED or not closed(mask):
        return doubts
    return tuple(f for f in doubts if DARK_NOTE not in f)
