"""The response rules of ``shared/spec/response-rules.md``, one pure function per rule.

Every function takes plain values (integer tenths of a millimetre, model lesions, responses) and
the :class:`~lesion_tool.response.settings.ResponseSettings`, so each rule can be tested alone.
:mod:`lesion_tool.response.scoring` strings them together over an assessment.

Where the specification is silent the functions follow RECIST 1.1 (Eisenhauer et al. 2009 and the
RECIST working group's clarifications); each such place says so in a comment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from lesion_tool.model import LIVER, Kind, Lesion, LesionState, summed_diameter_field
from lesion_tool.response.arithmetic import to_tenths
from lesion_tool.response.models import Finding, Response
from lesion_tool.response.settings import ResponseSettings

__all__ = [
    "EFFUSION_TYPES",
    "best_overall_response",
    "disease_control",
    "duration_of_response",
    "is_partial_response",
    "is_progression",
    "new_lesion_counts",
    "non_target_is_gone",
    "non_target_response",
    "overall_response",
    "overall_survival",
    "progression_free_survival",
    "target_is_gone",
    "target_response",
    "target_value_tenths",
]

# Enum members as module constants: ``Response.PD`` costs ~0.25 us on Python 3.11 (EnumType's
# __getattr__ hook makes every class attribute look-up slow), and re-scoring a trial looks
# members up millions of times.
_SHORT_AXIS = Kind.SHORT_AXIS
_ABSENT = LesionState.ABSENT
_MEASURED = LesionState.MEASURED
_NOT_EVALUATED = LesionState.NOT_EVALUATED
_PRESENT = LesionState.PRESENT
_TOO_SMALL = LesionState.TOO_SMALL
_UNEQUIVOCAL = LesionState.UNEQUIVOCAL
_UNEQUIVOCAL_PROGRESSION = LesionState.UNEQUIVOCAL_PROGRESSION
_CR = Response.CR
_NA = Response.NA
_NE = Response.NE
_NON_CR_NON_PD = Response.NON_CR_NON_PD
_PD = Response.PD
_PR = Response.PR
_SD = Response.SD

EFFUSION_TYPES = frozenset({"ascites", "pleural_effusion"})
"""Lesion types that count for progression only with cytology confirmation (spec 4 and 5)."""

_RESPONDED = frozenset({_CR, _PR})
_NOT_PROGRESSED = frozenset({_CR, _PR, _SD, _NON_CR_NON_PD})


# --- section 2/3: target lesions ---------------------------------------------------------------


def target_value_tenths(lesion: Lesion, settings: ResponseSettings) -> int | None:
    """The value a target contributes to the sum, in tenths of a millimetre.

    ``absent`` is 0, ``too_small`` is ``settings.too_small_mm``, ``measured`` the diameter its
    kind sums under the preset (viable or whole-lesion longest for ``viable`` targets, longest,
    short axis). None when the lesion is ``not_evaluated`` or the needed diameter is missing.
    """
    state = lesion.state
    if state is _MEASURED:
        name = summed_diameter_field(lesion.kind, use_viable_diameter=settings.use_viable_diameter)
        value = getattr(lesion, name)
        return None if value is None else to_tenths(value)
    if state is _ABSENT:
        return 0
    if state is _TOO_SMALL:
        return to_tenths(settings.too_small_mm)
    return None


def target_is_gone(lesion: Lesion, value_tenths: int, settings: ResponseSettings) -> bool:
    """Whether a target counts as gone for CR (spec 3, rule 3).

    A nodal target (``short_axis``) is "gone" when its short axis is below
    ``settings.node_normal_mm``; any other target when it is ``absent`` or measured with a value
    of 0 (under the mRECIST presets, a ``viable`` target whose viable diameter is 0: no
    enhancement left, even with a scar). ``too_small`` is present, so not gone.
    """
    if lesion.kind is _SHORT_AXIS:
        return value_tenths < to_tenths(settings.node_normal_mm)
    if lesion.state is _ABSENT:
        return True
    # Spec silent on a non-viable target measured as 0 mm: RECIST 1.1 records a disappeared
    # lesion as 0 mm, so a measured 0 counts as gone in every preset.
    return lesion.state is _MEASURED and value_tenths == 0


def is_progression(sum_tenths: int, nadir_tenths: int, settings: ResponseSettings) -> bool:
    """Spec 3, rule 1: ``S >= 1.2 N`` and ``S > N`` (and ``S - N >= 5 mm`` with the 5 mm rule).

    Exact on integers: ``100 S >= (100 + pd_increase_pct) N``. With ``N == 0`` any reappearance
    is progression (subject to the 5 mm rule where it is on).
    """
    if sum_tenths <= nadir_tenths:
        return False
    if sum_tenths * 100 < nadir_tenths * (100 + settings.pd_increase_pct):
        return False
    return not (
        settings.five_mm_rule and sum_tenths - nadir_tenths < to_tenths(settings.pd_min_increase_mm)
    )


def is_partial_response(sum_tenths: int, baseline_tenths: int, settings: ResponseSettings) -> bool:
    """Spec 3, rule 4: ``S <= 0.7 B``, exactly: ``100 S <= (100 - pr_decrease_pct) B``."""
    return baseline_tenths > 0 and sum_tenths * 100 <= baseline_tenths * (
        100 - settings.pr_decrease_pct
    )


def target_response(
    evaluated_sum_tenths: int,
    baseline_sum_tenths: int,
    nadir_sum_tenths: int,
    *,
    any_not_evaluated: bool,
    all_gone: bool,
    settings: ResponseSettings,
) -> Response:
    """Target response at a follow-up (spec 3), rules 1-5 in order.

    Parameters
    ----------
    evaluated_sum_tenths
        Sum over the targets that were evaluated at this timepoint (tenths of a mm).
    baseline_sum_tenths, nadir_sum_tenths
        Baseline sum and nadir (smallest sum over baseline and earlier evaluable timepoints).
    any_not_evaluated
        A target was ``not_evaluated`` (or missing, or lacked the diameter the preset sums).
    all_gone
        Every target counts as gone (:func:`target_is_gone`); ignored when a target is NE.
    """
    if is_progression(evaluated_sum_tenths, nadir_sum_tenths, settings):
        return _PD
    if any_not_evaluated:
        return _NE
    if all_gone:
        return _CR
    if is_partial_response(evaluated_sum_tenths, baseline_sum_tenths, settings):
        return _PR
    return _SD


# --- section 4: non-target lesions -------------------------------------------------------------


def non_target_is_gone(lesion: Lesion, settings: ResponseSettings) -> bool:
    """A non-target counts as gone for CR: ``absent``, or a node now below the normal short axis."""
    if lesion.state is _ABSENT:
        return True
    return (
        lesion.state is _PRESENT
        and lesion.is_nodal
        and lesion.short_axis_mm is not None
        and to_tenths(lesion.short_axis_mm) < to_tenths(settings.node_normal_mm)
    )


def non_target_response(
    lesions: Sequence[Lesion], settings: ResponseSettings, *, timepoint: str | None = None
) -> tuple[Response, list[Finding]]:
    """Non-target response (spec 4) from the follow-up observation of every baseline non-target.

    The caller passes one lesion per baseline non-target (a missing one as ``not_evaluated``).
    Ascites and pleural effusion progress only with cytology confirmation; otherwise their
    ``unequivocal_progression`` is ignored with a warning. Returns the response and findings.
    """
    if not lesions:
        return _NA, []
    findings: list[Finding] = []
    progression = False
    not_evaluated = False
    all_gone = True
    for lesion in lesions:
        state = lesion.state
        if state is _UNEQUIVOCAL_PROGRESSION:
            if lesion.type in EFFUSION_TYPES and not lesion.cytology_confirmed:
                findings.append(
                    Finding(
                        "warning",
                        f"{lesion.type} progression without cytology confirmation is ignored",
                        lesion.id,
                        timepoint,
                    )
                )
            else:
                progression = True
            all_gone = False
        elif state is _NOT_EVALUATED:
            not_evaluated = True
            all_gone = False
        elif not non_target_is_gone(lesion, settings):
            # Spec silent on an effusion that is present without cytology: RECIST 1.1 needs
            # every non-target to disappear for CR, so it still blocks CR (it only cannot cause PD).
            all_gone = False
    if progression:
        return _PD, findings
    if not_evaluated:
        return _NE, findings
    if all_gone:
        return _CR, findings
    return _NON_CR_NON_PD, findings


# --- section 5: new lesions --------------------------------------------------------------------


def new_lesion_counts(
    lesion: Lesion, first_seen: Lesion | None, settings: ResponseSettings
) -> tuple[bool, str | None]:
    """Whether a new lesion counts as progression at this timepoint (spec 5).

    Parameters
    ----------
    lesion
        The new lesion as read at this timepoint.
    first_seen
        The same lesion (same id) at the earlier scan where it was first seen, or None when this
        is that scan. Used for the mRECIST interval-growth rule.

    Returns
    -------
    counts, reason
        ``reason`` explains an ``unequivocal`` lesion that does not count (to be reported);
        None for an equivocal one (equivocal lesions never count) or one that counts.
    """
    if lesion.state is not _UNEQUIVOCAL:
        return False, None
    if lesion.type in EFFUSION_TYPES and not lesion.cytology_confirmed:
        return False, f"new {lesion.type} without cytology confirmation is not counted"
    if not settings.liver_hcc_new_lesion_rules or lesion.organ != LIVER:
        return True, None
    longest = lesion.longest_diameter_mm
    if (
        longest is not None
        and lesion.typical_hcc_pattern
        and to_tenths(longest) >= to_tenths(settings.new_liver_hcc_min_mm)
    ):
        return True, None
    if (
        longest is not None
        and first_seen is not None
        and first_seen.longest_diameter_mm is not None
        and to_tenths(longest) - to_tenths(first_seen.longest_diameter_mm)
        >= to_tenths(settings.new_liver_growth_mm)
    ):
        return True, None
    size = "no diameter" if longest is None else f"{longest:g} mm"
    pattern = "typical" if lesion.typical_hcc_pattern else "no typical"
    return False, (
        f"unequivocal new liver lesion ({size}, {pattern} HCC vascular pattern) is not HCC by "
        f"mRECIST (needs >= {settings.new_liver_hcc_min_mm:g} mm with the typical pattern, or "
        f">= {settings.new_liver_growth_mm:g} mm growth since first seen): not counted"
    )


# --- section 6: overall response ---------------------------------------------------------------


def overall_response(target: Response, non_target: Response, new_lesions: bool) -> Response:
    """Overall response at a timepoint (spec 6), ``target == NA`` for a patient without targets.

    ``new_lesions`` is True when a new lesion counts as progression (equivocal ones do not).
    A patient with neither targets nor non-targets (nor a counting new lesion) gets NA.
    """
    if target is _PD or non_target is _PD or new_lesions:
        return _PD
    if target is _NA:
        # Spec silent on a patient with no target and no non-target lesion: RECIST 1.1 calls
        # that "no disease" (not an evaluable response); we report NA.
        if non_target in (_CR, _NON_CR_NON_PD, _NE, _NA):
            return non_target
        raise ValueError(f"Invalid non-target response {non_target!r}.")
    if target is _CR:
        return _CR if non_target in (_CR, _NA) else _PR
    if target in (_PR, _SD, _NE):
        return target
    raise ValueError(f"Invalid target response {target!r}.")


# --- section 7: best overall response ----------------------------------------------------------


def best_overall_response(
    responses: Sequence[tuple[int, Response]],
    settings: ResponseSettings,
    *,
    confirm: bool,
    measurable: bool = True,
) -> tuple[Response, int | None]:
    """Best overall response (spec 7) with or without confirmation.

    Parameters
    ----------
    responses
        ``(days_from_start, overall_response)`` of the follow-up timepoints in date order, cut at
        the first progression: if there is one it is the last item, a PD at the (back-dated)
        progression day.
    confirm
        Require confirmation of CR / PR (``settings.confirm_min_days``).
    measurable
        The patient has targets. Without, there is no PR, and an unconfirmed CR falls back to
        non-CR/non-PD instead of SD.

    Returns
    -------
    bor, first_response_index
        ``first_response_index`` is the index in ``responses`` of the first CR / PR that counts
        for the result (confirmed when ``confirm``), or None.
    """
    items = [(day, r) for day, r in responses if r is not _PD]
    progressed = len(items) < len(responses)
    sd_min = settings.sd_min_days
    best_cr: int | None = None
    best_pr: int | None = None
    for index, (_day, response) in enumerate(items):
        if response not in _RESPONDED:
            continue
        if not confirm:
            if response is _CR and best_cr is None:
                best_cr = index
            if best_pr is None:
                best_pr = index
            continue
        if response is _CR and best_cr is None and _confirmed(items, index, True, settings):
            best_cr = index
        # Spec silent on a CR followed by PR (non-target disease back): RECIST 1.1 table 3
        # keeps PR as the best response when PR criteria are met, so a CR also counts as a PR
        # confirmed by a later CR or PR.
        if best_pr is None and _confirmed(items, index, False, settings):
            best_pr = index
    if best_cr is not None:
        return _CR, best_pr if best_pr is not None and best_pr < best_cr else best_cr
    if best_pr is not None and measurable:
        return _PR, best_pr
    # SD (or its no-target counterpart) needs the minimum duration from treatment start; an
    # unconfirmed CR / PR falls back to it.
    stable = {_SD, _CR, _PR} if confirm else {_SD}
    if any(day >= sd_min and r in stable for day, r in items):
        return (_SD if measurable else _NON_CR_NON_PD), None
    # Spec silent on patients without targets: RECIST 1.1 treats non-CR/non-PD like SD, with
    # the same minimum duration.
    if any(day >= sd_min and r is _NON_CR_NON_PD for day, r in items):
        return _NON_CR_NON_PD, None
    if progressed:
        return _PD, None
    return _NE, None


def _confirmed(
    items: Sequence[tuple[int, Response]], index: int, complete: bool, settings: ResponseSettings
) -> bool:
    """Whether the response at ``index`` is confirmed by a later one (spec 7)."""
    day0 = items[index][0]
    if complete:
        target, between = {_CR}, {_CR, _NE}
    else:
        target, between = _RESPONDED, {_CR, _PR, _NE}
    for day, response in items[index + 1 :]:
        if day - day0 >= settings.confirm_min_days and response in target:
            return True
        if response not in between:
            return False
    return False


# --- section 8: per-patient endpoints ----------------------------------------------------------


def progression_free_survival(
    treatment_start: dt.date,
    progression_date: dt.date | None,
    death_date: dt.date | None,
    last_evaluable_date: dt.date | None,
) -> tuple[int, bool]:
    """PFS days and event flag (spec 8).

    From treatment start to the first progression or death, whichever first (event); otherwise
    censored at the last evaluable assessment after baseline, or at day 0 when there is none.
    """
    # Spec silent on deaths long after the last assessment: no censoring rule for missed
    # assessments is applied (RECIST 1.1 leaves it to the protocol); death always is an event.
    ends = [d for d in (progression_date, death_date) if d is not None]
    if ends:
        return max(0, (min(ends) - treatment_start).days), True
    if last_evaluable_date is None:
        return 0, False
    return max(0, (last_evaluable_date - treatment_start).days), False


def duration_of_response(
    first_response_date: dt.date | None,
    progression_date: dt.date | None,
    death_date: dt.date | None,
    last_evaluable_date: dt.date | None,
) -> tuple[int | None, bool | None]:
    """Duration of response: first CR / PR to progression or death (event), else censored.

    Spec 8 names only the end points; censoring at the last evaluable assessment follows
    RECIST 1.1 / PFS practice. Returns ``(None, None)`` without a response.
    """
    if first_response_date is None:
        return None, None
    ends = [d for d in (progression_date, death_date) if d is not None]
    if ends:
        return max(0, (min(ends) - first_response_date).days), True
    last = last_evaluable_date or first_response_date
    return max(0, (last - first_response_date).days), False


def overall_survival(
    treatment_start: dt.date,
    death_date: dt.date | None,
    last_known_alive: dt.date | None,
    last_assessment_date: dt.date | None,
) -> tuple[int, bool]:
    """OS days and event flag (spec 8): treatment start to death, else censored at the last
    known alive date. Without that date the last imaging date stands in (the patient was alive
    then), and without any, day 0.
    """
    if death_date is not None:
        return max(0, (death_date - treatment_start).days), True
    censor = last_known_alive or last_assessment_date
    if censor is None:
        return 0, False
    return max(0, (censor - treatment_start).days), False


def disease_control(
    best_response: Response,
    responses: Sequence[tuple[int, Response]],
    settings: ResponseSettings,
) -> bool:
    """Disease control (spec 8): BOR CR or PR, or no PD yet at an assessment at least
    ``settings.dcr_sd_min_days`` after treatment start.

    ``responses`` is as for :func:`best_overall_response` (cut at the first progression).
    """
    if best_response in _RESPONDED:
        return True
    minimum = settings.dcr_sd_min_days
    return any(day >= minimum and r in _NOT_PROGRESSED for day, r in responses)
