"""Scoring an assessment: the rules of :mod:`lesion_tool.response.rules` over all timepoints."""

from __future__ import annotations

import datetime as dt

from lesion_tool._slots import slot_constructor
from lesion_tool.errors import CriteriaError
from lesion_tool.model import (
    Assessment,
    Category,
    Kind,
    Lesion,
    LesionState,
    summed_diameter_field,
)
from lesion_tool.response.arithmetic import pct_change
from lesion_tool.response.models import (
    Finding,
    NewLesions,
    PatientResult,
    Response,
    TimepointResult,
)
from lesion_tool.response.rules import (
    best_overall_response,
    disease_control,
    duration_of_response,
    new_lesion_counts,
    non_target_response,
    overall_response,
    overall_survival,
    progression_free_survival,
    target_is_gone,
    target_response,
    target_value_tenths,
)
from lesion_tool.response.settings import ResponseSettings

__all__ = ["inconsistent_diameter_findings", "score_assessment"]

# Enum members as module constants: ``Response.PD`` costs ~0.25 us on Python 3.11 (EnumType's
# __getattr__ hook makes every class attribute look-up slow), and re-scoring a trial looks
# members up millions of times.
_NEW = Category.NEW
_NON_TARGET = Category.NON_TARGET
_TARGET = Category.TARGET
_VIABLE = Kind.VIABLE
_NOT_EVALUATED = LesionState.NOT_EVALUATED
_NA = Response.NA
_NE = Response.NE
_PD = Response.PD

_MEASURED = LesionState.MEASURED

# Result rows are built by name without the frozen ``__init__`` (its ``object.__setattr__`` per
# field was a fifth of scoring a trial); every field is passed, a missing one is a TypeError.
_timepoint_result = slot_constructor(TimepointResult, keywords=True)
_patient_result_record = slot_constructor(PatientResult, keywords=True)


def _needed_diameter(lesion: Lesion, settings: ResponseSettings) -> str:
    return summed_diameter_field(lesion.kind, use_viable_diameter=settings.use_viable_diameter)


def _missing(lesion_id: str) -> Lesion:
    return Lesion(id=lesion_id, category=_NON_TARGET, state=_NOT_EVALUATED)


def inconsistent_diameter_findings(assessment: Assessment) -> list[Finding]:
    """Warnings for ``viable`` targets whose viable diameter exceeds the whole-lesion one.

    Readers do record this (another lesion chosen at one reading, inconsistent calipers), so the
    reading is kept and scored under every preset, each summing its own diameter; the
    inconsistency is shown to the reader as a finding instead of refusing the file.
    """
    findings = []
    for timepoint in assessment.timepoints:
        for lesion in timepoint.lesions:
            viable, whole = lesion.viable_diameter_mm, lesion.longest_diameter_mm
            if (
                lesion.category is _TARGET
                and lesion.kind is _VIABLE
                and viable is not None
                and whole is not None
                and viable > whole
            ):
                findings.append(
                    Finding(
                        "warning",
                        f"viable diameter {viable:g} mm exceeds the whole-lesion longest diameter "
                        f"{whole:g} mm (both kept: mRECIST sums the viable, RECIST 1.1 the whole)",
                        lesion.id,
                        timepoint.label,
                    )
                )
    return findings


