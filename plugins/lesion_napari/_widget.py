"""The lesion assessment dock widget: open a study, measure lesions, see the response live.

The widget is thin. Gestures (drawing or moving a line, clicking in a lesion, choosing a state)
become calls on the core (:func:`lesion_tool.measurement.measure_line`,
:func:`lesion_tool.measurement.measure_viable`, :func:`lesion_tool.response.score_assessment`,
:func:`lesion_tool.storage.save_assessment`) through the adapters of :mod:`lesion_napari._layers`
and the plugin-side :class:`~lesion_napari._session.ReadingSession`; the results are drawn into
layers the widget owns and shown in its tables. User-fixable problems become napari
notifications.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas  # noqa: F401 - napari's feature tables import it lazily (~0.7 s): do it now
from napari.qt.threading import thread_worker
from napari.utils.notifications import show_error, show_info, show_warning
from qtpy.QtCore import QDate, Qt, QTimer
from qtpy.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from lesion_tool.errors import AssessmentError, LesionToolError, MeasurementError
from lesion_tool.io.volume import CTVolume
from lesion_tool.measurement import measure_line, measure_viable
from lesion_tool.model import (
    STATES_BY_CATEGORY,
    Assessment,
    Category,
    Kind,
    Lesion,
    LesionState,
    Line,
)
from lesion_tool.response import (
    PRESETS,
    check_baseline,
    score_assessment,
    settings_for,
    write_timepoints_csv,
)
from lesion_tool.storage import load_assessment

from ._display import install_display
from ._layers import (
    DEFAULT_WINDOW,
    META_KEY,
    WINDOWS,
    DisplayGeometry,
    is_lazy,
    line_to_shape,
    materialised,
    proposal_parts,
    shape_to_voxels,
    volume_from_layer,
    voxels_inside,
    window_limits,
)
from ._loading import LoadedSeries, LoadProblem, ScanDone, iter_loaded_series
from ._session import ReadingSession

if TYPE_CHECKING:
    import napari

SAVE_DIR_ENV = "LESION_TOOL_SAVE_DIR"
"""Environment variable naming the folder for autosaved assessments (default ~/lesion-tool)."""

PRIMARY = "primary"
WHOLE = "whole"
PROPOSED_VIABLE = "proposed_viable"
PROPOSED_WHOLE = "proposed_whole"

LINE_COLOURS = {
    PRIMARY: "#00e5ff",
    WHOLE: "#ff4fd8",
    PROPOSED_VIABLE: "#ffa000",
    PROPOSED_WHOLE: "#ffee58",
}
OVERLAY_DELAY_MS = 100
"""While a study loads, a timepoint's lines and proposal layers follow its image by this."""
MIN_LINE_VOXELS = 0.5
"""Shorter drawn lines (a click in line mode) are dropped, not recorded as 0 mm."""
EDGE_WIDTH = 1.5
"""Line width in display voxels."""

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
TABLE_COLUMNS = ("ID", "Kind / type", "State", "Here", "Earlier", "Slice")
"""Lesion table: id (T = target, NT = non-target, N = new), this timepoint's state and
diameter (mm), the latest earlier diameter with its timepoint, and the measured slice (1-based)."""
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
SHORTCUTS = {
    "Shift-T": "new_target",
    "Shift-N": "next_lesion",
    "Shift-A": "accept_proposal",
    "Shift-R": "reject_proposal",
    "Shift-M": "start_click_measure",
    "Shift-U": "undo",
}


def default_save_dir() -> Path:
    """Folder for autosaved assessments: ``$LESION_TOOL_SAVE_DIR`` or ``~/lesion-tool``."""
    return Path(os.environ.get(SAVE_DIR_ENV) or Path.home() / "lesion-tool")


@dataclass
class TimepointView:
    """The layers of one timepoint: its measured (arterial) image, its lines and proposal."""

    label: str
    date: dt.date
    volume: CTVolume
    geometry: DisplayGeometry
    image: Any
    lines: Any = None
    proposal: Any = None
    others: list[Any] = field(default_factory=list)

    def layers(self) -> list[Any]:
        """The timepoint's group of layers, bottom to top (one grid cell)."""
        return [layer for layer in (self.image, self.proposal, self.lines) if layer is not None]


@dataclass
class Proposal:
    """A semi-automatic viable measurement waiting to be accepted, adjusted or rejected."""

    label: str
    lesion_id: str
    seed_zyx: tuple[float, float, float]
    result: Any
    viable: tuple[np.ndarray, np.ndarray] | None
    """Voxel end points of the proposed viable diameter, or None when nothing enhances."""
    viable_mm: float
    whole: tuple[np.ndarray, np.ndarray] | None
    whole_mm: float | None


def _lines_of(lesion: Lesion) -> list[tuple[str, Line]]:
    out = []
    if lesion.line is not None:
        out.append((PRIMARY, lesion.line))
    if lesion.longest_line is not None:
        out.append((WHOLE, lesion.longest_line))
    return out


def primary_value(lesion: Lesion) -> float | None:
    """The diameter the lesion's kind sums (viable / longest / short axis), in mm."""
    if lesion.category is Category.TARGET and lesion.kind is Kind.VIABLE:
        return lesion.viable_diameter_mm
    if lesion.kind is Kind.SHORT_AXIS:
        return lesion.short_axis_mm
    return lesion.longest_diameter_mm


def with_primary(lesion: Lesion, value_mm: float, line: Line | None) -> Lesion:
    """The lesion with the diameter its kind sums (spec section 1) set from a line."""
    if lesion.category is Category.TARGET and lesion.kind is Kind.VIABLE:
        return dataclasses.replace(lesion, viable_diameter_mm=value_mm, line=line)
    if lesion.kind is Kind.SHORT_AXIS:
        return dataclasses.replace(lesion, short_axis_mm=value_mm, line=line)
    return dataclasses.replace(lesion, longest_diameter_mm=value_mm, line=line)


def _same(a: Any, b: Any) -> bool:
    """The same layer, also when napari hands the plugin public-only proxies of it."""
    if a is None or b is None:
        return a is b
    return a is b or a.unique_id == b.unique_id


@dataclass(frozen=True)
class _Failed:
    """A user-fixable error carried out of a worker thread (shown as a notification)."""

    error: LesionToolError


def _line_text(lesion: Lesion) -> str:
    """The canvas label of a lesion: id, its summed diameter and the whole-lesion one."""
    text = f"{lesion.id} {_fmt(primary_value(lesion))} mm"
    if lesion.longest_line is not None and lesion.kind is Kind.VIABLE:
        text += f" · whole {_fmt(lesion.longest_diameter_mm)}"
    return text


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


