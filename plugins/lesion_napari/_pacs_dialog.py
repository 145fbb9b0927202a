"""*Open from PACS...*: search a DICOMweb server, retrieve a study into the cache, open it.

Thin over :mod:`lesion_tool.pacs`: the connection, the search, the retrieval with resume and
every error message come from the core. Network work runs in a napari ``thread_worker``, one at
a time, with the retrieval's progress shown in the dialog; a failure is a line of text in the
dialog, never a traceback. The retrieved study opens the usual way (the controller's
open-folder path), so scanning, phase choice and loading are the ones of *Open study...*.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from napari.qt.threading import thread_worker
from qtpy.QtCore import QObject, Qt, Signal
from qtpy.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from lesion_tool.errors import LesionToolError, PacsError
from lesion_tool.pacs import (
    STUDY_COLUMNS,
    PacsConnection,
    Progress,
    StudySummary,
    connect,
    default_cache_dir,
    parse_date_range,
)

log = logging.getLogger(__name__)

URL_ENV = "LESION_TOOL_PACS_URL"
"""Environment variable giving the DICOMweb URL the dialog starts with."""
AUTH_CHOICES = ("No login", "User and password", "Bearer token")
MODALITIES = ("", "CT", "MR", "PT", "SR")
TABLE_SHOWS = (
    "patient_id",
    "patient_name",
    "study_date",
    "description",
    "modalities",
    "series_count",
    "instance_count",
)
TABLE_COLUMNS = tuple((key, title) for key, title in STUDY_COLUMNS if key in TABLE_SHOWS)
"""The core's study columns the table shows (the UIDs go in tooltips)."""
SEARCH_LIMIT = 500
"""At most this many studies are listed per search (narrow the search for more)."""
ERROR_STYLE = "color: #ef5350;"


def describe_error(err: BaseException) -> str:
    """The text shown for a failed job: the core's message, or the kind of an unexpected one."""
    if isinstance(err, LesionToolError):
        return str(err)
    log.error("PACS job failed", exc_info=(type(err), err, err.__traceback__))
    return f"Unexpected error ({type(err).__name__}): {err}"


@dataclass(frozen=True)
class JobFailed:
    """What a job returns instead of raising: napari would show a raised error as a traceback
    notification, and every failure here is a message in the dialog instead."""

    error: BaseException


def start_job(
    work: Callable[[], Any],
    done: Callable[[Any], None],
    failed: Callable[[str], None],
    finished: Callable[[], None],
) -> Any:
    """Run ``work`` in a napari thread worker: ``done(result)`` or ``failed(message)`` in the
    main thread, then ``finished()``; returns the started worker."""

    @thread_worker
    def job() -> Any:
        try:
            return work()
        except Exception as err:  # noqa: BLE001 - shown as a message, never a traceback
            return JobFailed(err)

    def returned(result: Any) -> None:
        if isinstance(result, JobFailed):
            failed(describe_error(result.error))
        else:
            done(result)

    worker = job()
    worker.returned.connect(returned)
    worker.finished.connect(finished)
    worker.start()
    return worker


class ConnectionForm(QGroupBox):
    """Where the server is and how to log in (the password and token are never shown)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Server", parent)
        form = QFormLayout(self)
        form.setContentsMargins(6, 2, 6, 4)
        self.url_edit = QLineEdit(os.environ.get(URL_ENV, ""))
        self.url_edit.setPlaceholderText("http://host:8042/dicom-web (the DICOMweb root)")
        self.auth_combo = QComboBox()
        self.auth_combo.addItems(AUTH_CHOICES)
        self.user_edit = QLineEdit()
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.Password)
        self.token_edit = QLineEdit()
        self.token_edit.setEchoMode(QLineEdit.Password)
        self.verify_box = QCheckBox("Check the server's TLS certificate (https)")
        self.verify_box.setChecked(True)
        self.verify_box.setToolTip(
            "Turn off only for a test server: without the check anyone on the way can read and "
            "alter the images."
        )
        login = QHBoxLayout()
        login.addWidget(self.auth_combo)
        login.addWidget(self.user_edit)
        login.addWidget(self.password_edit)
        login.addWidget(self.token_edit)
        form.addRow("URL", self.url_edit)
        form.addRow("Login", login)
        form.addRow("", self.verify_box)
        self.auth_combo.currentIndexChanged.connect(self._show_login_fields)
        self._show_login_fields()

    def _show_login_fields(self) -> None:
        kind = self.auth_combo.currentIndex()
        self.user_edit.setVisible(kind == 1)
        self.password_edit.setVisible(kind == 1)
        self.token_edit.setVisible(kind == 2)
        self.user_edit.setPlaceholderText("user")
        self.password_edit.setPlaceholderText("password")
        self.token_edit.setPlaceholderText("token")

    def connection(self) -> PacsConnection:
        """The connection the fields describe.

        Raises
        ------
        PacsError
            No URL, a URL that is not DICOMweb, or a login chosen but left empty.
        """
        url = self.url_edit.text().strip()
        if not url:
            raise PacsError(
                "Enter the server's DICOMweb URL (Orthanc: http://HOST:8042/dicom-web)."
            )
        kind = self.auth_combo.currentIndex()
        user = self.user_edit.text().strip() if kind == 1 else None
        token = self.token_edit.text().strip() if kind == 2 else None
        if kind == 1 and not user:
            raise PacsError("Enter the user name (or choose 'No login').")
        if kind == 2 and not token:
            raise PacsError("Enter the bearer token (or choose 'No login').")
        return PacsConnection(
            url,
            username=user,
            password=self.password_edit.text() if kind == 1 else None,
            token=token,
            insecure=not self.verify_box.isChecked(),
        )


class _Relay(QObject):
    """Carries the retrieval's progress from the worker thread to the dialog."""

    progressed = Signal(object)


