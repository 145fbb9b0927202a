"""The report's figures, drawn with matplotlib's object API on the Agg backend.

Every function takes scored results (``lesion_tool.response.PatientResult``, one per patient, all
under one preset) and returns a :class:`matplotlib.figure.Figure`; nothing here computes a
response: categories, sums and percent changes all come from the response engine. Time axes are
in months since treatment start (days / 30.4375); percent changes are of the target sum from
baseline, in %.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from lesion_tool.report.style import (
    DAYS_PER_MONTH,
    PRESET_COLOURS,
    PRESET_LABELS,
    RESPONSE_ORDER,
    response_colour,
)

if TYPE_CHECKING:
    from lesion_tool.model import Assessment

__all__ = [
    "best_change_pct",
    "km_figure",
    "patient_sum_figure",
    "spider_figure",
    "swimmer_figure",
    "waterfall_figure",
]

PR_LINE_PCT = -30.0
"""Drawn reference: the partial-response threshold of every preset (spec section 3)."""
PD_LINE_PCT = 20.0
"""Drawn reference: the progression threshold (+20%, relative to the nadir in the rules; drawn
against baseline as is customary in waterfall and spider plots)."""


def _label(response: object) -> str:
    return "NE" if response is None else str(response)


def _months(days: float) -> float:
    return days / DAYS_PER_MONTH


def _follow_ups(result: Any) -> list[Any]:
    return list(result.timepoints[1:])


def best_change_pct(result: Any) -> float | None:
    """Best (lowest) % change of the target sum from baseline, up to and including the first PD.

    Only follow-up timepoints with a computed change count (NE timepoints have none). Returns
    None when there is none (no measurable disease, or no evaluable follow-up).
    """
    best: float | None = None
    for tp in _follow_ups(result):
        pct = tp.change_from_baseline_pct
        if pct is not None and not math.isnan(pct):
            best = pct if best is None else min(best, pct)
        if _label(tp.overall_response) == "PD":
            break
    return best


def _threshold_handles() -> list[Any]:
    return [
        Line2D(
            [],
            [],
            color=response_colour("PD"),
            linestyle="--",
            linewidth=1,
            label="+20% (PD threshold)",
        ),
        Line2D(
            [],
            [],
            color=response_colour("CR"),
            linestyle="--",
            linewidth=1,
            label="−30% (PR threshold)",
        ),
    ]


def _bor_legend(ax: Any, labels: Sequence[str], counts: Mapping[str, int] | None = None) -> None:
    present = [r for r in RESPONSE_ORDER if r in set(labels)]
    handles: list[Any] = [
        Patch(
            facecolor=response_colour(r),
            edgecolor="none",
            label=f"{r} (n={counts[r]})" if counts else r,
        )
        for r in present
    ]
    handles += _threshold_handles()
    ax.legend(
        handles=handles, title="Best overall response", loc="upper left", bbox_to_anchor=(1.01, 1.0)
    )


def _no_data(ax: Any, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#666666")


def waterfall_figure(results: Sequence[Any], preset: str) -> Figure:
    """Bars of the best % change of the target sum from baseline, one per patient.

    Sorted from the largest increase to the largest decrease and coloured by best overall
    response; dashed lines at -30% (PR) and +20% (PD). Patients without an evaluable change
    (no measurable disease or no evaluable follow-up) are listed in the caption, not drawn.
    """
    rows = [(r.patient_id, best_change_pct(r), _label(r.best_overall_response)) for r in results]
    n_bars = sum(1 for row in rows if row[1] is not None)
    # narrower for a handful of patients, so that bars keep a bar's proportions
    fig = Figure(figsize=(min(10.0, 5.5 + 0.3 * n_bars), 5.2), layout="constrained")
    ax = fig.add_subplot()
    drawn = sorted((row for row in rows if row[1] is not None), key=lambda row: -row[1])
    missing = [row[0] for row in rows if row[1] is None]
    name = PRESET_LABELS.get(preset, preset)
    ax.set_title(f"Best change in target sum from baseline ({name})")
    if not drawn:
        _no_data(ax, "No patient with an evaluable follow-up")
        ax.set_xticks([])
    else:
        x = range(len(drawn))
        values = [row[1] for row in drawn]
        ax.bar(
            x,
            values,
            width=0.8,
            color=[response_colour(row[2]) for row in drawn],
            edgecolor="white",
            linewidth=0.5,
        )
        zero = [i for i, v in enumerate(values) if v == 0]
        if zero:  # a 0% bar has no height: mark it so the patient is still visible
            ax.scatter(
                zero,
                [0] * len(zero),
                marker="_",
                s=120,
                linewidths=3,
                zorder=3,
                color=[response_colour(drawn[i][2]) for i in zero],
            )
        ax.set_xticks(list(x))
        small = len(drawn) > 25
        ax.set_xticklabels(
            [row[0] for row in drawn], rotation=90, fontsize=6.5 if small else 8, family="monospace"
        )
        ax.set_xlim(-0.7, len(drawn) - 0.3)
        counts = {lab: sum(1 for row in drawn if row[2] == lab) for lab in RESPONSE_ORDER}
        _bor_legend(ax, [row[2] for row in drawn], counts)
        low = min(min(values), -100.0 if min(values) < -70 else -40.0)
        high = max(max(values), 30.0)
        ax.set_ylim(low - 5, high + 10)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.axhline(PD_LINE_PCT, color=response_colour("PD"), linestyle="--", linewidth=1)
    ax.axhline(PR_LINE_PCT, color=response_colour("CR"), linestyle="--", linewidth=1)
    ax.grid(axis="x", visible=False)
    ax.set_xlabel("Patient")
    ax.set_ylabel("Best change in sum of target diameters (%)")
    if missing:
        shown = ", ".join(missing[:12]) + (" …" if len(missing) > 12 else "")
        fig.text(
            0.01, -0.02, f"Not shown (no evaluable change): {shown}", fontsize=8, color="#555555"
        )
    return fig


def spider_figure(results: Sequence[Any], preset: str) -> Figure:
    """% change of the target sum from baseline over time, one line per patient.

    Lines are coloured by best overall response; a cross marks the timepoint of the first PD.
    """
    fig = Figure(figsize=(10, 5.2), layout="constrained")
    ax = fig.add_subplot()
    name = PRESET_LABELS.get(preset, preset)
    ax.set_title(f"Change in target sum from baseline over time ({name})")
    labels: list[str] = []
    for r in results:
        if not r.timepoints:
            continue
        base = r.timepoints[0]
        xs = [_months(max(0, base.days_from_start))]
        ys = [0.0]
        pd_point = None
        for tp in _follow_ups(r):
            pct = tp.change_from_baseline_pct
            if pct is None or math.isnan(pct):
                continue
            xs.append(_months(tp.days_from_start))
            ys.append(pct)
            if pd_point is None and _label(tp.overall_response) == "PD":
                pd_point = (xs[-1], ys[-1])
        if len(xs) < 2:
            continue
        bor = _label(r.best_overall_response)
        labels.append(bor)
        colour = response_colour(bor)
        ax.plot(xs, ys, color=colour, linewidth=1.4, marker="o", markersize=3, alpha=0.9)
        if pd_point is not None:
            ax.plot(
                *pd_point,
                marker="X",
                markersize=8,
                color=response_colour("PD"),
                markeredgecolor="black",
                markeredgewidth=0.6,
                linestyle="none",
                zorder=3,
            )
    ax.axhline(0, color="black", linewidth=0.8)
    ax.axhline(PD_LINE_PCT, color=response_colour("PD"), linestyle="--", linewidth=1)
    ax.axhline(PR_LINE_PCT, color=response_colour("CR"), linestyle="--", linewidth=1)
    if not labels:
        _no_data(ax, "No patient with an evaluable follow-up")
    else:
        present = [x for x in RESPONSE_ORDER if x in set(labels)]
        handles: list[Any] = [
            Line2D([], [], color=response_colour(x), linewidth=2, label=x) for x in present
        ]
        handles.append(
            Line2D(
                [],
                [],
                marker="X",
                color=response_colour("PD"),
                markeredgecolor="black",
                linestyle="none",
                markersize=8,
                label="first PD",
            )
        )
        handles += _threshold_handles()
        ax.legend(
            handles=handles,
            title="Best overall response",
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
        )
    ax.set_xlim(left=0)
    ax.set_xlabel("Time since treatment start (months)")
    ax.set_ylabel("Change in sum of target diameters (%)")
    return fig


def _days(assessment: Assessment, date: dt.date | None) -> float | None:
    return None if date is None else float((date - assessment.treatment_start).days)


def swimmer_figure(patients: Sequence[tuple[Assessment, Any]], preset: str) -> Figure:
    """Time on study per patient, with the responses and progression along each bar.

    Bars run from treatment start to the last of: last assessment, death, last known alive;
    coloured by best overall response. Markers: response (CR/PR) at each assessment where it was
    recorded, first progression, death; an arrow marks patients still on study without
    progression (PFS censored).
    """
    rows = []
    for assessment, r in patients:
        ends = [tp.days_from_start for tp in r.timepoints]
        for extra in (assessment.death_date, assessment.last_known_alive):
            d = _days(assessment, extra)
            if d is not None:
                ends.append(d)
        rows.append((assessment, r, max([0.0, *ends])))
    rows.sort(key=lambda row: row[2])
    height = max(3.5, 0.22 * len(rows) + 1.6)
    fig = Figure(figsize=(10, height), layout="constrained")
    ax = fig.add_subplot()
    name = PRESET_LABELS.get(preset, preset)
    ax.set_title(f"Time on study and responses ({name})")
    if not rows:
        _no_data(ax, "No patients")
        return fig
    labels = []
    for y, (assessment, r, end) in enumerate(rows):
        bor = _label(r.best_overall_response)
        labels.append(bor)
        ax.barh(
            y, _months(end), height=0.62, color=response_colour(bor), alpha=0.85, edgecolor="none"
        )
        for tp in _follow_ups(r):
            resp = _label(tp.overall_response)
            if resp in ("CR", "PR"):
                ax.plot(
                    _months(tp.days_from_start),
                    y,
                    marker="^" if resp == "PR" else "*",
                    markersize=7 if resp == "PR" else 10,
                    color="white",
                    markeredgecolor="black",
                    markeredgewidth=0.8,
                    linestyle="none",
                )
        progression = _days(assessment, r.progression_date)
        if progression is not None:
            ax.plot(
                _months(progression),
                y,
                marker="X",
                markersize=8,
                color=response_colour("PD"),
                markeredgecolor="black",
                markeredgewidth=0.7,
                linestyle="none",
            )
        death = _days(assessment, assessment.death_date)
        if death is not None:
            ax.plot(_months(death), y, marker="s", markersize=5.5, color="black", linestyle="none")
        elif progression is None:
            ax.annotate(
                "",
                xy=(_months(end) + 0.9, y),
                xytext=(_months(end) + 0.1, y),
                arrowprops={"arrowstyle": "-|>", "color": "#333333", "lw": 1.0},
            )
    ax.set_yticks(range(len(rows)))
    small = len(rows) > 25
    ax.set_yticklabels(
        [row[1].patient_id for row in rows], fontsize=6.5 if small else 8, family="monospace"
    )
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlim(0, _months(max(row[2] for row in rows)) + 1.5)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("Time since treatment start (months)")
    ax.set_ylabel("Patient")
    present = [x for x in RESPONSE_ORDER if x in set(labels)]
    handles: list[Any] = [
        Patch(facecolor=response_colour(x), alpha=0.85, label=f"BOR {x}") for x in present
    ]
    handles += [
        Line2D(
            [],
            [],
            marker="*",
            color="white",
            markeredgecolor="black",
            markersize=10,
            linestyle="none",
            label="CR recorded",
        ),
        Line2D(
            [],
            [],
            marker="^",
            color="white",
            markeredgecolor="black",
            markersize=7,
            linestyle="none",
            label="PR recorded",
        ),
        Line2D(
            [],
            [],
            marker="X",
            color=response_colour("PD"),
            markeredgecolor="black",
            markersize=8,
            linestyle="none",
            label="Progression",
        ),
        Line2D([], [], marker="s", color="black", markersize=5.5, linestyle="none", label="Death"),
        Line2D(
            [],
            [],
            marker=r"$\rightarrow$",
            color="#333333",
            markersize=10,
            linestyle="none",
            label="Ongoing, no progression",
        ),
    ]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def km_figure(
    timeline_days: Sequence[float],
    survival: Sequence[float],
    ci_lower: Sequence[float],
    ci_upper: Sequence[float],
    censor_days: Sequence[float],
    censor_survival: Sequence[float],
    *,
    median_days: float | None,
    median_ci_days: tuple[float | None, float | None],
    n: int,
    n_events: int,
    preset: str,
    durations_days: Sequence[float] = (),
) -> Figure:
    """Kaplan-Meier curve of progression-free survival with its 95% band and the median.

    The estimate and its interval are the response engine's (lifelines); this only draws them:
    a step curve, the pointwise 95% confidence band, ticks at censoring times, and the median
    with its 95% interval as dotted lines and in the legend. With ``durations_days`` (each
    patient's PFS time) a "number at risk" row (patients with PFS time >= t) is drawn under the
    time axis at each tick.
    """
    fig = Figure(figsize=(10, 5.8 if durations_days else 5.2), layout="constrained")
    if durations_days:
        ax, risk_ax = fig.subplots(2, 1, height_ratios=[12, 1], sharex=True)
    else:
        ax, risk_ax = fig.add_subplot(), None
    name = PRESET_LABELS.get(preset, preset)
    ax.set_title(f"Progression-free survival ({name})")
    colour = PRESET_COLOURS.get(preset, "#1f3b73")
    t = [_months(d) for d in timeline_days]
    if t:
        ax.step(
            t,
            list(survival),
            where="post",
            color=colour,
            linewidth=2,
            label=f"Kaplan-Meier estimate (n={n}, events={n_events})",
        )
        ax.fill_between(
            t,
            list(ci_lower),
            list(ci_upper),
            step="post",
            color=colour,
            alpha=0.15,
            linewidth=0,
            label="95% confidence band",
        )
        if censor_days:
            ax.plot(
                [_months(d) for d in censor_days],
                list(censor_survival),
                marker="|",
                markersize=9,
                markeredgewidth=1.4,
                color=colour,
                linestyle="none",
                label="Censored",
            )
    else:
        _no_data(ax, "No patients")
    lo, hi = median_ci_days

    def fmt(days: float | None) -> str:
        if days is None or not math.isfinite(days):
            return "NR"
        return f"{_months(days):.1f}"

    ax.axhline(0.5, color="#777777", linestyle=":", linewidth=1)
    if median_days is not None and math.isfinite(median_days):
        ax.plot([_months(median_days)] * 2, [0, 0.5], color="#333333", linestyle=":", linewidth=1.2)
        label = f"Median {fmt(median_days)} months (95% CI {fmt(lo)}–{fmt(hi)})"
        ax.plot([], [], color="#333333", linestyle=":", label=label)
    else:
        ax.plot([], [], color="#333333", linestyle=":", label="Median not reached")
    ax.set_ylim(-0.02, 1.04)
    ax.set_xlim(left=0)
    ax.set_ylabel("Progression-free probability")
    ax.legend(loc="upper right")
    if risk_ax is None:
        ax.set_xlabel("Time since treatment start (months)")
        return fig
    ax.tick_params(labelbottom=True)
    lo_x, hi_x = ax.get_xlim()
    ticks = [x for x in ax.get_xticks() if lo_x - 1e-9 <= x <= hi_x + 1e-9]
    for x in ticks:
        at_risk = sum(1 for d in durations_days if _months(d) >= x - 1e-9)
        risk_ax.text(x, 0.5, str(at_risk), ha="center", va="center", fontsize=9)
    risk_ax.set_ylim(0, 1)
    risk_ax.set_yticks([])
    risk_ax.grid(False)
    for side in ("left", "bottom", "top", "right"):
        risk_ax.spines[side].set_visible(False)
    risk_ax.tick_params(bottom=False, labelbottom=False)
    risk_ax.set_title(
        "Number at risk", loc="left", fontsize=9, fontweight="normal", color="#333333", pad=2
    )
    ax.set_xlabel("Time since treatment start (months)")
    return fig


def patient_sum_figure(assessment: Assessment, results: Mapping[str, Any]) -> Figure:
    """Sum of target diameters (mm) over time for one patient, one line per preset.

    Markers are filled with the colour of that timepoint's overall response under the preset;
    the dashed line marks the PR threshold (70% of the baseline sum) of the first preset.
    """
    fig = Figure(figsize=(7.2, 3.4), layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(f"{assessment.patient_id}: sum of target diameters")
    markers = {"mrecist": "o", "mrecist-1.1": "s", "recist-1.1": "D"}
    styles = {"mrecist": "-", "mrecist-1.1": "--", "recist-1.1": "-."}
    seen: set[str] = set()
    first = True
    drawn = False
    for preset, r in results.items():
        pts = [
            (_months(tp.days_from_start), tp.target_sum_mm, _label(tp.overall_response))
            for tp in r.timepoints
            if tp.target_sum_mm is not None
        ]
        if not pts:
            continue
        drawn = True
        colour = PRESET_COLOURS.get(preset, "#333333")
        ax.plot(
            [p[0] for p in pts],
            [p[1] for p in pts],
            color=colour,
            linestyle=styles.get(preset, "-"),
            linewidth=1.6,
            label=PRESET_LABELS.get(preset, preset),
        )
        for i, (x, y, resp) in enumerate(pts):
            face = "white" if i == 0 else response_colour(resp)
            seen.add(resp) if i else None
            ax.plot(
                x,
                y,
                marker=markers.get(preset, "o"),
                markersize=7,
                color=face,
                markeredgecolor=colour,
                markeredgewidth=1.2,
                linestyle="none",
                zorder=3,
            )
        if first and r.timepoints and r.timepoints[0].target_sum_mm:
            ax.axhline(
                0.7 * r.timepoints[0].target_sum_mm,
                color=response_colour("PR"),
                linestyle=":",
                linewidth=1,
                label=f"PR threshold, {PRESET_LABELS.get(preset, preset)} (−30%)",
            )
        first = False
    if not drawn:
        _no_data(ax, "No target lesions")
    top = ax.get_ylim()[1]
    ax.set_ylim(bottom=-0.03 * top)  # markers at 0 mm (CR) stay whole
    ax.set_xlabel("Time since treatment start (months)")
    ax.set_ylabel("Sum of diameters (mm)")
    handles, _ = ax.get_legend_handles_labels()
    handles += [
        Line2D(
            [], [], marker="o", color=response_colour(x), linestyle="none", markersize=7, label=x
        )
        for x in RESPONSE_ORDER
        if x in seen
    ]
    if drawn:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return fig
