"""Scoring whole assessments: nadir, NE, reappearance, nodes, back-dating, BOR, PFS, eligibility."""

from __future__ import annotations

import datetime as dt

import pytest

from lesion_tool.errors import CriteriaError
from lesion_tool.model import Assessment, Category, Kind, Lesion, LesionState, Timepoint
from lesion_tool.response import Response, check_baseline, score_assessment, settings_for

CR, PR, SD, PD, NE, NA = (
    Response.CR,
    Response.PR,
    Response.SD,
    Response.PD,
    Response.NE,
    Response.NA,
)
NON = Response.NON_CR_NON_PD
START = dt.date(2026, 1, 1)


def day(n: int) -> dt.date:
    return START + dt.timedelta(days=n)


def T(lesion_id="T1", v=None, ld=None, state="measured", kind=Kind.VIABLE, organ="liver", **kw):
    return Lesion(
        id=lesion_id,
        category=Category.TARGET,
        state=LesionState(state),
        kind=kind,
        organ=organ,
        viable_diameter_mm=v,
        longest_diameter_mm=ld,
        **kw,
    )


def L(lesion_id, mm, state="measured", organ="liver", **kw):
    """A ``longest`` target (the same value under every preset)."""
    return T(lesion_id, ld=mm, state=state, kind=Kind.LONGEST, organ=organ, **kw)


def node(lesion_id, mm, state="measured", **kw):
    return T(
        lesion_id, state=state, kind=Kind.SHORT_AXIS, organ="lymph_node", short_axis_mm=mm, **kw
    )


def NT(lesion_id="NT1", state="present", **kw):
    return Lesion(lesion_id, Category.NON_TARGET, LesionState(state), **kw)


def N(lesion_id="N1", state="unequivocal", ld=None, typical=None, **kw):
    return Lesion(
        lesion_id,
        Category.NEW,
        LesionState(state),
        longest_diameter_mm=ld,
        typical_hcc_pattern=typical,
        **kw,
    )


def assessment(*timepoints, death=None, alive=None) -> Assessment:
    """``timepoints``: (day, lesions...) tuples; the first is the baseline at day -3."""
    tps = []
    for index, (when, *lesions) in enumerate(timepoints):
        label = "baseline" if index == 0 else f"fu{index}"
        tps.append(Timepoint(label, day(when), tuple(lesions)))
    return Assessment(
        "P1",
        START,
        tuple(tps),
        reader="R1",
        death_date=death and day(death),
        last_known_alive=alive and day(alive),
    )


def score(a, preset="mrecist", **overrides):
    return score_assessment(a, settings_for(preset, **overrides))


def overall(result):
    return [row.overall_response for row in result.timepoints[1:]]


def target_responses(result):
    return [row.target_response for row in result.timepoints[1:]]


def test_exact_minus_30_percent_is_pr_and_rows_carry_sums() -> None:
    a = assessment((-3, L("T1", 22.0)), (42, L("T1", 15.4)))
    result = score(a, "recist-1.1")
    base, fu1 = result.timepoints
    assert base.overall_response is None and base.target_response is None
    assert (base.target_sum_mm, base.baseline_sum_mm, base.days_from_start) == (22.0, 22.0, -3)
    assert fu1.target_response is PR
    assert (fu1.target_sum_mm, fu1.nadir_sum_mm, fu1.change_from_baseline_pct) == (
        15.4,
        22.0,
        -30.0,
    )
    assert fu1.new_lesions == "none" and fu1.non_target_response is NA


def test_exact_plus_20_percent_is_pd_under_every_preset() -> None:
    a = assessment((-3, L("T1", 40.0)), (42, L("T1", 48.0)))
    for preset in ("mrecist", "mrecist-1.1", "recist-1.1"):
        assert target_responses(score(a, preset)) == [PD]


