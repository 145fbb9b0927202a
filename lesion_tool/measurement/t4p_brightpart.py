"""A bright part of a mottled lesion clicked on a portal-venous image: its textured body.

IRCADb tumour 04 (18.5 mm over Im 90-104 of 1.6 mm) is a mottled nodule: a core 80-105 HU with
bright specks of 150-250 HU and a faint ring, its mean about the liver's (113-119 HU on its middle
slices, liver 113-115) but brighter towards its ends (Im 102-104: mean 128-136 HU, a focus of
180-260 HU at (103, 239, 197)). A random click on those end slices reads the bright part: the
region grown by value is that part alone, flagged "hyper-attenuating on a non-arterial image"
(and seen on 2 slices, widest on its last one, or of low contrast), 7.2-13.5 mm for 17.3-18.5.
On the main code before this rule (seeds 3, 4 and 6, the original, 2.5 mm and three noisy
variants) such clicks were 12 of 04's 22 misses; the same click fails on the original and all
three noise variants: seed 4 (104, 240, 203) 13.3 / 13.3 / 10.3 / 10.1 mm, seed 6
(101, 247, 198) 7.9 / 7.9 / 8.1 / 9.8 mm, seed 3 (103, 239, 197) 12.7 / 10.9 mm on noise 25 / 30.

What the image shows around such a part: not liver (vesselclick's ring test finds no
hypo-attenuating wrap: the tissue around is as bright on average as the liver), but tissue twice
as mottled (local SD 30-40 HU against the liver's 18-22): the lesion's textured body, which the
texture delineation (the one a click in the lesion's middle gets) outlines whole: 16.8 mm from
the seed-4 click, 15.7 from the seed-3 one (18.5), 15.1 from the seed-6 one.

Here, on a non-arterial image, a click's region delineated by value and flagged as bright there
(on a portal-venous image a hepatocellular carcinoma washes out; a bright focus is contrast in
a vessel or a part of a heterogeneous lesion), not flagged as a vessel nor running on, gives
way to the textured body at the click (``t04r_texmiddle.texture_body``: seen on enough slices,
closed at both ends, not running on, holding the click's in-plane point) when the body is the
lesion of which the bright region is a part:

* it is :data:`GROWTH` times longer than the part (a part is smaller than its lesion), and
* it reaches :data:`BEYOND_MM` or more through the slices past the part (the part is one end of
  the lesion: 6.4-8.0 mm past it on 04; the body found beside a vessel clicked in plain liver,
  10.7 mm from a 9.2 mm bright region, lies on the very same slices and is not taken);
* its rays did not run to the search limit (a body not closed in-plane: beside a vessel
  clicked in plain liver on 5 mm slabs, seed 3 (32, 299, 154), the bright region's 14.4 mm gave
  way to a 110.5 mm textured region).

A bright speck in plain liver has no textured body around it (its local SD is the noise's), and
a vessel's region runs on or is flagged as one. Arterial images are left alone: there a bright
region is the enhancing lesion itself. The result is flagged (:data:`BRIGHTPART_FLAG`) with the
part's diameter: it was measured by texture, from a click on a part of the lesion.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from lesion_tool.measurement.reseed import RUNS_ON_FLAG, slice_span
from lesion_tool.measurement.t04r_texmiddle import CAP_MM, TexAt, texture_body
from lesion_tool.measurement.t4x_slabreach import encloses_part, past_end_sliver
from lesion_tool.measurement.vesselclick import HYPER_FLAG, VESSEL_FLAGS

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement, LesionPrompt

ENABLED = True
"""Module switch (A/B runs)."""

GROWTH = 1.1
"""The body's diameter at least this times the part's (a part is smaller than its lesion)."""
BEYOND_MM = 3.0
"""The body reaches at least this far (two 1.6 mm slices) through the slices past the part's
last slice on one side: the part is an end of the lesion, whose body goes on."""
BRIGHTPART_FLAG = "the click fell on a bright part of a mottled lesion"


def _triggered(m: LesionMeasurement) -> bool:
    if m.evidence.texture_sd_hu is not None:
        return False
    if not any(f.startswith(HYPER_FLAG) for f in m.flags):
        return False
    return not any(f.startswith((*VESSEL_FLAGS, RUNS_ON_FLAG)) for f in m.flags)


def _beyond_mm(part: LesionMeasurement, body: LesionMeasurement, slice_mm: float) -> float:
    """How far (mm) the body reaches through the slices past the part, on its farther side."""
    zb, zp = slice_span(body), slice_span(part)
    if zb is None or zp is None:
        return 0.0
    return max(zp[0] - zb[0], zb[1] - zp[1], 0) * slice_mm


def closed_body(
    volume: CTVolume,
    prompt: LesionPrompt,
    phase: object,
    seed: tuple[int, int, int],
    texture_at: TexAt,
) -> LesionMeasurement | None:
    """The textured body holding the click (:func:`.t04r_texmiddle.texture_body`) when it is
    closed, else None: one whose rays ran to the search limit is no body (a no-tumour click
    beside a vessel on 5 mm slabs, seed 3: 14.4 mm -> 110.5 mm before this test). Shared by the
    bright-part and dark-part rules (``t4t_darkpart``)."""
    body = texture_body(volume, prompt, phase, seed, texture_at)
    if body is None:
        return None
    from lesion_tool.measurement.segment import SEARCH_LIMIT

    if any(SEARCH_LIMIT in f for f in body.flags):
        return None
    return body


def body_for_part(
    volume: CTVolume,
    prompt: LesionPrompt,
    arterial: bool,
    phase: object,
    first: LesionMeasurement,
    texture_at: TexAt,
    accepts: Callable[[LesionMeasurement], bool],
    note: str,
) -> LesionMeasurement:
    """The closed textured body holding a click (:func:`closed_body`) in place of ``first``, a
    part of it, when ``accepts(body)``: on a non-``arterial`` image, for a click (not a line),
    flagged with ``note``; else ``first``. Shared by the bright-part and dark-part rules, which
    differ in what triggers them and what they accept."""
    if arterial or prompt.seed is None or prompt.line is not None:
        return first
    seed = tuple(round(v) for v in prompt.seed)
    body = closed_body(volume, prompt, phase, seed, texture_at)
    if body is None or not accepts(body):
        return first
    return replace(
        body,
        flags=(note, *body.flags),
        seed_voxel=seed,
        time_s=first.time_s + body.time_s,
    )


def body_of_part(
    volume: CTVolume,
    prompt: LesionPrompt,
    arterial: bool,
    phase: object,
    first: LesionMeasurement,
    texture_at: TexAt,
) -> LesionMeasurement:
    """``first``, or the textured body of which its bright region is a part (see the module's
    docstring), flagged."""
    if not ENABLED or not _triggered(first):
        return first
    from lesion_tool.measurement.segment import SLAB_MM

    slice_mm = float(volume.spacing_mm[0])

    def accepts(body: LesionMeasurement) -> bool:
        growth = body.whole.length_mm / max(first.whole.length_mm, 1e-6)
        if growth < GROWTH:
            return False
        if _beyond_mm(first, body, slice_mm) >= BEYOND_MM:
            return True
        # ...or, on slabs, one slab past the part on both sides (t4x_slabreach.py).
        zb, zp = slice_span(body), slice_span(first)
        return zb is not None and zp is not None and encloses_part(zp, zb, slice_mm, SLAB_MM)

    note = (
        f"{BRIGHTPART_FLAG} ({first.whole.length_mm:.1f} mm, bright on a non-arterial image): "
        "measured the mottled tissue around it by texture; check that this is the lesion clicked"
    )
    if prompt.seed is not None:
        # On 2.5 mm slabs a one-slab sliver at the click is the end slab's (t4x_slabreach.py).
        seed = tuple(round(v) for v in prompt.seed)
        texture_at = past_end_sliver(texture_at, seed, slice_mm, SLAB_MM, CAP_MM)
    return body_for_part(volume, prompt, arterial, phase, first, texture_at, accepts, note)


__all__ = [
    "BRIGHTPART_FLAG",
    "ENABLED",
    "TexAt",
    "body_for_part",
    "body_of_part",
    "closed_body",
]
