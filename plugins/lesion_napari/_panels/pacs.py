"""PACS and sign-off: open a study from a PACS, sign the reading off, send its SRs to the PACS.

A small dialog rather than one more panel of the dock (which must fit a 1080p screen): its
button, *PACS / sign-off...*, sits in the saving panel's row of buttons.

Sign-off writes the reading's SRs (one per timepoint, the core's ``export_sr``) as FINAL,
COMPLETE and VERIFIED, with the reader as verifying observer; *Send SR to PACS* stores the SRs
last written (writing preliminary ones first when the reading has none for its current state,
or changed since) on the server of the PACS dialog, by STOW-RS. Both run in a napari
``thread_worker``, one job at a time; failures are a line in the panel, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qtpy.QtWidgets import (
    QComboBox,
    QDialog,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from lesion_napari._controller import default_save_dir
from lesion_napari._layers import volume_from_layer
from lesion_napari._pacs_dialog import ERROR_STYLE, PacsDialog, start_job
from lesion_tool.corelab.readings import ROLES, reader_role
from lesion_tool.errors import LesionToolError, PacsError
from lesion_tool.model import Assessment

from . import Controller, allow, follow


@dataclass(frozen=True)
class WrittenSR:
    """SR files written for one state of the reading, and by whom they were signed (or not)."""

    assessment: Assessment
    paths: tuple[Path, ...]
    signed_by: str | None


SIGN_TIP = (
    "Write the reading's SRs as FINAL, COMPLETE and VERIFIED, with you as verifying observer "
    "(a re-sign-off references the SR it replaces)."
)
SEND_TIP = (
    "Store the SRs on the server of Open from PACS… (STOW-RS); a reading not signed off since "
    "its last change is sent as a preliminary SR."
)


class PacsPanel(QDialog):
    """Open from PACS; sign-off (verifying observer, organisation, role); send SRs.

    ``launcher`` is the button that shows it (placed by the widget).
    """

    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("PACS and sign-off")
        self.setMinimumWidth(520)
        self.c = controller
        self.launcher = QPushButton("PACS / sign-off…")
        self.launcher.setToolTip(
            "Open a study from a PACS, sign the reading off (SR COMPLETE / VERIFIED), send the "
            "SRs to the PACS."
        )
        self.launcher.clicked.connect(self.show_panel)
        self._dialog: PacsDialog | None = None
        self.sr_dir: Path | None = None
        """Where SRs are written (default: ``sr/`` beside the reading's file)."""
        self.written: WrittenSR | None = None
        self.stored: tuple[str, ...] = ()
        """SOPInstanceUIDs the server stored at the last send."""
        self.worker: Any = None
        self._session: Any = None
        grid = QGridLayout(self)
        self.open_button = QPushButton("Open from PACS…")
        self.open_button.setToolTip("Search a DICOMweb server, retrieve a study and open it.")
        self.open_button.clicked.connect(self.show_dialog)
        self.observer_edit = QLineEdit()
        self.observer_edit.setPlaceholderText("verifying observer, e.g. Doe^Jane")
        self.organisation_edit = QLineEdit()
        self.organisation_edit.setPlaceholderText("organisation")
        self.role_combo = QComboBox()
        self.role_combo.addItems(list(ROLES))
        self.role_combo.setToolTip("Your role in this reading (written in the SR).")
        self.sign_button = QPushButton("Sign off")
        self.sign_button.clicked.connect(self.sign_off)
        self.send_button = QPushButton("Send SR to PACS")
        self.send_button.clicked.connect(self.send)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        grid.addWidget(self.open_button, 0, 0, 1, 2)
        grid.addWidget(self.send_button, 0, 2, 1, 2)
        grid.addWidget(QLabel("Observer"), 1, 0)
        grid.addWidget(self.observer_edit, 1, 1)
        grid.addWidget(QLabel("Org."), 1, 2)
        grid.addWidget(self.organisation_edit, 1, 3)
        grid.addWidget(QLabel("Role"), 2, 0)
        grid.addWidget(self.role_combo, 2, 1)
        grid.addWidget(self.sign_button, 2, 2, 1, 2)
        grid.addWidget(self.status, 3, 0, 1, 4)
        follow(self, controller, ("file", "study", "assessment"), self.refresh)
        self.refresh()

    # ------------------------------------------------------------------------------ state
    def dialog(self) -> PacsDialog:
        """The panel's PACS dialog (one per panel: it keeps the server and the search)."""
        if self._dialog is None:
            self._dialog = PacsDialog(self, open_folder=self.c.open_study)
        return self._dialog

    def show_panel(self) -> None:
        """Show this dialog (not modal: the viewer stays usable)."""
        self.show()
        self.raise_()

    def show_dialog(self) -> PacsDialog:
        """Show the PACS dialog (not modal: the viewer stays usable while it retrieves)."""
        dialog = self.dialog()
        dialog.show()
        dialog.raise_()
        return dialog

    def show_status(self, text: str, *, error: bool = False) -> None:
        """What the last sign-off or send did, or why it could not."""
        self.status.setText(text)
        self.status.setStyleSheet(ERROR_STYLE if error else "")
        self.adjustSize()  # a longer text wraps onto more lines: the dialog grows with it

    def refresh(self) -> None:
        """Follow the reading: default observer and role, buttons allowed or why not."""
        s = self.c.session
        if s is not None and s.reader and not self.observer_edit.text().strip():
            self.observer_edit.setText(s.reader)
        if s is not None and s is not self._session:  # a new reading: its own role
            self._session = s
            self.role_combo.setCurrentText(reader_role(s.assessment))
        why = None
        if s is None:
            why = "open a study first"
        elif not s.reader:
            why = "enter your reader id first"
        elif not s.assessment.timepoints:
            why = "nothing measured yet"
        elif self.worker is not None:
            why = "an SR job is running"
        allow(self.sign_button, why, SIGN_TIP)
        allow(self.send_button, why, SEND_TIP)
        if self.written is not None and s is not None and self.written.assessment != s.assessment:
            self.show_status("The reading changed since its SRs were written: sign off again.")

    def sr_folder(self) -> Path:
        """Where the SRs go: ``sr/`` beside the reading's file (or the autosave folder)."""
        if self.sr_dir is not None:
            return self.sr_dir
        s = self.c.session
        base = s.path.parent if s is not None and s.path is not None else default_save_dir()
        return base / "sr"

    def volumes(self) -> dict[str, Any]:
        """The loaded series (SeriesInstanceUID -> volume, with its files) for the export."""
        found = {}
        for layer in list(self.c.viewer.layers):
            try:
                volume = volume_from_layer(layer)
            except ValueError:
                continue
            if volume.series_instance_uid:
                found.setdefault(volume.series_instance_uid, volume)
        return found

    def _start(self, work: Any, done: Any) -> None:
        if self.worker is not None:
            self.show_status("Wait for the running SR job to finish.", error=True)
            return

        self.worker = start_job(
            work, done, lambda text: self.show_status(text, error=True), self._finished
        )
        self.refresh()

    def _finished(self) -> None:
        self.worker = None
        self.refresh()

    def _export_job(self, sign_off: Any, role: str) -> Any:
        """A function writing the current reading's SRs (run in the worker)."""
        from lesion_tool.storage.sr import export_sr

        s = self.c.session
        assert s is not None
        assessment = s.assessment
        volumes = self.volumes()
        out = self.sr_folder()
        signed_by = sign_off.observer_name if sign_off is not None else None

        def work() -> WrittenSR:
            paths = export_sr(
                assessment,
                None,
                out,
                volumes=volumes,
                overwrite=True,
                reader_role=role,
                sign_off=sign_off,
            )
            return WrittenSR(assessment, tuple(paths), signed_by)

        return work

    # ------------------------------------------------------------------------------ actions
    def sign_off(self) -> None:
        """Write the reading's SRs signed off by the observer (FINAL, COMPLETE, VERIFIED)."""
        from lesion_tool.storage.sr import SignOff

        if self.c.session is None or not self.c.session.reader:
            self.show_status("Open a study and enter your reader id first.", error=True)
            return
        try:
            sign = SignOff(self.observer_edit.text().strip(), self.organisation_edit.text().strip())
        except LesionToolError as err:
            self.show_status(str(err), error=True)
            return
        work = self._export_job(sign, self.role_combo.currentText())
        self.show_status(f"Signing off as {sign.observer_name}: writing the SRs…")
        self._start(work, self._signed)

    def _signed(self, written: WrittenSR) -> None:
        self.written = written
        folder = written.paths[0].parent if written.paths else self.sr_folder()
        self.show_status(
            f"Signed off by {written.signed_by}: {len(written.paths)} SR(s) COMPLETE / VERIFIED "
            f"in {folder.name}/ (hover for the folder)."
        )
        self.status.setToolTip(str(folder))

    def send(self) -> None:
        """Store the reading's SRs on the PACS dialog's server (writing them first if needed)."""
        s = self.c.session
        if s is None or not s.reader:
            self.show_status("Open a study and enter your reader id first.", error=True)
            return
        try:
            connection = self.dialog().connection_form.connection()
        except PacsError as err:
            self.show_status(f"Set the server in Open from PACS… first: {err}", error=True)
            return
        current = self.written if self.written and self.written.assessment == s.assessment else None
        export = (
            None if current is not None else self._export_job(None, self.role_combo.currentText())
        )

        def work() -> tuple[WrittenSR, Any]:
            from lesion_tool.pacs import connect

            written = current if current is not None else export()
            with connect(connection) as client:
                return written, client.store(list(written.paths))

        self.show_status(f"Sending the SRs to {connection.host}…")
        self._start(work, self._sent)

    def _sent(self, outcome: tuple[WrittenSR, Any]) -> None:
        written, stored = outcome
        self.written = written
        self.stored = tuple(stored.stored_sop_instance_uids)
        how = f"signed off by {written.signed_by}" if written.signed_by else "preliminary"
        self.show_status(
            f"{len(self.stored)} SR(s) ({how}) stored on "
            f"{self.dialog().connection_form.url_edit.text().strip()}."
        )