def test_nadir_is_the_smallest_earlier_evaluable_sum() -> None:
    a = assessment(
        (-3, L("T1", 30.0), L("T2", 20.0)),  # B = 50
        (42, L("T1", 20.0), L("T2", 10.0)),  # 30: PR, nadir becomes 30
        (84, L("T1", 20.0), L("T2", 16.0)),  # 36 = +20 % of 30, +6 mm: PD
    )
    result = score(a, "recist-1.1")
    assert target_responses(result) == [PR, PD]
    assert [row.nadir_sum_mm for row in result.timepoints[1:]] == [50.0, 30.0]
    assert result.timepoints[2].change_from_nadir_pct == 20.0


def test_ne_timepoints_are_not_nadirs() -> None:
    a = assessment(
        (-3, L("T1", 30.0), L("T2", 20.0)),  # B = 50
        (42, L("T1", 0, state="not_evaluated"), L("T2", 10.0)),  # partial sum 10: NE
        (84, L("T1", 28.0), L("T2", 12.0)),  # 40 vs nadir 50 (not 10): SD
    )
    result = score(a)
    assert target_responses(result) == [NE, SD]
    assert result.timepoints[1].target_sum_mm is None
    assert result.timepoints[2].nadir_sum_mm == 50.0


def test_pd_on_evaluated_lesions_beats_ne() -> None:
    a = assessment(
        (-3, L("T1", 30.0), L("T2", 20.0)),
        (42, L("T1", 0, state="not_evaluated"), L("T2", 70.0)),
    )
    result = score(a)
    assert target_responses(result) == [PD]
    assert "partial sum 70 mm" in result.timepoints[1].findings[0].message


def test_missing_baseline_lesions_count_as_not_evaluated_and_are_reported() -> None:
    a = assessment(
        (-3, L("T1", 30.0), L("T2", 20.0), NT("NT1")),
        (42, L("T1", 20.0)),
    )
    result = score(a)
    row = result.timepoints[1]
    assert (row.target_response, row.non_target_response, row.overall_response) == (NE, NE, NE)
    messages = {(f.lesion_id, f.message) for f in row.findings}
    assert (
        "T2",
        "baseline target missing at this timepoint; counted as not_evaluated",
    ) in messages
    assert (
        "NT1",
        "baseline non-target missing at this timepoint; counted as not_evaluated",
    ) in messages
    assert all(f.timepoint == "fu1" for f in row.findings)
    assert set(result.findings) == set(row.findings)


def test_viable_scar_is_cr_under_mrecist_but_measured_under_recist() -> None:
    a = assessment(
        (-3, T("T1", v=35.0, ld=48.0), T("T2", v=14.0, ld=16.0)),
        (42, T("T1", v=0.0, ld=40.0), T("T2", state="absent")),
        (84, T("T1", v=0.0, ld=36.0), T("T2", state="absent")),
    )
    assert overall(score(a, "mrecist")) == [CR, CR]
    assert overall(score(a, "mrecist-1.1")) == [CR, CR]
    assert overall(score(a, "recist-1.1")) == [PR, PR]  # 64 -> 40 (-37.5 %), -> 36
    assert score(a, "mrecist").best_overall_response is CR


def test_reappearance_after_cr_is_pd_from_nadir_zero() -> None:
    a = assessment(
        (-3, L("T1", 20.0)),
        (42, L("T1", 0, state="absent")),
        (84, L("T1", 3.0)),
        (126, L("T1", 6.0)),
    )
    assert target_responses(score(a, "mrecist")) == [CR, PD, PD]
    # With the 5 mm rule, 3 mm is not yet PD (and 3 <= 0.7 x 20: PR); 6 mm is.
    assert target_responses(score(a, "recist-1.1")) == [CR, PR, PD]


def test_too_small_counts_5_mm() -> None:
    a = assessment((-3, L("T1", 12.0), L("T2", 20.0)), (42, L("T1", 0, "too_small"), L("T2", 18.0)))
    result = score(a)
    assert result.timepoints[1].target_sum_mm == 23.0
    # 23 > 0.7 x 32 = 22.4: SD. Were too_small summed as 0, 18 mm would be a PR.
    assert target_responses(result) == [SD]
    assert target_responses(score(a, too_small_mm=4.0)) == [PR]


