"""A click on one part of a heterogeneous lesion: the textured body around it is the lesion.

A lesion whose inside is a mottle of enhancing specks and darker necrosis (mean value about the
liver's, local SD about twice the parenchyma's) is delineated whole by texture when it is
clicked near its middle. Clicked off the middle, on one of its parts, the click reads that
part's value: a bright nodule at one end (IRCADb 04, 18.5 mm over Im 90-104: its top slices hold
a 5 mm focus at 160-250 HU, its bottom slices bright specks), a speck of liver-like tissue, or
the lesion's end slice with the tissue beyond. The region by value is then that part alone or
runs off with the end slice's neighbours (9.5-13.9 mm, or refused as a speck or as "stops at its
end"), whatever the image's noise or phase: the part is real, the lesion the reader pointed at
is the heterogeneous whole around it.

Here, when a click is refused as a speck or as a region that stops short of a larger one
(notwhole.py), the region by texture at the click is looked at (the delineation by local SD that
the lesion's middle gets). When it is a body of its own - seen on enough slices and over
:data:`MIN_BODY_MM`, closed at both ends and not running on through the slices
(:data:`NOT_A_BODY`), holding the click (:data:`~.driftclick.DRIFT_MM`) - it is the lesion
clicked, and is returned, flagged. On the lesion's end slice the thin section reads less mottled
than the liver's threshold for texture: when the click has no texture contrast at all, the body
is looked for at the same in-plane point on the slices within :data:`CAP_MM` (as capclick looks
under a cap): the nearest textured region decides, and must hold that point.

Refusals only: merged to look past flagged results too, it replaced IRCADb 06's flagged 9 mm
region on the arterial stand-in (10.0 mm) with a 16.5 mm textured body, and a synthetic sphere's
25.8 mm result on 2.5 mm slabs with a 104 mm one; a result by value, even flagged, is kept.

Plain liver has no such body: its local SD is the noise's (the texture delineation needs the
click's local SD at ``segment.TEXTURE_MIN_RATIO`` times the liver's), and the textured regions
found beside vessels and at the liver's surface run on through the slices or are open at an end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from lesion_tool.measurement.capclick import FEW_SLICES_FLAG
from lesion_tool.measurement.driftclick import DRIFT_MM, off_click
from lesion_tool.measurement.naming import slice_name
from lesion_tool.measurement.reseed import OPEN_END_FLAG, RUNS_ON_FLAG

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement, LesionPrompt

ENABLED = True
"""Module switch (A/B runs)."""

MIN_BODY_MM = 4.0
"""The textured body spans at least this much through the slices (a lesion's body, not a cap)."""
NOT_A_BODY = (RUNS_ON_FLAG, OPEN_END_FLAG, FEW_SLICES_FLAG)
"""Flags of a textured region that is no lesion's body: one running on through the slices (a
vessel's wall, a fissure), one widest on its last slice (open at an end: the liver's mottle
beside a vessel or a surface, where a lesion's sections close towards both its ends), or a
partial-volume sliver seen on too few slices. On the stress bench's plain-liver clicks
(seeds 1 and 3) the two textured regions that would have turned a refusal into a lesion were
both open at an end (14.6 and 20.4 mm); IRCADb 04's bodies close at both ends."""
CAP_MM = 3.5
"""A click on the lesion's end slice: its body is looked for on the slices within this (mm),
capclick's CAP_MM (one cap of partial volume)."""
TEXMIDDLE_FLAG = "delineated whole by texture around the click"

TexAt = Callable[["CTVolume", "LesionPrompt", object], "LesionMeasurement | None"]


def _holds(m: LesionMeasurement, seed: tuple[int, int, int], spacing_yx) -> bool:
    zi = seed[0] - m.offset[0]
    if not 0 <= zi < m.mask.shape[0]:
        return False
    d = off_click(m.mask[zi], seed[1] - m.offset[1], seed[2] - m.offset[2], spacing_yx)
    return d <= DRIFT_MM


def _body(tex: LesionMeasurement | None, slice_mm: float) -> bool:
    """``tex`` is a textured body of its own (see the module's docstring)."""
    if tex is None or any(f.startswith(NOT_A_BODY) for f in tex.flags):
        return False
    return np.count_nonzero(tex.mask.any(axis=(1, 2))) * slice_mm >= MIN_BODY_MM


def texture_body(
    volume: CTVolume,
    prompt: LesionPrompt,
    phase: object,
    seed: tuple[int, int, int],
    texture_at: TexAt,
) -> LesionMeasurement | None:
    """The textured body holding the click: by texture from the click, or, when the click has no
    texture contrast (a click on the lesion's end slice, whose thin section reads less mottled),
    from the same in-plane point on the slices within :data:`CAP_MM`: the nearest textured
    region, when it is a body holding the click's point there."""
    sp = tuple(float(s) for s in volume.spacing_mm)
    tex = texture_at(volume, prompt, phase)
    if tex is not None:
        # Texture at the click decides: a region there that is no body (a vessel's wall running
        # on, a sliver) is not looked past for another on the next slices.
        return tex if _body(tex, sp[0]) and _holds(tex, seed, sp[1:]) else None
    for k in range(1, max(1, int(CAP_MM / sp[0])) + 1):
        for step in (-k, k):
            z = seed[0] + step
            if not 0 <= z < volume.shape[0]:
                continue
            tex = texture_at(volume, replace(prompt, seed=(z, seed[1], seed[2])), phase)
            if tex is not None:
                # The nearest textured region decides, as at the click.
                ok = _body(tex, sp[0]) and _holds(tex, (z, seed[1], seed[2]), sp[1:])
                return tex if ok else None
    return None


def from_texture_middle(
    volume: CTVolume,
    prompt: LesionPrompt,
    phase: object,
    texture_at: TexAt,
) -> LesionMeasurement | None:
    """The heterogeneous lesion round ``prompt``'s refused click, delineated by texture, or None
    (see the module's docstring)."""
    if not ENABLED or prompt.seed is None or prompt.line is not None:
        return None
    seed = tuple(round(v) for v in prompt.seed)
    tex = texture_body(volume, prompt, phase, seed, texture_at)
    if tex is None:
        return None
    note = (
        f"{TEXMIDDLE_FLAG} (the click on {slice_name(volume, seed[0])} was refused, on one part "
        "of it); check that this is the lesion clicked"
    )
    return replace(tex, flags=(note, *tex.flags), seed_voxel=seed)


__all__ = ["ENABLED", "from_texture_middle", "texture_body"]
