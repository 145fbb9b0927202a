"""The cohort plots at trial size (5, 50, 500 patients): bounded sizes, legible labels, paging.

Cohorts come from the seeded generator in ``report_cohort.py`` (realistic courses, progression
by target growth and by new lesion). Sizes are checked on the saved PNG (what the HTML and the
PDF get, ``bbox_inches="tight"`` included), label pitch on the drawn figure.
"""

from __future__ import annotations

import io
import itertools
import math
import sys
from pathlib import Path

import matplotlib
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from report_cohort import generate_cohort

from lesion_tool.report import plots
from lesion_tool.report.style import (
    FIGURE_WIDTH_IN,
    MAX_FIGURE_HEIGHT_IN,
    MIN_FIGURE_WIDTH_IN,
    MIN_FONT_PT,
    rc_params,
)
from lesion_tool.response import score_assessment, settings_for

SIZES = (5, 50, 500)
DPI = 100
PAD_IN = 0.1  # savefig's tight-bbox padding on each side


@pytest.fixture(scope="module")
def cohorts() -> dict[int, list]:
    """n -> [(assessment, mRECIST result)], the 5 and 50 cohorts the first patients of 500."""
    big = generate_cohort(max(SIZES))
    settings = settings_for("mrecist")
    scored = [(a, score_assessment(a, settings)) for a in big]
    return {n: scored[:n] for n in SIZES}


def _png_size_in(fig: Figure) -> tuple[float, float]:
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    with matplotlib.rc_context(rc_params()):
        fig.savefig(buffer, format="png", dpi=DPI)
    with Image.open(io.BytesIO(buffer.getvalue())) as image:
        return image.width / DPI, image.height / DPI


def _assert_bounded(fig: Figure) -> None:
    """The saved PNG fits 10 x 7.9 in (plus the tight-bbox pad) and no text is below 8 pt."""
    width, height = _png_size_in(fig)
    assert width <= FIGURE_WIDTH_IN + 2 * PAD_IN + 0.02, width
    assert height <= MAX_FIGURE_HEIGHT_IN + 2 * PAD_IN + 0.02, height
    assert fig.get_size_inches()[0] >= MIN_FIGURE_WIDTH_IN
    # legible: no visible text below the 8 pt floor (ids, legends, at-risk numbers, captions)
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    assert texts
    small = [(t.get_text(), t.get_fontsize()) for t in texts if t.get_fontsize() < MIN_FONT_PT]
    assert not small, small


@pytest.mark.parametrize("n", SIZES)
def test_waterfall_is_bounded_and_its_labels_keep_their_pitch(cohorts, n: int) -> None:
    results = [r for _a, r in cohorts[n]]
    with matplotlib.rc_context(rc_params()):
        fig = plots.waterfall_figure(results, "mrecist")
    _assert_bounded(fig)
    ax = fig.axes[0]
    n_bars = len(ax.patches)
    assert n_bars == sum(plots.best_change_pct(r) is not None for r in results)
    step = plots.label_step(n_bars, fig.get_size_inches()[0] - plots.WATERFALL_MARGIN_IN)
    labels = [t for t in ax.get_xticklabels() if t.get_text()]
    assert len(labels) == math.ceil(n_bars / step)
    assert all(t.get_fontsize() >= MIN_FONT_PT for t in labels)
    if n == 5:
        assert step == 1  # a handful of patients: every bar has its id
    if n == 500:
        assert step > 1 and "1 in" in ax.get_xlabel()
    # the rule holds on the drawn figure: neighbouring labels >= 1.3 x the font size apart
    fig.draw_without_rendering()
    xs = [ax.transData.transform((tick, 0))[0] for tick in ax.get_xticks()]
    pitches_pt = [(b - a) / fig.dpi * 72 for a, b in itertools.pairwise(xs)]
    if pitches_pt:
        assert min(pitches_pt) >= plots.LABEL_PITCH_FACTOR * MIN_FONT_PT - 0.01


def test_label_step_rule() -> None:
    # 7 in hold 504 pt: at 8 pt a label needs 10.4 pt, so 48 labels fit, 300 bars need k = 7
    assert plots.label_step(48, 7.0) == 1
    assert plots.label_step(49, 7.0) == 2
    assert plots.label_step(300, 7.0) == 7
    assert plots.label_step(0, 7.0) == 1


def _is_patient(line: object) -> bool:
    return str(getattr(line, "get_gid", lambda: "")() or "").startswith("spider:")


@pytest.mark.parametrize("n", SIZES)
def test_spider_is_bounded_and_split_by_response_above_40(cohorts, n: int) -> None:
    results = [r for _a, r in cohorts[n]]
    with matplotlib.rc_context(rc_params()):
        fig = plots.spider_figure(results, "mrecist")
    _assert_bounded(fig)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    curves = [ln for ax in panels for ln in ax.get_lines() if _is_patient(ln)]
    evaluable = [
        r for r in results if any(tp.change_from_baseline_pct is not None for tp in r.timepoints)
    ]
    assert len(curves) == len(evaluable)
    if n <= plots.SPIDER_ONE_PANEL_MAX:
        assert len(panels) == 1
    else:
        titles = [ax.get_title() for ax in panels]
        assert len(panels) >= 2 and all(t.startswith("BOR ") for t in titles)
        # each panel's n is the number of lines in it
        for ax in panels:
            n_lines = sum(1 for ln in ax.get_lines() if _is_patient(ln))
            assert ax.get_title().endswith(f"(n={n_lines})")