def score_assessment(assessment: Assessment, settings: ResponseSettings) -> PatientResult:
    """Score one assessment under one preset: every timepoint, then the patient's endpoints.

    Raises
    ------
    CriteriaError
        The assessment has no timepoints, or a baseline target has no value under this preset
        (``not_evaluated``, or missing the diameter the preset sums), so no baseline sum exists.
    """
    pid = assessment.patient_id
    if not assessment.timepoints:
        raise CriteriaError(f"Patient {pid}: the assessment has no timepoints; nothing to score.")
    start = assessment.treatment_start
    baseline = assessment.timepoints[0]
    targets = [lesion for lesion in baseline.lesions if lesion.category is _TARGET]
    non_target_ids = [lesion.id for lesion in baseline.lesions if lesion.category is _NON_TARGET]
    target_ids = [lesion.id for lesion in targets]

    baseline_sum = 0
    for lesion in targets:
        value = target_value_tenths(lesion, settings)
        if value is None:
            why = (
                "is not_evaluated"
                if lesion.state is _NOT_EVALUATED
                else f"has no {_needed_diameter(lesion, settings)}"
            )
            raise CriteriaError(
                f"Patient {pid}: baseline target {lesion.id} {why}, so there is no baseline sum "
                f"under {settings.criteria}."
            )
        baseline_sum += value
    has_targets = bool(targets)

    rows: list[TimepointResult] = [
        _timepoint_result(
            label=baseline.label,
            date=baseline.date,
            days_from_start=(baseline.date - start).days,
            target_sum_mm=baseline_sum / 10 if has_targets else None,
            baseline_sum_mm=baseline_sum / 10 if has_targets else None,
            nadir_sum_mm=None,
            change_from_baseline_pct=None,
            change_from_nadir_pct=None,
            target_response=None,
            non_target_response=None,
            new_lesions=None,
            overall_response=None,
            findings=(),
        )
    ]
    nadir = baseline_sum
    first_seen: dict[str, tuple[int, Lesion]] = {}
    progression_date: dt.date | None = None
    dates = [t.date for t in assessment.timepoints]

    for index in range(1, len(assessment.timepoints)):
        timepoint = assessment.timepoints[index]
        label = timepoint.label
        findings: list[Finding] = []
        by_id = {lesion.id: lesion for lesion in timepoint.lesions}

        # targets
        evaluated_sum = 0
        any_ne = False
        all_gone = True
        for lesion_id in target_ids:
            lesion = by_id.get(lesion_id)
            if lesion is None:
                findings.append(
                    Finding(
                        "warning",
                        "baseline target missing at this timepoint; counted as not_evaluated",
                        lesion_id,
                        label,
                    )
                )
                any_ne = True
                continue
            value = target_value_tenths(lesion, settings)
            if value is None:
                any_ne = True
                if lesion.state is _MEASURED:
                    findings.append(
                        Finding(
                            "error",
                            f"measured target has no {_needed_diameter(lesion, settings)}; "
                            f"counted as not_evaluated under {settings.criteria}",
                            lesion_id,
                            label,
                        )
                    )
                continue
            evaluated_sum += value
            if all_gone and not target_is_gone(lesion, value, settings):
                all_gone = False
        if has_targets:
            t_response = target_response(
                evaluated_sum,
                baseline_sum,
                nadir,
                any_not_evaluated=any_ne,
                all_gone=all_gone,
                settings=settings,
            )
            if any_ne and t_response is _PD:
                findings.append(
                    Finding(
                        "warning",
                        f"target PD on the evaluated lesions alone (partial sum "
                        f"{evaluated_sum / 10:g} mm vs nadir {nadir / 10:g} mm)",
                        None,
                        label,
                    )
                )
        else:
            t_response = _NA

        # non-targets
        observed: list[Lesion] = []
        for lesion_id in non_target_ids:
            lesion = by_id.get(lesion_id)
            if lesion is None:
                findings.append(
                    Finding(
                        "warning",
                        "baseline non-target missing at this timepoint; counted as not_evaluated",
                        lesion_id,
                        label,
                    )
                )
                lesion = _missing(lesion_id)
            observed.append(lesion)
        nt_response, nt_findings = non_target_response(observed, settings, timepoint=label)
        findings.extend(nt_findings)

        # new lesions
        counting = False
        seen_new = False
        earliest_counting = timepoint.date
        for lesion in timepoint.lesions:
            if lesion.category is not _NEW:
                continue
            seen_new = True
            first_index, first_lesion = first_seen.setdefault(lesion.id, (index, lesion))
            counts, reason = new_lesion_counts(
                lesion, first_lesion if first_index < index else None, settings
            )
            if counts:
                counting = True
                if dates[first_index] < earliest_counting:
                    earliest_counting = dates[first_index]
            elif reason:
                findings.append(Finding("warning", reason, lesion.id, label))
        new_status: NewLesions = "yes" if counting else ("equivocal" if seen_new else "none")

        overall = overall_response(t_response, nt_response, counting)
        if overall is _PD and progression_date is None:
            # Spec 5: progression is dated to the scan where a new lesion that now counts was
            # first seen; the earlier row keeps the response it had as read.
            progression_date = earliest_counting if counting else timepoint.date
            if progression_date < timepoint.date:
                findings.append(
                    Finding(
                        "warning",
                        f"progression back-dated to {progression_date.isoformat()}, when the new "
                        "lesion that now counts was first seen",
                        None,
                        label,
                    )
                )

        complete = has_targets and not any_ne
        rows.append(
            _timepoint_result(
                label=label,
                date=timepoint.date,
                days_from_start=(timepoint.date - start).days,
                target_sum_mm=evaluated_sum / 10 if complete else None,
                baseline_sum_mm=baseline_sum / 10 if has_targets else None,
                nadir_sum_mm=nadir / 10 if has_targets else None,
                change_from_baseline_pct=pct_change(evaluated_sum, baseline_sum)
                if complete
                else None,
                change_from_nadir_pct=pct_change(evaluated_sum, nadir) if complete else None,
                target_response=t_response,
                non_target_response=nt_response,
                new_lesions=new_status,
                overall_response=overall,
                findings=tuple(findings),
            )
        )
        # NE timepoints are not nadirs: only a complete target sum can lower it. Spec silent on
        # a timepoint whose targets were all evaluated but whose overall response is NE (a
        # non-target not read): RECIST 1.1 defines the nadir on the sum of diameters, so its
        # complete sum counts.
        if complete and evaluated_sum < nadir:
            nadir = evaluated_sum

    return _patient_result(assessment, settings, rows, progression_date, has_targets)


