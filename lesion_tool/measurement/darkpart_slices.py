"""A dark result no flag warns of, with enhancing tissue round much of it on one of its slices:
flagged as possibly a part of a larger lesion.

A dark region by value that enhancing tissue closes round part-way is judged on the click's slice
(``segment._necrotic_whole``): with enhancing tissue in :data:`~.necrosis.RIM_PARTIAL_SHARE` of
the directions or more it is flagged as possibly the necrotic core or dark part of a larger
lesion, and on a portal-venous image the textured body round it is measured instead
(``t4t_darkpart``). IRCADb 04 (18.5 mm) is a mottled nodule: a dark patch of 60-90 HU beside
enhancing specks and a crescent of 140-165 HU in tissue of the liver's value. On the click-position
census of the stress bench (issue 11, twenty-ninth pass, noise seed 6, "noise 30 HU") its click
(100, 244, 198) on that patch came back 9.5 mm, Dice 0.12, with no flag at all: on the click's
slice enhancing tissue closes round 39 % of the patch, under the 40 % that flags it; on the
patch's other slices 42-56 %.

Here a result by value darker than the liver and otherwise unflagged is judged on each slice of
its body (sections at least :data:`BODY_SHARE` of its widest) as segment judges the click's slice;
when enhancing tissue closes round :data:`~.necrosis.RIM_ENCLOSE_SHARE` of it on any of them (the
share at which segment takes a dark region for the core of a larger lesion; the partial share,
40 %, flagged IRCADb 05's right result from its deepest point on the original image, 42 % on Im
116, where vessels run round it), it is flagged. Flag only: no result changes; a result flagged
already is left as it is. (07 on "necrotic core", (115, 151, 241), 14.8 mm for 21.4 unflagged on
the same census, reads 44 % and stays unflagged.)
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from lesion_tool.measurement.naming import slice_name
from lesion_tool.measurement.necrosis import RIM_ENCLOSE_SHARE, RIM_SEARCH_MM, enhancing_rim
from lesion_tool.measurement.reseed import slice_patch

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement

ENABLED = True
"""Module switch: False leaves every result unflagged by this rule (its tests show it matters)."""
BODY_SHARE = 0.5
"""The slices judged: the region's sections at least this share of its widest (its end slices'
small sections read their partial-volumed edge)."""
DARKPART_NOTE = "enhancing tissue closes round part of this dark region"
"""The start of the flag's text."""


def rim_share(volume: CTVolume, m: LesionMeasurement) -> tuple[int, float] | None:
    """The volume slice of ``m``'s body on which enhancing tissue closes round the largest share
    of its section, and that share (``necrosis.enhancing_rim``); None when ``m`` is not judged
    (not darker than the liver, or delineated by texture) or no slice has any."""
    from lesion_tool.measurement.segment import SMOOTH_SIGMA_MM

    e = m.evidence
    if e.texture_sd_hu is not None or e.contrast_hu >= 0 or not m.mask.any():
        return None
    areas = m.mask.reshape(m.mask.shape[0], -1).sum(axis=1)
    pad = tuple(int(np.ceil((RIM_SEARCH_MM + 3 * SMOOTH_SIGMA_MM) / float(s))) + 1 for s in
                volume.spacing_mm[1:])  # fmt: skip
    best: tuple[int, float] | None = None
    for k in np.flatnonzero(areas >= BODY_SHARE * areas.max()):
        p = slice_patch(volume, m, int(k), m.mask[k], SMOOTH_SIGMA_MM, (pad[0], pad[1]))
        rim = enhancing_rim(p.plane, p.here, e.liver_hu, e.noise_sd_hu, p.spacing_yx)
        if rim is not None and (best is None or rim.share > best[1]):
            best = (p.z, float(rim.share))
    return best


def flag_dark_part(volume: CTVolume, m: LesionMeasurement) -> LesionMeasurement:
    """``m`` with a flag when it is an unflagged dark region with enhancing tissue round
    :data:`~.necrosis.RIM_ENCLOSE_SHARE` of it on a slice of its body; ``m`` itself otherwise."""
    if not ENABLED or m.flags or m.whole.length_mm <= 0:
        return m
    found = rim_share(volume, m)
    if found is None or found[1] < RIM_ENCLOSE_SHARE:
        return m
    z, share = found
    flag = (
        f"{DARKPART_NOTE}: {100 * share:.0f}% of it on {slice_name(volume, z)}: it may be a "
        "necrotic core or a dark part of a larger lesion, and the diameter short; check the "
        "contour, or drag a line across the whole lesion"
    )
    return replace(m, flags=(*m.flags, flag))
