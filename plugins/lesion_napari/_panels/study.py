"""Study panel: open a study or a reading, reader id, timepoint, treatment date, and what the
reader must know about the series measured on (its phase). The window / level is the display
panel's (one control, :mod:`lesion_napari._display_panel`)."""

from __future__ import annotations

import datetime as dt

from qtpy.QtCore import QDate
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QInputDialog,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QWidget,
)

from lesion_tool.reading import ReadingFile

from . import Controller, follow

NEW_VERSION = "Start a new version (the earlier file is kept)"


def ask_resume(parent: QWidget, found: list[ReadingFile]) -> ReadingFile | None:
    """Ask a reader who already read this patient: resume a saved reading, or a new version."""
    items = [f"Resume {f.describe()}" for f in reversed(found)] + [NEW_VERSION]
    choice, ok = QInputDialog.getItem(
        parent,
        "You have read this patient before",
        "Your saved reading is never overwritten. Resume it, or start a new version?",
        items,
        0,
        False,
    )
    if not ok or choice == NEW_VERSION:
        return None if ok else found[-1]  # closing the dialog resumes: nothing is lost
    return list(reversed(found))[items.index(choice)]


class StudyPanel(QGroupBox):
    """Open, reader, timepoint, treatment start, series and phase notes."""

    def __init__(self, controller: Controller) -> None:
        super().__init__("Study")
        self.c = controller
        grid = QGridLayout(self)
        grid.setVerticalSpacing(2)
        self.open_button = QPushButton("Open study…")
        self.open_button.setToolTip("Open a patient's DICOM folder (every study in it)")
        self.open_button.clicked.connect(self._choose_study)
        self.open_assessment_button = QPushButton("Open reading…")
        self.open_assessment_button.setToolTip("Open a saved reading (assessment JSON)")
        self.open_assessment_button.clicked.connect(self._choose_assessment)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.timepoint_combo = QComboBox()
        self.timepoint_combo.currentTextChanged.connect(self._on_timepoint)
        self.side_by_side_box = QCheckBox("Baseline | follow-up")
        self.side_by_side_box.setToolTip("Baseline and the current follow-up side by side")
        self.side_by_side_box.toggled.connect(controller.set_side_by_side)
        self.reader_edit = QLineEdit()
        self.reader_edit.setPlaceholderText("required, e.g. R1")
        self.reader_edit.setToolTip("Your reader id: each reader's reading has its own file.")
        self.reader_edit.editingFinished.connect(self._on_reader)
        self.start_edit = QDateEdit()
        self.start_edit.setCalendarPopup(True)
        self.start_edit.setDisplayFormat("yyyy-MM-dd")
        self.start_edit.dateChanged.connect(self._on_start)
        digits = self.start_edit.fontMetrics().horizontalAdvance("2000-00-00")
        self.start_edit.setMinimumWidth(digits + 48)  # the whole date and the calendar arrow
        self.series_combo = QComboBox()
        self.series_combo.setToolTip(
            "The series this timepoint is measured on. mRECIST needs an arterial phase; "
            "RECIST 1.1 can be read on any (e.g. portal venous)."
        )
        self.series_combo.currentTextChanged.connect(self._on_series)
        self.phase_label = QLabel("")
        self.phase_label.setWordWrap(True)
        self.phase_label.setStyleSheet("color: #ffb74d;")
        grid.addWidget(self.open_button, 0, 0, 1, 1)
        grid.addWidget(self.open_assessment_button, 0, 1, 1, 1)
        grid.addWidget(self.progress, 0, 2, 1, 2)
        grid.addWidget(QLabel("Reader"), 2, 0)
        grid.addWidget(self.reader_edit, 2, 1)
        grid.addWidget(QLabel("Treatment"), 2, 2)
        grid.addWidget(self.start_edit, 2, 3)
        grid.addWidget(QLabel("Timepoint"), 3, 0)
        grid.addWidget(self.timepoint_combo, 3, 1)
        grid.addWidget(self.side_by_side_box, 3, 2, 1, 2)
        grid.addWidget(QLabel("Series"), 4, 0)
        grid.addWidget(self.series_combo, 4, 1, 1, 3)
        grid.addWidget(self.phase_label, 5, 0, 1, 4)
        controller.ask_resume = lambda found: ask_resume(self, found)
        follow(self, controller, ("study", "timepoint", "file"), self.refresh)
        follow(self, controller, ("assessment",), self._sync_start)
        self.refresh()

    def _choose_study(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a DICOM study folder")
        if folder:
            self.c.open_study(folder)

    def _choose_assessment(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open assessment", "", "JSON (*.json)")
        if path:
            self.c.open_assessment(path)

    def _on_timepoint(self, label: str) -> None:
        if label and label != self.c.current_label:
            self.c.set_timepoint(label)

    def _on_series(self, name: str) -> None:
        view = self.c.current_view
        if view is not None and name and name != view.image.name:
            self.c.measure_on(view.label, name)

    def _on_reader(self) -> None:
        text = self.reader_edit.text().strip()
        current = self.c.session.reader if self.c.session else self.c.reader
        if text != current and not self.c.set_reader(text):
            self.reader_edit.setText(current)

    def _on_start(self, qdate: QDate) -> None:
        if self.c.session is not None:
            date = dt.date(qdate.year(), qdate.month(), qdate.day())
            if date != self.c.session.assessment.treatment_start:
                self.c.set_treatment_start(date)

    def _sync_start(self) -> None:
        if self.c.session is None:
            return
        start = self.c.session.assessment.treatment_start
        self.start_edit.blockSignals(True)
        self.start_edit.setDate(QDate(start.year, start.month, start.day))
        self.start_edit.blockSignals(False)

    def refresh(self) -> None:
        """Show the controller's study state."""
        c = self.c
        value, maximum, text = c.progress
        self.progress.setRange(0, maximum)
        self.progress.setValue(value)
        self.progress.setFormat(f"%v / %m {text}" if c.loading and maximum else text)
        self.timepoint_combo.blockSignals(True)
        self.timepoint_combo.clear()
        self.timepoint_combo.addItems(c.open_labels())
        if c.current_label:
            self.timepoint_combo.setCurrentText(c.current_label)
        self.timepoint_combo.blockSignals(False)
        self.side_by_side_box.blockSignals(True)
        self.side_by_side_box.setChecked(c.side_by_side)
        self.side_by_side_box.blockSignals(False)
        view = c.current_view
        self.series_combo.blockSignals(True)
        self.series_combo.clear()
        if view is not None:
            self.series_combo.addItems([view.image.name, *(lay.name for lay in view.others)])
            self.series_combo.setCurrentText(view.image.name)
        self.series_combo.blockSignals(False)
        reader = c.session.reader if c.session and c.session.reader else c.reader
        if not self.reader_edit.hasFocus():
            self.reader_edit.setText(reader)
        self.reader_edit.setStyleSheet("" if reader else "border: 1px solid #ffb74d;")
        self.phase_label.setText("\n".join(f"⚠ {n}" for n in c.phase_notes.values()))
        self.phase_label.setToolTip("\n\n".join(c.phase_details.values()))
        self.phase_label.setVisible(bool(c.phase_notes))
        self._sync_start()