class LesionWidget(QWidget):
    """Dock widget: open a patient's studies, measure lesions, follow the response live.

    Parameters
    ----------
    napari_viewer
        The viewer to work in (npe2 passes it).
    """

    def __init__(self, napari_viewer: napari.viewer.Viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.session: ReadingSession | None = None
        self.views: dict[str, TimepointView] = {}
        self.current_label: str | None = None
        self.current_lesion_id: str | None = None
        self.pending: Lesion | None = None
        """Identity of a lesion chosen but not yet recorded at the current timepoint."""
        self.proposal: Proposal | None = None
        self.loading = False
        self.measuring = False
        self.side_by_side = False
        self._syncing = 0
        self._click_armed = False
        self._worker: Any = None
        self._results: dict[str, Any] = {}
        self._build_ui()
        self.viewer.layers.events.inserted.connect(self._on_layer_inserted)
        self.viewer.layers.events.removed.connect(self._on_layer_removed)
        self.viewer.mouse_drag_callbacks.append(self._on_mouse_click)
        for key, method in SHORTCUTS.items():
            self.viewer.bind_key(key, self._key_handler(method), overwrite=True)
        for layer in list(self.viewer.layers):
            self._register_layer(layer)
        QTimer.singleShot(0, _warm_up_layers)

    # ------------------------------------------------------------------------------ layout
    def _build_ui(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        outer.addWidget(scroll)
        body = QWidget()
        scroll.setWidget(body)
        layout = QVBoxLayout(body)
        layout.setSpacing(4)

        # study: open, timepoint, window, reader
        study = QGroupBox("Study")
        grid = QGridLayout(study)
        grid.setVerticalSpacing(2)
        self.open_button = QPushButton("Open study…")
        self.open_button.clicked.connect(self._choose_study)
        self.open_assessment_button = QPushButton("Open assessment…")
        self.open_assessment_button.clicked.connect(self._choose_assessment)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat("no study")
        self.progress.setValue(0)
        self.timepoint_combo = QComboBox()
        self.timepoint_combo.currentTextChanged.connect(self._on_timepoint_chosen)
        self.window_combo = QComboBox()
        self.window_combo.addItems(list(WINDOWS))
        self.window_combo.setCurrentText(DEFAULT_WINDOW)
        self.window_combo.currentTextChanged.connect(self.set_window)
        self.side_by_side_box = QCheckBox("Baseline | follow-up side by side")
        self.side_by_side_box.toggled.connect(self.set_side_by_side)
        self.reader_edit = QLineEdit()
        self.reader_edit.setPlaceholderText("e.g. R1")
        self.reader_edit.editingFinished.connect(self._on_reader_changed)
        self.start_edit = QDateEdit()
        self.start_edit.setCalendarPopup(True)
        self.start_edit.setDisplayFormat("yyyy-MM-dd")
        self.start_edit.dateChanged.connect(self._on_start_changed)
        grid.addWidget(self.open_button, 0, 0, 1, 2)
        grid.addWidget(self.open_assessment_button, 0, 2, 1, 2)
        grid.addWidget(self.progress, 1, 0, 1, 4)
        grid.addWidget(QLabel("Timepoint"), 2, 0)
        grid.addWidget(self.timepoint_combo, 2, 1)
        grid.addWidget(QLabel("Window"), 2, 2)
        grid.addWidget(self.window_combo, 2, 3)
        grid.addWidget(QLabel("Reader"), 3, 0)
        grid.addWidget(self.reader_edit, 3, 1)
        grid.addWidget(QLabel("Treatment"), 3, 2)
        grid.addWidget(self.start_edit, 3, 3)
        grid.addWidget(self.side_by_side_box, 4, 0, 1, 4)
        layout.addWidget(study)

        # response, live
        response = QGroupBox("Response at this timepoint (live)")
        rv = QVBoxLayout(response)
        rv.setSpacing(2)
        self.response_table = QTableWidget(len(RESPONSE_ROWS), len(PRESET_TITLES))
        self.response_table.setHorizontalHeaderLabels(list(PRESET_TITLES.values()))
        self.response_table.setVerticalHeaderLabels([title for title, _ in RESPONSE_ROWS])
        self.response_table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.response_table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.response_table.verticalHeader().setDefaultSectionSize(21)
        font = self.response_table.font()
        font.setPointSizeF(font.pointSizeF() * 0.9)  # "non-CR/non-PD" fits a column
        self.response_table.setFont(font)
        self.response_table.setFixedHeight(21 * len(RESPONSE_ROWS) + 28)
        rv.addWidget(self.response_table)
        self.findings_label = QLabel("")
        self.findings_label.setWordWrap(True)
        rv.addWidget(self.findings_label)
        layout.addWidget(response)

        # lesions
        lesions = QGroupBox("Lesions")
        lv = QVBoxLayout(lesions)
        lv.setSpacing(3)
        buttons = QGridLayout()
        self.new_target_button = QPushButton("New target ⇧T")
        self.new_target_button.clicked.connect(self.new_target)
        self.new_non_target_button = QPushButton("Non-target")
        self.new_non_target_button.clicked.connect(self.new_non_target)
        self.new_new_button = QPushButton("New lesion")
        self.new_new_button.clicked.connect(self.new_new_lesion)
        self.click_button = QPushButton("Click in lesion ⇧M")
        self.click_button.setCheckable(True)
        self.click_button.toggled.connect(self._on_click_toggled)
        self.accept_button = QPushButton("Accept ⇧A")
        self.accept_button.clicked.connect(self.accept_proposal)
        self.reject_button = QPushButton("Reject ⇧R")
        self.reject_button.clicked.connect(self.reject_proposal)
        for i, b in enumerate(
            (
                self.new_target_button,
                self.new_non_target_button,
                self.new_new_button,
                self.click_button,
                self.accept_button,
                self.reject_button,
            )
        ):
            buttons.addWidget(b, i // 3, i % 3)
        lv.addLayout(buttons)
        self.proposal_label = QLabel("")
        self.proposal_label.setWordWrap(True)
        lv.addWidget(self.proposal_label)
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
        self.table.setMinimumHeight(140)
        self.table.setToolTip("Here: this timepoint's diameter (mm). Earlier: the last reading.")
        self.table.itemSelectionChanged.connect(self._on_table_selection)
        self.table.cellDoubleClicked.connect(lambda *_: self.go_to_lesion())
        lv.addWidget(self.table)
        buttons = QGridLayout()
        self.next_button = QPushButton("Next ⇧N")
        self.next_button.clicked.connect(self.next_lesion)
        self.go_button = QPushButton("Go to")
        self.go_button.clicked.connect(lambda: self.go_to_lesion())
        self.delete_button = QPushButton("Remove here")
        self.delete_button.clicked.connect(self.remove_current_lesion)
        self.undo_button = QPushButton("Undo ⇧U")
        self.undo_button.clicked.connect(self.undo)
        for i, b in enumerate(
            (self.next_button, self.go_button, self.delete_button, self.undo_button)
        ):
            buttons.addWidget(b, 0, i)
        lv.addLayout(buttons)
        layout.addWidget(lesions)

        # the selected lesion
        details = QGroupBox("Selected lesion")
        form = QFormLayout(details)
        form.setVerticalSpacing(2)
        self.lesion_label = QLabel("no lesion selected")
        self.lesion_label.setWordWrap(True)
        form.addRow("Lesion", self.lesion_label)
        self.id_edit = QLineEdit()
        self.id_edit.setPlaceholderText("e.g. T1, or the reader's own name")
        self.id_edit.setToolTip(
            "The lesion's id: rename it here (Enter). It changes at every timepoint and must "
            "be unique in the assessment."
        )
        self.id_edit.setEnabled(False)
        self.id_edit.editingFinished.connect(self._on_id_edited)
        form.addRow("Id", self.id_edit)
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
        self.cytology_box = QCheckBox("cytology confirmed malignant")
        self.typical_box = QCheckBox("typical HCC pattern (APHE + washout)")
        self.porta_box = QCheckBox("porta hepatis node")
        self.line_role_combo = QComboBox()
        self.line_role_combo.addItems(["its kind's diameter", "whole lesion (RECIST 1.1)"])
        form.addRow("Organ", self.organ_combo)
        form.addRow("Location", self.location_edit)
        form.addRow("Kind", self.kind_combo)
        form.addRow("State", self.state_combo)
        form.addRow("Type", self.type_combo)
        form.addRow("", self.cytology_box)
        form.addRow("", self.typical_box)
        form.addRow("", self.porta_box)
        form.addRow("A drawn line is", self.line_role_combo)
        self.record_button = QPushButton("Record state here")
        self.record_button.setToolTip(
            "Record the selected lesion at this timepoint with the state above "
            "(non-targets, absent / too small / not evaluated targets)."
        )
        self.record_button.clicked.connect(self.record_current)
        form.addRow("", self.record_button)
        self.organ_combo.currentTextChanged.connect(self._on_form_changed)
        self.location_edit.editingFinished.connect(self._on_form_changed)
        self.kind_combo.currentTextChanged.connect(self._on_form_changed)
        self.state_combo.currentTextChanged.connect(self._on_form_changed)
        self.type_combo.currentTextChanged.connect(self._on_form_changed)
        for box in (self.cytology_box, self.typical_box, self.porta_box):
            box.toggled.connect(self._on_form_changed)
        layout.addWidget(details)

        # saving
        saving = QGroupBox("Assessment file (autosaved after each change)")
        sv = QVBoxLayout(saving)
        self.save_label = QLabel("not saved yet")
        self.save_label.setWordWrap(True)
        sv.addWidget(self.save_label)
        row = QHBoxLayout()
        self.save_button = QPushButton("Save")
        self.save_button.clicked.connect(lambda: self.save())
        self.save_as_button = QPushButton("Save as…")
        self.save_as_button.clicked.connect(self._choose_save_path)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.clicked.connect(self._choose_csv)
        for b in (self.save_button, self.save_as_button, self.export_button):
            row.addWidget(b)
        sv.addLayout(row)
        keys = ", ".join(f"{k}: {m.replace('_', ' ')}" for k, m in SHORTCUTS.items())
        hint = QLabel(f"Keys: {keys}")
        hint.setWordWrap(True)
        sv.addWidget(hint)
        layout.addWidget(saving)
        layout.addStretch(1)
        self.setMinimumWidth(520)

    def _key_handler(self, method: str) -> Any:
        def handler(viewer: Any) -> None:
            getattr(self, method)()

        handler.__name__ = method
        return handler

    # ------------------------------------------------------------------------------ opening
    def _choose_study(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a DICOM study folder")
        if folder:
            self.open_study(folder)

    def open_study(self, path: str | os.PathLike) -> None:
        """Load every study under ``path`` in a background thread, arterial series first.

        Each study's arterial series is shown as soon as it is read; the other phases follow as
        hidden layers. Progress shows in the widget; problems become notifications.
        """
        if self.loading:
            show_warning("A study is still loading; wait for it to finish.")
            return
        self.loading = True
        self.progress.setRange(0, 0)
        self.progress.setFormat(f"scanning {Path(path).name}…")

        @thread_worker
        def work() -> Any:
            try:
                yield from iter_loaded_series([Path(path)])
            except LesionToolError as err:  # user-fixable: a notification, not a traceback
                yield _Failed(err)

        worker = work()
        worker.yielded.connect(self._on_loaded)
        worker.errored.connect(self._on_load_error)
        worker.finished.connect(self._on_load_finished)
        self._worker = worker
        worker.start()

    def _on_loaded(self, item: Any) -> None:
        if isinstance(item, _Failed):
            show_error(str(item.error))
        elif isinstance(item, ScanDone):
            self.progress.setRange(0, max(item.total, 1))
            self.progress.setValue(0)
            self.progress.setFormat(f"%v / %m series of {item.n_studies} studies")
        elif isinstance(item, LoadProblem):
            show_warning(item.message)
        elif isinstance(item, LoadedSeries):
            self.progress.setValue(item.index)
            data, kwargs, _ = item.layer_data(visible=item.measure_on)
            self.viewer.add_image(data, **kwargs)

    def _on_load_error(self, err: Exception) -> None:
        if isinstance(err, LesionToolError):
            show_error(str(err))
        else:
            show_error(f"Could not open the study: {type(err).__name__}: {err}")

    def _on_load_finished(self) -> None:
        for label in list(self.views):
            self._complete_view(label)
        self.loading = False
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.progress.setFormat(f"{len(self.views)} timepoint(s) loaded")
        self._worker = None

    def _on_layer_inserted(self, event: Any) -> None:
        self._register_layer(event.value)

    def _on_layer_removed(self, event: Any) -> None:
        layer = event.value
        for label, view in list(self.views.items()):
            if _same(layer, view.image):
                self.views.pop(label)
                if label == self.current_label:
                    self.current_label = None
                    self.proposal = None
                    if self.views:
                        self.set_timepoint(next(iter(self.views)))
                    else:
                        self.refresh()
                self._refresh_timepoint_combo()
            elif _same(layer, view.lines):
                view.lines = None
            elif _same(layer, view.proposal):
                view.proposal = None

    def _register_layer(self, layer: Any) -> None:
        """Take a lesion-tool image layer (from this widget, the reader or sample data) in."""
        header = getattr(layer, "metadata", {}).get(META_KEY)
        if not header or header.get("role") != "image":
            return
        try:
            volume = volume_from_layer(layer)
        except ValueError:
            return
        label = header.get("timepoint") or (header.get("study_date") or "timepoint")
        if not header.get("measure_on"):
            view = self.views.get(label)
            if view is not None:
                view.others.append(layer)
            return
        if volume.study_date is None:
            show_warning(f"{layer.name}: the study has no date; it cannot be a timepoint.")
            return
        if self.session is None:
            self._start_session(volume)
        elif volume.patient_id and volume.patient_id != self.session.patient_id:
            show_warning(
                f"{layer.name}: patient {volume.patient_id!r} is not the patient being assessed "
                f"({self.session.patient_id!r}); it is shown but not added as a timepoint."
            )
            return
        if label in self.views:
            return
        assert self.session is not None
        self.session.ensure_timepoint(
            label,
            volume.study_date,
            study_instance_uid=volume.study_instance_uid or None,
            series_instance_uid=volume.series_instance_uid or None,
        )
        geometry = DisplayGeometry.from_volume(volume)
        view = TimepointView(label, volume.study_date, volume, geometry, layer)
        self.views[label] = view
        install_display(self.viewer, layer, volume)  # probe, window, overlays, open at liver
        if self.loading:
            # let the canvas draw the image first; the lines / proposal layers follow a moment
            # later (a zero timeout would run before Qt's paint event)
            QTimer.singleShot(OVERLAY_DELAY_MS, lambda: self._complete_view(label))
        else:
            self._complete_view(label)

    def _complete_view(self, label: str) -> None:
        """Give a registered timepoint its lines and proposal layers and make it selectable."""
        view = self.views.get(label)
        if view is None or view.lines is not None:
            return
        self._add_overlay_layers(view)
        self._autosave()
        self._refresh_timepoint_combo()
        if self.current_label is None:
            self.set_timepoint(label)
        else:
            self._apply_visibility()

    def _add_overlay_layers(self, view: TimepointView) -> None:
        self._syncing += 1
        try:
            kwargs = view.geometry.layer_kwargs()
            view.proposal = self.viewer.add_labels(
                np.zeros((1, 1, 1), dtype=np.uint8),
                name=f"Proposal {view.label}",
                opacity=0.8,
                metadata={META_KEY: {"role": "proposal", "timepoint": view.label}},
                **kwargs,
            )
            view.proposal.contour = 1
            view.lines = self.viewer.add_shapes(
                name=f"Lines {view.label}",
                ndim=3,
                edge_width=EDGE_WIDTH,
                edge_color=LINE_COLOURS[PRIMARY],
                face_color="transparent",
                features={
                    "lesion_id": np.array([], dtype=object),
                    "role": np.array([], dtype=object),
                    "label": np.array([], dtype=object),
                },
                feature_defaults={"lesion_id": "", "role": "", "label": ""},
                text={
                    "string": "{label}",
                    "color": "yellow",
                    "size": 11,
                    "anchor": "upper_left",
                },
                metadata={META_KEY: {"role": "lines", "timepoint": view.label}},
                **kwargs,
            )
            view.lines.current_edge_color = LINE_COLOURS[PRIMARY]
            view.lines.current_edge_width = EDGE_WIDTH
            view.lines.events.data.connect(lambda event, v=view: self._on_lines_event(v, event))
            # keep the group together, right above its image
            for layer in (view.proposal, view.lines):
                src = self.viewer.layers.index(layer)
                dest = self.viewer.layers.index(view.image) + 1 + _same(layer, view.lines)
                if src != dest:
                    self.viewer.layers.move(src, dest)
        finally:
            self._syncing -= 1
        self._render_lines(view)

    def _start_session(self, volume: CTVolume) -> None:
        patient = volume.patient_id or "unknown-patient"
        assessment = Assessment(
            patient_id=patient,
            treatment_start=volume.study_date or dt.date.today(),
            reader=self.reader_edit.text().strip(),
        )
        path = default_save_dir() / f"{_safe(patient)}_{_safe(assessment.reader or 'reader')}.json"
        self.session = ReadingSession(assessment, path)
        self.session.autosave = False  # the widget saves after refreshing (see _autosave)
        self._sync_start_edit()
        self._update_save_label()

    def _refresh_timepoint_combo(self) -> None:
        labels = (
            [label for label in self.session.labels if label in self.views] if self.session else []
        )
        self.timepoint_combo.blockSignals(True)
        self.timepoint_combo.clear()
        self.timepoint_combo.addItems(labels)
        if self.current_label in labels:
            self.timepoint_combo.setCurrentText(self.current_label)
        self.timepoint_combo.blockSignals(False)

    def _on_timepoint_chosen(self, label: str) -> None:
        if label and label != self.current_label:
            self.set_timepoint(label)

    def set_timepoint(self, label: str) -> None:
        """Make a timepoint current: show its layers, list its lesions, score it."""
        if label not in self.views:
            show_warning(f"No images are open for timepoint {label!r}.")
            return
        self.current_label = label
        self.pending = None
        self.timepoint_combo.blockSignals(True)
        self.timepoint_combo.setCurrentText(label)
        self.timepoint_combo.blockSignals(False)
        self._apply_visibility()
        view = self.views[label]
        if view.lines is not None:
            self.viewer.layers.selection.active = view.lines
        if (
            self.current_lesion_id
            and self.session
            and self.session.identity(label, self.current_lesion_id) is None
        ):
            self.current_lesion_id = None
        self.refresh()

    # ------------------------------------------------------------------------------ display
    def set_window(self, name: str) -> None:
        """Apply a window preset (liver, abdomen, lung) to every lesion-tool image."""
        limits = window_limits(name)
        for layer in self.viewer.layers:
            header = getattr(layer, "metadata", {}).get(META_KEY) or {}
            if header.get("role") == "image":
                layer.contrast_limits = limits
        self.window_combo.blockSignals(True)
        self.window_combo.setCurrentText(name)
        self.window_combo.blockSignals(False)

    def _shown_labels(self) -> list[str]:
        if self.current_label is None:
            return []
        if not self.side_by_side or not self.session:
            return [self.current_label]
        labels = [label for label in self.session.labels if label in self.views]
        first = labels[0]
        if self.current_label == first:
            later = [label for label in labels if label != first]
            return [first, *later[:1]]
        return [first, self.current_label]

    def _apply_visibility(self) -> None:
        shown = set(self._shown_labels())
        for label, view in self.views.items():
            for layer in view.layers():
                layer.visible = label in shown
            for layer in view.others:
                if label not in shown:
                    layer.visible = False

    def set_side_by_side(self, on: bool) -> None:
        """Show baseline and the current follow-up in a grid, at the same world position."""
        self.side_by_side = bool(on)
        self.side_by_side_box.blockSignals(True)
        self.side_by_side_box.setChecked(self.side_by_side)
        self.side_by_side_box.blockSignals(False)
        grid = self._grid()
        shown = self._shown_labels()
        if self.side_by_side and len(shown) == 2:
            group = [layer for label in shown for layer in self.views[label].layers()]
            ids = {layer.unique_id for layer in group}
            order = group + [layer for layer in self.viewer.layers if layer.unique_id not in ids]
            self._syncing += 1
            try:
                for pos, layer in enumerate(order):
                    src = self.viewer.layers.index(layer)
                    if src != pos:
                        self.viewer.layers.move(src, pos)
            finally:
                self._syncing -= 1
            grid.stride = len(self.views[shown[0]].layers())
            grid.shape = (1, 2)
            grid.enabled = True
        else:
            grid.enabled = False
        self._apply_visibility()
        self.viewer.reset_view()

    def _grid(self) -> Any:
        canvas = getattr(self.viewer, "canvas", None)
        return canvas.grid if canvas is not None and hasattr(canvas, "grid") else self.viewer.grid

    # ------------------------------------------------------------------------------ lesions
    @property
    def current_view(self) -> TimepointView | None:
        """The current timepoint's layers."""
        return self.views.get(self.current_label) if self.current_label else None

    def _require(self) -> tuple[ReadingSession, TimepointView]:
        if self.session is None or self.current_view is None:
            raise LesionToolError("Open a study first (Open study… or File > Open Folder).")
        return self.session, self.current_view

    def new_target(self) -> None:
        """Start a new target lesion: draw its line next, or click in it."""
        self._new(Category.TARGET)

    def new_non_target(self) -> None:
        """Record a new non-target lesion (state 'present' at baseline)."""
        self._new(Category.NON_TARGET)

    def new_new_lesion(self) -> None:
        """Record a new lesion at a follow-up (draw its longest diameter to size it)."""
        self._new(Category.NEW)

    def _new(self, category: Category) -> None:
        try:
            session, view = self._require()
        except LesionToolError as err:
            show_error(str(err))
            return
        if category is not Category.NEW and session.index_of(view.label) > 0:
            show_warning(
                "Targets and non-targets are chosen at baseline; at a follow-up record a new "
                "lesion instead (or select an earlier lesion from the table)."
            )
        lesion_id = session.next_id(category)
        organ = self.organ_combo.currentText().strip() or "liver"
        location = self.location_edit.text().strip() or None
        if category is Category.TARGET:
            kind = Kind(self.kind_combo.currentText())
            lesion = Lesion(lesion_id, category, LesionState.MEASURED, organ, location, kind)
            self.pending = lesion
            self.current_lesion_id = lesion_id
            if view.lines is not None:
                self.viewer.layers.selection.active = view.lines
                view.lines.mode = "add_line"
            self.refresh()
            return
        if category is Category.NON_TARGET:
            lesion = Lesion(
                lesion_id,
                category,
                LesionState.PRESENT,
                organ,
                location,
                type=self.type_combo.currentText().strip() or None,
                cytology_confirmed=self.cytology_box.isChecked(),
            )
        else:
            lesion = Lesion(
                lesion_id,
                category,
                LesionState.UNEQUIVOCAL,
                organ,
                location,
                typical_hcc_pattern=self.typical_box.isChecked(),
            )
        self.current_lesion_id = lesion_id
        self.pending = None
        session.set_lesion(view.label, lesion)
        self._after_change()

    def select_lesion(self, lesion_id: str | None) -> None:
        """Make a lesion current (at a follow-up, one of the earlier lesions to re-measure)."""
        self.current_lesion_id = lesion_id
        self.pending = None
        if lesion_id and self.session and self.current_label:
            here = self.session.timepoint(self.current_label).lesion(lesion_id)
            if here is None:
                identity = self.session.identity(self.current_label, lesion_id)
                if identity is not None:
                    self.pending = _follow_up_template(identity)
        self._refresh_table()
        self._refresh_form()

    def _current_lesion(self) -> Lesion | None:
        if not (self.session and self.current_label and self.current_lesion_id):
            return None
        here = self.session.timepoint(self.current_label).lesion(self.current_lesion_id)
        return here if here is not None else self.pending

    def next_lesion(self) -> None:
        """Select the next lesion in the table and go to it."""
        if not self.session or not self.current_label:
            return
        ids = self.session.lesion_ids(self.current_label)
        if not ids:
            return
        i = ids.index(self.current_lesion_id) + 1 if self.current_lesion_id in ids else 0
        self.select_lesion(ids[i % len(ids)])
        self.go_to_lesion()

    def go_to_lesion(self, lesion_id: str | None = None) -> None:
        """Move the view (all grid cells) to the slice and place where a lesion was measured."""
        lesion_id = lesion_id or self.current_lesion_id
        if not (lesion_id and self.session and self.current_label):
            return
        world = self._lesion_world_position(lesion_id)
        if world is None:
            show_info(f"{lesion_id} has no measured line to go to.")
            return
        self._go_to_world(world)

    def _go_to_world(self, world: np.ndarray) -> None:
        # the slice moves in every grid cell; the camera centres only in a single view (in a
        # grid it frames all cells)
        self.viewer.dims.set_point(0, float(world[0]))
        if not self._grid().enabled:
            scene = getattr(self.viewer, "scene", None)  # napari >= 0.9; earlier: viewer.camera
            camera = scene.camera if scene is not None else self.viewer.camera
            camera.center = (float(world[0]), float(world[1]), float(world[2]))

    def _lesion_world_position(self, lesion_id: str) -> np.ndarray | None:
        assert self.session is not None and self.current_label is not None
        p = self.proposal
        if p is not None and p.lesion_id == lesion_id and p.label in self.views:
            ends = p.viable if p.viable is not None else p.whole
            voxel = np.mean(ends, axis=0) if ends is not None else np.asarray(p.seed_zyx)
            return self.views[p.label].geometry.voxel_to_world(voxel)
        i = self.session.index_of(self.current_label)
        order = [self.session.labels[i], *reversed(self.session.labels[:i])]
        for label in order:
            les = self.session.timepoint(label).lesion(lesion_id)
            view = self.views.get(label)
            if les is None or view is None:
                continue
            line = les.line or les.longest_line
            if line is not None:
                shape = line_to_shape(line, view.volume, view.geometry)
                return view.geometry.display_to_world(shape.mean(axis=0))
            if les.seed is not None:
                return view.geometry.voxel_to_world(np.asarray(les.seed))
        return None

    def remove_current_lesion(self) -> None:
        """Remove the current lesion from the current timepoint (undoable)."""
        if not (self.session and self.current_label and self.current_lesion_id):
            return
        self.session.remove_lesion(self.current_label, self.current_lesion_id)
        self.pending = None
        self._after_change()

    def rename_current_lesion(self, new_id: str) -> bool:
        """Rename the selected lesion at every timepoint; a clash is a notification.

        Returns whether the id changed. The id must stay unique in the assessment (it is what
        ties a lesion's readings across timepoints), so an id in use, an empty one or one with
        spaces is refused with a warning and the old id is kept.
        """
        lesion = self._current_lesion()
        if lesion is None or self.session is None:
            show_info("Select a lesion in the table first.")
            return False
        old_id = lesion.id
        if new_id.strip() == old_id:
            return False
        try:
            if old_id in self.session.all_lesion_ids():
                new_id = self.session.rename_lesion(old_id, new_id)
            else:  # a new target waiting for its first line: nothing recorded to rename yet
                new_id = new_id.strip()
                if not new_id or any(ch.isspace() for ch in new_id):
                    raise AssessmentError(f"{old_id}: a lesion id is one word, not {new_id!r}.")
                if new_id in self.session.all_lesion_ids():
                    raise AssessmentError(
                        f"Cannot rename {old_id} to {new_id}: {new_id} is already a lesion of "
                        "this assessment."
                    )
        except AssessmentError as err:
            show_warning(str(err))
            self._refresh_form()
            return False
        if self.pending is not None and self.pending.id == old_id:
            self.pending = dataclasses.replace(self.pending, id=new_id)
        if self.proposal is not None and self.proposal.lesion_id == old_id:
            self.proposal.lesion_id = new_id
        self.current_lesion_id = new_id
        self._after_change()
        return True

    def _on_id_edited(self) -> None:
        if self._syncing:
            return
        self.rename_current_lesion(self.id_edit.text())

    def undo(self) -> None:
        """Undo the last change to the assessment (a measurement, a state, a new lesion)."""
        if self.session is None:
            show_info("Nothing to undo.")
            return
        before = self.session.all_lesion_ids()
        if not self.session.undo():
            show_info("Nothing to undo.")
            return
        gone, back = before - self.session.all_lesion_ids(), self.session.all_lesion_ids() - before
        if len(gone) == 1 and len(back) == 1 and self.current_lesion_id in gone:
            self.current_lesion_id = back.pop()  # a rename was undone: keep the lesion selected
        self._after_change()

    # ------------------------------------------------------------------------------ form
    def record_current(self) -> None:
        """Record the selected lesion here with the form's state (e.g. NT1 present at FU1)."""
        lesion = self._current_lesion()
        if lesion is None or self.session is None or self.current_label is None:
            show_info("Select a lesion in the table first.")
            return
        if (
            lesion.category is Category.TARGET
            and LesionState(self.state_combo.currentText()) is LesionState.MEASURED
            and primary_value(lesion) is None
        ):
            show_warning(f"{lesion.id}: draw its diameter (or click in it) to record it measured.")
            return
        self._on_form_changed(force=True)

    def _on_form_changed(self, *_: Any, force: bool = False) -> None:
        if self._syncing:
            return
        lesion = self._current_lesion()
        if lesion is None or self.session is None or self.current_label is None:
            return
        state_text = self.state_combo.currentText()
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
        if state_text:
            changes["state"] = LesionState(state_text)
        new = dataclasses.replace(lesion, **changes)
        if new.kind is not lesion.kind and primary_value(lesion) is not None:
            # the measured line now stands for the diameter of the new kind
            cleared = dataclasses.replace(
                new, viable_diameter_mm=None, short_axis_mm=None, longest_diameter_mm=None
            )
            if lesion.longest_line is not None:
                cleared = dataclasses.replace(
                    cleared, longest_diameter_mm=lesion.longest_diameter_mm
                )
            new = with_primary(cleared, primary_value(lesion), lesion.line)
            if new.kind is not Kind.VIABLE:
                new = dataclasses.replace(new, longest_line=None)
        if new.state is not LesionState.MEASURED and new.category is Category.TARGET:
            # a target that is absent / too small / not evaluated carries no diameter of its own
            new = dataclasses.replace(
                new,
                viable_diameter_mm=None,
                longest_diameter_mm=None,
                short_axis_mm=None,
                line=None,
                longest_line=None,
            )
        here = self.session.timepoint(self.current_label).lesion(lesion.id)
        if here is None:
            waits = new.category is Category.TARGET and new.state is LesionState.MEASURED
            if waits or (not force and new.category is not Category.TARGET):
                self.pending = new  # waits for its line, or for "Record state here"
                return
            self.pending = None
        if new == here:
            return
        self.session.set_lesion(self.current_label, new)
        self._after_change()

    def _refresh_form(self) -> None:
        lesion = self._current_lesion()
        self._syncing += 1
        try:
            self.id_edit.setEnabled(lesion is not None)
            if lesion is None:
                self.lesion_label.setText("no lesion selected")
                self.id_edit.setText("")
                return
            self.id_edit.setText(lesion.id)
            recorded = (
                self.session is not None
                and self.current_label is not None
                and self.session.timepoint(self.current_label).lesion(lesion.id) is not None
            )
            status = "" if recorded else " (not recorded here yet: draw or click)"
            self.lesion_label.setText(f"{lesion.id} · {lesion.category.value}{status}")
            self.organ_combo.setCurrentText(lesion.organ)
            self.location_edit.setText(lesion.location or "")
            self.kind_combo.setEnabled(lesion.category is Category.TARGET)
            if lesion.kind is not None:
                self.kind_combo.setCurrentText(lesion.kind.value)
            states = sorted(s.value for s in STATES_BY_CATEGORY[lesion.category])
            self.state_combo.clear()
            self.state_combo.addItems(states)
            self.state_combo.setCurrentText(lesion.state.value)
            self.type_combo.setCurrentText(lesion.type or "")
            self.cytology_box.setChecked(lesion.cytology_confirmed)
            self.typical_box.setChecked(bool(lesion.typical_hcc_pattern))
            self.porta_box.setChecked(lesion.porta_hepatis)
        finally:
            self._syncing -= 1

    # ------------------------------------------------------------------------------ lines
    def _line_role(self, lesion: Lesion) -> str:
        whole = self.line_role_combo.currentIndex() == 1
        if whole and lesion.category is Category.TARGET and lesion.kind is Kind.VIABLE:
            return WHOLE
        return PRIMARY

    def _on_lines_event(self, view: TimepointView, event: Any) -> None:
        if self._syncing:
            return
        action = str(getattr(event, "action", "changed"))
        if action not in ("added", "changed", "removed"):
            return
        try:
            self._reconcile(view)
        except LesionToolError as err:
            show_error(str(err))
            self._render_lines(view)  # the offending shape goes; the recorded lines stay
            self.refresh()

    def _measure(self, view: TimepointView, vertices: np.ndarray) -> tuple[float, Line]:
        voxels = shape_to_voxels(vertices, view.geometry)
        if not voxels_inside(voxels, view.volume.shape):
            raise MeasurementError(
                f"The line at timepoint {view.label} ends outside the image; draw it on the image."
            )
        result = measure_line(view.volume, voxels[0], voxels[1], space="voxel")
        line = Line(tuple(voxels[0]), tuple(voxels[1]), "voxel")
        return round(float(result.length_mm), 1), line

    def _reconcile(self, view: TimepointView) -> None:
        """Bring the assessment in line with what the user did to a timepoint's lines layer.

        New lines (no lesion id yet) measure the current lesion; moved lines are re-measured;
        deleted lines remove what they measured. Proposal lines update the proposal.
        """
        session = self.session
        layer = view.lines
        if session is None or layer is None:
            return
        tp = session.timepoint(view.label)
        feats = layer.features
        ids = list(feats["lesion_id"]) if "lesion_id" in feats else [""] * len(layer.data)
        roles = list(feats["role"]) if "role" in feats else [""] * len(layer.data)
        present: dict[tuple[str, str], np.ndarray] = {}
        new_shapes: list[tuple[np.ndarray, str]] = []
        for vertices, shape_type, lesion_id, role in zip(
            layer.data, layer.shape_type, ids, roles, strict=True
        ):
            if not lesion_id:
                new_shapes.append((np.asarray(vertices), shape_type))
            else:
                present[(lesion_id, role)] = np.asarray(vertices)
        changed = False
        proposal_changed = False
        structural = bool(new_shapes)
        # proposal lines (moved = adjusted; deleted = dropped)
        if self.proposal is not None and self.proposal.label == view.label:
            proposal_changed = self._reconcile_proposal(view, present)
        # recorded lines
        for lesion in tp.lesions:
            for role, line in _lines_of(lesion):
                key = (lesion.id, role)
                old = line_to_shape(line, view.volume, view.geometry)
                if key not in present:
                    structural = True
                    self._drop_line(view.label, lesion, role)
                    changed = True
                elif not np.allclose(present[key], old, atol=1e-6):
                    value, new_line = self._measure(view, present[key])
                    self._set_line(
                        view.label,
                        session.timepoint(view.label).lesion(lesion.id),
                        role,
                        value,
                        new_line,
                    )
                    changed = True
        # new lines
        for vertices, shape_type in new_shapes:
            if shape_type != "line" or len(vertices) != 2:
                show_warning("Only straight lines measure a diameter; the shape was removed.")
                continue
            if np.linalg.norm(np.subtract(vertices[1], vertices[0])) < MIN_LINE_VOXELS:
                show_warning("A diameter needs two distinct ends: drag from one edge to the other.")
                continue
            lesion = self._current_lesion()
            if lesion is None:
                # a line drawn with no lesion selected starts one: a target at baseline, a new
                # lesion at a follow-up (targets are chosen at baseline)
                if session.index_of(view.label) == 0:
                    self.new_target()
                else:
                    self.new_new_lesion()
                lesion = self._current_lesion()
            if lesion is None:
                continue
            if lesion.category is Category.NON_TARGET:
                show_warning(f"{lesion.id} is a non-target lesion: it is recorded, not measured.")
                continue
            value, line = self._measure(view, vertices)
            role = self._line_role(lesion)
            self._set_line(view.label, lesion, role, value, line)
            changed = True
        if structural:
            self._render_lines(view)
        elif changed or proposal_changed:
            self._relabel(view)  # a moved line only changes its text: no full redraw
        if changed:
            self._after_change(render=False)

    def _relabel(self, view: TimepointView) -> None:
        """Update the canvas texts of a timepoint's lines from the assessment and proposal."""
        layer = view.lines
        if layer is None or self.session is None:
            return
        feats = layer.features
        ids = [str(v) for v in feats["lesion_id"]]
        roles = [str(v) for v in feats["role"]]
        tp = self.session.timepoint(view.label)
        labels = []
        for lesion_id, role in zip(ids, roles, strict=True):
            if role in (PROPOSED_VIABLE, PROPOSED_WHOLE):
                labels.append(self._proposal_text(role))
                continue
            lesion = tp.lesion(lesion_id)
            own = lesion is not None and (role == PRIMARY or lesion.line is None)
            labels.append(_line_text(lesion) if own else "")
        self._syncing += 1
        try:
            layer.features = {
                "lesion_id": np.array(ids, dtype=object),
                "role": np.array(roles, dtype=object),
                "label": np.array(labels, dtype=object),
            }
        finally:
            self._syncing -= 1

    def _proposal_text(self, role: str) -> str:
        p = self.proposal
        if p is None or (role == PROPOSED_WHOLE and p.viable is not None):
            return ""
        return f"{p.lesion_id}? viable {p.viable_mm:.1f} · whole {_fmt(p.whole_mm)} mm"

    def _set_line(
        self, label: str, lesion: Lesion | None, role: str, value: float, line: Line
    ) -> None:
        assert self.session is not None
        if lesion is None:
            return
        if role == WHOLE:
            new = dataclasses.replace(lesion, longest_diameter_mm=value, longest_line=line)
        else:
            new = with_primary(lesion, value, line)
        if new.category is Category.TARGET:
            new = dataclasses.replace(new, state=LesionState.MEASURED)
        self.session.set_lesion(label, new)
        if self.pending is not None and self.pending.id == lesion.id:
            self.pending = None

    def _drop_line(self, label: str, lesion: Lesion, role: str) -> None:
        assert self.session is not None
        if role == WHOLE:
            self.session.set_lesion(
                label, dataclasses.replace(lesion, longest_diameter_mm=None, longest_line=None)
            )
        else:
            # without its line the lesion is not read here; at a follow-up it counts as not
            # evaluated (spec: a missing lesion counts as not_evaluated)
            self.session.remove_lesion(label, lesion.id)

    def _render_lines(self, view: TimepointView) -> None:
        """Redraw a timepoint's lines layer from the assessment (and the open proposal)."""
        layer = view.lines
        if layer is None or self.session is None:
            return
        shapes: list[np.ndarray] = []
        colours: list[str] = []
        rows: dict[str, list[str]] = {"lesion_id": [], "role": [], "label": []}

        def add(vertices: np.ndarray, lesion_id: str, role: str, text: str) -> None:
            shapes.append(np.asarray(vertices, dtype=float))
            colours.append(LINE_COLOURS[role])
            rows["lesion_id"].append(lesion_id)
            rows["role"].append(role)
            rows["label"].append(text)

        if view.label in self.session.labels:
            for lesion in self.session.timepoint(view.label).lesions:
                for role, line in _lines_of(lesion):
                    # one label per lesion (on its primary line) so texts never overlap
                    text = _line_text(lesion) if role == PRIMARY or lesion.line is None else ""
                    add(line_to_shape(line, view.volume, view.geometry), lesion.id, role, text)
        proposal = self.proposal
        if proposal is not None and proposal.label == view.label:
            if proposal.viable is not None:
                pts = view.geometry.voxel_to_display(np.asarray(proposal.viable))
                add(pts, proposal.lesion_id, PROPOSED_VIABLE, self._proposal_text(PROPOSED_VIABLE))
            if proposal.whole is not None:
                pts = view.geometry.voxel_to_display(np.asarray(proposal.whole))
                add(pts, proposal.lesion_id, PROPOSED_WHOLE, self._proposal_text(PROPOSED_WHOLE))
        self._syncing += 1
        try:
            layer.data = []
            if shapes:
                layer.add(shapes, shape_type="line", edge_color=colours, edge_width=EDGE_WIDTH)
            layer.features = {key: np.array(values, dtype=object) for key, values in rows.items()}
            layer.feature_defaults = {"lesion_id": "", "role": "", "label": ""}
            layer.current_edge_color = LINE_COLOURS[PRIMARY]
            layer.selected_data = set()
        finally:
            self._syncing -= 1

    # ------------------------------------------------------------------------------ click measure
    def start_click_measure(self) -> None:
        """Arm the next click on the image as the seed of a semi-automatic viable measurement."""
        self.click_button.setChecked(True)

    def _on_click_toggled(self, on: bool) -> None:
        self._click_armed = bool(on)
        view = self.current_view
        if on and view is not None and view.lines is not None:
            view.lines.mode = "pan_zoom"  # the click must not also start a line
        if on:
            show_info("Click inside the lesion (in its enhancing part) to measure it.")

    def _on_mouse_click(self, viewer: Any, event: Any) -> None:
        if not self._click_armed or getattr(event, "type", "") != "mouse_press":
            return
        self.click_button.setChecked(False)
        self.measure_at(np.asarray(event.position, dtype=float))

    def measure_at(self, world_position: Any, *, background: bool = True) -> None:
        """Run the semi-automatic viable measurement seeded at a world point ``(S, P, L)`` mm.

        The result is drawn as a proposal (viable contour, viable and whole-lesion diameters)
        to accept, adjust (move a line end) or reject.
        """
        try:
            session, view = self._require()
        except LesionToolError as err:
            show_error(str(err))
            return
        world = np.asarray(world_position, dtype=float)[-3:]
        seed = np.round(view.geometry.world_to_voxel(world)).astype(int)
        if np.any(seed < 0) or np.any(seed >= np.asarray(view.volume.shape)):
            show_error("The click is outside the image; click inside the lesion.")
            return
        lesion = self._current_lesion()
        if lesion is None or lesion.category is not Category.TARGET:
            lesion_id = session.next_id(Category.TARGET)
            self.pending = Lesion(
                lesion_id,
                Category.TARGET,
                LesionState.MEASURED,
                self.organ_combo.currentText().strip() or "liver",
                self.location_edit.text().strip() or None,
                Kind.VIABLE,
            )
            self.current_lesion_id = lesion_id
        seed_zyx = tuple(int(v) for v in seed)
        self.measuring = True
        self.proposal_label.setText(f"measuring at voxel {seed_zyx}…")
        label = view.label
        lesion_id = self.current_lesion_id or ""

        lazy = view.volume

        def run() -> Any:
            # a layer opened by the reader is read slice by slice as shown; the measurement
            # needs the whole series: read it once (here, in the worker) and keep it
            volume = materialised(lazy)
            return volume, measure_viable(volume, seed_zyx)

        def keep(volume: CTVolume) -> None:
            if view.volume is lazy and is_lazy(lazy):
                view.volume = volume

        if not background:
            try:
                volume, result = run()
            except LesionToolError as err:
                self._on_measure_error(err)
                return
            keep(volume)
            self._show_proposal(label, lesion_id, seed_zyx, result)
            return

        @thread_worker
        def work() -> Any:
            try:
                return run()
            except LesionToolError as err:  # user-fixable: a notification, not a traceback
                return _Failed(err)  # (a returned exception would be re-raised by the worker)

        def done(returned: Any) -> None:
            if isinstance(returned, _Failed):
                self._on_measure_error(returned.error)
            else:
                volume, result = returned
                keep(volume)
                self._show_proposal(label, lesion_id, seed_zyx, result)

        worker = work()
        worker.returned.connect(done)
        worker.errored.connect(self._on_measure_error)
        self._worker_measure = worker
        worker.start()

    def _on_measure_error(self, err: Exception) -> None:
        self.measuring = False
        self.proposal_label.setText("")
        if isinstance(err, LesionToolError):
            show_error(str(err))
        else:
            show_error(f"The measurement failed: {type(err).__name__}: {err}")

    def _show_proposal(self, label: str, lesion_id: str, seed: tuple, result: Any) -> None:
        self.measuring = False
        view = self.views.get(label)
        if view is None:
            return
        parts = proposal_parts(result)
        self.proposal = Proposal(
            label=label,
            lesion_id=lesion_id,
            seed_zyx=tuple(float(v) for v in seed),
            result=result,
            viable=parts.viable_line,
            viable_mm=parts.viable_mm,
            whole=parts.whole_line,
            whole_mm=parts.whole_mm,
        )
        self._show_proposal_mask(view, parts.masks)
        self._render_lines(view)
        self._refresh_proposal_label()
        if label == self.current_label:
            self.go_to_lesion(lesion_id)

    def _show_proposal_mask(self, view: TimepointView, masks: Any) -> None:
        layer = view.proposal
        if layer is None:
            return
        if masks is None:
            data = np.zeros((1, 1, 1), dtype=np.uint8)
            offset = (0, 0, 0)
            translate = view.geometry.translate
        else:
            labels_zyx, offset = masks
            data = view.geometry.display_array(labels_zyx)
            start = view.geometry.mask_display_offset(offset, labels_zyx.shape)
            translate = tuple(view.geometry.display_to_world(np.asarray(start, dtype=float)))
        layer.data = np.ascontiguousarray(data)
        layer.translate = translate
        layer.refresh()

    def _refresh_proposal_label(self) -> None:
        p = self.proposal
        if p is None:
            self.proposal_label.setText("")
            return
        whole = f", whole lesion {_fmt(p.whole_mm)} mm" if p.whole_mm is not None else ""
        self.proposal_label.setText(
            f"Proposal for {p.lesion_id}: viable {p.viable_mm:.1f} mm{whole}. "
            "Accept (⇧A), adjust a line end, or reject (⇧R)."
        )

    def _reconcile_proposal(self, view: TimepointView, present: dict) -> bool:
        p = self.proposal
        assert p is not None
        changed = False
        for role, attr, value_attr in (
            (PROPOSED_VIABLE, "viable", "viable_mm"),
            (PROPOSED_WHOLE, "whole", "whole_mm"),
        ):
            old = getattr(p, attr)
            key = (p.lesion_id, role)
            if old is None:
                continue
            if key not in present:
                setattr(p, attr, None)
                setattr(p, value_attr, 0.0 if attr == "viable" else None)
                changed = True
                continue
            old_display = view.geometry.voxel_to_display(np.asarray(old))
            if not np.allclose(present[key], old_display, atol=1e-6):
                value, line = self._measure(view, present[key])
                setattr(p, attr, (np.asarray(line.start), np.asarray(line.end)))
                setattr(p, value_attr, value)
                changed = True
        if changed:
            self._refresh_proposal_label()
        return changed  # redraw its text; not an assessment change until accepted

    def accept_proposal(self) -> None:
        """Record the proposal (as adjusted) as the lesion's viable and whole-lesion diameters."""
        p = self.proposal
        if p is None or self.session is None:
            show_info("There is no measurement to accept; click in a lesion first (⇧M).")
            return
        identity = self.session.identity(p.label, p.lesion_id)
        if identity is None and self.pending is not None and self.pending.id == p.lesion_id:
            identity = self.pending
        if identity is None:
            identity = Lesion(p.lesion_id, Category.TARGET, LesionState.MEASURED, kind=Kind.VIABLE)
        identity = (
            _follow_up_template(identity) if identity.category is Category.TARGET else identity
        )
        viable_line = Line(tuple(p.viable[0]), tuple(p.viable[1])) if p.viable is not None else None
        whole_line = Line(tuple(p.whole[0]), tuple(p.whole[1])) if p.whole is not None else None
        lesion = dataclasses.replace(
            identity,
            kind=Kind.VIABLE if identity.category is Category.TARGET else identity.kind,
            state=LesionState.MEASURED if identity.category is Category.TARGET else identity.state,
            viable_diameter_mm=round(p.viable_mm, 1)
            if identity.category is Category.TARGET
            else None,
            longest_diameter_mm=round(p.whole_mm, 1) if p.whole_mm is not None else None,
            line=viable_line if identity.category is Category.TARGET else whole_line,
            longest_line=whole_line if identity.category is Category.TARGET else None,
            seed=p.seed_zyx,
        )
        self.proposal = None
        self.pending = None
        self.current_lesion_id = lesion.id
        view = self.views.get(p.label)
        if view is not None:
            self._show_proposal_mask(view, None)
        self.session.set_lesion(p.label, lesion)
        self._after_change()

    def reject_proposal(self) -> None:
        """Drop the proposal; nothing is recorded."""
        p = self.proposal
        if p is None:
            return
        self.proposal = None
        view = self.views.get(p.label)
        if view is not None:
            self._show_proposal_mask(view, None)
            self._render_lines(view)
        self._refresh_proposal_label()

    # ------------------------------------------------------------------------------ refresh
    def _after_change(self, *, render: bool = True) -> None:
        if render:
            for view in self.views.values():
                self._render_lines(view)
        self.refresh()
        self._autosave()

    def _autosave(self) -> None:
        """Save after each change, once the screen shows it (the write and fsync come last)."""
        if self.session is not None:
            self.session.save_quietly()
        self._update_save_label()

    def refresh(self) -> None:
        """Refresh the lesion table, the form and the response panel."""
        self._refresh_table()
        self._refresh_form()
        self.refresh_response()
        self._refresh_proposal_label()

    def _refresh_table(self) -> None:
        session, label = self.session, self.current_label
        self.table.blockSignals(True)
        try:
            if session is None or label is None:
                self.table.setRowCount(0)
                return
            ids = session.lesion_ids(label)
            if self.pending is not None and self.pending.id not in ids:
                ids.append(self.pending.id)
            self.table.setRowCount(len(ids))
            selected_row = -1
            for r, lesion_id in enumerate(ids):
                here = session.timepoint(label).lesion(lesion_id)
                earlier = session.earlier(label, lesion_id)
                lesion = here or (earlier.lesion if earlier else self.pending)
                assert lesion is not None
                kind = lesion.kind.value if lesion.kind else (lesion.type or "")
                state = here.state.value if here else "not recorded"
                value = primary_value(here) if here else None
                earlier_text = ""
                slice_text = ""
                if earlier is not None:
                    earlier_text = f"{_fmt(primary_value(earlier.lesion))} @ {earlier.label}"
                    line = earlier.lesion.line or earlier.lesion.longest_line
                    if line is not None and line.space == "voxel":
                        slice_text = f"{round(line.start[0]) + 1} @ {earlier.label}"
                if here is not None and (here.line or here.longest_line):
                    line = here.line or here.longest_line
                    if line.space == "voxel":
                        slice_text = str(round(line.start[0]) + 1)
                cells = [
                    lesion_id,
                    kind,
                    state,
                    _fmt(value),
                    earlier_text,
                    slice_text,
                ]
                for c, text in enumerate(cells):
                    item = QTableWidgetItem(text)
                    item.setToolTip(f"{lesion_id}: {lesion.category.value.replace('_', '-')}")
                    self.table.setItem(r, c, item)
                if lesion_id == self.current_lesion_id:
                    selected_row = r
            if selected_row >= 0:
                self.table.selectRow(selected_row)
            else:
                self.table.clearSelection()
        finally:
            self.table.blockSignals(False)

    def _on_table_selection(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        item = self.table.item(rows[0].row(), 0)
        if item is not None and item.text() != self.current_lesion_id:
            self.select_lesion(item.text())
            self.go_to_lesion()

    def refresh_response(self) -> None:
        """Score the assessment up to the current timepoint with every preset and show it."""
        self._results = {}
        table = self.response_table
        for r in range(table.rowCount()):
            for c in range(table.columnCount()):
                table.setItem(r, c, QTableWidgetItem(""))
        if self.session is None or self.current_label is None:
            self.findings_label.setText("")
            return
        truncated = self.session.up_to(self.current_label)
        messages: list[str] = []
        for c, preset in enumerate(PRESETS):
            try:
                settings = settings_for(preset)
                result = score_assessment(truncated, settings)
                findings = list(check_baseline(truncated, settings))
            except LesionToolError as err:
                messages.append(f"{PRESET_TITLES.get(preset, preset)}: {err}")
                continue
            self._results[preset] = result
            tp = result.timepoints[-1] if result.timepoints else None
            for r, (_, attr) in enumerate(RESPONSE_ROWS):
                if attr == "best":
                    value = result.best_overall_response
                elif tp is None:
                    value = None
                else:
                    value = getattr(tp, attr)
                text = _fmt(value if not hasattr(value, "value") else value.value)
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignCenter)
                item.setToolTip(text)
                table.setItem(r, c, item)
            for finding in [*findings, *(tp.findings if tp else ()), *result.findings]:
                where = f" ({finding.lesion_id})" if getattr(finding, "lesion_id", None) else ""
                text = f"{finding.severity}{where}: {finding.message}"
                tagged = f"{text} [{PRESET_TITLES.get(preset, preset)}]"
                if not any(m.startswith(text) for m in messages):
                    messages.append(tagged)
        self.findings_label.setText("\n".join(f"• {m}" for m in messages) or "No warnings.")

    # ------------------------------------------------------------------------------ saving
    def _update_save_label(self) -> None:
        s = self.session
        if s is None:
            self.save_label.setText("not saved yet")
            return
        if s.last_save_error is not None:
            text = f"autosave failed: {s.last_save_error}"
            self.save_label.setText(text)
            show_error(text)
            s.last_save_error = None
        elif s.path is not None and s.path.exists():
            self.save_label.setText(f"saved to {s.path}")
        else:
            self.save_label.setText(f"will save to {s.path}")

    def save(self, path: str | os.PathLike | None = None) -> Path | None:
        """Save the assessment (atomically) now; ``path`` also becomes the autosave file."""
        if self.session is None:
            show_error("There is nothing to save yet: open a study first.")
            return None
        try:
            out = self.session.save(Path(path) if path is not None else None)
        except (LesionToolError, OSError, ValueError) as err:
            show_error(f"Could not save the assessment: {err}")
            return None
        self._update_save_label()
        return out

    def _choose_save_path(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save assessment", "", "JSON (*.json)")
        if path:
            self.save(path)

    def _choose_assessment(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open assessment", "", "JSON (*.json)")
        if path:
            self.open_assessment(path)

    def open_assessment(self, path: str | os.PathLike) -> None:
        """Open a saved assessment and put every line back on its image."""
        try:
            assessment = load_assessment(Path(path))
        except LesionToolError as err:
            show_error(str(err))
            return
        if self.session is not None and self.session.patient_id != assessment.patient_id:
            show_warning(
                f"{path}: patient {assessment.patient_id!r} differs from the open images "
                f"({self.session.patient_id!r})."
            )
        if self.session is None:
            self.session = ReadingSession(assessment, Path(path))
            self.session.autosave = False
        else:
            self.session.path = Path(path)
            self.session.replace(assessment, undoable=False)
        # images already shown are matched to the file's timepoints by study, else by label
        by_study = {
            tp.study_instance_uid: tp.label for tp in assessment.timepoints if tp.study_instance_uid
        }
        renamed: dict[str, TimepointView] = {}
        for label, view in self.views.items():
            new_label = by_study.get(view.volume.study_instance_uid, label)
            if label == self.current_label:
                self.current_label = new_label
            view.label = new_label
            renamed[new_label] = view
        self.views = renamed
        for label, view in self.views.items():
            self.session.ensure_timepoint(
                label,
                view.date,
                study_instance_uid=view.volume.study_instance_uid or None,
                series_instance_uid=view.volume.series_instance_uid or None,
            )
        self.reader_edit.setText(assessment.reader)
        self._sync_start_edit()
        self._refresh_timepoint_combo()
        self._after_change()

    def _on_reader_changed(self) -> None:
        if self.session is not None:
            reader = self.reader_edit.text().strip()
            if reader != self.session.assessment.reader:
                self.session.update(reader=reader)
                self._autosave()

    def _sync_start_edit(self) -> None:
        if self.session is None:
            return
        start = self.session.assessment.treatment_start
        self._syncing += 1
        try:
            self.start_edit.setDate(QDate(start.year, start.month, start.day))
        finally:
            self._syncing -= 1

    def _on_start_changed(self, qdate: QDate) -> None:
        if self._syncing or self.session is None:
            return
        date = dt.date(qdate.year(), qdate.month(), qdate.day())
        if date != self.session.assessment.treatment_start:
            self.session.update(treatment_start=date)
            self.refresh_response()
            self._autosave()

    def _choose_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export per-timepoint CSV", "", "CSV (*.csv)")
        if path:
            self.export_csv(path)

    def export_csv(self, path: str | os.PathLike) -> Path | None:
        """Write the per-timepoint CSV (every preset) with the core's writer."""
        if self.session is None:
            show_error("There is nothing to export yet: open a study first.")
            return None
        try:
            results = [score_assessment(self.session.assessment, settings_for(p)) for p in PRESETS]
            with open(path, "w", newline="", encoding="utf-8") as handle:
                write_timepoints_csv(results, handle)
        except (LesionToolError, OSError) as err:
            show_error(f"Could not export {path}: {err}")
            return None
        show_info(f"Exported {path}")
        return Path(path)


def _warm_up_layers() -> None:
    """Build (and drop) one layer of each kind the widget shows, off-screen.

    napari pays one-time costs (unit registry, feature tables, vispy event types: about 0.5 s)
    on the first layer of a kind; paying them when the widget opens keeps them out of the
    first display of a study.
    """
    from napari.layers import Image, Labels, Shapes

    Image(np.zeros((2, 2, 2), dtype=np.int16))
    Labels(np.zeros((1, 1, 1), dtype=np.uint8))
    Shapes(ndim=3, features={"label": np.array([], dtype=object)}, text={"string": "{label}"})


def _follow_up_template(lesion: Lesion) -> Lesion:
    """A lesion's identity (id, category, organ, location, kind, type, flags) without readings."""
    state = {
        Category.TARGET: LesionState.MEASURED,
        Category.NON_TARGET: LesionState.PRESENT,
        Category.NEW: lesion.state,
    }[lesion.category]
    return dataclasses.replace(
        lesion,
        state=state,
        viable_diameter_mm=None,
        longest_diameter_mm=None,
        short_axis_mm=None,
        line=None,
        longest_line=None,
        seed=None,
    )


def _safe(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in text) or "x"
