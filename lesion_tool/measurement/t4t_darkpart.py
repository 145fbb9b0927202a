"""A dark part of a mottled lesion clicked on a portal-venous image: its textured body.

IRCADb tumour 04 (18.5 mm over Im 90-104 of 1.6 mm slices) is a mottled nodule, not a necrotic
lesion with a rim: on its middle slices (Im 99-101, smoothed 1.5 px) it holds a dark patch of
62-90 HU about 8 mm across, off-centre, beside enhancing parts of 140-165 HU on one side and
liver-valued tissue of 100-130 HU on the other (the liver around it 110-120 HU); its mean is the
liver's (119 HU) and its local SD twice the liver's. A random click in that patch (seed 7,
(99, 235, 193), 92 HU smoothed, inside the expert mask on its widest slices) grows the patch by
value alone: 8.3-9.5 mm for 18.5 on the original and the three noise variants (all four
misses on seed 7), flagged "delineated a dark region (8 mm, 85 HU) with enhancing tissue
(145 HU, liver 117 HU) around 58% of it: it may be the necrotic core of a larger lesion". The
whole by the rim's value and by the rim's outer edge were tried (segment's necrotic-core step)
and neither holds the patch: the bright tissue is specks and a crescent, not a band round it.
The lesion's textured body at the same click (the texture delineation a click in its middle
gets) is 20.4 mm (Im 96-102), holding the whole patch.

So on a non-arterial image, a click's region by value flagged as possibly a necrotic core whose
whole was not found (segment's ``MAYBE_CORE_NOTE`` flag) gives way to the textured body at the
click (``t04r_texmiddle.texture_body``: seen on enough slices, closed at both ends, not running
on, holding the click) when that body is the lesion the dark region is a part of:

* it holds :data:`HOLD_SHARE` of the dark region's voxels (the patch is inside the lesion; a
  texture region beside it, the liver's mottle next to a cyst or a dark vessel, holds little);
* it is :data:`GROWTH` times longer than the dark region (a part is smaller than its lesion);
* its rays did not run to the search limit (a body not closed in-plane).

Why it holds on other patients: a hepatocellular carcinoma on the portal-venous phase is often
mosaic (necrosis, fat, viable nodules, washout); a dark part with bright tissue on some sides
and a liver-valued mottle on others is the part the reader clicked of a lesion that the texture
outlines whole. A cyst or a plain hypo-attenuating lesion has no textured body around it (its
inside is smooth and the liver around is the noise's texture), and a true necrotic core inside
a band-like rim is measured whole by the rim before this step is reached. Arterial images are
left alone (there the rim's own steps judge a dark region with enhancing tissue around it).
The result is flagged (:data:`DARKPART_FLAG`) with the dark region's diameter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from lesion_tool.measurement.r01_lineends import MAYBE_CORE_NOTE
from lesion_tool.measurement.reseed import common_box
from lesion_tool.measurement.t4p_brightpart import TexAt, body_for_part

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement, LesionPrompt

ENABLED = True
"""Module switch (A/B runs)."""

GROWTH = 1.5
"""The body's diameter at least this times the dark region's: a part well inside its lesion
(04: 20.4 mm for 8.3-9.5)."""
HOLD_SHARE = 0.8
"""The share of the dark region's voxels the body must hold (the part lies in the lesion)."""
DARKPART_FLAG = "the click fell on a dark part of a mottled lesion"


def _triggered(m: LesionMeasurement) -> bool:
    """``m`` is a region by value flagged as a dark region that may be a necrotic core."""
    if m.evidence.texture_sd_hu is not None or m.evidence.contrast_hu >= 0:
        return False
    return any(f.startswith(MAYBE_CORE_NOTE) for f in m.flags)


def held_share(part: LesionMeasurement, body: LesionMeasurement) -> float:
    """Share of ``part``'s voxels that ``body``'s region holds."""
    n = int(np.count_nonzero(part.mask))
    boxes = common_box(part, body)
    if n == 0 or boxes is None:
        return 0.0
    sa, sb = boxes
    return int(np.count_nonzero(part.mask[sa] & body.mask[sb])) / n


def body_of_dark_part(
    volume: CTVolume,
    prompt: LesionPrompt,
    arterial: bool,
    phase: object,
    first: LesionMeasurement,
    texture_at: TexAt,
) -> LesionMeasurement:
    """``first``, or the textured body of which its dark region is a part (see the module's
    docstring), flagged."""
    if not ENABLED or not _triggered(first):
        return first

    def accepts(body: LesionMeasurement) -> bool:
        growth = body.whole.length_mm / max(first.whole.length_mm, 1e-6)
        return growth >= GROWTH and held_share(first, body) >= HOLD_SHARE

    note = (
        f"{DARKPART_FLAG} ({first.whole.length_mm:.1f} mm, dark with enhancing tissue on some "
        "sides): measured the mottled tissue around it by texture; check that this is the "
        "lesion clicked"
    )
    return body_for_part(volume, prompt, arterial, phase, first, texture_at, accepts, note)


__all__ = ["DARKPART_FLAG", "ENABLED", "body_of_dark_part", "held_share"]
