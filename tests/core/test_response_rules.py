"""Each response rule alone (spec sections 3-8), on plain values."""

from __future__ import annotations

import datetime as dt

import pytest

from lesion_tool.errors import CriteriaError
from lesion_tool.model import Category, Kind, Lesion, LesionState
from lesion_tool.response import PRESETS, Response, settings_for
from lesion_tool.response.arithmetic import pct_change, to_tenths
from lesion_tool.response.rules import (
    best_overall_response,
    disease_control,
    duration_of_response,
    is_partial_response,
    is_progression,
    new_lesion_counts,
    non_target_response,
    overall_response,
    progression_free_survival,
    target_is_gone,
    target_response,
    target_value_tenths,
)

CR, PR, SD, PD, NE, NA = (
    Response.CR,
    Response.PR,
    Response.SD,
    Response.PD,
    Response.NE,
    Response.NA,
)
NON = Response.NON_CR_NON_PD
MRECIST = settings_for("mrecist")
MRECIST11 = settings_for("mrecist-1.1")
RECIST = settings_for("recist-1.1")


def target(state="measured", kind=Kind.VIABLE, viable=None, longest=None, short=None, **kw):
    return Lesion(
        id=kw.pop("id", "T1"),
        category=Category.TARGET,
        state=LesionState(state),
        kind=kind,
        viable_diameter_mm=viable,
        longest_diameter_mm=longest,
        short_axis_mm=short,
        **kw,
    )


def non_target(state="present", **kw):
    return Lesion(
        id=kw.pop("id", "NT1"), category=Category.NON_TARGET, state=LesionState(state), **kw
    )


def new(state="unequivocal", longest=None, typical=None, **kw):
    return Lesion(
        id=kw.pop("id", "N1"),
        category=Category.NEW,
        state=LesionState(state),
        longest_diameter_mm=longest,
        typical_hcc_pattern=typical,
        **kw,
    )


# --- exact arithmetic --------------------------------------------------------------------------


def test_tenths_are_exact_for_values_recorded_to_a_tenth() -> None:
    assert to_tenths(15.4) == 154
    assert to_tenths(22.0) == 220
    assert to_tenths(0.0) == 0
    assert to_tenths(12.25) == 123  # half up
    assert all(to_tenths(t / 10) == t for t in range(5000))


def test_percent_change_is_exact_and_rounded_to_one_decimal() -> None:
    assert pct_change(154, 220) == -30.0  # float arithmetic gives -30.000000000000004
    assert pct_change(480, 400) == 20.0
    assert pct_change(1, 3) == -66.7
    assert pct_change(2, 3) == -33.3
    assert pct_change(5, 0) is None


# --- section 3: target response ----------------------------------------------------------------


def test_pd_threshold_is_inclusive_exactly_plus_20_percent() -> None:
    # 40 -> 48 mm is exactly +20 % and +8 mm: PD with or without the 5 mm rule.
    assert is_progression(480, 400, MRECIST)
    assert is_progression(480, 400, RECIST)
    assert not is_progression(479, 400, MRECIST)


def test_pr_threshold_is_inclusive_exactly_minus_30_percent() -> None:
    assert 0.7 * 22.0 < 15.4  # the float trap the integer arithmetic avoids
    assert is_partial_response(154, 220, MRECIST)  # 22.0 -> 15.4 mm
    assert is_partial_response(350, 500, MRECIST)  # 50 -> 35 mm
    assert not is_partial_response(155, 220, MRECIST)
    assert not is_partial_response(0, 0, MRECIST)  # no baseline sum, no PR


def test_five_mm_rule() -> None:
    # nadir 10 mm -> 12 mm: +20 % but only +2 mm.
    assert is_progression(120, 100, MRECIST)  # mRECIST: no 5 mm rule
    assert not is_progression(120, 100, MRECIST11)
    assert not is_progression(120, 100, RECIST)
    assert is_progression(150, 100, RECIST)  # +5 mm exactly: inclusive


def test_reappearance_after_nadir_zero() -> None:
    assert is_progression(30, 0, MRECIST)  # any reappearance
    assert not is_progression(30, 0, RECIST)  # 3 mm < 5 mm
    assert is_progression(50, 0, RECIST)
    assert not is_progression(0, 0, MRECIST)


def test_target_response_rules_in_order() -> None:
    def resp(s, b, n, ne=False, gone=False, settings=MRECIST):
        return target_response(s, b, n, any_not_evaluated=ne, all_gone=gone, settings=settings)

    assert resp(600, 500, 500, ne=True) is PD  # rule 1 fires on the evaluated lesions
    assert resp(400, 500, 500, ne=True) is NE  # rule 2
    assert resp(0, 500, 500, ne=True, gone=True) is NE  # NE before CR
    assert resp(0, 500, 500, gone=True) is CR  # rule 3
    assert resp(350, 500, 500) is PR  # rule 4
    assert resp(351, 500, 500) is SD  # rule 5
    assert resp(360, 500, 300) is PD  # PD vs nadir, although below baseline


