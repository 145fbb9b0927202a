"""The rules of entering a reading, once: which diameter a lesion sums, how a measured line or a
semi-automatic measurement becomes a lesion, what a follow-up starts from, and rounding.

Everything here is a pure function on the frozen model (:mod:`lesion_tool.model`), so the
reading session, the napari plugin and the demo pipeline share one definition of each rule.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

from lesion_tool.errors import AssessmentError
from lesion_tool.model import (
    Category,
    Kind,
    Lesion,
    LesionState,
    Line,
    Segmentation,
    SegmentationPrompt,
    image_uid,
    summed_diameter_field,
)
from lesion_tool.storage.assessment_json import round_diameter_mm

if TYPE_CHECKING:
    import numpy as np

    from lesion_tool.response.settings import ResponseSettings

__all__ = [
    "PRIMARY",
    "WHOLE",
    "check_baseline_target",
    "clear_diameters",
    "follow_up_template",
    "from_lesion_measurement",
    "is_fully_viable",
    "line_on_image",
    "round_mm",
    "segmentation_of",
    "summed_value",
    "with_kind",
    "with_line",
    "with_state",
]

PRIMARY = "primary"
"""A line's role: the diameter the lesion's kind sums (viable, longest or short axis)."""
WHOLE = "whole"
"""A line's role: the whole-lesion longest diameter of a viable target (RECIST 1.1)."""

round_mm = round_diameter_mm
"""Half-up rounding to 0.1 mm, the one rounding of stored and scored diameters."""


SAME_SLICE_TOL = 0.01
"""Largest difference of two end points' z (voxels) for a line to lie on one image."""


def line_on_image(
    start: Sequence[float], end: Sequence[float], sop_instance_uids: Sequence[str]
) -> Line:
    """A voxel line ``(z, y, x)`` recorded with the SOPInstanceUID of the image it lies on.

    ``sop_instance_uids`` are the measured volume's, one per slice in array order. The UID lets
    an export place the line on that very image when a copy of the series lacks slices (its
    slice index alone would point at another slice). A line across slices, or a volume without
    conformant UIDs, gets none.
    """
    z0, z1 = float(start[0]), float(end[0])
    k = round(z0)
    uid = None
    if (
        abs(z0 - k) <= SAME_SLICE_TOL
        and abs(z1 - k) <= SAME_SLICE_TOL
        and 0 <= k < len(sop_instance_uids)
    ):
        uid = image_uid(sop_instance_uids[k])
    return Line(tuple(start), tuple(end), "voxel", uid)  # type: ignore[arg-type]


def _sums_viable(lesion: Lesion) -> bool:
    return lesion.category is Category.TARGET and lesion.kind is Kind.VIABLE


def summed_value(lesion: Lesion) -> float | None:
    """The diameter the lesion's kind sums under mRECIST (viable / longest / short axis), mm."""
    kind = lesion.kind if lesion.category is Category.TARGET else None
    return getattr(lesion, summed_diameter_field(kind))


def is_fully_viable(lesion: Lesion) -> bool:
    """A viable target whose one line stands for both criteria (whole lesion = viable part)."""
    return (
        _sums_viable(lesion)
        and lesion.longest_line is None
        and lesion.viable_diameter_mm is not None
        and lesion.longest_diameter_mm == lesion.viable_diameter_mm
    )


def with_line(
    lesion: Lesion, role: str, value_mm: float, line: Line | None, *, fully_viable: bool = False
) -> Lesion:
    """The lesion with a measured diameter (rounded half up to 0.1 mm) set from a line.

    ``role`` is :data:`PRIMARY` (the diameter its kind sums) or :data:`WHOLE` (the whole-lesion
    longest diameter of a viable target). With ``fully_viable`` the reader states that a viable
    target has no necrosis, so one line fills both criteria: mRECIST's viable diameter and
    RECIST 1.1's whole-lesion diameter. A measured target is in state ``measured``.
    """
    value = round_mm(float(value_mm))
    if role == WHOLE:
        new = dataclasses.replace(lesion, longest_diameter_mm=value, longest_line=line)
    else:
        kind = lesion.kind if lesion.category is Category.TARGET else None
        new = dataclasses.replace(lesion, line=line, **{summed_diameter_field(kind): value})
        if fully_viable and _sums_viable(lesion):
            new = dataclasses.replace(new, longest_diameter_mm=value, longest_line=None)
    if new.category is Category.TARGET:
        new = dataclasses.replace(new, state=LesionState.MEASURED)
    return new


def clear_diameters(lesion: Lesion) -> Lesion:
    """The lesion without any diameter, line or contour (an absent / too small / not evaluated
    target)."""
    return dataclasses.replace(
        lesion,
        viable_diameter_mm=None,
        longest_diameter_mm=None,
        short_axis_mm=None,
        line=None,
        longest_line=None,
        segmentation=None,
    )


def with_state(lesion: Lesion, state: LesionState) -> Lesion:
    """The lesion in another state; a target that is not measured carries no diameter."""
    new = dataclasses.replace(lesion, state=LesionState(state))
    if new.category is Category.TARGET and new.state is not LesionState.MEASURED:
        new = clear_diameters(new)
    return new


def with_kind(lesion: Lesion, kind: Kind) -> Lesion:
    """The target measured as another kind: its measured line now stands for the new kind's
    diameter (a viable target's whole-lesion diameter is kept while it stays viable)."""
    kind = Kind(kind)
    if kind is lesion.kind:
        return lesion
    value = summed_value(lesion)
    new = dataclasses.replace(lesion, kind=kind)
    if value is None:
        return new
    whole = lesion.longest_diameter_mm if lesion.longest_line is not None else None
    cleared = dataclasses.replace(
        new, viable_diameter_mm=None, short_axis_mm=None, longest_diameter_mm=whole
    )
    new = with_line(cleared, PRIMARY, value, lesion.line)
    if kind is not Kind.VIABLE:
        new = dataclasses.replace(new, longest_line=None)
    return new


