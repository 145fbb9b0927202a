"""The response panel says in words when the best response waits for confirmation (finding:
"Best so far" SD next to an overall PR with no note). The rule is the core's; the panel shows
the difference between its confirmed and unconfirmed best responses."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from lesion_napari._controller import Controller
from lesion_napari._panels.response import RESPONSE_ROWS, ResponsePanel

from lesion_tool.model import Assessment, Category, Kind, Lesion, LesionState, Timepoint
from lesion_tool.reading import ReadingSession
from lesion_tool.response import PRESETS

START = dt.date(2026, 1, 10)


def _target(viable_mm: float, whole_mm: float) -> Lesion:
    return Lesion(
        "T1",
        Category.TARGET,
        LesionState.MEASURED,
        kind=Kind.VIABLE,
        viable_diameter_mm=viable_mm,
        longest_diameter_mm=whole_mm,
    )


def _panel(qtbot, *follow_ups: tuple[int, float]) -> ResponsePanel:
    """A panel on a reading: baseline T1 40 mm, then ``(days after start, diameter)``."""
    timepoints = [Timepoint("baseline", START - dt.timedelta(days=3), (_target(40.0, 40.0),))]
    for k, (days, mm) in enumerate(follow_ups, start=1):
        timepoints.append(Timepoint(f"fu{k}", START + dt.timedelta(days=days), (_target(mm, mm),)))
    controller = Controller(SimpleNamespace())  # the panel needs no viewer
    controller.session = ReadingSession(Assessment("P1", START, tuple(timepoints), reader="R1"))
    controller.current_label = timepoints[-1].label
    panel = ResponsePanel(controller)
    qtbot.addWidget(panel)
    return panel


def _cell(panel: ResponsePanel, attr: str, preset: str) -> str:
    row = [a for _, a in RESPONSE_ROWS].index(attr)
    return panel.table.item(row, PRESETS.index(preset)).text()


@pytest.mark.parametrize("preset", ["mrecist", "recist-1.1"])
def test_an_unconfirmed_pr_is_said_in_words_beside_best_so_far(qtbot, preset):
    panel = _panel(qtbot, (56, 20.0))  # -50 % at day 56: PR, nothing later to confirm it
    assert _cell(panel, "overall_response", preset) == "PR"
    assert _cell(panel, "best", preset) == "SD (PR?)"  # not a bare SD beside the PR
    text = panel.findings_label.text()
    assert "PR is not confirmed yet" in text and "at least 28 days later" in text
    assert "Best so far stays SD" in text


def test_a_confirmed_pr_has_no_note(qtbot):
    panel = _panel(qtbot, (56, 20.0), (112, 20.0))  # confirmed 56 days later
    assert _cell(panel, "best", "mrecist") == "PR"
    assert "not confirmed" not in panel.findings_label.text()


def test_stable_disease_has_no_note(qtbot):
    panel = _panel(qtbot, (56, 38.0))
    assert _cell(panel, "best", "mrecist") == "SD"
    assert "not confirmed" not in panel.findings_label.text()


def test_a_viable_line_alone_says_what_recist_needs(qtbot):
    """Finding 6: one viable line left RECIST 1.1 blank with a field name; the panel says what
    to draw (or tick) in the reader's words."""
    controller = Controller(SimpleNamespace())
    only_viable = Lesion(
        "T1", Category.TARGET, LesionState.MEASURED, kind=Kind.VIABLE, viable_diameter_mm=30.0
    )
    baseline = Timepoint("baseline", START, (only_viable,))
    controller.session = ReadingSession(Assessment("P1", START, (baseline,), reader="R1"))
    controller.current_label = "baseline"
    panel = ResponsePanel(controller)
    qtbot.addWidget(panel)
    assert _cell(panel, "target_sum_mm", "mrecist") == "30.0"
    assert _cell(panel, "target_sum_mm", "recist-1.1") == ""
    text = panel.findings_label.text()
    assert "RECIST 1.1:" in text and "Draw the whole-lesion line of T1" in text
    assert "'fully viable'" in text