def test_target_value_per_kind_and_preset() -> None:
    viable = target(viable=20.0, longest=31.0)
    assert target_value_tenths(viable, MRECIST) == 200
    assert target_value_tenths(viable, MRECIST11) == 200
    assert target_value_tenths(viable, RECIST) == 310
    assert target_value_tenths(target(kind=Kind.LONGEST, longest=18.0), MRECIST) == 180
    assert target_value_tenths(target(kind=Kind.SHORT_AXIS, short=16.0), RECIST) == 160
    assert target_value_tenths(target("absent"), MRECIST) == 0
    assert target_value_tenths(target("too_small"), MRECIST) == 50
    assert target_value_tenths(target("too_small"), settings_for("mrecist", too_small_mm=3)) == 30
    assert target_value_tenths(target("not_evaluated"), MRECIST) is None
    assert target_value_tenths(target(viable=None, longest=30.0), MRECIST) is None


def test_gone_for_cr() -> None:
    scar = target(viable=0.0, longest=25.0)
    assert target_is_gone(scar, target_value_tenths(scar, MRECIST), MRECIST)  # mRECIST: gone
    assert not target_is_gone(scar, target_value_tenths(scar, RECIST), RECIST)  # RECIST: 25 mm
    assert target_is_gone(target("absent"), 0, RECIST)
    assert not target_is_gone(target("too_small"), 50, MRECIST)
    node = target(kind=Kind.SHORT_AXIS, short=9.9)
    assert target_is_gone(node, 99, RECIST)  # nodes: < 10 mm short axis is normal
    assert not target_is_gone(target(kind=Kind.SHORT_AXIS, short=10.0), 100, RECIST)


# --- section 4: non-targets --------------------------------------------------------------------


def test_non_target_response() -> None:
    assert non_target_response([], MRECIST) == (NA, [])
    assert non_target_response([non_target("absent")], MRECIST)[0] is CR
    assert non_target_response([non_target()], MRECIST)[0] is NON
    assert non_target_response([non_target("not_evaluated"), non_target()], MRECIST)[0] is NE
    both = [non_target("not_evaluated"), non_target("unequivocal_progression", id="NT2")]
    assert non_target_response(both, MRECIST)[0] is PD  # PD before NE


def test_non_target_nodes_below_10_mm_count_as_gone() -> None:
    small = non_target(type="lymph_node", short_axis_mm=9.0)
    assert non_target_response([small, non_target("absent", id="NT2")], RECIST)[0] is CR
    border = non_target(type="lymph_node", short_axis_mm=10.0)
    assert non_target_response([border], RECIST)[0] is NON


@pytest.mark.parametrize("kind", ["ascites", "pleural_effusion"])
def test_effusion_progression_needs_cytology(kind: str) -> None:
    lesion = non_target("unequivocal_progression", type=kind)
    response, findings = non_target_response([lesion], MRECIST, timepoint="fu1")
    assert response is NON
    assert findings[0].severity == "warning"
    assert "without cytology confirmation is ignored" in findings[0].message
    assert findings[0].lesion_id == "NT1" and findings[0].timepoint == "fu1"
    confirmed = non_target("unequivocal_progression", type=kind, cytology_confirmed=True)
    assert non_target_response([confirmed], MRECIST) == (PD, [])


# --- section 5: new lesions --------------------------------------------------------------------


@pytest.mark.parametrize("preset", PRESETS)
def test_equivocal_new_lesion_never_counts(preset: str) -> None:
    lesion = new("equivocal", longest=30.0, typical=True)
    assert new_lesion_counts(lesion, None, settings_for(preset)) == (False, None)


def test_recist_counts_any_unequivocal_new_lesion() -> None:
    assert new_lesion_counts(new(longest=4.0, typical=False), None, RECIST) == (True, None)


def test_mrecist_extrahepatic_new_lesion_counts() -> None:
    assert new_lesion_counts(new(organ="lung", longest=4.0), None, MRECIST) == (True, None)


@pytest.mark.parametrize("settings", [MRECIST, MRECIST11])
def test_mrecist_new_liver_lesion_must_be_hcc(settings) -> None:
    assert new_lesion_counts(new(longest=10.0, typical=True), None, settings) == (True, None)
    counts, reason = new_lesion_counts(new(longest=9.9, typical=True), None, settings)
    assert not counts and "is not HCC by mRECIST" in reason
    counts, reason = new_lesion_counts(new(longest=25.0, typical=False), None, settings)
    assert not counts and "no typical HCC vascular pattern" in reason


