"""The adjudicator's view: a patient's readings side by side, read-only, and the decision.

Thin over :mod:`lesion_tool.corelab`: readings are grouped by patient and reader, scored under
every preset and compared under the adjudication settings by the core (the same functions as
``lesion-tool adjudicate``); the decision is assembled by the core's
:func:`~lesion_tool.corelab.adjudication.make_decision` (readers and triggers from the
worklist), checked against the ``adjudication-v1`` schema and written atomically, with an audit
event, by :func:`~lesion_tool.corelab.adjudication.save_decision`, in the decisions folder
that ``rescore`` / ``report --adjudications`` read. The readings themselves are
never written. Loading and scoring run in a napari ``thread_worker``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qtpy.QtGui import QBrush, QColor
from qtpy.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from lesion_tool.corelab.adjudication import (
    AdjudicationSettings,
    DecisionExistsError,
    WorklistItem,
    decision_file_name,
    load_decisions,
    make_decision,
    save_decision,
    score_cohort_readings,
    worklist,
)
from lesion_tool.corelab.readings import Cohort, PatientReadings, Reading
from lesion_tool.errors import LesionToolError
from lesion_tool.response import PRESETS, PatientResult, settings_for

from ._pacs_dialog import ERROR_STYLE, start_job

DIFFERS = QColor(255, 183, 77)
"""Background of a value the readers differ on."""
FIELDS = ("date", "sum mm", "Δ base %", "overall")
"""Columns per reader of a preset's table."""


def column_title(reader: str, field: str) -> str:
    """Header of a reader's column (two short lines keep both readers in view)."""
    return f"{reader}\n{field}"


@dataclass(frozen=True)
class Loaded:
    """Readings grouped and scored: what the view shows."""

    paths: tuple[Path, ...]
    cohort: Cohort
    scored: dict[tuple[str, str, str], dict[str, PatientResult]]
    items: tuple[WorklistItem, ...]
    problems: tuple[tuple[str, str], ...]


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def default_decisions_dir(paths: list[Path]) -> Path:
    """``adjudication/decisions`` beside the readings' folder (never inside it: a decision is
    not an assessment, and the readings' folder is searched for ``*.json``)."""
    first = Path(paths[0])
    folder = first if first.is_dir() else first.parent
    return folder.parent / "adjudication" / "decisions"


def decisions_dir_of(folder: Path) -> Path:
    """The decisions folder of a chosen folder: ``DIR/decisions`` for the worklist folder of
    ``lesion-tool adjudicate --out DIR`` (it holds worklist.csv), else the folder itself."""
    folder = Path(folder)
    return folder / "decisions" if (folder / "worklist.csv").is_file() else folder


def load_readings(paths: list[Path], settings: AdjudicationSettings) -> Loaded:
    """Load, group and score the readings under every preset (adjudication preset first)."""
    from lesion_tool.commands._corelab import load_cohort_files

    cohort, problems = load_cohort_files([str(p) for p in paths])
    presets = [settings.preset, *(p for p in PRESETS if p != settings.preset)]
    scored, score_problems = score_cohort_readings(cohort, [settings_for(p) for p in presets])
    items = worklist(cohort, scored, settings)
    return Loaded(tuple(paths), cohort, scored, tuple(items), tuple(problems + score_problems))


def lesion_table(reading: Reading) -> QTableWidget:
    """A reader's lesions at every timepoint (read-only): the adjudication page's table."""
    from lesion_tool.report.build import _lesion_table

    content = _lesion_table(reading.assessment)
    table = QTableWidget(len(content.rows), len(content.header))
    table.setEditTriggers(QAbstractItemView.NoEditTriggers)
    table.setHorizontalHeaderLabels(list(content.header))
    table.verticalHeader().setVisible(False)
    for i, row in enumerate(content.rows):
        for j, cell in enumerate(row):
            table.setItem(i, j, QTableWidgetItem(cell if isinstance(cell, str) else cell.text))
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
    table.setToolTip(content.caption or "")
    return table


