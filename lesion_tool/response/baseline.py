"""Baseline eligibility of target lesions (spec section 1)."""

from __future__ import annotations

from collections import defaultdict

from lesion_tool.model import Assessment, Category, Kind, Lesion, LesionState
from lesion_tool.response.arithmetic import to_tenths
from lesion_tool.response.models import Finding
from lesion_tool.response.settings import ResponseSettings

__all__ = ["check_baseline", "target_problems"]

# Enum members as module constants: ``Response.PD`` costs ~0.25 us on Python 3.11 (EnumType's
# __getattr__ hook makes every class attribute look-up slow), and re-scoring a trial looks
# members up millions of times.
_TARGET = Category.TARGET
_SHORT_AXIS = Kind.SHORT_AXIS
_VIABLE = Kind.VIABLE
_MEASURED = LesionState.MEASURED


def check_baseline(
    assessment: Assessment,
    settings: ResponseSettings,
    *,
    slice_thickness_mm: float | None = None,
) -> list[Finding]:
    """Every violation of the target eligibility rules at baseline, each naming the lesion.

    Checks (spec 1): targets are measured at baseline; non-nodal targets >= ``min_target_mm``
    (the viable diameter under the mRECIST presets, the whole-lesion diameter under RECIST 1.1)
    and, when the slices are thicker than ``thick_slice_mm``, >= ``slice_thickness_factor`` x the
    slice thickness; nodal targets >= ``min_node_short_axis_mm`` short axis
    (``porta_hepatis_node_mm`` at the porta hepatis); ``viable`` targets show enhancement
    (viable diameter > 0); at most ``max_targets`` targets and ``max_targets_per_organ`` per
    organ (targets beyond the caps, in reading order, are named).

    Parameters
    ----------
    slice_thickness_mm
        Slice thickness of the baseline series in mm. The assessment does not store it; when
        None, ``settings.slice_thickness_mm`` is used, and when that is None too the
        thickness rule is skipped.

    Returns
    -------
    list of Finding
        All with severity ``"error"``; ``rescore`` reports them as warnings, ``validate`` as errors.
    """
    baseline = assessment.baseline
    if baseline is None:
        return [Finding("error", "the assessment has no baseline timepoint")]
    label = baseline.label
    findings: list[Finding] = []

    def error(message: str, lesion_id: str | None) -> None:
        findings.append(Finding("error", message, lesion_id, label))

    minimum = _minimum(settings, slice_thickness_mm)
    targets = [lesion for lesion in baseline.lesions if lesion.category is _TARGET]
    per_organ: dict[str, int] = defaultdict(int)
    for number, lesion in enumerate(targets, start=1):
        if number > settings.max_targets:
            error(
                f"target number {number}: at most {settings.max_targets} targets are allowed",
                lesion.id,
            )
        per_organ[lesion.organ] += 1
        if per_organ[lesion.organ] > settings.max_targets_per_organ:
            error(
                f"target number {per_organ[lesion.organ]} in {lesion.organ}: at most "
                f"{settings.max_targets_per_organ} targets per organ are allowed",
                lesion.id,
            )
        for message in _target_problems(lesion, settings, *minimum):
            error(message, lesion.id)
    return findings


def target_problems(
    lesion: Lesion, settings: ResponseSettings, *, slice_thickness_mm: float | None = None
) -> list[str]:
    """Why one target lesion is not measurable as a baseline target (spec 1), in words.

    The per-lesion half of :func:`check_baseline` (its caps on the number of targets are not
    checked here): measured at baseline, a nodal target's short axis, a ``viable`` target's
    intratumoral arterial enhancement (viable diameter > 0) and the minimum diameter, with the
    same settings and messages, so that a reading user interface can refuse a target before
    it is recorded by the very rule the findings report afterwards.

    Parameters
    ----------
    lesion
        A lesion of category ``target`` as it would be recorded at baseline.
    settings
        The preset's settings (which diameter is summed, the minimum sizes).
    slice_thickness_mm
        As in :func:`check_baseline`.

    Returns
    -------
    list of str
        One message per violated rule; empty when the lesion is a measurable target.
    """
    if lesion.category is not _TARGET:
        return []
    return _target_problems(lesion, settings, *_minimum(settings, slice_thickness_mm))


def _minimum(settings: ResponseSettings, slice_thickness_mm: float | None) -> tuple[int, str]:
    """The smallest target diameter (tenths of a mm) and its words: ``min_target_mm``, or
    ``slice_thickness_factor`` x the slice thickness when slices are thick."""
    thickness = (
        slice_thickness_mm if slice_thickness_mm is not None else settings.slice_thickness_mm
    )
    minimum_tenths = to_tenths(settings.min_target_mm)
    minimum_text = f"{settings.min_target_mm:g} mm"
    if thickness is not None and thickness > settings.thick_slice_mm:
        by_thickness = to_tenths(settings.slice_thickness_factor * thickness)
        if by_thickness > minimum_tenths:
            minimum_tenths = by_thickness
            minimum_text = (
                f"{by_thickness / 10:g} mm ({settings.slice_thickness_factor:g} x the "
                f"{thickness:g} mm slice thickness)"
            )
    return minimum_tenths, minimum_text


def _target_problems(
    lesion: Lesion, settings: ResponseSettings, minimum_tenths: int, minimum_text: str
) -> list[str]:
    problems: list[str] = []
    if lesion.state is not _MEASURED:
        return [f"a target must be measured at baseline (state is {lesion.state.value})"]
    if lesion.kind is _SHORT_AXIS:
        if lesion.porta_hepatis:
            node_min, where = settings.porta_hepatis_node_mm, " at the porta hepatis"
        else:
            node_min, where = settings.min_node_short_axis_mm, ""
        value = lesion.short_axis_mm
        if value is None:
            problems.append("nodal target without short_axis_mm")
        elif to_tenths(value) < to_tenths(node_min):
            problems.append(
                f"nodal target{where} short axis {value:g} mm is below {node_min:g} mm "
                "(not a measurable malignant node; record it as a non-target)"
            )
        return problems
    if lesion.kind is _VIABLE:
        viable = lesion.viable_diameter_mm
        if viable is None or to_tenths(viable) == 0:
            problems.append(
                "viable target without intratumoral arterial enhancement at baseline "
                "(viable diameter must be > 0)"
            )
        if settings.use_viable_diameter:
            value, name = viable, "viable diameter"
        else:
            value, name = lesion.longest_diameter_mm, "longest diameter"
            if value is None:
                problems.append(f"no longest_diameter_mm for {settings.criteria}")
                return problems
        if value is None or to_tenths(value) == 0:
            return problems
    else:
        value, name = lesion.longest_diameter_mm, "longest diameter"
        if value is None:
            return ["target without longest_diameter_mm"]
    if to_tenths(value) < minimum_tenths:
        problems.append(f"{name} {value:g} mm is below the {minimum_text} minimum for a target")
    return problems
