"""A faint rim pinned at a rough line's ends, on thick noisy slabs (issue 11, w18-hyper04).

A lesion 15-20 mm across seen on 5 mm slabs lies on three or four slabs. The faint-rim search
(:mod:`.ring`) accepts a ring only when the rim stands RING_Z_SCORE standard errors above (or
below) both its sides on the *neighbouring* slabs, whose noise is independent. On a slab that
thick that test is diluted by geometry, not by the lesion's absence: a neighbouring slab lies a
whole slab (5 mm) away, where a sphere of radius r has a section of radius sqrt(r^2 - 5^2),
1.6 mm narrower for r = 8.5 mm, more than the +-1 mm band in which the test reads the rim; and
past a small lesion's cap the far neighbour holds no rim at all. IRCADb tumour 04 made arterial
(a 2-3 mm enhancing rim 15-20 HU above the liver round a core 10-20 HU below it, 17.1 mm) on 5
mm slabs with 25 HU of noise: the ring pinned at the line's ends reads 3.1-3.8 standard errors
on the mean of the two neighbours but only 0.7-2.1 against the tissue outside it, and every
other delineation across the line ran along the noise to 1.9-2.2 times the line: refused.

A click has to prove that a lesion is there; a rough line does not. The reader drew it across
a lesion, and its ends say where the rim lies: the test then only has to tell the rim the line
points at from the noise, not to find a lesion in plain liver. So where every delineation
across a line ran far past it (the case segment._measure_line refuses, linereach.py), on slabs
of THICK_SLAB_MM or more, the ring through the line's ends is sought again with the bar lowered
to LINE_RING_Z, and kept only when its diameter agrees with the line (segment's LINE_STRICT).
The result is flagged (the ring's own flag, and :func:`vouched_flag`). Clicks keep the full
bar: plain-liver clicks are never turned into lesions by this rule.
"""

from __future__ import annotations

from lesion_tool.measurement.ring import THICK_SLAB_MM

LINE_RING_Z = 2.0
"""The bar (standard errors) of a faint ring's test on the neighbouring slabs when a rough line
pinned its path on a thick slab: one-sided about the 2 % level, against 0.1 % (RING_Z_SCORE)
for a click, whose ring must also show that a lesion exists."""


def vouched_z(slab_mm: float) -> float | None:
    """The lowered bar for a ring pinned at a line's ends on slabs of ``slab_mm``, or None
    where slabs are thin enough for the neighbouring slices to hold the same section of the
    rim (the full bar stands)."""
    return LINE_RING_Z if slab_mm >= THICK_SLAB_MM else None


def vouched_flag(slab_mm: float) -> str:
    """The note of a ring accepted at the lowered bar."""
    return (
        f"every region by value ran past the line drawn: its rim was taken at a bar of "
        f"{LINE_RING_Z:.0f} standard errors (a click needs more), where the line says a lesion "
        f"is (on {slab_mm:.1f} mm slabs the slabs next to it cut it narrower or past its end); "
        "check the contour"
    )
