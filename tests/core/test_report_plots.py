"""Figure helpers: the numbers they draw (best change, number at risk), not their looks."""

from __future__ import annotations

import datetime as dt

from lesion_tool.report.plots import best_change_pct, km_figure, waterfall_figure
from lesion_tool.response import PatientResult, Response, TimepointResult

START = dt.date(2026, 1, 5)


def _tp(day: int, pct: float | None, overall: Response | None) -> TimepointResult:
    return TimepointResult(
        label=f"d{day}",
        date=START + dt.timedelta(days=day),
        days_from_start=day,
        target_sum_mm=None,
        baseline_sum_mm=None,
        nadir_sum_mm=None,
        change_from_baseline_pct=pct,
        change_from_nadir_pct=None,
        target_response=None,
        non_target_response=None,
        new_lesions=None,
        overall_response=overall,
    )


def _result(pid: str, tps: list[TimepointResult], bor: Response) -> PatientResult:
    return PatientResult(
        patient_id=pid,
        reader="R",
        criteria="mrecist",
        timepoints=tuple(tps),
        best_overall_response=bor,
        best_overall_response_unconfirmed=bor,
        first_response_date=None,
        progression_date=None,
        pfs_days=100,
        pfs_event=False,
        dor_days=None,
        disease_control=False,
        measurable_at_baseline=True,
    )


def test_best_change_stops_at_the_first_pd_and_skips_ne() -> None:
    r = _result(
        "P",
        [
            _tp(-2, None, None),
            _tp(56, -10.0, Response.SD),
            _tp(112, None, Response.NE),
            _tp(168, 25.0, Response.PD),
            _tp(224, -40.0, Response.PR),  # after progression: not the best response
        ],
        Response.SD,
    )
    assert best_change_pct(r) == -10.0
    assert best_change_pct(_result("Q", [_tp(-2, None, None)], Response.NE)) is None


def test_waterfall_lists_patients_without_change_in_a_caption() -> None:
    drawn = _result("A", [_tp(0, None, None), _tp(56, -35.0, Response.PR)], Response.PR)
    missing = _result("B", [_tp(0, None, None)], Response.NE)
    fig = waterfall_figure([drawn, missing], "mrecist")
    texts = [t.get_text() for t in fig.texts]
    assert any("B" in t and "Not shown" in t for t in texts)
    ax = fig.axes[0]
    assert [b.get_height() for b in ax.patches] == [-35.0]


def test_km_number_at_risk_counts_patients_still_followed() -> None:
    # PFS times in days; ticks are months (30.4375 d): at 0 all 4, at 2 months (60.9 d) the
    # three with >= 60.9 days, at 4 months (121.75 d) the two with >= 121.75 days.
    durations = [30.0, 61.0, 130.0, 200.0]
    fig = km_figure(
        [0.0, 30.0, 61.0],
        [1.0, 0.75, 0.5],
        [1.0, 0.4, 0.2],
        [1.0, 0.95, 0.8],
        [130.0, 200.0],
        [0.5, 0.5],
        median_days=61.0,
        median_ci_days=(30.0, None),
        n=4,
        n_events=2,
        preset="mrecist",
        durations_days=durations,
    )
    main_ax, risk_ax = fig.axes
    ticks = [x for x in main_ax.get_xticks() if 0 <= x <= main_ax.get_xlim()[1]]
    counts = {round(t.get_position()[0], 6): int(t.get_text()) for t in risk_ax.texts}
    for x in ticks:
        expected = sum(1 for d in durations if d / 30.4375 >= x - 1e-9)
        assert counts[round(x, 6)] == expected
    assert counts[0.0] == 4
