"""Off the arterial phase, a brighter band round a dark lesion with no liver beyond it is a halo.

``segment._necrotic_whole`` reads a dark region by value with enhancing tissue round most of it
(``necrosis.enhancing_rim``: a bump above the liver's value within RIM_SEARCH_MM of its edge) as
the necrotic core of a larger lesion, and delineates the whole, core and rim, by the rim's value.
On a portal-venous image a hypo-attenuating lesion is often ringed by brighter parenchyma
(perilesional enhancement, compressed liver, a lobe brighter than the commonest value), and the
"rim" is then that liver: its value does not stop at the lesion's border and the whole grows into
the liver round it.

What the image shows (IRCADb 05, 32.5 mm, portal-venous, hypo-attenuating with a brighter halo):
- "original" / "noise 15 HU", seed 8, click (114, 219, 200) at 87 HU: the region by value is
  33.5 mm (the lesion: mean 77 HU, liver 117 HU). Round it, on the click's slice, the liver reads
  120-140 HU above the lesion and a 150-170 HU halo on its right; ``enhancing_rim`` sees "rim"
  (142 HU) in 61 % of the directions, and the whole by 142 HU takes in 571-636 px of that liver
  on slices 113-114 (41.1 / 40.4 mm there against the expert's 31.5 / 31.0): 41.6 mm.
- the same lesion on "2.5 mm", seed 8 (72, 234, 227) and seed 9 (74, 240, 217): dark cores of
  32 / 30 mm, whole by the "rim" 47.3 / 49.2 mm.
8-16 mm out of the dark region (``necrosis.RIM_BEYOND_MM``) the tissue there is the same brighter
liver, not the liver's value with the rim standing out from it.

The rule: off the arterial phase, the rim must be a band with the liver beyond it
(``neccore_band.rim_is_band``: in RIM_ENCLOSE_SHARE of the directions, tissue 8-16 mm out reads
as the liver and the rim stands out from it). When it is not, the dark region is the lesion; it
is returned flagged (the note says a brighter ring was seen and not taken as rim). On the arterial
phase a necrotic HCC's viable rim is the lesion and its liver may be heterogeneous: the band test
there lost wholes on necrotic core (``neccore_band``'s docstring), so it is not applied there,
nor when the phase is unknown (the caller passes ``arterial`` True then).

Thresholds: none of its own (``neccore_band.rim_is_band``: RIM_BEYOND_MM 8-16 mm, the rim margin,
RIM_ENCLOSE_SHARE 0.5). A rim thicker than 8 mm off the arterial phase would read as a halo here
and its dark core be returned, flagged: no such lesion in the bench (necrotic variants are all
arterial); the flag then says to check the contour.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lesion_tool.measurement.neccore_band import rim_is_band

__all__ = ["ENABLED", "HALO_NOTE", "halo_not_rim"]

ENABLED = True
"""Module switch (A/B measurement)."""

HALO_NOTE = (
    "brighter tissue rings the dark region ({rim:.0f} HU against the liver's {liver:.0f} HU) "
    "but reads the same further out: a halo of brighter liver, not a necrotic lesion's rim; "
    "the dark region is measured, check the contour"
)
"""Flag added to the dark region kept (formatted with the rim's and liver's values)."""


def halo_not_rim(
    arterial: bool,
    plane: np.ndarray,
    core: np.ndarray,
    liver_hu: float,
    noise_sd_hu: float,
    spacing_yx: Sequence[float],
) -> bool:
    """Whether the enhancing rim found round the dark ``core`` (boolean ``(y, x)`` on the
    smoothed ``plane``) on a non-``arterial`` image is a halo of brighter liver rather than a
    rim: it is not a band with liver at ``liver_hu`` beyond it (see the module docstring).
    False when ``arterial`` (the arterial phase, or a phase not known) and when the switch is
    off."""
    if not ENABLED or arterial:
        return False
    return not rim_is_band(plane, core, liver_hu, noise_sd_hu, spacing_yx)
