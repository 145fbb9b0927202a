"""Saving panel: where the reading is autosaved (per patient and reader), save as, CSV export."""

from __future__ import annotations

import os
from pathlib import Path

from napari.utils.notifications import show_error, show_info
from qtpy.QtWidgets import QFileDialog, QGroupBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from lesion_tool.errors import LesionToolError
from lesion_tool.response import PRESETS, score_assessment, settings_for, write_timepoints_csv

from . import Controller, allow, follow


class SavingPanel(QGroupBox):
    """The reading's file and its state; save, save as, export."""

    def __init__(self, controller: Controller, keys_hint: str = "") -> None:
        super().__init__("Reading file (autosaved after each change)")
        self.c = controller
        layout = QVBoxLayout(self)
        self.save_label = QLabel("")
        self.save_label.setWordWrap(True)
        top = QHBoxLayout()  # the file, and the keys' hint at its right (the buttons fit 1366 px)
        top.addWidget(self.save_label, 1)
        layout.addLayout(top)
        self.button_row = row = QHBoxLayout()  # the PACS / sign-off button joins it (_widget)
        self.save_button = QPushButton("Save")
        self.save_button.clicked.connect(lambda: self.c.save())
        self.save_as_button = QPushButton("Save as…")
        self.save_as_button.clicked.connect(self._choose_save_path)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.clicked.connect(self._choose_csv)
        for b in (self.save_button, self.save_as_button, self.export_button):
            row.addWidget(b)
        if keys_hint:
            hint = QLabel("Keys (hover)")
            hint.setToolTip(keys_hint)
            top.addWidget(hint)
        layout.addLayout(row)
        follow(self, controller, ("file", "study", "assessment"), self.refresh)
        self.refresh()

    def refresh(self) -> None:
        """Say where the reading is saved, or why it is not yet."""
        s = self.c.session
        if s is None:
            text = "no study open"
        elif not s.reader:
            text = "not saved: enter your reader id (Study panel) to start the reading"
        elif s.last_save_error is not None:
            text = f"autosave failed: {s.last_save_error}"
        elif s.path is not None and s.path.exists():
            when = s.assessment.saved_at
            stamp = f" by {s.assessment.saved_by} at {when:%H:%M:%S} UTC" if when else ""
            text = f"saved to {s.path.name}{stamp}"
        else:
            text = f"will save to {s.path.name if s.path else '?'}"
        self.save_label.setText(text)
        self.save_label.setToolTip(str(s.path) if s is not None and s.path else "")
        why = None if s is not None and s.reader else "enter your reader id first"
        for b in (self.save_button, self.save_as_button):
            allow(b, why)

    def _choose_save_path(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save assessment", "", "JSON (*.json)")
        if path:
            self.c.save(path)

    def _choose_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export per-timepoint CSV", "", "CSV (*.csv)")
        if path:
            self.export_csv(path)

    def export_csv(self, path: str | os.PathLike[str]) -> Path | None:
        """Write the per-timepoint CSV (every preset) with the core's writer."""
        s = self.c.session
        if s is None:
            show_error("There is nothing to export yet: open a study first.")
            return None
        try:
            results = [score_assessment(s.assessment, settings_for(p)) for p in PRESETS]
            with open(path, "w", newline="", encoding="utf-8") as handle:
                write_timepoints_csv(results, handle)
        except (LesionToolError, OSError) as err:
            show_error(f"Could not export {path}: {err}")
            return None
        show_info(f"Exported {path}")
        return Path(path)