@pytest.mark.parametrize("n", SIZES)
def test_swimmer_is_paged_at_40_and_every_page_is_bounded(cohorts, n: int) -> None:
    with matplotlib.rc_context(rc_params()):
        figures = plots.swimmer_figures(cohorts[n], "mrecist")
    assert len(figures) == math.ceil(n / plots.SWIMMER_ROWS_PER_PAGE)
    ids = []
    for fig in figures:
        labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
        assert len(labels) <= plots.SWIMMER_ROWS_PER_PAGE
        assert all(t.get_fontsize() >= MIN_FONT_PT for t in fig.axes[0].get_yticklabels())
        ids += labels
        assert tuple(fig.get_size_inches()) == tuple(figures[0].get_size_inches())
    assert sorted(ids) == sorted(a.patient_id for a, _r in cohorts[n])
    # pages differ in size by at most one patient and share one time axis
    sizes = [len(fig.axes[0].get_yticks()) for fig in figures]
    assert max(sizes) - min(sizes) <= 1
    assert len({fig.axes[0].get_xlim() for fig in figures}) == 1
    for fig in (figures[0], figures[-1]):  # rendering all 13 pages of 500 adds nothing
        _assert_bounded(fig)


def test_swimmer_pages_rule() -> None:
    assert [len(p) for p in plots.swimmer_pages(5)] == [5]
    assert [len(p) for p in plots.swimmer_pages(40)] == [40]
    assert [len(p) for p in plots.swimmer_pages(41)] == [21, 20]
    assert [len(p) for p in plots.swimmer_pages(300)] == [38, 38, 38, 38, 37, 37, 37, 37]
    assert sum(len(p) for p in plots.swimmer_pages(500)) == 500
    assert plots.swimmer_height(1) == 3.5 and plots.swimmer_height(40) <= MAX_FIGURE_HEIGHT_IN


def _markers(fig: Figure, marker: str) -> int:
    return sum(
        len(ln.get_xdata())
        for ax in fig.axes
        for ln in ax.get_lines()
        if ln.get_marker() == marker and ln.get_linestyle() in ("None", "none", "")
    )


def test_progression_by_new_lesion_is_marked_apart(cohorts) -> None:
    scored = cohorts[50]
    results = [r for _a, r in scored]
    by_new = [r for r in results if plots.progression_with_new_lesion(r)]
    by_growth = [r for r in results if plots.progression_with_new_lesion(r) is False]
    assert by_new and by_growth  # the generated cohort has both kinds
    new_marker, growth_marker = plots.PD_NEW_MARKER["marker"], plots.PD_MARKER["marker"]
    with matplotlib.rc_context(rc_params()):
        swimmers = plots.swimmer_figures(scored, "mrecist")
        spider = plots.spider_figure(results, "mrecist")
        waterfall = plots.waterfall_figure(results, "mrecist")
    swim_new = sum(_markers(f, new_marker) for f in swimmers)
    swim_growth = sum(_markers(f, growth_marker) for f in swimmers)
    assert swim_new == sum(r.progression_date is not None for r in by_new)
    assert swim_growth == sum(r.progression_date is not None for r in by_growth)
    assert _markers(spider, new_marker) > 0 and _markers(spider, growth_marker) > 0
    drawn_new = [r for r in by_new if plots.best_change_pct(r) is not None]
    assert _markers(waterfall, new_marker) == len(drawn_new)
    legend = [t.get_text() for f in swimmers[:1] for t in f.axes[0].get_legend().get_texts()]
    assert plots.PD_NEW_LABEL in legend and plots.PD_GROWTH_LABEL in legend


def test_km_band_is_named_pointwise(cohorts) -> None:
    from lesion_tool.report.build import km_curve
    from lesion_tool.response import cohort_endpoints

    results = [r for _a, r in cohorts[500]]
    ep = cohort_endpoints(results)
    curve = km_curve(ep, results)
    with matplotlib.rc_context(rc_params()):
        fig = plots.km_figure(
            curve["timeline_days"],
            curve["survival"],
            curve["ci_lower"],
            curve["ci_upper"],
            curve["censor_days"],
            curve["censor_survival"],
            median_days=ep.median_pfs_days,
            median_ci_days=tuple(ep.median_pfs_ci),
            n=ep.n,
            n_events=curve["n_events"],
            durations_days=[float(r.pfs_days) for r in results],
            preset="mrecist",
        )
    _assert_bounded(fig)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert plots.KM_BAND_LABEL in legend
    assert "Pointwise 95% CI" in plots.KM_BAND_LABEL
    assert not any("confidence band" in t for t in legend)
    assert fig.axes[1].texts[0].get_text() == "500"  # number at risk at time 0


@pytest.mark.slow
def test_a_paged_swimmer_is_written_page_by_page(tmp_path: Path) -> None:
    from lesion_tool.report import score_cohort, write_report

    cohort = generate_cohort(plots.SWIMMER_ROWS_PER_PAGE + 5)
    patients, problems = score_cohort([(None, a) for a in cohort], ["recist-1.1"])
    assert not problems
    result = write_report(patients, tmp_path, ["recist-1.1"])
    names = sorted(p.name for p in (tmp_path / "plots").glob("swimmer_*.png"))
    # page 1 keeps the one-page name (swimmer_<preset>.png always exists), then _page02
    assert names == ["swimmer_recist-1.1.png", "swimmer_recist-1.1_page02.png"]
    html = result.html.read_text("utf-8")
    assert "Page 1 of 2." in html and "Page 2 of 2." in html
    pdf = result.pdf.read_bytes()
    n_pages = pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ")
    assert n_pages == 2 + 3 + 2  # endpoints, definitions; waterfall, spider, KM; 2 swimmer pages
