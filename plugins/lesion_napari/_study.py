"""The controller's images: loading a study, timepoints, which series is measured on, display.

A mixin of :class:`~lesion_napari._controller.Controller` (it uses the controller's state).
Every image shown for measuring passes :meth:`StudyMixin.image_shown`: the one place a display
module can attach its overlays (HU probe, window, scale bar, orientation, patient overlay).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from napari.qt.threading import thread_worker
from napari.utils.notifications import show_error, show_info, show_warning
from qtpy.QtCore import QTimer

from lesion_tool.errors import LesionToolError
from lesion_tool.model import Line

from ._click import Failed
from ._display import install_display
from ._layers import (
    META_KEY,
    DisplayGeometry,
    line_to_shape,
    volume_from_layer,
)
from ._loading import LoadedSeries, LoadProblem, ScanDone, iter_loaded_series
from ._views import TimepointView, add_overlay_layers, same

if TYPE_CHECKING:
    from ._controller import Controller

OVERLAY_DELAY_MS = 100
"""While a study loads, a timepoint's lines and proposal layers follow its image by this."""
NOT_ARTERIAL = (
    "Measured here, whole-lesion diameters count for RECIST 1.1; viable ones are not mRECIST "
    "(it needs an arterial phase)."
)


class StudyMixin:
    """Images and timepoints of the controller."""

    def __init__(self: Controller) -> None:
        self.views: dict[str, TimepointView] = {}
        self.loading = False
        self.progress = (0, 0, "no study")
        """(value, maximum, text) of the loading progress; maximum 0 while scanning."""
        self.side_by_side = False
        self.phase_notes: dict[str, str] = {}
        """Per timepoint: what the reader must know about the series measured on (phase)."""
        self.phase_details: dict[str, str] = {}
        """Per timepoint: the same with the core's evidence (HU of the vessels and liver)."""
        self._worker: Any = None

    # ------------------------------------------------------------------------------ loading
    def open_study(self: Controller, path: str | os.PathLike[str]) -> None:
        """Load every study under ``path`` in a background thread, measured series first."""
        if self.loading:
            show_warning("A study is still loading; wait for it to finish.")
            return
        self.loading = True
        self.progress = (0, 0, f"scanning {Path(path).name}…")
        self.emit("study")

        @thread_worker
        def work() -> Any:
            try:
                yield from iter_loaded_series([Path(path)])
            except LesionToolError as err:  # user-fixable: a notification, not a traceback
                yield Failed(err)

        worker = work()
        worker.yielded.connect(self._on_loaded)
        worker.errored.connect(
            lambda err: show_error(f"Could not open the study: {type(err).__name__}: {err}")
        )
        worker.finished.connect(self._on_load_finished)
        self._worker = worker
        worker.start()

    def _on_loaded(self: Controller, item: Any) -> None:
        if isinstance(item, Failed):
            show_error(str(item.error))
        elif isinstance(item, ScanDone):
            self.progress = (0, max(item.total, 1), f"series of {item.n_studies} studies")
        elif isinstance(item, LoadProblem):
            self.warn_once(item.message)
        elif isinstance(item, LoadedSeries):
            self.progress = (item.index, self.progress[1], self.progress[2])
            data, kwargs, _ = item.layer_data(visible=item.measure_on)
            self.viewer.add_image(data, **kwargs)
        self.emit("study")

    def _on_load_finished(self: Controller) -> None:
        for label in list(self.views):
            self._complete_view(label)
        self.loading = False
        self.progress = (1, 1, f"{len(self.views)} timepoint(s) loaded")
        self._worker = None
        self.emit("study")

    # ------------------------------------------------------------------------------ layers
    def on_layer_inserted(self: Controller, event: Any) -> None:
        """napari added a layer: take a lesion-tool image in."""
        self.register_layer(event.value)

    def on_layer_removed(self: Controller, event: Any) -> None:
        """napari removed a layer: forget it (a closed timepoint image closes the timepoint)."""
        layer = event.value
        for label, view in list(self.views.items()):
            if same(layer, view.image):
                self.views.pop(label)
                if label == self.current_label:
                    self.current_label = None
                    self.drop_proposal()
                    if self.views:
                        self.set_timepoint(next(iter(self.views)))
                self.emit("study", "timepoint", "selection", "tools")
            elif same(layer, view.lines):
                view.lines = None
            elif same(layer, view.proposal):
                view.proposal = None
            view.others = [other for other in view.others if not same(other, layer)]

    def register_layer(self: Controller, layer: Any) -> None:
        """Take a lesion-tool image layer (from the loader, the reader or sample data) in."""
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
                self.emit("study")
            return
        if volume.study_date is None:
            self.warn_once(f"{layer.name}: the study has no date; it cannot be a timepoint.")
            return
        if self.session is None:
            self._start_session(volume.patient_id or "unknown-patient", volume.study_date)
            if self.reader:
                self.session.set_reader(self.reader)
        elif volume.patient_id and volume.patient_id != self.session.patient_id:
            self.warn_once(
                f"{layer.name}: patient {volume.patient_id!r} is not the patient being assessed "
                f"({self.session.patient_id!r}); it is shown but not added as a timepoint."
            )
            return
        if label in self.views:
            return
        label = self.session.ensure_timepoint(
            label,
            volume.study_date,
            study_instance_uid=volume.study_instance_uid or None,
            series_instance_uid=volume.series_instance_uid or None,
        )
        view = TimepointView(
            label, volume.study_date, volume, DisplayGeometry.from_volume(volume), layer
        )
        self.views[label] = view
        self.image_shown(view, header)
        if self.session.reader and self.session.path is None:
            self._bind_file()  # the reader's earlier reading of this patient, if any
        # (resuming a reading may rename the timepoint to the file's label: follow the view)
        if self.loading:
            # let the canvas draw the image first; the lines follow a moment later
            QTimer.singleShot(OVERLAY_DELAY_MS, lambda: self._complete_view(view.label))
        else:
            self._complete_view(view.label)

    def image_shown(self: Controller, view: TimepointView, header: dict[str, Any]) -> None:
        """THE place a timepoint's measured image layer is taken in (display hook).

        The phase check of the core scan (:mod:`lesion_tool.io.phase`) is turned into a note
        the study panel shows; display features (HU probe, window, scale bar, orientation,
        patient / date / series overlay) attach here, once per shown image.
        """
        phase = str(header.get("phase") or "")
        warnings = list(header.get("phase_warnings") or ())
        note = full = ""
        if phase != "arterial":
            note = full = (
                f"{view.label}: measuring on a {phase or 'unknown'} series. {NOT_ARTERIAL}"
            )
        elif warnings:
            # the panel keeps the finding short (it must leave Save on a 1080p screen); the
            # notification says it all
            short = "; ".join(_headline(w) for w in warnings)
            note = f"{view.label}: {short}. {NOT_ARTERIAL}"
            full = f"{view.label}: {'; '.join(warnings)} {NOT_ARTERIAL}"
        if note:
            self.phase_notes[view.label] = note
            self.phase_details[view.label] = full
            self.warn_once(full)
        tools = install_display(self.viewer, view.image, view.volume)  # sets the common window
        view.info = tools.info_of(view.image)
        self.emit("study")

    def measure_on(self: Controller, label: str, layer_name: str) -> bool:
        """Measure a timepoint on another series of its study (one of its hidden layers).

        Refused, with a notification, once lines are recorded there. The phase note says what
        the choice means for mRECIST.
        """
        view = self.views.get(label)
        other = next((lay for lay in view.others if lay.name == layer_name), None) if view else None
        if view is None or other is None or self.session is None:
            return False
        volume = volume_from_layer(other)
        try:
            self.session.set_series(label, volume.series_instance_uid)
        except LesionToolError as err:
            show_warning(str(err))
            self.emit("study")
            return False
        self.drop_proposal()
        old = view.image
        with self.quiet():
            for layer in (view.lines, view.proposal):
                if layer is not None:
                    self.viewer.layers.remove(layer)
        view.lines = view.proposal = None
        view.others = [lay for lay in view.others if not same(lay, other)] + [old]
        view.image, view.volume = other, volume
        view.geometry = DisplayGeometry.from_volume(volume)
        old.visible = False
        header = dict(other.metadata.get(META_KEY) or {})
        self.phase_notes.pop(label, None)
        self.phase_details.pop(label, None)
        self.image_shown(view, header)
        self._complete_view(label)
        self.apply_visibility()
        self.emit("study", "timepoint")
        return True

    def _complete_view(self: Controller, label: str) -> None:
        view = self.views.get(label)
        if view is None or view.lines is not None:
            return
        with self.quiet():
            add_overlay_layers(self.viewer, view)
        self.connect_lines(view)
        self.render(view)
        self.emit("study")
        if self.current_label is None:
            self.set_timepoint(label)
            self.go_to_first_lesion()
        else:
            self.apply_visibility()

    def go_to_first_lesion(self: Controller) -> None:
        """A resumed reading opens at its first lesion (selected) of the current timepoint, not
        at the liver slice the display chose. Called when the view is complete and when the reading
        is resumed: the resume dialog runs its own event loop, in which the load may finish
        and complete the views first."""
        label = self.current_label
        if self.session is None or label is None or label not in self.session.labels:
            return
        ids = self.session.lesion_ids(label)
        if ids:
            self.select_lesion(ids[0])
            self.go_to_lesion(ids[0])

    def _match_views(self: Controller) -> None:
        """Rename open timepoints to the reading's labels (matched by study) and add missing
        timepoints to the reading."""
        assert self.session is not None
        by_study = {
            tp.study_instance_uid: tp.label
            for tp in self.session.assessment.timepoints
            if tp.study_instance_uid
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

    def open_labels(self: Controller) -> list[str]:
        """Timepoints with images open, in the reading's order."""
        return [lb for lb in self.session.labels if lb in self.views] if self.session else []

    def set_timepoint(self: Controller, label: str) -> None:
        """Make a timepoint current: show its layers, list its lesions, score it."""
        if label not in self.views:
            show_warning(f"No images are open for timepoint {label!r}.")
            return
        self.current_label = label
        self.pending = None
        self.disarm()
        self.apply_visibility()
        view = self.views[label]
        if view.lines is not None:
            self.viewer.layers.selection.active = view.lines
        if (
            self.current_lesion_id
            and self.session
            and self.session.identity(label, self.current_lesion_id) is None
        ):
            self.current_lesion_id = None
        self.emit("timepoint", "assessment", "selection", "tools")

    @property
    def current_view(self: Controller) -> TimepointView | None:
        """The current timepoint's layers."""
        return self.views.get(self.current_label) if self.current_label else None

    # ------------------------------------------------------------------------------ display
    def shown_labels(self: Controller) -> list[str]:
        """The timepoints on screen (two side by side: baseline and the current one)."""
        if self.current_label is None:
            return []
        if not self.side_by_side or not self.session:
            return [self.current_label]
        labels = self.open_labels()
        first = labels[0]
        if self.current_label == first:
            return [first, *[lb for lb in labels if lb != first][:1]]
        return [first, self.current_label]

    def apply_visibility(self: Controller) -> None:
        """Show the layers of the shown timepoints, hide the others."""
        shown = set(self.shown_labels())
        for label, view in self.views.items():
            for layer in view.layers():
                layer.visible = label in shown
            for layer in view.others:
                if label not in shown:
                    layer.visible = False

    def set_side_by_side(self: Controller, on: bool) -> None:
        """Show baseline and the current follow-up in a grid, at the same world position."""
        self.side_by_side = bool(on)
        grid = self.grid()
        shown = self.shown_labels()
        if self.side_by_side and len(shown) == 2:
            group = [layer for label in shown for layer in self.views[label].layers()]
            ids = {layer.unique_id for layer in group}
            order = group + [layer for layer in self.viewer.layers if layer.unique_id not in ids]
            with self.quiet():
                for pos, layer in enumerate(order):
                    src = self.viewer.layers.index(layer)
                    if src != pos:
                        self.viewer.layers.move(src, pos)
            grid.stride = len(self.views[shown[0]].layers())
            grid.shape = (1, 2)
            grid.enabled = True
        else:
            grid.enabled = False
        self.apply_visibility()
        self.viewer.reset_view()
        self.emit("study")

    def grid(self: Controller) -> Any:
        """napari's grid settings (``canvas.grid`` from napari 0.6, ``grid`` before)."""
        canvas = getattr(self.viewer, "canvas", None)
        return canvas.grid if canvas is not None and hasattr(canvas, "grid") else self.viewer.grid

    def go_to_lesion(self: Controller, lesion_id: str | None = None) -> None:
        """Move the view (all grid cells) to the slice and place where a lesion was measured."""
        lesion_id = lesion_id or self.current_lesion_id
        if not (lesion_id and self.session and self.current_label):
            return
        world = self._lesion_world_position(lesion_id)
        if world is None:
            show_info(f"{lesion_id} has no measured line to go to.")
            return
        self.viewer.dims.set_point(0, float(world[0]))
        if not self.grid().enabled:  # in a grid the camera frames all cells
            scene = getattr(self.viewer, "scene", None)
            camera = scene.camera if scene is not None else self.viewer.camera
            camera.center = (float(world[0]), float(world[1]), float(world[2]))

    def slice_name(self: Controller, label: str, line: Line | None) -> str:
        """What PACS calls the slice a line of timepoint ``label`` lies on (``Se 103 · Im 75``),
        the name every panel uses for a slice; ``""`` when unknown (the timepoint's images are
        not open)."""
        view = self.views.get(label)
        if line is None or view is None:
            return ""
        start = np.asarray(line.start, dtype=float)
        z = start[0] if line.space == "voxel" else view.volume.patient_to_index(start)[0]
        return view.slice_name(float(z))

    def _lesion_world_position(self: Controller, lesion_id: str) -> np.ndarray | None:
        assert self.session is not None and self.current_label is not None
        p = self.proposal
        if p is not None and p.lesion_id == lesion_id and p.label in self.views:
            ends = p.viable if p.viable is not None else p.whole
            voxel = np.mean(ends, axis=0) if ends is not None else np.asarray(p.seed_zyx)
            return self.views[p.label].geometry.voxel_to_world(voxel)
        i = self.session.index_of(self.current_label)
        for label in [self.session.labels[i], *reversed(self.session.labels[:i])]:
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


def _headline(text: str) -> str:
    """The headline of a core message: its first sentence up to any ": " (the evidence after
    it goes to the tooltip and the notification)."""
    return text.split(". ", 1)[0].split(": ", 1)[0].rstrip(".")
