"""A click on a mottled lesion's end slice whose region drifted off it: the textured body there.

IRCADb tumour 04 (18.5 mm over Im 90-104 of 1.6 mm slices, mean value the liver's, local SD
about twice the liver's) clicked on its last slice (seed 9's random click (104, 240, 201), 117 HU
raw, 116-140 HU smoothed round it against a liver of ~115 HU; the expert mask is 9.8 mm wide
there) reads like the liver: the region by value grown from it runs out into the parenchyma and
its outline moves 6 mm off the click (driftclick refuses it: ``Drifted``, a ``LiverValue``).
Capclick then looks for a lesion *by value* under the click on the next slices and finds none
(the lesion's mean there is the liver's too), and on a non-arterial image the refusal is final:
"No lesion at voxel (104, 240, 201): the region grown from it lies 6 mm away from the click"
(original and noise 15 on seed 9, both refused).

The same lesion is found by texture: ``t04r_texmiddle.texture_body`` (the texture delineation a
click in 04's middle gets; on the end slice the thin section reads less mottled than the
liver's threshold, so the body is looked for at the click's in-plane point on the slices within
a cap, here two slices up, Im 102) gives a 16.8 mm body holding the click's point: within
18.5 +- 3. t04r_texmiddle applies it to the refusals "not whole" and "speck" only; a refusal as
``Drifted`` is the same situation on a lesion's end slice (the click is on one part of the
lesion, whose value is that of a wider stretch of tissue), so on a non-arterial image that
refusal is given the same chance: the textured body, when it is one (seen on enough slices,
closed at both ends, not running on, holding the click's point: texture_body's checks), is
returned, flagged (t04r's flag, and :data:`DRIFTBODY_FLAG` first).

Why it holds on other patients: an HCC on the portal-venous phase is often iso-attenuating and
mosaic; a click on its end slice reads like the liver, the value-based region spreads into the
parenchyma, and only the texture tells the lesion from the liver. Plain liver has no textured
body (its local SD is the noise's; the texture delineation needs the click's local SD at
``segment.TEXTURE_MIN_RATIO`` times the liver's), and the textured regions beside vessels and at
the liver's surface run on through the slices or are open at an end (t04r's ``NOT_A_BODY``).
Arterial images keep their own drift steps (smallles_blob, t06_ringclick, n5s_slabring).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from lesion_tool.measurement.t04r_texmiddle import TexAt, from_texture_middle

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement, LesionPrompt

ENABLED = True
"""Module switch (A/B runs)."""

DRIFTBODY_FLAG = "the click's region by value drifted off it into the liver"


def body_of_drifted(
    volume: CTVolume,
    prompt: LesionPrompt,
    arterial: bool,
    phase: object,
    texture_at: TexAt,
) -> LesionMeasurement | None:
    """The textured body round a click refused as drifted on a non-arterial image, flagged, or
    None (see the module's docstring)."""
    if not ENABLED or arterial:
        return None
    found = from_texture_middle(volume, prompt, phase, texture_at)
    if found is None:
        return None
    note = f"{DRIFTBODY_FLAG}: measured the textured body there instead"
    return replace(found, flags=(note, *found.flags))


__all__ = ["DRIFTBODY_FLAG", "ENABLED", "body_of_drifted"]