def follow_up_template(lesion: Lesion) -> Lesion:
    """A lesion's identity (id, category, organ, location, kind, type, flags) without readings:
    what a follow-up reading of it starts from."""
    state = {
        Category.TARGET: LesionState.MEASURED,
        Category.NON_TARGET: LesionState.PRESENT,
        Category.NEW: lesion.state,
    }[lesion.category]
    return dataclasses.replace(clear_diameters(lesion), state=state, seed=None)


def from_lesion_measurement(
    identity: Lesion,
    *,
    whole_mm: float | None,
    whole_line: Line | None,
    viable_mm: float | None,
    viable_line: Line | None,
    seed: tuple[float, float, float] | None,
    segmentation: Segmentation | None = None,
    viable_reason: str = "",
    at_baseline: bool = False,
) -> Lesion:
    """A semi-automatic measurement (whole lesion, viable part) as the lesion's reading.

    A ``viable`` target records both diameters (state ``measured``); a ``longest`` target, a new
    lesion and a non-target the whole-lesion diameter as their longest; a ``short_axis`` target
    is refused (a node's short axis is drawn, not grown from a liver click). ``viable_mm`` None
    means the viable part was not measured (``viable_reason`` says why, e.g. not an arterial
    image): a ``viable`` target then cannot be recorded from it, since mRECIST sums that
    diameter. The contour (``segmentation``) and the click (``seed``) are kept with the lesion.
    With ``at_baseline``, a target must also be measurable at baseline
    (:func:`check_baseline_target`): a viable part of 0 mm is refused, not recorded.

    Raises
    ------
    AssessmentError
        For a ``viable`` target without a viable diameter, a ``short_axis`` target and, with
        ``at_baseline``, a target that is not measurable at baseline, with what to do instead.
    """
    base = follow_up_template(identity) if identity.category is Category.TARGET else identity
    whole = round_mm(whole_mm) if whole_mm is not None else None
    if base.category is Category.TARGET and base.kind is Kind.SHORT_AXIS:
        raise AssessmentError(
            f"{identity.id} is measured by its short axis (a lymph node): draw the short axis "
            "with the line tool, or change its kind before accepting."
        )
    if base.category is Category.TARGET and base.kind is Kind.LONGEST:
        new = dataclasses.replace(
            base, state=LesionState.MEASURED, longest_diameter_mm=whole, line=whole_line
        )
    elif base.category is Category.TARGET:
        if viable_mm is None:
            why = f" ({viable_reason})" if viable_reason else ""
            raise AssessmentError(
                f"{identity.id} is a viable target, but the viable part was not measured{why}. "
                "mRECIST sums its viable diameter: measure it on the arterial series, draw its "
                "viable diameter with the line tool, or set its kind to 'longest' to record the "
                "whole-lesion diameter only."
            )
        new = dataclasses.replace(
            base,
            kind=Kind.VIABLE,
            state=LesionState.MEASURED,
            viable_diameter_mm=round_mm(viable_mm),
            longest_diameter_mm=whole,
            line=viable_line,
            longest_line=whole_line,
        )
    else:
        new = dataclasses.replace(base, longest_diameter_mm=whole, line=whole_line)
    if at_baseline:
        check_baseline_target(new)
    return dataclasses.replace(new, seed=seed, segmentation=segmentation)


def check_baseline_target(lesion: Lesion, settings: ResponseSettings | None = None) -> None:
    """Refuse a target that is not measurable at baseline, saying what to do instead.

    The rule is the baseline check's (:func:`lesion_tool.response.target_problems`, spec 1),
    under ``settings`` (default: the ``mrecist`` preset, whose ``viable`` targets sum the viable
    part): a ``viable`` target needs intratumoral arterial enhancement (viable diameter > 0),
    and every target the minimum diameter. A lesion that is not a target passes.

    Raises
    ------
    AssessmentError
        Naming the lesion and each violated rule, with the ways out the criteria allow: record
        it as a non-target, or, for a viable target without enhancement, measure the whole
        lesion (kind ``longest``, as RECIST 1.1 does and mRECIST does for HCC without typical
        enhancement).
    """
    from lesion_tool.response import settings_for, target_problems

    problems = target_problems(lesion, settings or settings_for("mrecist"))
    if not problems:
        return
    ways = "record it as a non-target instead (not measurable)"
    if lesion.kind is Kind.VIABLE and not lesion.viable_diameter_mm:
        ways += (
            ", or, if it is an HCC without typical arterial enhancement, set its kind to "
            "'longest' to measure the whole lesion (as RECIST 1.1 does)"
        )
    raise AssessmentError(
        f"{lesion.id} cannot be a baseline target: {'; '.join(problems)}. A target must be "
        f"measurable at baseline: {ways}."
    )


def segmentation_of(
    mask: np.ndarray,
    offset: tuple[int, int, int],
    z: int,
    *,
    prompt: SegmentationPrompt | None,
    edited: bool,
    flags: tuple[str, ...] = (),
) -> Segmentation:
    """The contour stored with a lesion: the outline of ``mask`` (a ``(z, y, x)`` box of the
    series at ``offset``) on slice ``z`` (the measured diameter's), with how it was made."""
    from lesion_tool.measurement.edit import outline_polygon

    poly = outline_polygon(mask, offset, z)
    return Segmentation(
        z=int(z),
        contour=tuple((float(y), float(x)) for y, x in poly),
        prompt=prompt,
        edited=edited,
        flags=tuple(flags),
    )
