"""The report's figures, drawn with matplotlib's object API on the Agg backend.

Every function takes scored results (``lesion_tool.response.PatientResult``, one per patient, all
under one preset) and returns a :class:`matplotlib.figure.Figure`; nothing here computes a
response: categories, sums and percent changes all come from the response engine. Time axes are
in months since treatment start (days / 30.4375); percent changes are of the target sum from
baseline, in %.

Size rules, so that the plots read the same from 5 to 500 patients: every cohort plot is 10 in
wide (a waterfall of few bars 5.8-10 in) and at most 7.9 in high, saved at 150 dpi; no text is
smaller than 8 pt (>= 12 px in the HTML column, true size on the PDF page). Waterfall: 5.2 in
high, one bar per patient, ids on every k-th bar where k keeps labels 1.3 x 8 pt apart
(:func:`label_step`: all up to ~48 bars, 1 in 7 at 300, 1 in 11 at 500). Spider: one panel up
to 40 patients, else a panel per best-response group (10 x 7.4 in). Swimmer: pages of at most
40 patients (0.15 in a row), sizes within one patient of each other, one time axis for all.
Progression is marked apart when it came with a new lesion (diamond) or not (cross).
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
    FIGURE_WIDTH_IN,
    MAX_FIGURE_HEIGHT_IN,
    MIN_FIGURE_WIDTH_IN,
    MIN_FONT_PT,
    PRESET_COLOURS,
    PRESET_LABELS,
    RESPONSE_COLOURS,
    RESPONSE_ORDER,
    response_colour,
)

if TYPE_CHECKING:
    from lesion_tool.model import Assessment

__all__ = [
    "KM_BAND_LABEL",
    "best_change_pct",
    "km_figure",
    "label_step",
    "patient_sum_figure",
    "progression_with_new_lesion",
    "spider_figure",
    "swimmer_figures",
    "swimmer_height",
    "swimmer_pages",
    "waterfall_figure",
    "waterfall_size",
]

PR_LINE_PCT = -30.0
"""Drawn reference: the partial-response threshold of every preset (spec section 3)."""
PD_LINE_PCT = 20.0
"""Drawn reference: the progression threshold (+20%, relative to the nadir in the rules; drawn
against baseline as is customary in waterfall and spider plots)."""


WATERFALL_HEIGHT_IN = 5.2
"""Height of the waterfall and of a one-row spider plot."""
WATERFALL_MARGIN_IN = 3.0
"""Width of a waterfall figure not available to the bars (y axis, legend): for the label rule."""
WATERFALL_CAP_PCT = 100.0
"""Waterfall bars above this are cut at it and marked, so that one outlier keeps the scale."""
LABEL_PITCH_FACTOR = 1.3
"""Rotated labels need a pitch of this many times their font size (:func:`label_step`)."""
SPIDER_ONE_PANEL_MAX = 40
"""A spider plot with more lines than this gets one panel per best-response group."""
SPIDER_GRID_HEIGHT_IN = 7.4
"""Height of a spider plot with two rows of panels."""
SPIDER_CAP_PCT = 150.0
"""The spider plot's y axis stops here; larger increases run off the top."""
SWIMMER_ROWS_PER_PAGE = 40
"""Most patients on one swimmer page: 40 rows of 0.15 in fill a 7.9 in page."""
PD_MARKER: dict[str, Any] = {
    "marker": "X",
    "markersize": 8,
    "color": RESPONSE_COLOURS["PD"],
    "markeredgecolor": "black",
    "markeredgewidth": 0.6,
}
"""First progression without a new lesion (target or non-target growth)."""
PD_NEW_MARKER: dict[str, Any] = {
    "marker": "D",
    "markersize": 6.5,
    "color": RESPONSE_COLOURS["PD"],
    "markeredgecolor": "black",
    "markeredgewidth": 0.8,
}
"""First progression that came with a new lesion."""
PD_GROWTH_LABEL = "First PD, no new lesion"
PD_NEW_LABEL = "First PD with a new lesion"
KM_BAND_LABEL = "Pointwise 95% CI (exponential Greenwood)"
"""What lifelines' ``KaplanMeierFitter.confidence_interval_`` is: at each time separately
(Greenwood variance on the log(-log) scale), not a band that holds for the whole curve."""


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


