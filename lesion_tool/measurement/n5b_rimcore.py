"""A click on a necrotic lesion's rim on a slab: click again on the dark core its own region
holds (issue 11, w21-n5big).

``necro_rimclick.follow_necrosis`` measures a flagged enhancing region again from a dark core
beside it (its rim's region held between the liver and the core), and an unflagged one from a
dark core inside its own outline (``lesvessel_rimcore``, thin slices only). On a thick slab the
rays' region from a click in a necrotic lesion's rim crosses the seam (averaged with the rim
above and below, the seam reads between liver and rim) and takes the core inside its outline
on the click's slab, yet stops on the next slab, where the rim is fainter and the core wider:
the region is flagged (a vessel-like tube, widest on its last slice) and no core lies beside it,
so it is kept. The core inside it was not looked at.

IRCADb given a necrotic core on 5 mm slabs with 25 HU noise (the stress bench's "necrotic 5 mm
25 HU"), random clicks in the rim, measured before this rule:

- 02 (27.8 mm, against the bowel; liver 112 HU, rim 147-152 HU): the click's region (24.2-25.1
  mm on slices 25-26, flagged) holds inside its outline a core of 37-47 HU (smoothed), 65-75
  HU under the liver, on slice 25; the expert's widest slice (24, 27.0 mm: a full ring of 130-165
  HU round a 45-60 HU core, its far arc only 116-135 HU against the liver's 117-120) is missing
  from it, and the 3-D refinement then cut the region's tongue into the bowel: 20.6-21.3 mm.
  The only dark tissue beside the region is the bowel (49-67 HU, 2 tries: refused). Clicked
  again at the core inside: 26.5-27.1 mm, the core's whole (seeds 0 and 4: 27.4 / 28.2 mm).
- 01 (78.2 mm, at the liver surface; liver 125 HU, rim 156 HU): the click's region (68.3 mm,
  flagged) holds its core (64-72 HU, 53-61 HU under the liver) on slices 21-22; the dark tissue
  beside it is the abdominal wall's (38 HU: refused). From the core: 76.1 mm (seed 4: 67.4 ->
  71.6 mm reported).

So on slabs (``segment.SLAB_MM`` or more), a flagged enhancing region's own inner core
(``lesvessel_rimcore.inner_core_clicks``: tissue ``seam.CORE_MARGIN_HU`` darker than the liver,
no fat near, at least ``necro_rimclick.CORE_MIN_DEPTH_MM`` deep, inside the outline with holes
filled) is tried after the cores beside it, with ``follow_necrosis``'s own test of the result:
the core's rule outlined the whole (a rim closing round the core), it holds the reader's click
and it is longer than the region.

Why it holds on another patient: a region grown by value from enhancing tissue stops where the
value falls to the liver's, so tissue far darker than the liver deep inside its outline is not
liver: it is necrosis inside the tumour (or a vessel's or fissure's fat, which the fat test
excludes), and the core's rule, not this one, decides whether an enhancing rim closes round it.
Why ``lesvessel_rimcore`` left slabs out: for an *unflagged* region the slab's partial volume
spreads the core's whole (IRCADb 05 on 5 mm: 35.8 mm from its core for 31.8, 32.4 mm by value);
here only regions already in doubt, and not already a core's whole, are measured again: 05's
flagged rim clicks moved by +0.4 to +2.2 mm, none into or out of the tolerance (seeds 0, 1, 3,
4). Stress bench (necrotic 5 mm 25 HU, within of 28), seeds 0 / 1 / 3 / 4: 18 / 19 / 21 / 16
-> 19 / 19 / 21 / 18, no new miss, the no-tumour clicks' outcomes the same click by click.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lesion_tool.measurement.lesvessel_rimcore import inner_core_clicks
from lesion_tool.measurement.seam import is_core_whole

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement

ENABLED = True
"""Whether a flagged enhancing region on slabs is clicked again at the dark core it holds."""


def slab_core_clicks(
    volume: CTVolume,
    m: LesionMeasurement,
    tried: list[tuple[tuple[int, int, int], float]],
) -> list[tuple[tuple[int, int, int], float]]:
    """The deepest points of the dark core inside ``m``'s own outline on slabs
    (:func:`lesion_tool.measurement.lesvessel_rimcore.inner_core_clicks` with ``slabs``), those
    not in ``tried`` already; empty on thin slices (the unflagged rule covers them), for a region
    that is already a core's whole (its flags say so: the core inside it is the one it was
    measured from, as ``seam``'s whole from a core beside the click) or when switched off."""
    from lesion_tool.measurement.segment import SLAB_MM

    if not ENABLED or volume.spacing_mm[0] < SLAB_MM:
        return []
    if is_core_whole(m):
        return []
    return [c for c in inner_core_clicks(volume, m, slabs=True) if c not in tried]
