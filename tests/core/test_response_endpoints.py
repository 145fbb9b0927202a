"""Cohort endpoints against hand-computed values, and the CSV exports' exact columns."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from lesion_tool.model import Assessment, Category, Kind, Lesion, LesionState, Timepoint
from lesion_tool.response import (
    PATIENT_COLUMNS,
    TIMEPOINT_COLUMNS,
    PatientResult,
    Response,
    clopper_pearson,
    cohort_endpoints,
    score_assessment,
    settings_for,
    write_patients_csv,
    write_timepoints_csv,
)


def patient(
    pid: str,
    bor: Response,
    pfs_days: int,
    event: bool,
    *,
    control: bool = False,
    measurable: bool = True,
    criteria: str = "mrecist",
) -> PatientResult:
    return PatientResult(
        patient_id=pid,
        reader="R1",
        criteria=criteria,
        timepoints=(),
        best_overall_response=bor,
        best_overall_response_unconfirmed=bor,
        first_response_date=None,
        progression_date=None,
        pfs_days=pfs_days,
        pfs_event=event,
        dor_days=None,
        disease_control=control,
        measurable_at_baseline=measurable,
        os_days=pfs_days * 2,
        os_event=event,
    )


def cohort() -> list[PatientResult]:
    R = Response
    return [
        patient("P1", R.CR, 10, True, control=True),
        patient("P2", R.PR, 20, False, control=True),
        patient("P3", R.PR, 30, True, control=True),
        patient("P4", R.SD, 40, True, control=True),
        patient("P5", R.SD, 50, False, control=True),
        patient("P6", R.SD, 60, True),
        patient("P7", R.PD, 70, True),
        patient("P8", R.NE, 80, False),
        patient("P9", R.NON_CR_NON_PD, 90, False, control=True, measurable=False),
    ]


def test_cohort_endpoints_match_hand_computation() -> None:
    e = cohort_endpoints(cohort())
    # ORR: 8 patients with measurable disease (P9 has none), responders P1-P3: 3/8 = 0.375.
    # Clopper-Pearson 95 %: lower = Beta.ppf(0.025; 3, 8-3+1) = 0.085233...,
    # upper = Beta.ppf(0.975; 3+1, 8-3) = 0.755137...
    assert (e.n, e.n_evaluable, e.n_responders) == (9, 8, 3)
    assert e.orr == 0.375
    assert e.orr_ci == pytest.approx((0.0852334141, 0.7551367837), abs=1e-9)
    # DCR: P1-P5 of the 8 = 5/8; interval Beta(5, 4) 2.5 % and Beta(6, 3) 97.5 %.
    assert (e.n_disease_control, e.dcr) == (5, 0.625)
    assert e.dcr_ci == pytest.approx((0.2448632164, 0.9147665859), abs=1e-9)
    # Kaplan-Meier over all 9 (events at 10, 30, 40, 60, 70; censored 20, 50, 80, 90):
    # S(10) = 8/9 = 0.8889; S(30) = 0.8889 x 6/7 = 0.7619; S(40) = 0.7619 x 5/6 = 0.6349;
    # S(60) = 0.6349 x 3/4 = 0.4762 <= 0.5, so the median is 60 days.
    assert e.n_pfs_events == 5
    assert e.median_pfs_days == 60.0
    survival = dict(zip(e.km_days, e.km_survival, strict=True))
    assert survival[10.0] == pytest.approx(8 / 9)
    assert survival[30.0] == pytest.approx(8 / 9 * 6 / 7)
    assert survival[40.0] == pytest.approx(8 / 9 * 6 / 7 * 5 / 6)
    assert survival[60.0] == pytest.approx(8 / 9 * 6 / 7 * 5 / 6 * 3 / 4)
    assert len(e.km_days) == len(e.km_lower) == len(e.km_upper)
    assert all(
        lo <= s <= hi for s, lo, hi in zip(e.km_survival, e.km_lower, e.km_upper, strict=True)
    )
    # The median's interval comes from the exponential Greenwood band (lifelines): it must
    # bracket the median; its upper end is not reached (the band stays above 0.5 at the end).
    # OS: the same pattern at twice the times, so its median is 120 days.
    assert (e.n_deaths, e.median_os_days) == (5, 120.0)
    low, high = e.median_pfs_ci
    assert low is not None and low <= 60.0
    assert high is None or high >= 60.0


def test_median_not_reached_and_no_evaluable_patients() -> None:
    e = cohort_endpoints([patient("P1", Response.NON_CR_NON_PD, 100, False, measurable=False)])
    assert e.n_evaluable == 0 and e.orr is None and e.orr_ci is None and e.dcr_ci is None
    assert e.median_pfs_days is None


def test_clopper_pearson_edges() -> None:
    # 0/8: lower is exactly 0, upper = 1 - 0.025 ** (1/8) = 0.369417
    assert clopper_pearson(0, 8) == pytest.approx((0.0, 1 - 0.025 ** (1 / 8)))
    assert clopper_pearson(8, 8) == pytest.approx((0.025 ** (1 / 8), 1.0))
    with pytest.raises(ValueError, match="successes"):
        clopper_pearson(1, 0)


def test_cohort_rejects_mixed_presets_and_empty_input() -> None:
    with pytest.raises(ValueError, match="mix criteria"):
        cohort_endpoints(
            [
                patient("A", Response.PR, 1, True),
                patient("B", Response.PR, 1, True, criteria="recist-1.1"),
            ]
        )
    with pytest.raises(ValueError, match="empty"):
        cohort_endpoints([])


def _reading() -> Assessment:
    d = dt.date
    target = Lesion("T1", Category.TARGET, LesionState.MEASURED, kind=Kind.VIABLE)
    nt = Lesion("NT1", Category.NON_TARGET, LesionState.PRESENT, organ="portal_vein")
    return Assessment(
        "HCC-1",
        d(2026, 1, 5),
        (
            Timepoint(
                "baseline",
                d(2026, 1, 2),
                (
                    Lesion(
                        **{
                            **_fields(target),
                            "viable_diameter_mm": 22.0,
                            "longest_diameter_mm": 30.0,
                        }
                    ),
                    nt,
                ),
            ),
            Timepoint(
                "fu1",
                d(2026, 2, 16),
                (
                    Lesion(
                        **{
                            **_fields(target),
                            "viable_diameter_mm": 15.4,
                            "longest_diameter_mm": 29.0,
                        }
                    ),
                    nt,
                ),
            ),
            Timepoint(
                "fu2",
                d(2026, 3, 30),
                (
                    Lesion(
                        **{
                            **_fields(target),
                            "viable_diameter_mm": 15.0,
                            "longest_diameter_mm": 29.0,
                        }
                    ),
                    nt,
                ),
            ),
        ),
        reader="R1",
    )


def _fields(lesion: Lesion) -> dict:
    import dataclasses

    return {f.name: getattr(lesion, f.name) for f in dataclasses.fields(lesion)}


def test_timepoints_csv_columns_and_formatting(tmp_path) -> None:
    results = [score_assessment(_reading(), settings_for(p)) for p in ("mrecist", "recist-1.1")]
    path = tmp_path / "timepoints.csv"
    write_timepoints_csv(results, path)
    text = path.read_text()
    assert text.splitlines()[0] == (
        "patient_id,reader,criteria,timepoint,date,days_from_start,target_sum_mm,baseline_sum_mm,"
        "nadir_sum_mm,change_from_baseline_pct,change_from_nadir_pct,target_response,"
        "non_target_response,new_lesions,overall_response"
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == TIMEPOINT_COLUMNS
    assert len(rows) == 6
    base, fu1, fu2 = rows[:3]
    assert base == {
        "patient_id": "HCC-1",
        "reader": "R1",
        "criteria": "mrecist",
        "timepoint": "baseline",
        "date": "2026-01-02",
        "days_from_start": "-3",
        "target_sum_mm": "22.0",
        "baseline_sum_mm": "22.0",
        "nadir_sum_mm": "",
        "change_from_baseline_pct": "",
        "change_from_nadir_pct": "",
        "target_response": "",
        "non_target_response": "",
        "new_lesions": "",
        "overall_response": "",
    }
    assert (fu1["target_sum_mm"], fu1["change_from_baseline_pct"], fu1["overall_response"]) == (
        "15.4",
        "-30.0",
        "PR",
    )
    assert (fu1["non_target_response"], fu1["new_lesions"]) == ("non-CR/non-PD", "none")
    assert (fu2["nadir_sum_mm"], fu2["change_from_nadir_pct"]) == ("15.4", "-2.6")
    assert rows[4]["criteria"] == "recist-1.1" and rows[4]["overall_response"] == "SD"


def test_patients_csv_columns_and_formatting() -> None:
    results = [score_assessment(_reading(), settings_for(p)) for p in ("mrecist", "recist-1.1")]
    buffer = io.StringIO()
    write_patients_csv(results, buffer)
    lines = buffer.getvalue().splitlines()
    assert lines[0] == ",".join(PATIENT_COLUMNS)
    assert lines[0] == (
        "patient_id,reader,criteria,best_overall_response,best_overall_response_unconfirmed,"
        "first_response_date,progression_date,pfs_days,pfs_event,dor_days,disease_control"
    )
    # mRECIST: PR on day 42 confirmed on day 84 (42 days later); censored at day 84.
    assert lines[1] == "HCC-1,R1,mrecist,PR,PR,2026-02-16,,84,false,42,true"
    # RECIST 1.1: 30 -> 29 mm is SD, and day 84 is short of the 182 days disease control needs.
    assert lines[2] == "HCC-1,R1,recist-1.1,SD,SD,,,84,false,,false"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cells_typed_by_people_never_start_a_formula(start: str) -> None:
    """CSV injection: a patient id, reader or label like ``=HYPERLINK(...)`` is written as text."""
    import dataclasses

    text = f'{start}HYPERLINK("http://x")'
    result = score_assessment(_reading(), settings_for("mrecist"))
    rows = tuple(dataclasses.replace(t, label=text + t.label) for t in result.timepoints)
    result = dataclasses.replace(result, patient_id=text, reader=text, timepoints=rows)
    for write in (write_timepoints_csv, write_patients_csv):
        buffer = io.StringIO()
        write([result], buffer)
        for row in list(csv.reader(io.StringIO(buffer.getvalue())))[1:]:
            assert row[0] == row[1] == "'" + text
            if write is write_timepoints_csv:
                assert row[3].startswith("'" + text)
                assert not row[9].startswith("'")  # numbers (-30.0 %) are never quoted
