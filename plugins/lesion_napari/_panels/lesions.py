"""Lesions panel: add lesions (only where valid: a disabled button says why), the click
measurement and its proposal, the lesion table of the current timepoint, undo."""

from __future__ import annotations

import re
from html import escape

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from lesion_napari._controller import CLICK
from lesion_napari._views import fmt
from lesion_tool.model import Category, Kind, Lesion, Line
from lesion_tool.reading import Action
from lesion_tool.reading.rules import summed_value

from . import Controller, allow, follow

REFUSAL_COLOUR = "#ff8a80"
"""The text colour of Accept's refusal (light red: readable on napari's dark and light themes)."""
REFUSED = "⚠ Accept (⇧A) is refused:"
"""Before the core's reason, beside the proposal, when Accept would not record it."""
TABLE_COLUMNS = ("ID", "Kind / type", "State", "Here", "Earlier", "Image")
"""Lesion table: id (T = target, NT = non-target, N = new), this timepoint's state and
diameter (mm), the latest earlier diameter with its timepoint, and the image measured on as
PACS names it (``Se 103 · Im 75``; an earlier timepoint's with ``@ label``)."""


class LesionsPanel(QGroupBox):
    """Buttons that add or measure lesions, the proposal and the lesion table."""

    def __init__(self, controller: Controller) -> None:
        super().__init__("Lesions")
        self.c = controller
        layout = QVBoxLayout(self)
        layout.setSpacing(3)
        buttons = QGridLayout()
        self.new_target_button = QPushButton("New target ⇧T")
        self.new_target_button.clicked.connect(lambda: self.c.new_lesion(Category.TARGET))
        self.new_non_target_button = QPushButton("Non-target")
        self.new_non_target_button.clicked.connect(lambda: self.c.new_lesion(Category.NON_TARGET))
        self.new_new_button = QPushButton("New lesion")
        self.new_new_button.clicked.connect(lambda: self.c.new_lesion(Category.NEW))
        self.click_button = QPushButton("Click in lesion ⇧M")
        self.click_button.setCheckable(True)
        self.click_button.clicked.connect(self._on_click_button)
        self.accept_button = QPushButton("Accept ⇧A")
        self.accept_button.clicked.connect(self.c.accept_proposal)
        self.reject_button = QPushButton("Reject ⇧R")
        self.reject_button.clicked.connect(self.c.reject_proposal)
        self.next_button = QPushButton("Next ⇧N")
        self.next_button.clicked.connect(self.c.next_lesion)
        self.go_button = QPushButton("Go to")
        self.go_button.clicked.connect(lambda: self.c.go_to_lesion())
        self.delete_button = QPushButton("Remove here")
        self.delete_button.setToolTip("Remove the selected lesion's reading at this timepoint.")
        self.delete_button.clicked.connect(self.c.remove_current_lesion)
        self.undo_button = QPushButton("Undo ⌃Z")
        self.undo_button.clicked.connect(self.c.undo)
        for i, b in enumerate(
            (
                self.new_target_button,
                self.new_non_target_button,
                self.new_new_button,
                self.click_button,
                self.accept_button,
                self.reject_button,
                self.next_button,
                self.go_button,
                self.delete_button,
                self.undo_button,
            )
        ):
            buttons.addWidget(b, i // 4 if i < 8 else 2, i % 4 if i < 8 else i - 6)
        self._build_refusal(buttons)
        layout.addLayout(buttons)
        self.proposal_label = QLabel("")
        self.proposal_label.setWordWrap(True)
        self.proposal_label.setTextFormat(Qt.RichText)
        layout.addWidget(self.proposal_label)
        self.table = QTableWidget(0, len(TABLE_COLUMNS))
        self.table.setHorizontalHeaderLabels(list(TABLE_COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(21)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setSectionResizeMode(TABLE_COLUMNS.index("Earlier"), QHeaderView.Stretch)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.table.setWordWrap(False)
        # four rows, then it scrolls: the dock must leave Save visible on a 1080p screen
        self.table.setFixedHeight(self.table.horizontalHeader().sizeHint().height() + 4 * 21 + 4)
        self.table.setToolTip(
            "Here: this timepoint's diameter (mm). Earlier: the last reading. Image: the slice "
            "measured on, as PACS names it (series and instance number)."
        )
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.table.cellDoubleClicked.connect(lambda *_: self.c.go_to_lesion())
        layout.addWidget(self.table)
        follow(self, controller, ("assessment", "selection", "timepoint"), self.refresh_table)
        follow(
            self,
            controller,
            ("assessment", "selection", "timepoint", "tools", "proposal", "file"),
            self.refresh_actions,
        )
        self.refresh_table()
        self.refresh_actions()

    def _build_refusal(self, buttons: QGridLayout) -> None:
        """The ways out of a refused Accept the core would record, in the button grid's free
        cells (shown only then; the dock has no height to spare on a 1080p screen)."""
        self.accept_longest_button = QPushButton("Accept: longest")
        self.accept_longest_button.setToolTip(
            "Record the whole-lesion diameter: the target's kind becomes 'longest' (RECIST 1.1, "
            "or an HCC without typical arterial enhancement)."
        )
        self.accept_longest_button.clicked.connect(lambda: self.c.accept_proposal(Kind.LONGEST))
        self.accept_non_target_button = QPushButton("Accept: non-target")
        self.accept_non_target_button.setToolTip(
            "Record the lesion as a non-target (not measurable as a target) with its diameter."
        )
        self.accept_non_target_button.clicked.connect(
            lambda: self.c.accept_proposal(category=Category.NON_TARGET)
        )
        buttons.addWidget(self.accept_longest_button, 2, 0)
        buttons.addWidget(self.accept_non_target_button, 2, 1)

    def refresh_refusal(self) -> str | None:
        """Why the core would not record the proposal as it stands (None when it would); the
        ways out shown only where the core would record them."""
        c = self.c
        refusal = c.proposal_refusal() if c.proposal is not None else None
        for button, kwargs in (
            (self.accept_longest_button, {"kind": Kind.LONGEST}),
            (self.accept_non_target_button, {"category": Category.NON_TARGET}),
        ):
            button.setVisible(refusal is not None and c.proposal_refusal(**kwargs) is None)
        return refusal

    def _on_click_button(self, checked: bool) -> None:
        if checked:
            self.c.start_click_measure()
        else:
            self.c.disarm()
        self.refresh_actions()

    def _on_selection(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            item = self.table.item(rows[0].row(), 0)
            if item is not None and item.text() != self.c.current_lesion_id:
                self.c.select_lesion(item.text())
                self.c.go_to_lesion()

    def refresh_actions(self) -> None:
        """Enable what is possible now; a disabled button's tooltip says why not."""
        c = self.c
        allow(self.new_target_button, c.why_not(Action.NEW_TARGET), "Start a target: draw its line")
        allow(self.new_non_target_button, c.why_not(Action.NEW_NON_TARGET), "Record a non-target")
        allow(self.new_new_button, c.why_not(Action.NEW_LESION), "Record a new lesion")
        allow(self.click_button, c.why_not(CLICK), "Click in a lesion to measure it")
        self.click_button.blockSignals(True)
        self.click_button.setChecked(c.click_armed)
        self.click_button.blockSignals(False)
        no_proposal = None if c.proposal is not None else "there is no proposal"
        refusal = self.refresh_refusal()
        allow(self.accept_button, no_proposal or refusal, "Record the proposal")
        allow(self.reject_button, no_proposal, "Drop the proposal")
        can_undo = c.session is not None and c.session.can_undo
        allow(self.undo_button, None if can_undo else "nothing to undo", "Undo the last change")
        no_lesion = None if c.current_lesion() is not None else "select a lesion in the table"
        allow(self.delete_button, no_lesion, "Remove the lesion's reading here (undoable)")
        self.proposal_label.setVisible(c.measuring or c.proposal is not None)  # no empty row
        self.proposal_label.setToolTip(refusal or "")  # the core's whole answer, what to do
        if c.measuring:
            self.proposal_label.setText("measuring…")
        elif c.proposal is not None:
            where = _proposal_slice(c)
            then = " Accept (⇧A), adjust a line end, or reject (⇧R)."
            if refusal is not None:  # said when shown, before Accept is pressed
                red = f'<span style="color: {REFUSAL_COLOUR};">'
                then = f" {red}{REFUSED} {escape(first_sentence(refusal))}</span>"
            self.proposal_label.setText(f"{escape(c.proposal.describe() + where)}{then}")
        else:
            self.proposal_label.setText("")

    def refresh_table(self) -> None:
        """List the lesions known at the current timepoint (and one waiting for its line)."""
        s, label = self.c.session, self.c.current_label
        self.table.blockSignals(True)
        try:
            if s is None or label is None or label not in s.labels:
                self.table.setRowCount(0)
                return
            ids = s.lesion_ids(label)
            pending = self.c.pending
            if pending is not None and pending.id not in ids:
                ids.append(pending.id)
            self.table.setRowCount(len(ids))
            selected = -1
            for r, lesion_id in enumerate(ids):
                here = s.timepoint(label).lesion(lesion_id)
                earlier = s.earlier(label, lesion_id)
                lesion = here or (earlier.lesion if earlier else pending)
                earlier_text = slice_text = ""
                if earlier is not None:
                    earlier_text = f"{fmt(summed_value(earlier.lesion))} @ {earlier.label}"
                    name = self.c.slice_name(earlier.label, _line_of(earlier.lesion))
                    if name:
                        slice_text = f"{name} @ {earlier.label}"
                if here is not None and _line_of(here) is not None:
                    slice_text = self.c.slice_name(label, _line_of(here))
                cells = (
                    lesion_id,
                    lesion.kind.value if lesion.kind else (lesion.type or ""),
                    here.state.value if here else "not recorded",
                    fmt(summed_value(here)) if here else fmt(None),
                    earlier_text,
                    slice_text,
                )
                for col, text in enumerate(cells):
                    item = QTableWidgetItem(text)
                    item.setToolTip(f"{lesion_id}: {lesion.category.value.replace('_', '-')}")
                    self.table.setItem(r, col, item)
                if lesion_id == self.c.current_lesion_id:
                    selected = r
            if selected >= 0:
                self.table.selectRow(selected)
            else:
                self.table.clearSelection()
        finally:
            self.table.blockSignals(False)


def _line_of(lesion: Lesion) -> Line | None:
    """The line that places a lesion: its summed (primary) line, else its whole-lesion one."""
    return lesion.line or lesion.longest_line


def _proposal_slice(c: Controller) -> str:
    """`` On Se 103 · Im 75.`` for the click proposal (its viable line, else whole, else seed)."""
    p = c.proposal
    ends = p.viable if p.viable is not None else p.whole
    z = float(ends[0][0]) if ends is not None else float(p.seed_zyx[0])
    view = c.views.get(p.label)
    name = view.slice_name(z) if view is not None else ""
    return f" On {name}." if name else ""


def first_sentence(text: str) -> str:
    """The first sentence of the core's refusal (the reason; what to do follows it, in the
    tooltip and as the buttons that do it): the dock has no room for all of it on a 1080p
    screen, and a longer text scrolled Accept out of view."""
    parts = re.split(r"(?<=\.)\s+", text, maxsplit=1)
    return parts[0]