def _patient_result(
    assessment: Assessment,
    settings: ResponseSettings,
    rows: list[TimepointResult],
    progression_date: dt.date | None,
    has_targets: bool,
) -> PatientResult:
    start = assessment.treatment_start
    follow_ups = rows[1:]
    # BOR counts only what was read before the (possibly back-dated) progression, then the PD.
    # Spec silent on responses read between the back-dated date and the scan that confirmed
    # the new lesion: RECIST 1.1 declares progression at the earlier date, so they are after
    # progression and do not count.
    sequence: list[tuple[int, Response]] = []
    for row in follow_ups:
        if progression_date is not None and row.date >= progression_date:
            break
        sequence.append((row.days_from_start, row.overall_response))  # type: ignore[arg-type]
    if progression_date is not None:
        sequence.append(((progression_date - start).days, _PD))

    bor_unconfirmed, first_unconfirmed = best_overall_response(
        sequence, settings, confirm=False, measurable=has_targets
    )
    if settings.confirm:
        bor, first_index = best_overall_response(
            sequence, settings, confirm=True, measurable=has_targets
        )
    else:
        bor, first_index = bor_unconfirmed, first_unconfirmed
    first_response_date = (
        start + dt.timedelta(days=sequence[first_index][0]) if first_index is not None else None
    )

    last_evaluable: dt.date | None = None
    for row in follow_ups:
        if row.overall_response is not _NE:
            last_evaluable = row.date
    pfs_days, pfs_event = progression_free_survival(
        start, progression_date, assessment.death_date, last_evaluable
    )
    dor_days, dor_event = duration_of_response(
        first_response_date, progression_date, assessment.death_date, last_evaluable
    )
    findings = (
        *inconsistent_diameter_findings(assessment),
        *(f for row in follow_ups for f in row.findings),
    )
    os_days, os_event = overall_survival(
        start, assessment.death_date, assessment.last_known_alive, rows[-1].date
    )
    return _patient_result_record(
        patient_id=assessment.patient_id,
        reader=assessment.reader,
        criteria=settings.criteria,
        timepoints=tuple(rows),
        best_overall_response=bor,
        best_overall_response_unconfirmed=bor_unconfirmed,
        first_response_date=first_response_date,
        progression_date=progression_date,
        pfs_days=pfs_days,
        pfs_event=pfs_event,
        dor_days=dor_days,
        disease_control=disease_control(bor, sequence, settings),
        measurable_at_baseline=has_targets,
        findings=findings,
        dor_event=dor_event,
        death_date=assessment.death_date,
        time_to_response_days=(first_response_date - start).days
        if first_response_date is not None
        else None,
        os_days=os_days,
        os_event=os_event,
    )
