"""Past a necrotic core, the lesion's sections narrow: its enhancing cap does not widen again.

On an arterial image a dark click is a necrotic core, and tissue on the liver's other side (an
enhancing rim) counts as lesion too (``_Levels.mixed``). Followed through the slices, the core
ends before the lesion does (it is the deep part): the slices beyond hold only rim, the lesion's
cap, whose sections shrink towards the pole as any convex lesion's do. Tissue a little brighter
than the commonest liver value is not only rim, though: a better-perfused part of the liver (a
segment, the parenchyma under the surface) reads the same +10-20 HU. Once the core has ended,
a section that widens again is such liver, not the cap: the lesion is stopped there.

IRCADb tumour 06 (10 mm, 1.6 mm slices) given a necrotic core: from its core (84 HU against a
liver of 106) the region crossed its rim-only cap (Im 111, 3.5 mm radius) into a brighter stretch
of liver under the surface (120-126 HU) and widened slice after slice (4.7 to 8.1 mm radius) until
stopped at its own width from the click: 19.8 mm for 10.0.

Arrays are ``(y, x)`` planes; values in HU.
"""

from __future__ import annotations

import numpy as np

CORE_GONE_SHARE = 0.1
"""A section holds the core while at least this share of it lies on the core's (dark) side of
the half-way value; under it the section is rim only (the smoothed liver's noise puts a few
pixels of a rim 2-3 noise SDs above the liver on the dark side)."""
CAP_GROWTH_MM = 0.5
"""Past the core a section's radius may exceed the one before by this much (a pixel's worth of
outline and the rays' noise), no more."""


def core_gone(values: np.ndarray, threshold_hu: float) -> bool:
    """Whether a section of a dark (necrotic-core) lesion holds no core any more: fewer than
    CORE_GONE_SHARE of its ``values`` (smoothed HU inside its outline) lie below
    ``threshold_hu``, the half-way value between core and liver."""
    if values.size == 0:
        return True
    return float(np.mean(values < threshold_hu)) < CORE_GONE_SHARE


def cap_widens(r_next_mm: float, r_prev_mm: float) -> bool:
    """Whether a section past the core (radius ``r_next_mm``, equivalent disk) is wider than the
    one before it (``r_prev_mm``) by more than CAP_GROWTH_MM: liver, not the lesion's cap."""
    return r_next_mm > r_prev_mm + CAP_GROWTH_MM
