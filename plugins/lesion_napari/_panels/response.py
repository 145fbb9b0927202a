"""Response panel: the live response at the current timepoint under every preset, and the
validation findings in words.

"Best so far" is the core's best overall response (confirmed where the preset requires it);
when the core's unconfirmed best differs (a PR or CR not yet confirmed by a later scan), the
cell says so and a line below says it in words, so an SD beside an overall PR is explained.
"""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from lesion_napari._views import fmt
from lesion_tool.errors import LesionToolError
from lesion_tool.model import Kind, LesionState
from lesion_tool.response import PRESETS, check_baseline, score_assessment, settings_for
from lesion_tool.response.models import PatientResult
from lesion_tool.response.rules import target_value_tenths

from . import Controller, follow

PRESET_TITLES = {"mrecist": "mRECIST", "mrecist-1.1": "mRECIST-1.1", "recist-1.1": "RECIST 1.1"}
RESPONSE_ROWS = (
    ("Sum (mm)", "target_sum_mm"),
    ("Baseline (mm)", "baseline_sum_mm"),
    ("Nadir (mm)", "nadir_sum_mm"),
    ("Δ baseline %", "change_from_baseline_pct"),
    ("Δ nadir %", "change_from_nadir_pct"),
    ("Target", "target_response"),
    ("Non-target", "non_target_response"),
    ("New lesions", "new_lesions"),
    ("Overall", "overall_response"),
    ("Best so far", "best"),
)
ROW_HEIGHT = 16


class ResponsePanel(QGroupBox):
    """Scores of the reading up to the current timepoint, re-computed on every change."""

    def __init__(self, controller: Controller) -> None:
        super().__init__("Response at this timepoint (live)")
        self.c = controller
        self.results: dict[str, object] = {}
        layout = QVBoxLayout(self)
        layout.setSpacing(2)
        self.table = QTableWidget(len(RESPONSE_ROWS), len(PRESET_TITLES))
        self.table.setHorizontalHeaderLabels(list(PRESET_TITLES.values()))
        self.table.setVerticalHeaderLabels([title for title, _ in RESPONSE_ROWS])
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        rows = self.table.verticalHeader()
        rows.setMinimumSectionSize(ROW_HEIGHT)
        rows.setSectionResizeMode(QHeaderView.Fixed)
        rows.setDefaultSectionSize(ROW_HEIGHT)
        font = self.table.font()
        font.setPointSizeF(font.pointSizeF() * 0.9)  # "non-CR/non-PD" fits a column
        self.table.setFont(font)
        self.table.setFixedHeight(
            ROW_HEIGHT * len(RESPONSE_ROWS) + self.table.horizontalHeader().sizeHint().height() + 8
        )
        best = self.table.verticalHeaderItem(len(RESPONSE_ROWS) - 1)
        best.setToolTip(
            "Best overall response so far; PR and CR need confirmation by a later scan."
        )
        layout.addWidget(self.table)
        self.findings_label = QLabel("")
        self.findings_label.setWordWrap(True)
        layout.addWidget(self.findings_label)
        follow(self, controller, ("assessment", "timepoint"), self.refresh)
        self.refresh()

    def refresh(self) -> None:
        """Score the reading up to the current timepoint with every preset and show it."""
        self.results = {}
        table = self.table
        for r in range(table.rowCount()):
            for col in range(table.columnCount()):
                table.setItem(r, col, QTableWidgetItem(""))
        s, label = self.c.session, self.c.current_label
        if s is None or label is None or label not in s.labels:
            self.findings_label.setText("")
            return
        truncated = s.up_to(label)
        messages: list[str] = []
        for col, preset in enumerate(PRESETS):
            title = PRESET_TITLES.get(preset, preset)
            try:
                settings = settings_for(preset)
                result = score_assessment(truncated, settings)
                findings = list(check_baseline(truncated, settings))
            except LesionToolError as err:
                messages.append(f"{title}: {err}{_missing_line_hint(truncated, preset)}")
                continue
            self.results[preset] = result
            tp = result.timepoints[-1] if result.timepoints else None
            for r, (_, attr) in enumerate(RESPONSE_ROWS):
                if attr == "best":
                    value = result.best_overall_response
                    pending = unconfirmed(result)
                    if pending is not None:
                        value = f"{value.value} ({pending.value}?)"
                else:
                    value = None if tp is None else getattr(tp, attr)
                text = fmt(value.value if hasattr(value, "value") else value)
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignCenter)
                item.setToolTip(text)
                table.setItem(r, col, item)
            note = confirmation_note(result, settings.confirm_min_days)
            if note:
                messages.append(f"{title}: {note}")
            for finding in [*findings, *(tp.findings if tp else ()), *result.findings]:
                where = f" ({finding.lesion_id})" if getattr(finding, "lesion_id", None) else ""
                text = f"{finding.severity}{where}: {finding.message}"
                if not any(m.startswith(text) for m in messages):
                    messages.append(f"{text} [{title}]")
        self.findings_label.setText("\n".join(f"• {m}" for m in messages) or "No findings.")


def unconfirmed(result: PatientResult) -> object | None:
    """The best response not yet confirmed (PR or CR), or None when the best is final.

    The confirmation rule is the core's (:func:`lesion_tool.response.rules.best_overall_response`
    with and without ``confirm``): the panel only compares its two answers.
    """
    confirmed, pending = result.best_overall_response, result.best_overall_response_unconfirmed
    return None if pending == confirmed else pending


def confirmation_note(result: PatientResult, min_days: int) -> str:
    """In words, why "Best so far" is not the PR / CR the reader sees (or ``""``)."""
    pending = unconfirmed(result)
    if pending is None:
        return ""
    return (
        f"{pending.value} is not confirmed yet: it needs the same or a better response on a "
        f"scan at least {min_days} days later. Best so far stays "
        f"{result.best_overall_response.value} until then."
    )


def _missing_line_hint(assessment: object, preset: str) -> str:
    """What to draw when a viable baseline target lacks the diameter ``preset`` sums."""
    try:
        settings = settings_for(preset)
        baseline = assessment.timepoints[0]  # type: ignore[attr-defined]
    except (LesionToolError, AttributeError, IndexError):
        return ""
    missing = [
        lesion.id
        for lesion in baseline.lesions
        if lesion.kind is Kind.VIABLE
        and lesion.state is LesionState.MEASURED
        and target_value_tenths(lesion, settings) is None
    ]
    if not missing or settings.use_viable_diameter:
        return ""
    return (
        f" Draw the whole-lesion line of {', '.join(missing)} (Selected lesion: 'next line is "
        "the whole lesion'), or tick 'fully viable' if it has no necrosis."
    )
