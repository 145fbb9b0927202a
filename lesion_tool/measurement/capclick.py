"""A click on a lesion's cap that finds no lesion: measure the lesion under the click instead.

A reader's click on a lesion's first or last slice lands on its cap: a thin section that the
slice (or slab) averages with the parenchyma above or below it, so the click reads about the
liver's value and is refused ("the commonest value"), or grows a small region seen on that one
slice only. Yet the lesion is there, one or two slices on, under the very point clicked.
IRCADb's 32 mm tumour 05, clicked on its top slices at the liver's dome (seed 0: Im 122 of
1.6 mm, slab 39 of 5 mm, slice 78 of 2.5 mm), was refused on both 5 mm slab variants and
measured 11-14 mm (one slice) on 5 mm and the noisy variants; clicked again at the same
in-plane point one slice lower it measures 29-32 mm.

Here such a click is measured again at the same in-plane point on the slices next to it, within
:data:`CAP_MM` (one cap of partial volume: a slab, or two thin slices), nearest first. A new
region is kept only when it is a lesion of its own right: seen on enough slices (no
partial-volume flag), not delineated by texture, not running on through the slices (a vessel),
lying in the liver and surrounded by it (no flag saying otherwise), holding the click's in-plane
point on one of its slices (the lesion lies under the click, not beside it) and, when the click
had a region, :data:`CAP_GROWTH` times longer than it. Of the two slices at one distance, the
longer lesion is kept; the result is flagged with the slice measured.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from lesion_tool.errors import MeasurementError
from lesion_tool.measurement.capsule_edge import SURFACE_REFUSALS, refused_how
from lesion_tool.measurement.dome_capslab import CAP_NOTE, farther_steps
from lesion_tool.measurement.naming import slice_name
from lesion_tool.measurement.notwhole import LOW_CONTRAST_FLAG, cap_refusal
from lesion_tool.measurement.reseed import as_clicked, measure_again, runs_on
from lesion_tool.measurement.speed15_capstop import worth_following
from lesion_tool.measurement.t23_leakcap import least_kept_mm, regular

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement, LesionPrompt

Measure = Callable[["CTVolume", "LesionPrompt", object], "LesionMeasurement"]

CAP_MM = 3.5
"""How far through the slices (mm) the lesion is looked for under a cap click: a lesion's cap
diluted by partial volume spans about one slab of 2.5-5 mm or two 1.6 mm slices (at least one
slice is always tried)."""


class LiverValue(MeasurementError):
    """segment's refusal of a click whose value is the liver's ("the commonest one", "does not
    differ from the liver"): a cap may read so."""


NO_CONTRAST: tuple[type[MeasurementError], ...] = (LiverValue, *SURFACE_REFUSALS)
"""The refusals under which the lesion is looked for: the click's value is the liver's, or its
region lies outside the liver estimate or is not surrounded by it (a cap or an edge at the
liver's surface averaged with the tissue beyond; capsule_edge.py). Matched by type (before
w14-speed by the messages' words)."""
ONE_SLICE_FLAG = "seen on 1 slice"
"""The start of segment's flag on a region found on one slice only (partial volume)."""
FEW_SLICES_FLAG = "seen on "
"""The start of segment's flag on a region seen on fewer than its MIN_SLICES slices: the body
under a cap must be plainly seen through the slices, not itself a partial-volume sliver (IRCADb
04 in 5 mm slabs, seed 1, clicked on its end slab: 9.5 mm there, and from the slab next to it a
bright two-slab region of 26.2 mm for 17.1)."""
OUTSIDE_FLAGS = ("lies in the liver outlined", "surroundings look like liver")
"""Parts of segment's flags on a region mostly outside the liver or not surrounded by it: from
beyond a lesion's end at the liver's surface a re-click may find the organ next door."""
CAP_GROWTH = 1.5
"""A region found at the click is replaced only by one at least this much longer: a cap's
section is much smaller than the lesion's body one slice on (IRCADb 05: 11-14 mm on its top
slice, 29-32 mm below), while a lesion measured whole at the liver's surface (flagged for its
surroundings) gives about its own length again from the next slice."""


def is_no_contrast(err: MeasurementError) -> bool:
    """True when a refusal says the click's value is the liver's (a cap may read so), or that
    its region lies outside the liver estimate (:data:`NO_CONTRAST`)."""
    return isinstance(err, NO_CONTRAST)


def is_cap_result(m: LesionMeasurement) -> bool:
    """True when ``m`` was found on the click's slice only (a cap's partial volume), or lies
    mostly outside the liver (a cap at its surface averaged with the tissue beyond)."""
    return any(f.startswith(ONE_SLICE_FLAG) or any(s in f for s in OUTSIDE_FLAGS) for f in m.flags)


def _under(new: LesionMeasurement, click: tuple[int, int, int]) -> bool:
    """``new``'s region holds ``click``'s in-plane point on one of its slices."""
    y, x = click[1] - new.offset[1], click[2] - new.offset[2]
    if not (0 <= y < new.mask.shape[1] and 0 <= x < new.mask.shape[2]):
        return False
    return bool(new.mask[:, y, x].any())


def _acceptable(new: LesionMeasurement, click: tuple[int, int, int]) -> bool:
    """``new`` is a lesion of its own right lying under ``click``'s in-plane point."""
    if new.evidence.texture_sd_hu is not None or is_cap_result(new):
        return False
    if any(f.startswith((FEW_SLICES_FLAG, LOW_CONTRAST_FLAG)) for f in new.flags):
        return False
    if runs_on(new):
        return False
    if sum(1 for z in range(new.mask.shape[0]) if new.mask[z].any()) < 2:
        return False
    return _under(new, click)


def follow_cap(
    volume: CTVolume,
    prompt: LesionPrompt,
    phase: object,
    click: tuple[int, int, int],
    first: LesionMeasurement | None,
    measure: Measure,
    spent: float,
    refused: MeasurementError | None = None,
) -> LesionMeasurement | None:
    """The lesion under a cap click (``click``: the reader's voxel; ``first``: its own region,
    None when refused, ``refused`` then its refusal), or None when no slice within
    :data:`CAP_MM` holds one (see the module docstring). ``spent``: the time already spent on
    the click."""
    if prompt.seed is None or prompt.line is not None:
        return None
    # A click's region that leaked on its one slab bounds nothing (t23_leakcap.py).
    keep, leak = least_kept_mm(volume, first, CAP_GROWTH)
    if not leak and not worth_following(first, CAP_GROWTH):
        return None  # the body sought is longer than a click delineates (speed15_capstop.py)
    slice_mm = float(volume.spacing_mm[0])
    steps = max(1, int(CAP_MM / slice_mm))
    least = 0.0 if first is None else CAP_GROWTH * first.whole.length_mm
    beyond: list[LesionMeasurement] = []
    drifted: set[int] = set()  # offsets whose region slid off the clicked point (dome_capslab)
    rounds = [[-k, k] for k in range(1, steps + 1)]
    while rounds:
        found: list[LesionMeasurement] = []
        farther = abs(rounds[0][0]) > steps
        for step in rounds.pop(0):
            z = click[0] + step
            if not 0 <= z < volume.shape[0]:
                continue
            new = measure_again(volume, prompt, phase, (z, click[1], click[2]), measure)
            if new is None:
                continue
            spent += new.time_s
            if leak and keep < new.whole.length_mm <= least:
                if _acceptable(new, click) and regular(new) and not (farther and new.flags):
                    found.append(new)
            elif new.whole.length_mm > least:
                if _acceptable(new, click) and not (farther and new.flags):
                    found.append(new)
                elif first is not None and _under(new, click) and not runs_on(new):
                    beyond.append(new)
                elif abs(step) == steps and not _under(new, click):
                    drifted.add(step)
        if not rounds and not found and not beyond:
            # On slabs, the point may lie at the edge of the next slab's section: one further.
            extra = farther_steps(slice_mm, drifted)
            drifted = set()
            if extra:
                rounds.append(extra)
        if found:
            best = max(found, key=lambda m: m.whole.length_mm)
            at = best.seed_voxel[0] if best.seed_voxel is not None else click[0]
            how = refused_how(refused)
            if first is not None:
                how = f"gave {first.whole.length_mm:.1f} mm on that slice only"
            note = (
                f"the click on {slice_name(volume, click[0])} {how} {CAP_NOTE} "
                f"{slice_name(volume, at)}; check that this is "
                "the lesion clicked"
            )
            if first is not None:
                return as_clicked(first, best, note, spent)
            return replace(best, flags=(note, *best.flags), seed_voxel=click, time_s=spent)
    if first is not None and beyond:
        # The lesion goes on, much larger, under the cap's region, yet could not be delineated
        # there: the cap is not its measurement either (notwhole.py).
        raise cap_refusal(volume, first, max(beyond, key=lambda m: m.whole.length_mm))
    return None


def under_cap(
    volume: CTVolume, prompt: LesionPrompt, phase: object, measure: Measure
) -> LesionMeasurement:
    """``measure``'s result for ``prompt``, or, when it refused the click as the liver's value or
    its region as off the liver (:data:`NO_CONTRAST`), or found a region on the click's slice
    only, the lesion under the click (:func:`follow_cap`) when there is one. ``measure``'s
    refusal is raised as it was otherwise."""
    try:
        found = measure(volume, prompt, phase)
    except MeasurementError as err:
        if prompt.seed is None or prompt.line is not None or not is_no_contrast(err):
            raise
        click = (round(prompt.seed[0]), round(prompt.seed[1]), round(prompt.seed[2]))
        cap = follow_cap(volume, prompt, phase, click, None, measure, 0.0, err)
        if cap is None:
            raise
        return cap
    if is_cap_result(found):
        cap = follow_cap(volume, prompt, phase, found.seed_voxel, found, measure, found.time_s)
        if cap is not None:
            return cap
    return found