def test_mrecist_interval_growth_of_10_mm_since_first_seen() -> None:
    first = new("equivocal", longest=6.0)
    assert new_lesion_counts(new(longest=16.0, typical=False), first, MRECIST) == (True, None)
    assert not new_lesion_counts(new(longest=15.9, typical=False), first, MRECIST)[0]
    assert not new_lesion_counts(new(longest=16.0, typical=False), None, MRECIST)[0]


@pytest.mark.parametrize("preset", PRESETS)
def test_new_effusion_counts_only_with_cytology(preset: str) -> None:
    settings = settings_for(preset)
    ascites = new(organ="peritoneum", type="ascites")
    counts, reason = new_lesion_counts(ascites, None, settings)
    assert not counts and "without cytology" in reason
    confirmed = new(organ="peritoneum", type="ascites", cytology_confirmed=True)
    assert new_lesion_counts(confirmed, None, settings) == (True, None)


# --- section 6: overall response ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("target_r", "non_target_r", "new_lesion", "expected"),
    [
        (CR, CR, False, CR),
        (CR, NA, False, CR),
        (CR, NON, False, PR),
        (CR, NE, False, PR),
        (PR, CR, False, PR),
        (PR, NON, False, PR),
        (PR, NE, False, PR),
        (PR, NA, False, PR),
        (SD, CR, False, SD),
        (SD, NON, False, SD),
        (SD, NE, False, SD),
        (SD, NA, False, SD),
        (NE, CR, False, NE),
        (NE, NON, False, NE),
        (NE, NE, False, NE),
        (NE, NA, False, NE),
        (PD, CR, False, PD),
        (PD, NA, True, PD),
        (CR, PD, False, PD),
        (SD, PD, False, PD),
        (NE, PD, False, PD),
        (CR, CR, True, PD),
        (PR, NON, True, PD),
        (NE, NE, True, PD),
        # patients without targets
        (NA, CR, False, CR),
        (NA, NON, False, NON),
        (NA, NE, False, NE),
        (NA, PD, False, PD),
        (NA, NON, True, PD),
        (NA, NA, False, NA),
        (NA, NA, True, PD),
    ],
)
def test_overall_response_table(target_r, non_target_r, new_lesion, expected) -> None:
    assert overall_response(target_r, non_target_r, new_lesion) is expected


def test_overall_response_rejects_impossible_input() -> None:
    with pytest.raises(ValueError, match="Invalid"):
        overall_response(NON, CR, False)


# --- section 7: best overall response ----------------------------------------------------------


def bor(seq, confirm, measurable=True, **overrides):
    return best_overall_response(
        seq, settings_for("mrecist", **overrides), confirm=confirm, measurable=measurable
    )


def test_bor_without_confirmation_is_best_before_pd() -> None:
    assert bor([(42, SD), (84, PR), (126, CR), (168, PD)], False) == (CR, 1)
    assert bor([(42, PR), (84, SD)], False) == (PR, 0)
    assert bor([(42, NE), (84, NE)], False) == (NE, None)
    assert bor([], False) == (NE, None)


def test_sd_needs_the_minimum_duration() -> None:
    assert bor([(42, SD)], False) == (SD, None)  # exactly 42 days: counts
    assert bor([(41, SD)], False) == (NE, None)  # early SD followed by nothing
    assert bor([(41, SD), (80, PD)], False) == (PD, None)  # early SD followed by PD
    assert bor([(41, SD)], False, sd_min_days=28) == (SD, None)


def test_confirmed_pr_needs_a_later_response_28_days_on() -> None:
    assert bor([(42, PR), (70, PR)], True) == (PR, 0)  # 28 days: confirmed
    assert bor([(42, PR), (69, PR)], True) == (SD, None)  # 27 days: falls back to SD
    assert bor([(42, PR), (56, NE), (84, PR)], True) == (PR, 0)  # NE between is allowed
    assert bor([(42, PR), (56, SD), (84, PR)], True) == (SD, None)  # SD between is not
    assert bor([(42, PR), (84, CR)], True) == (PR, 0)  # confirmed by a CR
    assert bor([(30, PR), (50, PD)], True) == (PD, None)  # early, unconfirmed: adds nothing
    assert bor([(42, PR), (70, PR)], True, confirm_min_days=29) == (SD, None)


