"""Measurement panel: the selected lesion's identity and state, how the next line counts
(the whole-lesion diameter, or one line for both criteria when the target is fully viable), and
the semi-automatic proposal: measure by a rough line, its numbers and warnings in words, and
its corrections (tighter / looser threshold, paint / erase the contour)."""

from __future__ import annotations

from typing import Any

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
)

from lesion_napari._controller import CLICK
from lesion_tool.model import STATES_BY_CATEGORY, Category, Kind, Lesion

from . import Controller, allow, follow

ORGANS = ("liver", "lung", "lymph_node", "peritoneum", "portal_vein", "adrenal", "bone", "other")
TYPES = (
    "",
    "portal_vein_thrombosis",
    "infiltrative",
    "ascites",
    "pleural_effusion",
    "lymph_node",
    "small_lesion",
)


class MeasurementPanel(QGroupBox):
    """The selected lesion's form and the line options."""

    def __init__(self, controller: Controller) -> None:
        super().__init__("Selected lesion")
        self.c = controller
        self._syncing = 0
        grid = QGridLayout(self)
        grid.setVerticalSpacing(2)
        self.lesion_label = QLabel("no lesion selected")
        self.lesion_label.setWordWrap(True)
        self.id_edit = QLineEdit()
        self.id_edit.setPlaceholderText("e.g. T1, or the reader's own name")
        self.id_edit.setToolTip(
            "The lesion's id: rename it here (Enter). It changes at every timepoint and must "
            "be unique in the assessment."
        )
        self.id_edit.editingFinished.connect(self._on_id)
        self.organ_combo = QComboBox()
        self.organ_combo.setEditable(True)
        self.organ_combo.addItems(list(ORGANS))
        self.location_edit = QLineEdit()
        self.location_edit.setPlaceholderText("e.g. S8")
        self.kind_combo = QComboBox()
        self.kind_combo.addItems([k.value for k in Kind])
        self.state_combo = QComboBox()
        self.type_combo = QComboBox()
        self.type_combo.setEditable(True)
        self.type_combo.addItems(list(TYPES))
        self.cytology_box = QCheckBox("cytology malignant")
        self.typical_box = QCheckBox("typical HCC (APHE + washout)")
        self.porta_box = QCheckBox("porta hepatis node")
        self.fully_viable_box = QCheckBox("fully viable (one line: both criteria)")
        self.fully_viable_box.setToolTip(
            "No necrosis: the viable diameter is the whole-lesion diameter, so one line counts "
            "for both criteria (the line is labelled 'viable = whole')."
        )
        self.fully_viable_box.toggled.connect(controller.set_fully_viable)
        self.whole_box = QCheckBox("next line: whole lesion")
        self.whole_box.setToolTip(
            "For a partly necrotic viable target: the next line drawn is its whole-lesion "
            "longest diameter (magenta), not the viable one (cyan)."
        )
        self.whole_box.toggled.connect(controller.set_whole_line)
        self.record_button = QPushButton("Record state here")
        self.record_button.setToolTip(
            "Record the selected lesion at this timepoint with the state above "
            "(non-targets, absent / too small / not evaluated targets)."
        )
        self.record_button.clicked.connect(lambda: self._on_form(record=True))
        grid.addWidget(self.lesion_label, 0, 0, 1, 4)
        for i, (title, field) in enumerate(
            (
                ("Id", self.id_edit),
                ("Organ", self.organ_combo),
                ("Location", self.location_edit),
                ("Kind", self.kind_combo),
                ("State", self.state_combo),
                ("Type", self.type_combo),
            )
        ):
            grid.addWidget(QLabel(title), 1 + i // 2, 2 * (i % 2))
            grid.addWidget(field, 1 + i // 2, 2 * (i % 2) + 1)
        grid.addWidget(self.cytology_box, 4, 0, 1, 2)
        grid.addWidget(self.typical_box, 4, 2, 1, 2)
        grid.addWidget(self.porta_box, 5, 0, 1, 2)
        grid.addWidget(self.record_button, 5, 2, 1, 2)
        grid.addWidget(self.fully_viable_box, 6, 0, 1, 2)
        grid.addWidget(self.whole_box, 6, 2, 1, 2)
        self._build_proposal(grid, 7)
        for box in (self.cytology_box, self.typical_box, self.porta_box):
            box.toggled.connect(self._on_form)
        self.organ_combo.currentTextChanged.connect(self._on_form)
        self.location_edit.editingFinished.connect(self._on_form)
        self.kind_combo.currentTextChanged.connect(self._on_form)
        self.state_combo.currentTextChanged.connect(self._on_form)
        self.type_combo.currentTextChanged.connect(self._on_form)
        follow(self, controller, ("assessment", "selection", "timepoint", "tools"), self.refresh)
        follow(
            self,
            controller,
            ("proposal", "tools", "study", "timepoint", "selection"),
            self.refresh_proposal,
        )
        self.refresh()
        self.refresh_proposal()

    def _build_proposal(self, grid: QGridLayout, row: int) -> None:
        c = self.c
        self.line_button = QPushButton("By line ⇧D")
        self.line_button.setCheckable(True)
        self.line_button.clicked.connect(lambda on: c.start_line_measure() if on else c.disarm())
        self.tighter_button = QPushButton("Tighter")
        self.tighter_button.clicked.connect(lambda: c.adjust_threshold(True))
        self.looser_button = QPushButton("Looser")
        self.looser_button.clicked.connect(lambda: c.adjust_threshold(False))
        self.paint_button = QPushButton("Paint")
        self.paint_button.clicked.connect(lambda: c.edit_contour("paint"))
        self.erase_button = QPushButton("Erase")
        self.erase_button.clicked.connect(lambda: c.edit_contour("erase"))
        self.proposal_text = QLabel("")
        self.proposal_text.setWordWrap(True)
        self.proposal_text.setTextFormat(Qt.RichText)
        buttons = QHBoxLayout()
        buttons.setSpacing(2)
        for button in (
            self.line_button,
            self.tighter_button,
            self.looser_button,
            self.paint_button,
            self.erase_button,
        ):
            buttons.addWidget(button)
        grid.addLayout(buttons, row, 0, 1, 4)
        grid.addWidget(self.proposal_text, row + 1, 0, 1, 4)
        self.proposal_text.setVisible(False)

    def refresh_proposal(self) -> None:
        """The open proposal in words (numbers, why no viable part, every warning) and the
        corrections possible now."""
        c = self.c
        p = c.proposal
        allow(
            self.line_button,
            c.why_not(CLICK),
            "Drag a rough line across a lesion (edge to edge) to measure it semi-automatically",
        )
        self.line_button.blockSignals(True)
        self.line_button.setChecked(c.line_prompt)
        self.line_button.blockSignals(False)
        why = "measuring…" if c.measuring else None if p is not None else "there is no proposal"
        allow(self.tighter_button, why, "Measure again with a higher threshold: a smaller region")
        allow(self.looser_button, why, "Measure again with a lower threshold: a larger region")
        allow(self.paint_button, why, "Paint lesion tissue onto the contour (Esc ends)")
        allow(self.erase_button, why, "Erase tissue from the contour (Esc ends)")
        if c.measuring:
            self.proposal_text.setText("Measuring…")
        elif p is not None:
            # why Accept would refuse it is the core's, shown beside Accept (Lesions panel)
            self.proposal_text.setText(p.details())
        else:
            self.proposal_text.setText("")
        self.proposal_text.setVisible(bool(self.proposal_text.text()))

    def _on_id(self) -> None:
        lesion = self.c.current_lesion()
        if not self._syncing and lesion is not None and self.id_edit.text().strip() != lesion.id:
            self.c.rename_current_lesion(self.id_edit.text())

    def _on_form(self, *_: Any, record: bool = False) -> None:
        lesion = self.c.current_lesion()
        if self._syncing or lesion is None:
            return
        changes: dict[str, Any] = {
            "organ": self.organ_combo.currentText().strip() or lesion.organ,
            "location": self.location_edit.text().strip() or None,
        }
        if lesion.category is Category.TARGET:
            changes["kind"] = Kind(self.kind_combo.currentText())
        if lesion.category is Category.NON_TARGET:
            changes["type"] = self.type_combo.currentText().strip() or None
            changes["cytology_confirmed"] = self.cytology_box.isChecked()
        if lesion.category is Category.NEW:
            changes["typical_hcc_pattern"] = self.typical_box.isChecked()
        if lesion.is_nodal or changes.get("kind") is Kind.SHORT_AXIS:
            changes["porta_hepatis"] = self.porta_box.isChecked()
        if self.state_combo.currentText():
            changes["state"] = self.state_combo.currentText()
        self.c.edit_current(record=record, **changes)

    def refresh(self) -> None:
        """Show the selected lesion (or an empty, disabled form)."""
        lesion: Lesion | None = self.c.current_lesion()
        self._syncing += 1
        try:
            for w in (self.id_edit, self.record_button, self.state_combo):
                w.setEnabled(lesion is not None)
            viable = lesion is not None and lesion.kind is Kind.VIABLE
            why = None if viable else "only a viable target has a viable and a whole diameter"
            allow(self.fully_viable_box, why, self.fully_viable_box.toolTip())
            allow(self.whole_box, why, self.whole_box.toolTip())
            for box, on in (
                (self.fully_viable_box, self.c.fully_viable),
                (self.whole_box, self.c.whole_line),
            ):
                box.blockSignals(True)
                box.setChecked(viable and on)
                box.blockSignals(False)
            if lesion is None:
                self.lesion_label.setText("no lesion selected")
                self.id_edit.setText("")
                return
            s, label = self.c.session, self.c.current_label
            recorded = s is not None and label is not None and s.timepoint(label).lesion(lesion.id)
            status = "" if recorded else " (not recorded here yet: draw or click)"
            self.lesion_label.setText(f"{lesion.id} · {lesion.category.value}{status}")
            self.id_edit.setText(lesion.id)
            self.organ_combo.setCurrentText(lesion.organ)
            self.location_edit.setText(lesion.location or "")
            self.kind_combo.setEnabled(lesion.category is Category.TARGET)
            if lesion.kind is not None:
                self.kind_combo.setCurrentText(lesion.kind.value)
            self.state_combo.clear()
            self.state_combo.addItems(sorted(s.value for s in STATES_BY_CATEGORY[lesion.category]))
            self.state_combo.setCurrentText(lesion.state.value)
            self.type_combo.setCurrentText(lesion.type or "")
            self.cytology_box.setChecked(lesion.cytology_confirmed)
            self.typical_box.setChecked(bool(lesion.typical_hcc_pattern))
            self.porta_box.setChecked(lesion.porta_hepatis)
        finally:
            self._syncing -= 1
