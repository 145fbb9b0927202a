"""A dark result no flag warns of, most of whose tissue reads brighter than the liver: flagged as
not the dark tissue it was found by.

A region by value darker than the liver is found from the click's value and the liver's; its
rays cross thin septa and its edge moves out to a reader's margin, so a few of its pixels may
read as the liver does, but not most. IRCADb 07 (21.4 mm) on the stress bench's "necrotic core"
(an enhancing shell round the tumour's dark deep half, issue 11), census click (115, 151, 241)
on noise seed 6, lies in the dark core 2 mm from the shell: the region came back as a 14.8 mm
crescent along the core's upper edge reaching into the shell (Dice 0.31), unflagged, and
80 % of its pixels read at or above the liver's 134 HU on the smoothed slices (the click 68 HU,
the lesion's level read 104 HU, core and shell mixed; the enhancing tissue round it 44 % on its
slices, under ``darkpart_slices``' 50 %). None of the 45 module switches changes it: it comes
from the delineation itself.
On the census (thirtieth pass: noise seeds 3, 4, 6, tumours 02-07 on "noise 15/25/30 HU",
"necrotic core" and "necrotic 5 mm 25 HU", 20 clicks each, 1,800 clicks) the 370 otherwise
unflagged dark results read 0-3 % there but for two: this one, and 02 on "necrotic 5 mm 25 HU"
(noise seed 4), measured right, 44 % (on an arterial image a dark region may rightly hold part of
its enhancing rim). Results reading more were all flagged already.

Here an otherwise unflagged result by value darker than the liver is flagged when
:data:`MOSTLY` of its pixels, on the smoothed slices, read at or above the liver's value. Flag
only: no result changes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from lesion_tool.measurement.reseed import slice_patch

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement

ENABLED = True
"""Module switch: False leaves every result unflagged by this rule (its tests show it matters)."""
MOSTLY = 0.6
"""The share of the region's pixels at or above the liver's value that flags it: well over
half, as on an arterial image a dark region may rightly hold part of its enhancing rim (02 on
"necrotic 5 mm 25 HU", measured right: 44 %)."""
BRIGHT_NOTE = "most of this dark region reads as bright as the liver or brighter"
"""The start of the flag's text."""


def bright_share(volume: CTVolume, m: LesionMeasurement) -> float | None:
    """The share of ``m``'s pixels that read at or above the liver's value on the in-plane
    smoothed slices; None when ``m`` is not judged (not darker than the liver, or delineated by
    texture)."""
    from lesion_tool.measurement.segment import SMOOTH_SIGMA_MM

    e = m.evidence
    if e.texture_sd_hu is not None or e.contrast_hu >= 0 or not m.mask.any():
        return None
    pad = tuple(int(np.ceil(3 * SMOOTH_SIGMA_MM / float(s))) + 1 for s in volume.spacing_mm[1:])
    bright = total = 0
    for k in np.flatnonzero(m.mask.reshape(m.mask.shape[0], -1).any(axis=1)):
        p = slice_patch(volume, m, int(k), m.mask[k], SMOOTH_SIGMA_MM, (pad[0], pad[1]))
        values = p.plane[p.here]
        bright += int((values >= e.liver_hu).sum())
        total += values.size
    return bright / total


def flag_mostly_bright(volume: CTVolume, m: LesionMeasurement) -> LesionMeasurement:
    """``m`` with a flag when it is an unflagged dark region :data:`MOSTLY` of which reads at or
    above the liver's value; ``m`` itself otherwise."""
    if not ENABLED or m.flags or m.whole.length_mm <= 0:
        return m
    share = bright_share(volume, m)
    if share is None or share < MOSTLY:
        return m
    flag = (
        f"{BRIGHT_NOTE} ({100 * share:.0f}% at or above {m.evidence.liver_hu:.0f} HU): it may "
        "be the margin of a lesion or tissue beside it rather than the lesion; check the "
        "contour, or drag a line across the whole lesion"
    )
    return replace(m, flags=(*m.flags, flag))