def test_lymph_node_targets() -> None:
    a = assessment(
        (-3, L("T1", 20.0), node("LN1", 20.0)),
        (42, L("T1", 0, state="absent"), node("LN1", 9.0)),
        (84, L("T1", 0, state="absent"), node("LN1", 10.0)),
    )
    result = score(a, "recist-1.1")
    # A node below 10 mm short axis is normal: CR although the sum is 9 mm, not 0.
    assert result.timepoints[1].target_sum_mm == 9.0
    assert target_responses(result) == [CR, PR]  # 10 mm is not normal: 10/40 = -75 %: PR


def test_ascites_progression_without_cytology_is_ignored() -> None:
    a = assessment(
        (-3, L("T1", 30.0), NT("NT1", type="ascites")),
        (42, L("T1", 28.0), NT("NT1", "unequivocal_progression", type="ascites")),
        (
            84,
            L("T1", 28.0),
            NT("NT1", "unequivocal_progression", type="ascites", cytology_confirmed=True),
        ),
    )
    result = score(a)
    assert overall(result) == [SD, PD]
    assert "ascites progression without cytology" in result.timepoints[1].findings[0].message


def test_new_lesion_back_dating() -> None:
    a = assessment(
        (-3, T("T1", v=50.0, ld=58.0)),
        (42, T("T1", v=30.0, ld=52.0), N("N1", "equivocal", ld=8.0)),
        (84, T("T1", v=28.0, ld=50.0), N("N1", ld=19.0, typical=True)),
    )
    result = score(a)
    assert overall(result) == [PR, PD]  # the fu1 row keeps the response it had as read
    assert [row.new_lesions for row in result.timepoints[1:]] == ["equivocal", "yes"]
    assert result.progression_date == day(42)  # first seen at fu1
    assert (result.pfs_days, result.pfs_event) == (42, True)
    assert result.best_overall_response is PD  # nothing before the back-dated progression
    assert result.best_overall_response_unconfirmed is PD
    assert any("back-dated" in f.message for f in result.findings)


def test_new_liver_lesion_counts_after_10_mm_interval_growth() -> None:
    a = assessment(
        (-3, T("T1", v=40.0, ld=45.0)),
        (42, T("T1", v=40.0, ld=45.0), N("N1", ld=6.0, typical=False)),
        (84, T("T1", v=40.0, ld=45.0), N("N1", ld=12.0, typical=False)),
        (126, T("T1", v=40.0, ld=45.0), N("N1", ld=16.0, typical=False)),
    )
    mrecist = score(a)
    assert [row.new_lesions for row in mrecist.timepoints[1:]] == ["equivocal", "equivocal", "yes"]
    assert mrecist.progression_date == day(42)
    assert sum("is not HCC by mRECIST" in f.message for f in mrecist.findings) == 2
    recist = score(a, "recist-1.1")
    assert overall(recist) == [PD, PD, PD]  # RECIST 1.1 counts every unequivocal new lesion
    assert recist.progression_date == day(42)


def test_new_extrahepatic_lesion_counts_for_mrecist() -> None:
    a = assessment((-3, L("T1", 30.0)), (42, L("T1", 30.0), N("N1", organ="lung", ld=6.0)))
    assert overall(score(a)) == [PD]


def test_bor_confirmation_through_scoring() -> None:
    a = assessment(
        (-3, L("T1", 50.0)),
        (42, L("T1", 30.0)),  # PR
        (70, L("T1", 30.0)),  # PR, 28 days later: confirms
        (112, L("T1", 45.0)),  # +50 % vs nadir 30: PD
    )
    result = score(a)
    assert result.best_overall_response is PR
    assert result.first_response_date == day(42)
    assert result.progression_date == day(112)
    assert (result.dor_days, result.dor_event) == (70, True)
    assert result.time_to_response_days == 42
    early = assessment((-3, L("T1", 50.0)), (42, L("T1", 30.0)), (60, L("T1", 45.0)))
    confirmed = score(early)
    assert confirmed.best_overall_response is SD  # unconfirmed PR at day 42 falls back to SD
    assert confirmed.best_overall_response_unconfirmed is PR
    assert confirmed.first_response_date is None and confirmed.dor_days is None
    assert score(early, confirm=False).best_overall_response is PR