class PacsDialog(QDialog):
    """Search a PACS, retrieve the chosen studies into the cache and open them.

    Parameters
    ----------
    open_folder
        Called with the retrieved folder (the controller's ``open_study``).
    cache_dir
        Where studies are retrieved to (default: the core's PACS cache).
    """

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        open_folder: Callable[[Path], Any] | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open from PACS")
        self.resize(900, 560)
        self.open_folder = open_folder
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.studies: list[StudySummary] = []
        self.retrieved_folder: Path | None = None
        self.worker: Any = None
        self._cancel = threading.Event()
        self._relay = _Relay()
        self._relay.progressed.connect(self._on_progress)

        self.connection_form = ConnectionForm(self)
        search = QGroupBox("Search")
        grid = QGridLayout(search)
        grid.setContentsMargins(6, 2, 6, 4)
        self.patient_id_edit = QLineEdit()
        self.patient_id_edit.setPlaceholderText("e.g. HCC_006 (* and ? are wildcards)")
        self.patient_name_edit = QLineEdit()
        self.patient_name_edit.setPlaceholderText("e.g. DOE^J*")
        self.date_edit = QLineEdit()
        self.date_edit.setPlaceholderText("2024-01-01..2024-12-31, 20240101- or one day")
        self.modality_combo = QComboBox()
        self.modality_combo.setEditable(True)
        self.modality_combo.addItems(MODALITIES)
        self.modality_combo.setCurrentText("CT")
        self.search_button = QPushButton("Search")
        self.search_button.setDefault(True)
        self.search_button.clicked.connect(self.search)
        grid.addWidget(QLabel("Patient ID"), 0, 0)
        grid.addWidget(self.patient_id_edit, 0, 1)
        grid.addWidget(QLabel("Name"), 0, 2)
        grid.addWidget(self.patient_name_edit, 0, 3)
        grid.addWidget(QLabel("Study date"), 1, 0)
        grid.addWidget(self.date_edit, 1, 1)
        grid.addWidget(QLabel("Modality"), 1, 2)
        grid.addWidget(self.modality_combo, 1, 3)
        grid.addWidget(self.search_button, 0, 4, 2, 1)

        self.table = QTableWidget(0, len(TABLE_COLUMNS))
        self.table.setHorizontalHeaderLabels([title for _, title in TABLE_COLUMNS])
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.doubleClicked.connect(lambda _index: self.retrieve())

        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat("")
        self.progress.setValue(0)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.retrieve_button = QPushButton("Retrieve and open")
        self.retrieve_button.setToolTip(
            "Retrieve the selected studies (one patient) into the local cache, then open them "
            "as Open study... does. Studies already in the cache are not fetched again."
        )
        self.retrieve_button.clicked.connect(self.retrieve)
        self.cancel_button = QPushButton("Cancel retrieval")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self._cancel.set)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.retrieve_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.connection_form)
        layout.addWidget(search)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self._sync_buttons()

    # ------------------------------------------------------------------------------ state
    @property
    def busy(self) -> bool:
        """A search or retrieval is running."""
        return self.worker is not None

    def _sync_buttons(self) -> None:
        self.search_button.setEnabled(not self.busy)
        self.retrieve_button.setEnabled(not self.busy and bool(self.studies))
        self.cancel_button.setEnabled(self.busy)

    def show_message(self, text: str, *, error: bool = False) -> None:
        """One line (or a few) under the table; errors in red."""
        self.message.setText(text)
        self.message.setStyleSheet(ERROR_STYLE if error else "")

    def _start(self, work: Callable[[], Any], done: Callable[[Any], None]) -> None:
        """Run ``work`` in a thread; ``done(result)`` on success, the error shown otherwise."""
        if self.busy:
            self.show_message("Wait for the running search or retrieval to finish.", error=True)
            return

        self.worker = start_job(work, done, self._failed, self._on_finished)
        self._sync_buttons()

    def _failed(self, text: str) -> None:
        self.show_message(text, error=True)
        if self.progress.maximum() == 0:  # still "waiting for the server": stop the animation
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.progress.setFormat("not retrieved")

    def _on_finished(self) -> None:
        self.worker = None
        self._sync_buttons()

    # ------------------------------------------------------------------------------ search
    def search(self) -> None:
        """Search the server with the fields' filters (in a worker); results fill the table."""
        try:
            connection = self.connection_form.connection()
            dates = parse_date_range(self.date_edit.text()) if self.date_edit.text() else None
        except (LesionToolError, ValueError) as err:
            self.show_message(str(err), error=True)
            return
        filters = {
            "patient_id": self.patient_id_edit.text().strip() or None,
            "patient_name": self.patient_name_edit.text().strip() or None,
            "date_range": dates,
            "modality": self.modality_combo.currentText().strip() or None,
        }

        def work() -> list[StudySummary]:
            with connect(connection) as client:
                return client.search_studies(**filters, limit=SEARCH_LIMIT)

        self.show_message(f"Searching {connection.host}…")
        self._start(work, self._show_studies)

    def _show_studies(self, studies: list[StudySummary]) -> None:
        self.studies = list(studies)
        self.table.setRowCount(len(studies))
        for row, study in enumerate(studies):
            text = study.row()
            for column, (key, _title) in enumerate(TABLE_COLUMNS):
                item = QTableWidgetItem(text[key])
                item.setToolTip(f"Study {study.study_instance_uid}")
                self.table.setItem(row, column, item)
        if len(studies) == 1:
            self.table.selectRow(0)
        if not studies:
            self.show_message("No study matches the search.")
        else:
            more = " (the limit: narrow the search)" if len(studies) >= SEARCH_LIMIT else ""
            self.show_message(
                f"{len(studies)} stud{'y' if len(studies) == 1 else 'ies'} found{more}; "
                "select one (or several of one patient) and retrieve."
            )
        self._sync_buttons()

    # ------------------------------------------------------------------------------ retrieve
    def selected_studies(self) -> list[StudySummary]:
        """The studies whose rows are selected, in table order."""
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.studies[r] for r in rows if r < len(self.studies)]

    def retrieve(self) -> None:
        """Retrieve the selected studies into the cache (in a worker), then open them."""
        chosen = self.selected_studies()
        if not chosen:
            self.show_message("Select a study in the table first.", error=True)
            return
        patients = sorted({s.patient_id for s in chosen})
        if len(patients) > 1:
            self.show_message(
                f"The selected studies belong to {len(patients)} patients "
                f"({', '.join(patients)}); a reading is of one patient: select one patient's "
                "studies.",
                error=True,
            )
            return
        try:
            connection = self.connection_form.connection()
        except LesionToolError as err:
            self.show_message(str(err), error=True)
            return
        cache_dir = self.cache_dir or default_cache_dir()
        self._cancel.clear()
        relay = self._relay.progressed.emit
        count = len(chosen)

        def work() -> Path:
            folders = []
            with connect(connection) as client:
                for i, study in enumerate(chosen):
                    result = client.pull(
                        cache_dir,
                        study_uid=study.study_instance_uid,
                        progress=lambda p, i=i: relay((i, count, p)),
                        cancel=self._cancel,
                    )
                    folders.append(result.folder)
            # one study: its folder; several of one patient: their common (patient) folder
            return folders[0] if len(folders) == 1 else Path(os.path.commonpath(folders))

        self.progress.setRange(0, 0)
        self.progress.setFormat("asking the server for the instances…")
        self.show_message(f"Retrieving {count} stud{'y' if count == 1 else 'ies'}…")
        self._start(work, self._retrieved)

    def _on_progress(self, item: tuple[int, int, Progress]) -> None:
        index, count, p = item
        self.progress.setRange(0, max(p.total, 1))
        self.progress.setValue(p.done)
        study = f"study {index + 1} of {count}: " if count > 1 else ""
        cached = f", {p.skipped} already cached" if p.skipped else ""
        self.progress.setFormat(
            f"{study}%v / %m images ({p.retrieved_bytes / 1e6:.1f} MB{cached}) "
            f"{p.series_description}".rstrip()
        )

    def _retrieved(self, folder: Path) -> None:
        self.retrieved_folder = folder
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.progress.setFormat("retrieved")
        self.show_message(f"Retrieved into {folder}; opening…")
        if self.open_folder is not None:
            self.open_folder(folder)
        self.accept()

    def reject(self) -> None:
        """Closing stops a running retrieval before its next image (what is cached stays)."""
        self._cancel.set()
        super().reject()


def find_assessment_widget(viewer: Any) -> Any:
    """The viewer's lesion assessment dock widget, docked now if it is not yet."""
    from ._widget import LesionWidget

    for widget in getattr(viewer.window, "dock_widgets", {}).values():
        if isinstance(widget, LesionWidget):
            return widget
    _dock, widget = viewer.window.add_plugin_dock_widget("lesion-tool", "Lesion assessment")
    return widget