def test_confirmed_cr() -> None:
    assert bor([(42, CR), (70, CR)], True) == (CR, 0)
    assert bor([(42, PR), (84, CR), (126, CR)], True) == (CR, 0)  # first response was the PR
    assert bor([(42, CR), (60, CR)], True) == (SD, None)  # 18 days only
    assert bor([(42, CR), (84, PR)], True) == (PR, 0)  # CR then PR: PR (RECIST 1.1 table 3)
    assert bor([(42, CR), (56, NE), (84, CR)], True) == (CR, 0)
    assert bor([(42, CR), (84, CR)], False) == (CR, 0)


def test_unconfirmed_bor_ignores_confirmation() -> None:
    assert bor([(42, PR), (60, PD)], False) == (PR, 0)
    assert bor([(42, PR), (60, PD)], True) == (SD, None)


def test_bor_without_targets() -> None:
    assert bor([(42, NON), (84, NON)], True, measurable=False) == (NON, None)
    assert bor([(42, CR), (84, CR)], True, measurable=False) == (CR, 0)
    assert bor([(42, CR), (50, PD)], True, measurable=False) == (NON, None)
    assert bor([(30, NON), (50, PD)], False, measurable=False) == (PD, None)


# --- section 8: per-patient endpoints ----------------------------------------------------------

START = dt.date(2026, 1, 1)


def test_pfs_event_is_the_earlier_of_progression_and_death() -> None:
    d = dt.date
    assert progression_free_survival(START, d(2026, 3, 1), d(2026, 2, 1), d(2026, 1, 20)) == (
        31,
        True,
    )
    assert progression_free_survival(START, d(2026, 3, 1), None, None) == (59, True)
    assert progression_free_survival(START, None, d(2026, 4, 11), d(2026, 3, 1)) == (100, True)
    assert progression_free_survival(START, None, None, d(2026, 3, 1)) == (59, False)
    assert progression_free_survival(START, None, None, None) == (0, False)


def test_duration_of_response() -> None:
    d = dt.date
    assert duration_of_response(None, d(2026, 3, 1), None, None) == (None, None)
    assert duration_of_response(d(2026, 2, 1), d(2026, 3, 1), None, None) == (28, True)
    assert duration_of_response(d(2026, 2, 1), None, d(2026, 2, 11), None) == (10, True)
    assert duration_of_response(d(2026, 2, 1), None, None, d(2026, 4, 2)) == (60, False)


def test_disease_control_needs_182_days_without_pd() -> None:
    settings = settings_for("mrecist")
    assert disease_control(PR, [(42, PR)], settings)
    assert disease_control(SD, [(84, SD), (182, SD)], settings)
    assert not disease_control(SD, [(84, SD), (181, SD)], settings)
    assert not disease_control(SD, [(84, SD), (182, NE)], settings)
    assert not disease_control(PD, [(84, SD), (182, PD)], settings)
    assert disease_control(SD, [(84, SD), (120, SD)], settings_for("mrecist", dcr_sd_min_days=112))


# --- settings ----------------------------------------------------------------------------------


def test_presets_and_overrides() -> None:
    assert PRESETS == ("mrecist", "mrecist-1.1", "recist-1.1")
    assert not MRECIST.five_mm_rule and MRECIST.use_viable_diameter
    assert MRECIST11.five_mm_rule and MRECIST11.use_viable_diameter
    assert RECIST.five_mm_rule and not RECIST.use_viable_diameter
    assert not RECIST.liver_hcc_new_lesion_rules
    for s in (MRECIST, MRECIST11, RECIST):
        assert (s.confirm, s.confirm_min_days, s.sd_min_days, s.dcr_sd_min_days) == (
            True,
            28,
            42,
            182,
        )
        assert (s.max_targets, s.max_targets_per_organ, s.too_small_mm) == (5, 2, 5.0)
        assert (s.min_target_mm, s.min_node_short_axis_mm, s.porta_hepatis_node_mm) == (
            10.0,
            15.0,
            20.0,
        )
        assert s.node_normal_mm == 10.0
    assert settings_for("recist-1.1", confirm=False).confirm is False
    with pytest.raises(CriteriaError, match="Unknown criteria 'easl'"):
        settings_for("easl")
    with pytest.raises(TypeError, match="no_such"):
        settings_for("mrecist", no_such=1)
    with pytest.raises(ValueError, match="sd_min_days"):
        settings_for("mrecist", sd_min_days=-1)


def test_overall_survival() -> None:
    from lesion_tool.response.rules import overall_survival

    d = dt.date
    assert overall_survival(START, d(2026, 3, 1), d(2026, 2, 1), None) == (59, True)
    assert overall_survival(START, None, d(2026, 4, 11), d(2026, 3, 1)) == (100, False)
    assert overall_survival(START, None, None, d(2026, 3, 1)) == (59, False)
    assert overall_survival(START, None, None, None) == (0, False)