def test_confirmation_interval_setting() -> None:
    a = assessment((-3, L("T1", 50.0)), (42, L("T1", 0, "absent")), (70, L("T1", 0, "absent")))
    assert score(a).best_overall_response is CR
    assert score(a, confirm_min_days=35).best_overall_response is SD


def test_sd_minimum_duration_through_scoring() -> None:
    early_sd_then_pd = assessment((-3, L("T1", 50.0)), (35, L("T1", 48.0)), (70, L("T1", 70.0)))
    assert score(early_sd_then_pd).best_overall_response is PD
    early_sd_only = assessment((-3, L("T1", 50.0)), (35, L("T1", 48.0)))
    assert score(early_sd_only).best_overall_response is NE
    assert score(early_sd_only, sd_min_days=35).best_overall_response is SD


def test_disease_control_through_scoring() -> None:
    sd_long = assessment((-3, L("T1", 50.0)), (91, L("T1", 48.0)), (182, L("T1", 47.0)))
    assert score(sd_long).disease_control
    sd_short = assessment((-3, L("T1", 50.0)), (91, L("T1", 48.0)), (181, L("T1", 47.0)))
    assert not score(sd_short).disease_control
    assert score(sd_short, dcr_sd_min_days=181).disease_control


def test_pfs_with_death_and_censoring() -> None:
    died = assessment((-3, L("T1", 50.0)), (42, L("T1", 48.0)), death=100)
    result = score(died)
    assert (result.pfs_days, result.pfs_event, result.progression_date) == (100, True, None)
    ne_last = assessment(
        (-3, L("T1", 50.0)), (42, L("T1", 48.0)), (84, L("T1", 0, "not_evaluated"))
    )
    result = score(ne_last)
    assert (result.pfs_days, result.pfs_event) == (42, False)  # censored at the last evaluable
    only_baseline = assessment((-3, L("T1", 50.0)))
    result = score(only_baseline)
    assert (result.pfs_days, result.pfs_event, result.best_overall_response) == (0, False, NE)
    progressed_then_died = assessment((-3, L("T1", 50.0)), (42, L("T1", 70.0)), death=60)
    result = score(progressed_then_died)
    assert result.pfs_days == 42
    assert (result.os_days, result.os_event) == (60, True)
    alive = score(assessment((-3, L("T1", 50.0)), (42, L("T1", 48.0)), alive=300))
    assert (alive.os_days, alive.os_event) == (300, False)


def test_patient_without_targets() -> None:
    a = assessment(
        (-3, NT("NT1", type="infiltrative"), NT("NT2", organ="portal_vein")),
        (42, NT("NT1", type="infiltrative"), NT("NT2", organ="portal_vein")),
        (84, NT("NT1", "absent"), NT("NT2", "absent", organ="portal_vein")),
        (126, NT("NT1", "absent"), NT("NT2", "absent", organ="portal_vein")),
        (168, NT("NT1", "absent"), NT("NT2", "unequivocal_progression", organ="portal_vein")),
    )
    result = score(a)
    assert target_responses(result) == [NA, NA, NA, NA]
    assert overall(result) == [NON, CR, CR, PD]
    assert not result.measurable_at_baseline
    assert result.best_overall_response is CR  # confirmed 42 days apart
    assert result.timepoints[1].target_sum_mm is None
    assert result.timepoints[0].baseline_sum_mm is None


