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
inside the ring's outline (the ring rules' own test). A rough line's region is looked at the same
way from the line's middle (as ``segment._measure_line`` clicks there), the ring kept only when it
also agrees with the line drawn (``segment.LINE_STRICT``: 0.7-1.4 times its length); seed 6's line
across 06 (13.6 mm drawn) ran on through slabs 34-36, 15.8 mm. It stays flagged (the ring's flag,
and this rule's note with the region's length).

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

import numpy as np

from lesion_tool.measurement.reseed import RUNS_ON_FLAG

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


def runs_on(m: LesionMeasurement) -> bool:
    """Whether ``m`` was flagged as running on through the slices beyond its width."""
    return any(f.startswith(RUNS_ON_FLAG) for f in m.flags)


def ring_for_runaway(
    volume: CTVolume,
    prompt: LesionPrompt,
    phase: object,
    first: LesionMeasurement,
) -> LesionMeasurement:
    """``first`` (the click's or line's region), or the small necrotic lesion found by its ring
    at the click (a line's middle, the ring agreeing with the line) when ``first`` runs on
    through the slabs and the ring's lesion is much shorter (module docstring); the ring's result
    carries a note saying what it replaced."""
    from lesion_tool.measurement.n5s_slabring import ring_near_click
    from lesion_tool.measurement.ring import THICK_SLAB_MM
    from lesion_tool.measurement.segment import LINE_STRICT, Phase, _phase
    from lesion_tool.measurement.t06_ringclick import ring_lesion

    if not ENABLED or _phase(phase) is not Phase.ARTERIAL:
        return first
    if float(volume.spacing_mm[0]) < THICK_SLAB_MM or not runs_on(first):
        return first
    line_mm = None
    at = prompt
    if prompt.line is not None:
        # A line: the ring is looked for at its middle, and must agree with the line drawn.
        a, b = (np.asarray(p, dtype=float) for p in prompt.line)
        line_mm = float(np.linalg.norm((b - a)[1:] * np.asarray(volume.spacing_mm[1:])))
        at = replace(prompt, seed=tuple(float(v) for v in (a + b) / 2.0), line=None)
    elif prompt.seed is None:
        return first
    rules: tuple[RingRule, ...] = (ring_lesion, ring_near_click)
    spent = first.time_s
    for rule in rules:
        found = rule(volume, at, phase)
        if found is None:
            continue
        spent += found.time_s
        if found.whole.length_mm > MAX_SHARE * first.whole.length_mm:
            continue
        if line_mm is not None and not (
            LINE_STRICT[0] <= found.whole.length_mm / line_mm <= LINE_STRICT[1]
        ):
            continue
        where = "click" if line_mm is None else "line's middle"
        note = (
            f"the region grown by value from the {where} ({first.whole.length_mm:.1f} mm) ran "
            "on through the slices beyond its width; a small ring closes round a dark core at "
            f"the {where}: the lesion is the ring's"
        )
        return replace(found, flags=(note, *found.flags), time_s=spent)
    return replace(first, time_s=spent)


__all__ = ["ENABLED", "MAX_SHARE", "ring_for_runaway", "runs_on"]
