"""How far a bright part's textured body must reach past it: one slab, on 2.5 mm slabs.

``t4p_brightpart`` swaps a bright region clicked on a portal-venous image for the textured body
holding it when that body reaches :data:`~.t4p_brightpart.BEYOND_MM` (3 mm) or more through the
slices past the part: the part is an end of a mottled lesion whose body goes on, not a bright
spot whose "body" is the mottle beside it on the very same slices (0 mm past it). 3 mm was set
on 1.6 mm slices (two slices; 04's body reached 6.4-8.0 mm past its bright end there). Counted
in slices it asks two 1.6 mm slices, one 5 mm slab, but **two** 2.5 mm slabs (5 mm): one 2.5 mm
slab past the part, a whole slab of tissue beyond it (more than the two thin slices asked on
1.6 mm), did not count.

IRCADb 04 on the plain 2.5 mm variant (17.3 mm over slabs 57-66, a faint ring round a darker
core, brighter at its ends; liver 108-120 HU), seed 8's random click (64, 246, 196): the region
by value is a bright focus on slabs 63-64 (130 / 124 HU smoothed against 108-116 HU around,
flagged "hyper-attenuating on a non-arterial image", "low contrast", "seen on 2 slices",
"widest on its last slice"): 9.5 mm for 17.3. The textured body at the click (the delineation a
click in 04's middle gets: local SD 29 HU against 15 HU in the liver, mean 121 HU against
115 HU) lies on slabs 62-65, 17.6 mm (per slab 16.8 / 16.9 / 14.4 / 9.8 mm against the expert's
16.3 / 16.8 / 16.5 / 14.9; 3-D Dice 0.55 against the part's 0.05), closed, holding the click:
the lesion clicked. It reaches one slab past the part on each side, 2.5 mm: short of 3 mm by
the slab's quantisation alone, so the bright part was kept.

Here the reach asked is one slice's thickness when that is less than BEYOND_MM on slabs
(slices at least ``segment.SLAB_MM`` thick, which average their thickness and so sample the
tissue beyond the part whole): on 2.5 mm slabs one slab, 2.5 mm. It changes nothing on thinner
slices (1.6 mm: still two slices, 3.2 mm) nor on 5 mm slabs (one slab already reached 5 mm),
and the other tests of ``t4p_brightpart`` (non-arterial image, a click, the part flagged bright
and not as a vessel nor running on, a closed body holding the click 1.1 times the part's
length) are unchanged. A body lying on the part's own slices still reaches 0 mm and is not
taken.
"""

from __future__ import annotations

ENABLED = True
"""Module switch (A/B runs): when False the reach asked is BEYOND_MM on every slice thickness."""


def reach_needed_mm(beyond_mm: float, slice_mm: float, slab_mm: float) -> float:
    """The reach (mm) through the slices a bright part's textured body must have past the part:
    ``beyond_mm`` (t4p_brightpart's), or one slice's thickness ``slice_mm`` when that is less on
    slabs (``slice_mm >= slab_mm``); see the module's docstring."""
    if ENABLED and slice_mm >= slab_mm:
        return min(beyond_mm, slice_mm)
    return beyond_mm


__all__ = ["ENABLED", "reach_needed_mm"]