class AdjudicationWidget(QWidget):
    """Side-by-side readings of one patient (read-only) and the adjudicator's decision.

    Parameters
    ----------
    napari_viewer
        The viewer (npe2 passes it; the view does not draw in it).
    settings
        When readings need adjudication and under which preset they are compared.
    """

    def __init__(
        self, napari_viewer: Any = None, settings: AdjudicationSettings | None = None
    ) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.settings = settings or AdjudicationSettings()
        self.presets = [self.settings.preset, *(p for p in PRESETS if p != self.settings.preset)]
        self.loaded: Loaded | None = None
        self.decisions_dir: Path | None = None
        self.worker: Any = None

        self.open_folder_button = QPushButton("Open readings folder…")
        self.open_folder_button.clicked.connect(self._choose_folder)
        self.open_files_button = QPushButton("Open reading files…")
        self.open_files_button.clicked.connect(self._choose_files)
        self.decisions_button = QPushButton("Decisions folder…")
        self.decisions_button.setToolTip(
            "Where decisions are stored (rescore / report --adjudications read them); the "
            "worklist folder of lesion-tool adjudicate --out DIR stores them in DIR/decisions."
        )
        self.decisions_button.clicked.connect(self._choose_decisions)
        self.source_label = QLabel("No readings open.")
        self.source_label.setWordWrap(True)
        self.patient_combo = QComboBox()
        self.patient_combo.currentIndexChanged.connect(self.show_patient)
        self.reasons_label = QLabel("")
        self.reasons_label.setWordWrap(True)
        self.tabs = QTabWidget()
        self.tables: dict[str, QTableWidget] = {}
        for preset in self.presets:
            table = QTableWidget(0, 0)
            table.setEditTriggers(QAbstractItemView.NoEditTriggers)  # read-only
            table.setMinimumHeight(230)  # baseline, three follow-ups and the summary rows
            table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
            self.tables[preset] = table
            self.tabs.addTab(table, preset)

        box = QGroupBox("Decision")
        form = QFormLayout(box)
        self.reader_combo = QComboBox()
        self.reason_edit = QPlainTextEdit()
        self.reason_edit.setPlaceholderText("why this reading stands (free text)")
        self.reason_edit.setMaximumHeight(54)
        self.adjudicator_edit = QLineEdit()
        self.adjudicator_edit.setPlaceholderText("your adjudicator id, e.g. ADJ1")
        self.replace_box = QCheckBox("Replace the earlier decision")
        self.decide_button = QPushButton("Record decision")
        self.decide_button.clicked.connect(self.record_decision)
        self.decision_label = QLabel("")
        self.decision_label.setWordWrap(True)
        form.addRow("Reading that stands", self.reader_combo)
        form.addRow("Reason", self.reason_edit)
        form.addRow("Adjudicator", self.adjudicator_edit)
        form.addRow(self.replace_box, self.decide_button)
        form.addRow(self.decision_label)
        self.message = QLabel("")
        self.message.setWordWrap(True)

        buttons = QHBoxLayout()
        for b in (self.open_folder_button, self.open_files_button, self.decisions_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.source_label)
        row = QHBoxLayout()
        row.addWidget(QLabel("Patient"))
        row.addWidget(self.patient_combo, 1)
        layout.addLayout(row)
        layout.addWidget(self.reasons_label)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(box)
        layout.addWidget(self.message)
        self.setMinimumWidth(760)  # two readers side by side without scrolling
        self._sync()

    # ------------------------------------------------------------------------------ helpers
    def show_message(self, text: str, *, error: bool = False) -> None:
        """A line under the decision: what was done, or why not."""
        self.message.setText(text)
        self.message.setStyleSheet(ERROR_STYLE if error else "")

    def patient(self) -> PatientReadings | None:
        """The patient shown."""
        pid = self.patient_combo.currentData()
        if self.loaded is None or not pid:
            return None
        return self.loaded.cohort.patient(pid)

    def readings(self) -> list[Reading]:
        """The shown patient's readings that could be scored under every preset."""
        patient = self.patient()
        if patient is None or self.loaded is None:
            return []
        scored = self.loaded.scored
        return [
            r
            for r in patient.readings
            if all(p in scored.get((r.patient_id, r.reader, r.role), {}) for p in self.presets)
        ]

    def _pairs(self, patient_id: str) -> list[WorklistItem]:
        return [i for i in (self.loaded.items if self.loaded else ()) if i.patient_id == patient_id]

    def _sync(self) -> None:
        ready = self.worker is None and len(self.readings()) >= 2
        self.decide_button.setEnabled(ready and self.decisions_dir is not None)
        for b in (self.open_folder_button, self.open_files_button):
            b.setEnabled(self.worker is None)

    # ------------------------------------------------------------------------------ loading
    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of readings (assessment files)")
        if folder:
            self.load([Path(folder)])

    def _choose_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Readings of one patient", "", "*.json")
        if files:
            self.load([Path(f) for f in files])

    def _choose_decisions(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Decisions (or adjudicate worklist) folder")
        if folder:
            self.set_decisions_dir(Path(folder))

    def set_decisions_dir(self, folder: Path) -> None:
        """Store decisions in ``folder`` (``DIR/decisions`` for an adjudicate worklist DIR)."""
        self.decisions_dir = decisions_dir_of(folder)
        self.show_patient()

    def load(self, paths: list[Path]) -> None:
        """Load readings (files or folders) in a worker, then list their patients."""
        if self.worker is not None:
            self.show_message("Readings are loading; wait for them.", error=True)
            return
        settings = self.settings
        self.show_message("")
        worklists = [Path(p) for p in paths if (Path(p) / "worklist.csv").is_file()]
        if worklists:  # lesion-tool adjudicate --out DIR: decisions live there, readings do not
            self.set_decisions_dir(worklists[0])
            paths = [p for p in paths if Path(p) not in worklists]
            if not paths:
                self.show_message(
                    f"{worklists[0]} is the worklist folder of lesion-tool adjudicate: decisions "
                    f"will be stored in {self.decisions_dir}. Now open the readings it was made "
                    "from."
                )
                return
        self.source_label.setText(f"Loading {', '.join(str(p) for p in paths)}…")
        self.worker = start_job(
            lambda: load_readings(list(paths), settings),
            self._loaded,
            lambda text: self.show_message(text, error=True),
            self._load_finished,
        )
        self._sync()

    def _load_finished(self) -> None:
        self.worker = None
        self._sync()

    def _loaded(self, loaded: Loaded) -> None:
        self.loaded = loaded
        if self.decisions_dir is None:
            self.decisions_dir = default_decisions_dir(list(loaded.paths))
        multi = [p for p in loaded.cohort.patients if len(p.readings) >= 2]
        needing = {i.patient_id for i in loaded.items if i.reasons}
        self.patient_combo.blockSignals(True)
        self.patient_combo.clear()
        for p in sorted(multi, key=lambda p: (p.patient_id not in needing, p.patient_id)):
            flag = "needs adjudication" if p.patient_id in needing else "readers agree"
            self.patient_combo.addItem(
                f"{p.patient_id} ({', '.join(p.readers)}): {flag}", p.patient_id
            )
        self.patient_combo.blockSignals(False)
        skipped = "".join(f"\nskipped: {where}: {why}" for where, why in loaded.problems)
        self.source_label.setText(
            f"{len(loaded.cohort.patients)} patient(s), {len(multi)} read by two or more "
            f"readers, {len(needing)} need adjudication ({self.settings.describe()}).{skipped}"
        )
        if not multi:
            self.show_message("No patient has two readings here: nothing to adjudicate.")
        self.show_patient()

    # ------------------------------------------------------------------------------ showing
    def show_patient(self, *_: Any) -> None:
        """Fill the tables, reasons and decision of the chosen patient."""
        patient = self.patient()
        readings = self.readings()
        self.reader_combo.clear()
        self.reader_combo.addItems([r.reader for r in readings])
        for preset, table in self.tables.items():
            self._fill(table, preset, readings)
        while self.tabs.count() > len(self.presets):  # the previous patient's lesion tabs
            widget = self.tabs.widget(self.tabs.count() - 1)
            self.tabs.removeTab(self.tabs.count() - 1)
            widget.deleteLater()
        for reading in readings:
            self.tabs.addTab(lesion_table(reading), f"{reading.reader} lesions")
        if patient is None:
            self.reasons_label.setText("")
            self.decision_label.setText("")
            self._sync()
            return
        reasons = [r for i in self._pairs(patient.patient_id) for r in i.reasons]
        self.reasons_label.setText(
            "⚠ " + "; ".join(reasons) if reasons else "The readers agree (no adjudication trigger)."
        )
        self.reasons_label.setStyleSheet("color: #ffb74d;" if reasons else "")
        self.decision_label.setText(self._decision_text(patient.patient_id))
        self._sync()

    def _decision_text(self, patient_id: str) -> str:
        if self.decisions_dir is None:
            return "Choose the decisions folder."
        path = self.decisions_dir / decision_file_name(patient_id)
        if not path.exists():
            return f"No decision yet (it will be stored in {path})."
        decisions, problems = load_decisions([path])
        if problems:
            return "; ".join(why for _where, why in problems)
        d = decisions[patient_id]
        return (
            f"Decided: {d.chosen_reader}'s reading stands; by {d.adjudicator} at "
            f"{d.decided_at.isoformat()}: {d.reason} ({path})"
        )

    def _fill(self, table: QTableWidget, preset: str, readings: list[Reading]) -> None:
        """One preset: a row per timepoint then the summary rows, a column group per reader."""
        table.clear()
        if self.loaded is None or not readings:
            table.setRowCount(0)
            table.setColumnCount(0)
            return
        results = [self.loaded.scored[(r.patient_id, r.reader, r.role)][preset] for r in readings]
        n_rows = max(len(res.timepoints) for res in results)
        table.setColumnCount(len(FIELDS) * len(results))
        table.setRowCount(n_rows + 3)
        table.setHorizontalHeaderLabels(
            [column_title(r.reader, f) for r in readings for f in FIELDS]
        )
        longest = max(results, key=lambda res: len(res.timepoints))
        labels = [t.label for t in longest.timepoints]
        table.setVerticalHeaderLabels([*labels, "best overall", "progression", "PFS (days)"])
        cells: list[list[list[str]]] = []  # row -> reader -> field texts
        for i in range(n_rows):
            row = []
            for res in results:
                if i < len(res.timepoints):
                    t = res.timepoints[i]
                    row.append(
                        [
                            t.date.isoformat(),
                            _num(t.target_sum_mm),
                            _num(t.change_from_baseline_pct),
                            str(t.overall_response or ""),
                        ]
                    )
                else:
                    row.append(["", "", "", ""])
            cells.append(row)
        summary = (
            lambda r: str(r.best_overall_response or ""),
            lambda r: r.progression_date.isoformat() if r.progression_date else "none",
            lambda r: "" if r.pfs_days is None else str(r.pfs_days),
        )
        for value in summary:
            cells.append([["", "", "", value(res)] for res in results])
        for i, row in enumerate(cells):
            for f in range(len(FIELDS)):
                texts = [reader_cells[f] for reader_cells in row]
                differs = f > 0 and len({t for t in texts if t}) > 1
                for j, text in enumerate(texts):
                    item = QTableWidgetItem(text)
                    if differs and text:
                        item.setBackground(QBrush(DIFFERS))
                        item.setForeground(QBrush(QColor("black")))
                        item.setToolTip("The readers differ here.")
                    table.setItem(i, j * len(FIELDS) + f, item)

    def differing_cells(self, preset: str) -> list[tuple[str, str]]:
        """(row title, column title) of every highlighted cell of a preset's table."""
        table = self.tables[preset]
        found = []
        for i in range(table.rowCount()):
            for j in range(table.columnCount()):
                item = table.item(i, j)
                if item is not None and item.background().color() == DIFFERS:
                    found.append(
                        (table.verticalHeaderItem(i).text(), table.horizontalHeaderItem(j).text())
                    )
        return found

    # ------------------------------------------------------------------------------ decision
    def record_decision(self) -> Path | None:
        """Store the decision (schema-checked, atomic, audited); refuses to replace one unasked."""
        patient = self.patient()
        if patient is None or self.decisions_dir is None:
            self.show_message("Open readings and choose a patient first.", error=True)
            return None
        reason = self.reason_edit.toPlainText().strip()
        adjudicator = self.adjudicator_edit.text().strip()
        chosen = self.reader_combo.currentText()
        missing = [
            n for n, v in (("a reason", reason), ("your adjudicator id", adjudicator)) if not v
        ]
        if missing:
            self.show_message(f"Enter {' and '.join(missing)} to record the decision.", error=True)
            return None
        path = self.decisions_dir / decision_file_name(patient.patient_id)
        try:
            decision = make_decision(
                self.loaded.items if self.loaded else (),
                patient.patient_id,
                preset=self.settings.preset,
                chosen_reader=chosen,
                reason=reason,
                adjudicator=adjudicator,
            )
            save_decision(decision, path, replace=self.replace_box.isChecked())
        except DecisionExistsError as err:
            self.show_message(
                f"{err}; tick 'Replace the earlier decision' to replace it.", error=True
            )
            return None
        except LesionToolError as err:
            self.show_message(str(err), error=True)
            return None
        self.replace_box.setChecked(False)
        self.show_message(f"Decision for {patient.patient_id}: {chosen}'s reading stands.")
        self.decision_label.setText(self._decision_text(patient.patient_id))
        return path