def test_no_timepoints_or_unusable_baseline_raise_criteria_error() -> None:
    with pytest.raises(CriteriaError, match="no timepoints"):
        score(Assessment("P", START))
    no_longest = assessment((-3, T("T1", v=30.0)), (42, T("T1", v=20.0)))
    assert score(no_longest, "mrecist").timepoints[1].target_response is PR
    with pytest.raises(CriteriaError, match="baseline target T1 has no longest_diameter_mm"):
        score(no_longest, "recist-1.1")
    ne_baseline = assessment((-3, L("T1", 0, "not_evaluated")))
    with pytest.raises(CriteriaError, match="is not_evaluated"):
        score(ne_baseline)


def test_follow_up_without_the_preset_diameter_is_ne_with_an_error_finding() -> None:
    a = assessment((-3, T("T1", v=30.0, ld=40.0)), (42, T("T1", v=20.0)))
    result = score(a, "recist-1.1")
    assert target_responses(result) == [NE]
    assert result.findings[0].severity == "error"
    assert "no longest_diameter_mm" in result.findings[0].message


# --- baseline eligibility (spec 1) -------------------------------------------------------------


def eligibility(*lesions, preset="mrecist", **kw):
    a = assessment((-3, *lesions))
    return [(f.lesion_id, f.message) for f in check_baseline(a, settings_for(preset), **kw)]


def test_eligible_baseline_has_no_findings() -> None:
    assert (
        eligibility(T("T1", v=10.0, ld=12.0), L("T2", 10.0, organ="lung"), node("LN1", 15.0)) == []
    )


def test_target_size_minimum() -> None:
    [(lesion_id, message)] = eligibility(L("T1", 9.9))
    assert lesion_id == "T1" and "below the 10 mm minimum" in message
    assert eligibility(T("T1", v=9.0, ld=12.0), preset="recist-1.1") == []  # RECIST: whole lesion
    assert eligibility(T("T1", v=9.0, ld=12.0))[0][0] == "T1"  # mRECIST: the viable part


def test_thick_slices_raise_the_minimum() -> None:
    assert eligibility(L("T1", 11.0), slice_thickness_mm=5.0) == []
    [(_, message)] = eligibility(L("T1", 11.0), slice_thickness_mm=6.0)
    assert "12 mm (2 x the 6 mm slice thickness)" in message
    a = assessment((-3, L("T1", 11.0)))
    assert check_baseline(a, settings_for("mrecist", slice_thickness_mm=6.0))


def test_node_minimum_and_porta_hepatis() -> None:
    assert eligibility(node("LN1", 14.9))[0][0] == "LN1"
    assert eligibility(node("LN1", 18.0)) == []
    [(_, message)] = eligibility(node("LN1", 18.0, porta_hepatis=True))
    assert "at the porta hepatis" in message and "below 20 mm" in message
    assert eligibility(node("LN1", 20.0, porta_hepatis=True)) == []


def test_viable_target_needs_enhancement() -> None:
    found = eligibility(T("T1", v=0.0, ld=30.0), preset="recist-1.1")
    assert found == [
        (
            "T1",
            (
                "viable target without intratumoral arterial enhancement at baseline "
                "(viable diameter must be > 0)"
            ),
        )
    ]


def test_target_caps() -> None:
    lesions = [L(f"T{i}", 20.0, organ=organ) for i, organ in enumerate("aabbcc", start=1)]
    assert [lid for lid, _ in eligibility(*lesions)] == ["T6"]
    three_in_liver = [L(f"T{i}", 20.0) for i in range(1, 4)]
    [(lesion_id, message)] = eligibility(*three_in_liver)
    assert lesion_id == "T3" and "at most 2 targets per organ" in message
    a = assessment((-3, *[L(f"T{i}", 20.0, organ=o) for i, o in enumerate("aaabbbcccd")]))
    recist10 = settings_for("recist-1.1", max_targets=10, max_targets_per_organ=5)
    assert check_baseline(a, recist10) == []


def test_target_must_be_measured_at_baseline() -> None:
    [(lesion_id, message)] = eligibility(L("T1", 0, state="too_small"))
    assert lesion_id == "T1" and "must be measured at baseline" in message
