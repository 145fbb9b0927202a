"""The controller's drawn lines: a line drawn, moved or deleted on a timepoint's lines layer
becomes a core measurement (:func:`lesion_tool.measurement.measure_line`) recorded with the
core's rules (:mod:`lesion_tool.reading.rules`).

A mixin of :class:`~lesion_napari._controller.Controller`. The line tool is armed for one line:
after it, the layer goes back to pan / zoom, so a second drag pans instead of redrawing.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np
from napari.utils.notifications import show_error, show_warning
from qtpy.QtCore import QTimer

from lesion_tool.errors import LesionToolError, MeasurementError
from lesion_tool.measurement import measure_line
from lesion_tool.model import Category, Kind, Lesion, LesionState, Line
from lesion_tool.reading import Action
from lesion_tool.reading.rules import (
    PRIMARY,
    WHOLE,
    is_fully_viable,
    line_on_image,
    with_line,
    with_state,
)

from ._layers import line_to_shape, shape_to_voxels, voxels_inside
from ._views import TimepointView, draw_lines, lines_of, relabel

if TYPE_CHECKING:
    from ._controller import Controller

MIN_LINE_VOXELS = 0.5
"""Shorter drawn lines (a click in line mode) are dropped, not recorded as 0 mm."""


class LinesMixin:
    """Lines layers of the controller."""

    # ------------------------------------------------------------------------------ tools
    def arm_line(self: Controller) -> None:
        """Arm the line tool on the current timepoint for one line."""
        view = self.current_view
        if view is None or view.lines is None or self._refused(Action.MEASURE):
            return
        self.click_armed = False
        self.viewer.layers.selection.active = view.lines
        view.lines.mode = "add_line"
        self.emit("tools")

    def line_armed(self: Controller) -> bool:
        """Whether the current timepoint's line tool waits for a line."""
        view = self.current_view
        return bool(view and view.lines is not None and view.lines.mode == "add_line")

    def disarm(self: Controller) -> None:
        """Leave line mode, the armed click or rough line, and contour editing (Esc)."""
        self.click_armed = False
        self.line_prompt = False
        self.stop_editing()
        for view in self.views.values():
            if view.lines is not None and view.lines.mode != "pan_zoom":
                view.lines.mode = "pan_zoom"
        self.emit("tools")

    def set_whole_line(self: Controller, on: bool) -> None:
        """The next line is a viable target's whole-lesion diameter (RECIST 1.1)."""
        self.whole_line = bool(on)
        self.emit("tools")

    def set_fully_viable(self: Controller, on: bool) -> None:
        """The reader states the selected target is fully viable: one line fills both
        criteria. Applies to its recorded line at once."""
        self.fully_viable = bool(on)
        lesion = self.current_lesion()
        here = self._recorded(lesion)
        if on and here is not None and here.line is not None and here.viable_diameter_mm:
            value = here.viable_diameter_mm
            self._record(
                self.current_label, with_line(here, PRIMARY, value, here.line, fully_viable=True)
            )
            self.redraw()
        self.emit("tools")

    def _recorded(self: Controller, lesion: Lesion | None) -> Lesion | None:
        if lesion is None or self.session is None or self.current_label is None:
            return None
        return self.session.timepoint(self.current_label).lesion(lesion.id)

    # ------------------------------------------------------------------------------ drawing
    def connect_lines(self: Controller, view: TimepointView) -> None:
        """Follow what the user does to a timepoint's lines layer; Esc there cancels too."""
        view.lines.events.data.connect(lambda event, v=view: self._on_lines_event(v, event))
        view.lines.bind_key("Escape", lambda _layer: self.escape(), overwrite=True)

    def render(self: Controller, view: TimepointView) -> None:
        """Redraw a timepoint's lines from the reading and the open proposal."""
        if view.lines is None or self.session is None or view.label not in self.session.labels:
            return
        with self.quiet():
            draw_lines(view, self.session.timepoint(view.label).lesions, self.proposal_lines(view))

    def redraw(self: Controller) -> None:
        """Redraw every timepoint's lines."""
        for view in self.views.values():
            self.render(view)

    def _on_lines_event(self: Controller, view: TimepointView, event: Any) -> None:
        action = str(getattr(event, "action", "changed"))
        if self._quiet or action not in ("added", "changed", "removed"):
            return
        if action != "added" and getattr(view.lines, "_is_creating", False):
            return  # napari is still drawing a line: it says "added" on release
        try:
            self._reconcile(view)
        except LesionToolError as err:
            show_error(str(err))
            self.render(view)  # the offending shape goes; the recorded lines stay

    def measure(self: Controller, view: TimepointView, vertices: np.ndarray) -> tuple[float, Line]:
        """A drawn line's length (mm, the core's measure_line) and its voxel end points."""
        voxels = shape_to_voxels(vertices, view.geometry)
        if not voxels_inside(voxels, view.volume.shape):
            raise MeasurementError(
                f"The line at timepoint {view.label} ends outside the image; draw it on the image."
            )
        result = measure_line(view.volume, voxels[0], voxels[1], space="voxel")
        line = line_on_image(voxels[0], voxels[1], view.volume.sop_instance_uids)
        return float(result.length_mm), line

    def _record(self: Controller, label: str | None, lesion: Lesion) -> bool:
        """Record a lesion through the core session; a refusal is a notification."""
        try:
            self.session.set_lesion(label, lesion)
        except LesionToolError as err:
            show_warning(str(err))
            return False
        return True

    def _reconcile(self: Controller, view: TimepointView) -> None:
        """Bring the reading in line with what the user did to a timepoint's lines layer:
        new lines measure the selected lesion, moved lines are re-measured, a deleted line
        removes its measurement (never the lesion)."""
        session, layer = self.session, view.lines
        if session is None or layer is None:
            return
        feats = layer.features
        ids = list(feats["lesion_id"]) if "lesion_id" in feats else [""] * len(layer.data)
        roles = list(feats["role"]) if "role" in feats else [""] * len(layer.data)
        present: dict[tuple[str, str], np.ndarray] = {}
        new_shapes: list[tuple[np.ndarray, str]] = []
        for vertices, shape_type, lesion_id, role in zip(
            layer.data, layer.shape_type, ids, roles, strict=True
        ):
            if lesion_id:
                present[(lesion_id, role)] = np.asarray(vertices)
            else:
                new_shapes.append((np.asarray(vertices), shape_type))
        structural = bool(new_shapes)
        changed = self.reconcile_proposal(view, present)
        for lesion in session.timepoint(view.label).lesions:
            for role, line in lines_of(lesion):
                key = (lesion.id, role)
                now = session.timepoint(view.label).lesion(lesion.id)
                if key not in present:
                    structural = True
                    self._record(view.label, self._without_line(now, role))
                elif not np.allclose(
                    present[key], line_to_shape(line, view.volume, view.geometry), atol=1e-6
                ):
                    value, new_line = self.measure(view, present[key])
                    full = role == PRIMARY and is_fully_viable(now)
                    self._record(
                        view.label, with_line(now, role, value, new_line, fully_viable=full)
                    )
                    changed = True
        for vertices, shape_type in new_shapes:
            if self.line_prompt:  # a rough line across a lesion: the prompt of a measurement
                self.measure_by_line(view, vertices, shape_type)
            else:
                self._new_line(view, vertices, shape_type)
        if structural:
            self.render(view)
        elif changed:
            with self.quiet():
                relabel(view, session.timepoint(view.label).lesions, self.proposal_texts())
        if new_shapes:
            self.emit("selection")
            # one line per arming: a second drag pans (after napari finishes this gesture)
            QTimer.singleShot(0, self.disarm)

    def _without_line(self: Controller, lesion: Lesion, role: str) -> Lesion:
        """The lesion after its line of ``role`` was deleted: the measurement goes, the lesion
        stays (a target without its diameter is not evaluated here until measured again)."""
        if role == WHOLE:
            return dataclasses.replace(lesion, longest_diameter_mm=None, longest_line=None)
        if lesion.category is Category.TARGET:
            return with_state(lesion, LesionState.NOT_EVALUATED)
        return dataclasses.replace(lesion, longest_diameter_mm=None, short_axis_mm=None, line=None)

    def _new_line(self: Controller, view: TimepointView, vertices: np.ndarray, kind: str) -> None:
        if kind != "line" or len(vertices) != 2:
            show_warning("Only straight lines measure a diameter; the shape was removed.")
            return
        if np.linalg.norm(np.subtract(vertices[1], vertices[0])) < MIN_LINE_VOXELS:
            show_warning("A diameter needs two distinct ends: drag from one edge to the other.")
            return
        if self._refused(Action.MEASURE):
            return
        lesion = self.current_lesion()
        if lesion is None:
            # no lesion selected: a target at baseline, a new lesion at a follow-up
            first = self.session.index_of(view.label) == 0
            lesion = self.new_lesion(Category.TARGET if first else Category.NEW)
        if lesion is None:
            return
        if lesion.category is Category.NON_TARGET:
            show_warning(f"{lesion.id} is a non-target lesion: it is recorded, not measured.")
            return
        value, line = self.measure(view, vertices)
        role = WHOLE if self.whole_line and _viable(lesion) else PRIMARY
        if self._record(
            view.label, with_line(lesion, role, value, line, fully_viable=self.fully_viable)
        ):
            if self.pending is not None and self.pending.id == lesion.id:
                self.pending = None
            self.whole_line = False


def _viable(lesion: Lesion) -> bool:
    return lesion.category is Category.TARGET and lesion.kind is Kind.VIABLE