def _bor_legend(
    ax: Any,
    labels: Sequence[str],
    counts: Mapping[str, int] | None = None,
    extra: Sequence[Any] = (),
) -> None:
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
    handles += list(extra)
    ax.legend(
        handles=handles, title="Best overall response", loc="upper left", bbox_to_anchor=(1.01, 1.0)
    )


def _no_data(ax: Any, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#666666")


def progression_with_new_lesion(result: Any) -> bool | None:
    """Whether the patient's first PD came with a new lesion; None when there is no PD.

    Read from the first follow-up whose overall response is PD (its ``new_lesions`` is "yes").
    Progression by new lesion is marked with a diamond in every plot, other PD with a cross.
    """
    for tp in _follow_ups(result):
        if _label(tp.overall_response) == "PD":
            return tp.new_lesions == "yes"
    return None


def label_step(n: int, span_in: float, font_pt: float = MIN_FONT_PT) -> int:
    """Label every k-th of ``n`` items evenly spread over ``span_in`` inches; returns k.

    The rule: labels (rotated, one text line each) need a pitch of at least 1.3 times the font
    size, so k is the smallest step with ``k * span / n >= 1.3 * font``; 1 when all fit.
    """
    if n <= 0:
        return 1
    pitch_pt = span_in * 72.0 / n
    return max(1, math.ceil(LABEL_PITCH_FACTOR * font_pt / pitch_pt - 1e-9))


def _pd_handles() -> list[Any]:
    return [
        Line2D([], [], linestyle="none", label=PD_GROWTH_LABEL, **PD_MARKER),
        Line2D([], [], linestyle="none", label=PD_NEW_LABEL, **PD_NEW_MARKER),
    ]


def _pd_marker(new_lesion: bool | None) -> dict[str, Any]:
    return PD_NEW_MARKER if new_lesion else PD_MARKER


def waterfall_size(n_bars: int) -> tuple[float, float]:
    """Figure size (inches) of a waterfall of ``n_bars`` bars: 5.8-10 wide, 5.2 high."""
    return (
        min(FIGURE_WIDTH_IN, max(MIN_FIGURE_WIDTH_IN, 5.5 + 0.3 * n_bars)),
        WATERFALL_HEIGHT_IN,
    )


def waterfall_figure(results: Sequence[Any], preset: str) -> Figure:
    """Bars of the best % change of the target sum from baseline, one per patient.

    Sorted from the largest increase to the largest decrease and coloured by best overall
    response; dashed lines at -30% (PR) and +20% (PD); bars above +100% are cut there and
    marked. A diamond above a bar marks a patient whose first progression came with a new
    lesion (whatever the target sum did). Patient ids label the bars while they fit at 8 pt;
    beyond that every k-th bar is labelled (:func:`label_step`) and the axis label says so.
    Patients without an evaluable change are listed in the caption, not drawn.
    """
    rows = [
        (
            r.patient_id,
            best_change_pct(r),
            _label(r.best_overall_response),
            progression_with_new_lesion(r),
        )
        for r in results
    ]
    drawn = sorted((row for row in rows if row[1] is not None), key=lambda row: -row[1])
    missing = [row[0] for row in rows if row[1] is None]
    width, height = waterfall_size(len(drawn))
    fig = Figure(figsize=(width, height), layout="constrained")
    ax = fig.add_subplot()
    name = PRESET_LABELS.get(preset, preset)
    ax.set_title(f"Best change in target sum from baseline ({name})")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.axhline(PD_LINE_PCT, color=response_colour("PD"), linestyle="--", linewidth=1)
    ax.axhline(PR_LINE_PCT, color=response_colour("CR"), linestyle="--", linewidth=1)
    ax.grid(axis="x", visible=False)
    ax.set_ylabel("Best change in sum of target diameters (%)")
    if not drawn:
        _no_data(ax, "No patient with an evaluable follow-up")
        ax.set_xticks([])
        ax.set_xlabel("Patient")
    else:
        n = len(drawn)
        x = list(range(n))
        values = [float(row[1]) for row in drawn]
        shown = [min(v, WATERFALL_CAP_PCT) for v in values]
        pitch_pt = (width - WATERFALL_MARGIN_IN) * 72.0 / n
        ax.bar(
            x,
            shown,
            width=0.8 if pitch_pt >= 4 else 1.0,
            color=[response_colour(row[2]) for row in drawn],
            edgecolor="white",
            linewidth=0.5 if pitch_pt >= 4 else 0,
        )
        zero = [i for i, v in enumerate(values) if v == 0]
        if zero:  # a 0% bar has no height: mark it so the patient is still visible
            ax.scatter(
                zero,
                [0] * len(zero),
                marker="_",
                s=120 if pitch_pt >= 4 else 30,
                linewidths=3 if pitch_pt >= 4 else 1.5,
                zorder=3,
                color=[response_colour(drawn[i][2]) for i in zero],
            )
        cut = [i for i, v in enumerate(values) if v > WATERFALL_CAP_PCT]
        if cut:
            ax.plot(
                cut,
                [WATERFALL_CAP_PCT] * len(cut),
                marker="^",
                color="black",
                markersize=5,
                linestyle="none",
                zorder=3,
            )
        low = min(min(shown), -100.0 if min(shown) < -70 else -40.0)
        high = max(max(shown), 30.0)
        marker_y = high + 8
        new = [i for i, row in enumerate(drawn) if row[3]]
        if new:
            ax.plot(
                new,
                [marker_y] * len(new),
                linestyle="none",
                zorder=3,
                **{**PD_NEW_MARKER, "markersize": 6 if pitch_pt >= 6 else 4.5},
            )
        ax.set_ylim(low - 5, marker_y + 8)
        step = label_step(n, width - WATERFALL_MARGIN_IN)
        ticks = x[::step]
        ax.set_xticks(ticks)
        ax.set_xticklabels(
            [drawn[i][0] for i in ticks], rotation=90, fontsize=MIN_FONT_PT, family="monospace"
        )
        ax.set_xlim(-0.7, n - 0.3)
        if step == 1:
            ax.set_xlabel(f"Patient (n={n})")
        else:
            ax.set_xlabel(f"Patients ranked by best change (n={n}); 1 in {step} ids shown")
        counts = {lab: sum(1 for row in drawn if row[2] == lab) for lab in RESPONSE_ORDER}
        extra = [Line2D([], [], linestyle="none", label=PD_NEW_LABEL, **PD_NEW_MARKER)]
        if cut:
            extra.append(
                Line2D(
                    [],
                    [],
                    marker="^",
                    color="black",
                    linestyle="none",
                    markersize=5,
                    label=f"> +{WATERFALL_CAP_PCT:.0f}% (bar cut)",
                )
            )
        _bor_legend(ax, [row[2] for row in drawn], counts, extra)
    if missing:
        listed = ", ".join(missing[:12]) + (" …" if len(missing) > 12 else "")
        fig.text(
            0.01,
            -0.02,
            f"Not shown (no evaluable change, {len(missing)}): {listed}",
            fontsize=MIN_FONT_PT,
            color="#555555",
        )
    return fig


SPIDER_GROUPS: tuple[tuple[str, frozenset[str]], ...] = (
    ("BOR CR or PR", frozenset({"CR", "PR"})),
    ("BOR SD or non-CR/non-PD", frozenset({"SD", "non-CR/non-PD"})),
    ("BOR PD", frozenset({"PD"})),
    ("BOR NE", frozenset({"NE", "NA"})),
)
"""Panels of a spider plot with more than :data:`SPIDER_ONE_PANEL_MAX` lines."""


def _spider_lines(
    results: Sequence[Any],
) -> list[tuple[list[float], list[float], str, Any, str]]:
    lines = []
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
                pd_point = (xs[-1], ys[-1], tp.new_lesions == "yes")
        if len(xs) >= 2:
            lines.append((xs, ys, _label(r.best_overall_response), pd_point, r.patient_id))
    return lines


def spider_figure(results: Sequence[Any], preset: str) -> Figure:
    """% change of the target sum from baseline over time, one line per patient.

    Lines are coloured by best overall response; the first PD is marked, a cross for
    progression without a new lesion, a diamond for progression with one. Up to
    :data:`SPIDER_ONE_PANEL_MAX` lines share one panel; more are split into one panel per
    best-response group (:data:`SPIDER_GROUPS`, shared axes) and drawn thinner and lighter as
    a panel fills. The y axis stops at +150% (lines beyond are cut at the edge).
    """
    lines = _spider_lines(results)
    name = PRESET_LABELS.get(preset, preset)
    if len(lines) <= SPIDER_ONE_PANEL_MAX:
        panels = [("", lines)]
    else:
        panels = [
            (title, [ln for ln in lines if ln[2] in members])
            for title, members in SPIDER_GROUPS
            if any(ln[2] in members for ln in lines)
        ]
    n_cols = 1 if len(panels) == 1 else 2
    n_rows = math.ceil(len(panels) / n_cols)
    size = (FIGURE_WIDTH_IN, WATERFALL_HEIGHT_IN if n_rows == 1 else SPIDER_GRID_HEIGHT_IN)
    fig = Figure(figsize=size, layout="constrained")
    axes = fig.subplots(n_rows, n_cols, sharex=True, sharey=True, squeeze=False).ravel()
    fig.suptitle(
        f"Change in target sum from baseline over time ({name})", fontweight="bold", fontsize=12
    )
    all_y = [y for ln in lines for y in ln[1]]
    top = min(SPIDER_CAP_PCT, max([*all_y, 30.0]) + 10)
    bottom = -105.0 if min([*all_y, 0.0]) < -60 else min(-40.0, min([*all_y, 0.0]) - 5)
    for ax, (title, members) in zip(axes, panels, strict=False):
        if title:
            ax.set_title(f"{title} (n={len(members)})", fontsize=10)
        k = len(members)
        width = 1.4 if k <= 20 else max(0.6, 1.4 * math.sqrt(20 / k))
        alpha = 0.9 if k <= 20 else max(0.4, 0.9 * math.sqrt(20 / k))
        for xs, ys, bor, _pd, pid in members:
            ax.plot(
                xs,
                ys,
                gid=f"spider:{pid}",
                color=response_colour(bor),
                linewidth=width,
                marker="o" if k <= 60 else None,
                markersize=3,
                alpha=alpha,
            )
        for _xs, _ys, _bor, pd_point, _pid in members:
            if pd_point is not None:
                x, y, new = pd_point
                ax.plot(
                    x,
                    min(y, top),
                    linestyle="none",
                    zorder=3,
                    **{**_pd_marker(new), "markersize": 7 if k <= 60 else 5.5},
                )
        ax.axhline(0, color="black", linewidth=0.8)
        ax.axhline(PD_LINE_PCT, color=response_colour("PD"), linestyle="--", linewidth=1)
        ax.axhline(PR_LINE_PCT, color=response_colour("CR"), linestyle="--", linewidth=1)
        ax.set_ylim(bottom, top)
        ax.set_xlim(left=0)
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    if not lines:
        _no_data(axes[0], "No patient with an evaluable follow-up")
    else:
        present = [x for x in RESPONSE_ORDER if x in {ln[2] for ln in lines}]
        handles: list[Any] = [
            Line2D([], [], color=response_colour(x), linewidth=2, label=x) for x in present
        ]
        handles += _pd_handles()
        handles += _threshold_handles()
        fig.legend(handles=handles, title="Best overall response", loc="outside right upper")
    fig.supxlabel("Time since treatment start (months)", fontsize=10)
    fig.supylabel("Change in sum of target diameters (%)", fontsize=10)
    return fig


def _days(assessment: Assessment, date: dt.date | None) -> float | None:
    return None if date is None else float((date - assessment.treatment_start).days)


def swimmer_pages(n: int, per_page: int = SWIMMER_ROWS_PER_PAGE) -> list[range]:
    """Split ``n`` rows into the fewest pages of at most ``per_page``, sizes within one."""
    if n <= 0:
        return [range(0)]
    count = math.ceil(n / per_page)
    size, extra = divmod(n, count)
    pages, start = [], 0
    for k in range(count):
        stop = start + size + (1 if k < extra else 0)
        pages.append(range(start, stop))
        start = stop
    return pages


def swimmer_height(rows: int) -> float:
    """Figure height (inches) of a swimmer page of ``rows`` patients: 0.15 in a row, 3.5-7.9."""
    return min(MAX_FIGURE_HEIGHT_IN, max(3.5, 1.9 + 0.15 * rows))


def swimmer_figures(
    patients: Sequence[tuple[Assessment, Any]],
    preset: str,
    per_page: int = SWIMMER_ROWS_PER_PAGE,
) -> list[Figure]:
    """Time on study per patient, with responses and progression along each bar; paged.

    Bars run from treatment start to the last of: last assessment, death, last known alive;
    coloured by best overall response; sorted longest first. Markers: response (CR/PR) at each
    assessment where it was recorded, first progression (cross; diamond when it came with a new
    lesion), death; an arrow marks patients still on study without progression (PFS censored).
    Patients are split into pages of at most ``per_page`` (:func:`swimmer_pages`), each page a
    figure of the same size and time axis, so that a row stays 0.15 in high with 8 pt ids.
    """
    rows = []
    for assessment, r in patients:
        ends = [tp.days_from_start for tp in r.timepoints]
        for extra in (assessment.death_date, assessment.last_known_alive):
            d = _days(assessment, extra)
            if d is not None:
                ends.append(d)
        rows.append((assessment, r, max([0.0, *ends])))
    rows.sort(key=lambda row: -row[2])
    name = PRESET_LABELS.get(preset, preset)
    pages = swimmer_pages(len(rows), per_page)
    height = swimmer_height(max(len(page) for page in pages))
    x_max = _months(max((row[2] for row in rows), default=0.0)) + 1.5
    figures = []
    for number, page in enumerate(pages, 1):
        fig = Figure(figsize=(FIGURE_WIDTH_IN, height), layout="constrained")
        ax = fig.add_subplot()
        title = f"Time on study and responses ({name})"
        if len(pages) > 1:
            title += (
                f"\npatients {page.start + 1}–{page.stop} of {len(rows)}, "
                f"page {number} of {len(pages)}"
            )
        ax.set_title(title)
        if not rows:
            _no_data(ax, "No patients")
            figures.append(fig)
            continue
        _swimmer_page(ax, [rows[i] for i in page], x_max)
        figures.append(fig)
    return figures


def _swimmer_page(ax: Any, rows: Sequence[tuple[Assessment, Any, float]], x_max: float) -> None:
    labels = []
    top = len(rows) - 1
    for i, (assessment, r, end) in enumerate(rows):
        y = top - i  # the first (longest) row at the top
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
                    markersize=6 if resp == "PR" else 9,
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
                linestyle="none",
                zorder=3,
                **_pd_marker(progression_with_new_lesion(r)),
            )
        death = _days(assessment, assessment.death_date)
        if death is not None:
            ax.plot(_months(death), y, marker="s", markersize=5, color="black", linestyle="none")
        elif progression is None:
            ax.annotate(
                "",
                xy=(_months(end) + 0.9, y),
                xytext=(_months(end) + 0.1, y),
                arrowprops={"arrowstyle": "-|>", "color": "#333333", "lw": 1.0},
            )
    ax.set_yticks([top - i for i in range(len(rows))])
    ax.set_yticklabels(
        [row[1].patient_id for row in rows], fontsize=MIN_FONT_PT, family="monospace"
    )
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlim(0, x_max)
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
            markersize=9,
            linestyle="none",
            label="CR recorded",
        ),
        Line2D(
            [],
            [],
            marker="^",
            color="white",
            markeredgecolor="black",
            markersize=6,
            linestyle="none",
            label="PR recorded",
        ),
        *_pd_handles(),
        Line2D([], [], marker="s", color="black", markersize=5, linestyle="none", label="Death"),
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
    """Kaplan-Meier curve of progression-free survival with its pointwise 95% CI and the median.

    The estimate and its interval are the response engine's (lifelines); this only draws them:
    a step curve, the shaded pointwise 95% confidence interval (lifelines' exponential Greenwood;
    it holds at each time separately, it is not a simultaneous band, and the legend says so:
    :data:`KM_BAND_LABEL`), ticks at censoring times, and the median
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
            label=KM_BAND_LABEL,
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
