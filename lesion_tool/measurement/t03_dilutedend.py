"""A click again beyond the region's end that lands on the lesion's diluted end slab is not kept.

:func:`~lesion_tool.measurement.reseed.follow_open_end` clicks again one slice beyond a region
that is widest on its last slice and keeps the new region when it is the same lesion and
longer. It was made for a click on the lesion's cap, whose diluted value stops the region short
of the body. On slabs the opposite also happens: the reader clicks the lesion's body, the region
is widest on its last slab because the lesion's widest section lies there, and the slab beyond
is the lesion's end, averaged with the liver above or below. The new click measures that
diluted value, its threshold lies close to the liver's, and the region grown from it is set by
the noise and by whatever liver-bright tissue touches it, not by the lesion's border.

Seen on IRCADb tumour 03 (23.2 mm, expert slabs 28-31: 12.8, 20.8, 23.2, 16.1 mm) made
hyper-enhancing in 5 mm slabs with 25 HU of noise:

- seed 9, random click (29, 133, 271): the region from the click reads lesion 172 HU against
  liver 125 (47 HU) and measures 21.3 mm on slabs 29-30 (within). The click again on slab 28
  reads 137 against 123 HU (14 HU, 0.30 of the first's contrast; its own flag says the lesion
  reads 178 HU on slab 29 against 137 at the click, the slab's partial volume), grows to
  29.6 mm, and the next on slab 27 (129 against 119 HU, 10 HU) to 41.1 mm: a leak into the
  liver round the lesion's end, 18 mm over (flagged, border uncertain by +-13 mm).
- seed 7, deepest point (30, 143, 268): the region reads 174 against 125 HU (49 HU), 20.2 mm.
  The click again on slab 28 reads 141 against 125 HU (16 HU, 0.33) and measures 20.2 mm too
  (a hair longer, so kept); its low contrast then sends it to the 3-D refinement, which cuts it
  to 19.0 mm (a miss; the first region is within).

The lesion's body (47-49 HU of contrast) and its end slab (14-16 HU) differ threefold; a
re-click on the lesion's own body or on its cap's continuation reads a contrast like the first
region's (IRCADb 02 and 05 on the same slabs: 0.7-1.2 of it). Here, on slabs (``SLAB_MM`` or
thicker: the dilution is the slab's partial volume), when the new region was delineated by value
(as the region it would replace), its contrast is under ``CONTRAST_SHARE`` of that region's and
it is ``GROWTH`` times as long (a lesion's end slab holds a smaller section than its body: a
region from it much longer than the body's runs past the lesion), the region found so far is
kept and no further click is made. Without the length gate the rule also dropped re-click
regions about as long as the first (IRCADb 07 and 03 on "hyper 5 mm 25 HU" seed 8, 1.0-1.2
times): those hold the lesion's next slab, and one of them (07, 18.4 mm, within) became a miss
(17.7 for 20.9). The new region is only dropped,
never turned into a refusal; the region kept is the one found so far, with its own flags.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement

ENABLED = True
"""Module switch: off, a re-click's region is judged as before whatever its contrast."""

CONTRAST_SHARE = 0.5
"""A new region reading under this share of the contrast (lesion against liver, HU) of the
region it would replace lies on the lesion's diluted end slab (IRCADb 03: 0.30-0.33; the same
lesion's body or cap continuation 0.7-1.2)."""

GROWTH = 1.3
"""... and is dropped when it is also this many times as long as that region: a lesion's end
slab holds a smaller section than its body, so a region grown from it that is much longer than
the body's is running past the lesion (IRCADb 03 seed 9: 29.6 for 21.3 mm, 1.39; 06: 16.5 for
9.9, 1.67, and 14.7 for 8.5, 1.73). A diluted end's region about as long as the body's may
hold the lesion's next slab and is judged as before (IRCADb 07 hyper 5 mm seed 8: 18.7 for
18.6 mm, within either way before the refinement, 17.7 when dropped; 03 seed 8: 24.7 for
about 20.5, within, 20.3-20.7 when dropped)."""


def _contrast(m: LesionMeasurement) -> float:
    """The region's contrast (HU) against the liver, by value."""
    return abs(float(m.evidence.lesion_hu) - float(m.evidence.liver_hu))


def on_diluted_end(volume: CTVolume, best: LesionMeasurement, new: LesionMeasurement) -> bool:
    """Whether ``new``, found by clicking again beyond ``best``'s widest end slice, is the
    lesion's diluted end slab rather than more of the lesion (see the module's docstring)."""
    from lesion_tool.measurement.segment import SLAB_MM

    if not ENABLED or float(volume.spacing_mm[0]) < SLAB_MM:
        return False
    if best.evidence.texture_sd_hu is not None or new.evidence.texture_sd_hu is not None:
        return False  # texture's contrast is of local SD, not of value
    longer = new.whole.length_mm > GROWTH * best.whole.length_mm
    return longer and _contrast(new) < CONTRAST_SHARE * _contrast(best)


__all__ = ["CONTRAST_SHARE", "ENABLED", "GROWTH", "on_diluted_end"]
