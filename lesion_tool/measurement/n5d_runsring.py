"""A click's region that runs on through the slabs, where a small ring closes round a dark core
at the click: the lesion is the ring's (issue 11, w22-n5).

``t06_ringclick`` and ``n5s_slabring`` read a small necrotic lesion by its ring (a bright rim
closed round a dark core, in 7 of 8 directions, on its slab) when the click is refused for its
value. A click in the core may instead read a few HU under the liver and grow a region by value
that does not stop at the lesion: on a 5 mm slab the core, averaged with the rim above and below,
is only 5-10 HU darker than the liver, and parenchyma of that value (the dome's thin liver
averaged with the lung, or the liver's own perfusion differences) runs on from it through the
slabs. IRCADb 06 given a necrotic core on 5 mm slabs with 25 HU noise (9.8 mm expert, slabs 34
and 35: core 106 HU, rim 115 HU (p90 120), liver 105 HU on slab 34), clicked at its deepest
point on seed 6 (97 HU): the region by value (low contrast: 97 against 105 HU) spans slabs 34-37,
20 mm through the slices for a lesion two slabs deep, 26.6 mm wide on slab 35 where the expert's
lesion is 7.2 mm: 27.5 mm, flagged "runs on through the slices". At the same click the ring rule
(``n5s_slabring.ring_near_click``) finds the rim (116 HU) closing round a 4 mm core against
101 HU beyond: 11.4 mm, the same result the same seed's two random clicks in the lesion got
through the refusal path.

So on slabs (``ring.THICK_SLAB_MM`` or more), on an arterial image, a click whose region by value
was flagged as running on through the slices beyond its width (``reseed.RUNS_ON_FLAG``: the
delineation itself says it is a vessel or an organ, not a lesion) is looked at with the ring rules,
in the refusal path's order (``t06_ringclick.ring_lesion`` and then
``n5s_slabring.ring_near_click``); their result replaces the region only when it is at most
:data:`MAX_SHARE` of it (the region ran well past the ring, not the reverse) and the click lies
inside the ring's outline (the ring rules' own test). A rough line is not looked at (it gives the
lesion's extent; a version looking from the line's middle, the ring agreeing with the line, fired
on no line of the five development seeds once MAX_SHARE held: seed 6's line across 06, 15.8 mm,
keeps its region). It stays flagged (the ring's flag, and this rule's note with the region's
length).

Why it holds on another patient: a lesion is about as deep as it is wide; a region that runs on
through the slices beyond its width has left it, and a closed enhancing ring round a dark core
holding the click is a necrotic nodule's own sign, which plain liver and vessels do not show
(the ring rules were checked on the no-tumour clicks). A region that did not run on is not
second-guessed, nor a thin-slice image (the blob test reads the core there and the region by
value stops at it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from lesion_tool.measurement.reseed import runs_on

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement, LesionPrompt

ENABLED = True
"""Module switch (A/B runs): a click's region running on through the slabs gives way to the
small ring closing round a dark core at the click."""

MAX_SHARE = 0.67
"""The ring's lesion replaces the region only when it measures at most this share of it: the
region ran well past the ring (06: 11.4 of 27.5 mm, 11.5 of 22.5), not by the 10-20 % two border
conventions differ by. IRCADb 03 (23.2 mm) on seed 0, clicked on slab 28: its region by value
(23.2 mm, within, yet flagged as running on) held a ring of 19.4 mm on one slab, 0.84 of it: a
larger lesion's one slab, not a leak."""

RingRule = Callable[["CTVolume", "LesionPrompt", object], "LesionMeasurement | None"]


def ring_for_runaway(
    volume: CTVolume,
    prompt: LesionPrompt,
    phase: object,
    first: LesionMeasurement,
) -> LesionMeasurement:
    """``first`` (the click's region), or the small necrotic lesion found by its ring at the
    click when ``first`` runs on through the slabs and the ring's lesion is much shorter (module
    docstring); the ring's result carries a note saying what it replaced. Lines: ``first``."""
    from lesion_tool.measurement.n5s_slabring import ring_near_click
    from lesion_tool.measurement.ring import THICK_SLAB_MM
    from lesion_tool.measurement.segment import Phase, _phase
    from lesion_tool.measurement.t06_ringclick import ring_lesion

    if not ENABLED or _phase(phase) is not Phase.ARTERIAL:
        return first
    if float(volume.spacing_mm[0]) < THICK_SLAB_MM or not runs_on(first):
        return first
    if prompt.seed is None or prompt.line is not None:
        return first
    rules: tuple[RingRule, ...] = (ring_lesion, ring_near_click)
    spent = first.time_s
    for rule in rules:
        found = rule(volume, prompt, phase)
        if found is None:
            continue
        spent += found.time_s
        if found.whole.length_mm > MAX_SHARE * first.whole.length_mm:
            continue
        note = (
            f"the region grown by value from the click ({first.whole.length_mm:.1f} mm) ran on "
            "through the slices beyond its width; a small ring closes round a dark core at the "
            "click: the lesion is the ring's"
        )
        return replace(found, flags=(note, *found.flags), time_s=spent)
    return replace(first, time_s=spent)


__all__ = ["ENABLED", "MAX_SHARE", "ring_for_runaway"]
