"""The controller's semi-automatic measurement: a click in a lesion, or a rough line dragged
across it, proposes its contour and its whole and viable diameters (the core's
:func:`~lesion_tool.measurement.measure_lesion`) to accept, correct or reject.

A mixin of :class:`~lesion_napari._controller.Controller`. :func:`run_measurement` is the one
place the plugin calls the core's semi-automatic measurement. Corrections: Tighter / Looser
(the core's threshold offset), and the contour painted or erased in the proposal's labels layer
(:mod:`._contour`), which the core measures again. One measurement runs at a time, in one
worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from napari.qt.threading import thread_worker
from napari.utils.notifications import show_error, show_info, show_warning
from qtpy.QtCore import QTimer

from lesion_tool.errors import AssessmentError, LesionToolError
from lesion_tool.io.phase import Phase
from lesion_tool.io.volume import CTVolume
from lesion_tool.measurement.segment import LesionMeasurement, LesionPrompt, measure_lesion
from lesion_tool.model import Category, Kind, Lesion, LesionState, Line
from lesion_tool.reading import Action
from lesion_tool.reading.rules import (
    from_lesion_measurement,
    line_on_image,
    segmentation_of,
    with_kind,
)

from ._contour import ContourMixin
from ._layers import (
    META_KEY,
    is_lazy,
    materialised,
    proposal_labels,
    shape_to_voxels,
    voxels_inside,
)
from ._proposal import THRESHOLD_STEP_HU, Proposal, correction_text
from ._proposal_overlay import show_proposal_overlay
from ._views import PROPOSED_VIABLE, PROPOSED_WHOLE, TimepointView, fmt
from ._zoom import zoom_to_show

if TYPE_CHECKING:
    from ._controller import Controller

_PHASES = {p.value for p in Phase}
CHECK_TEXT = "⚠ CHECK:"
"""Put on the canvas before a flagged proposal's numbers (its reasons are in the panel)."""


def run_measurement(volume: CTVolume, prompt: LesionPrompt, phase: str) -> LesionMeasurement:
    """THE call of the core's semi-automatic measurement (runs in the worker thread)."""
    return measure_lesion(volume, prompt, phase=phase)


@dataclass(frozen=True)
class Failed:
    """A user-fixable error carried out of a worker thread (a returned exception would be
    re-raised by the worker); shown as a notification."""

    error: LesionToolError


class ClickMixin(ContourMixin):
    """Semi-automatic measurement of the controller."""

    def __init__(self: Controller) -> None:
        self.proposal: Proposal | None = None
        self.click_armed = False
        self.line_prompt = False
        """The line tool is armed for a rough line that prompts a measurement (one line)."""
        self.measuring = False
        self._measure_worker: Any = None
        self.subscribe("proposal", self._show_proposal_box)

    def _show_proposal_box(self: Controller) -> None:
        """The open proposal's numbers and doubts in a box at the canvas's top right
        (:mod:`._proposal_overlay`); none while measuring or without a proposal."""
        p = None if self.measuring else self.proposal
        numbers = self.proposal_texts()[PROPOSED_VIABLE] if p is not None else ""
        numbers = numbers.replace(f" {CHECK_TEXT}", "")
        if p is not None and p.label in self.views:
            # after an edit the diameter may lie on another slice than the one painted
            ends = p.viable if p.viable is not None else p.whole
            name = self.views[p.label].slice_name(float(ends[0][0])) if ends is not None else ""
            numbers += f"\non {name}" if name else ""
        show_proposal_overlay(self.viewer, numbers, p.flags if p is not None else ())

    # ------------------------------------------------------------------------------ gestures
    def start_click_measure(self: Controller) -> None:
        """Arm the next click on the image as the seed of a semi-automatic measurement."""
        if self._refused("click"):
            return
        self.stop_editing()
        self.line_prompt = False
        view = self.current_view
        if view is not None and view.lines is not None:
            view.lines.mode = "pan_zoom"  # the click must not also start a line
        self.click_armed = True
        show_info("Click inside the lesion to measure it; Esc cancels.")
        self.emit("tools")

    def start_line_measure(self: Controller) -> None:
        """Arm one rough line across a lesion (its approximate longest extent) as the prompt
        of a semi-automatic measurement; line mode ends after it, Esc cancels."""
        if self._refused("click"):
            return
        self.stop_editing()
        self.arm_line()
        if self.line_armed():
            self.line_prompt = True
            show_info("Drag a line across the lesion (edge to edge, roughly); Esc cancels.")
            self.emit("tools")

    def on_mouse_press(self: Controller, viewer: Any, event: Any) -> None:
        """A press on the canvas: the seed of an armed click measurement."""
        if not self.click_armed or getattr(event, "type", "") != "mouse_press":
            return
        self.click_armed = False
        self.emit("tools")
        self.measure_at(np.asarray(event.position, dtype=float))

    def measure_by_line(
        self: Controller, view: TimepointView, vertices: np.ndarray, shape_type: str = "line"
    ) -> None:
        """A rough line drawn while :attr:`line_prompt` was armed: measure the lesion it
        crosses (display-index vertices ``(2, 3)``)."""
        self.line_prompt = False
        if shape_type != "line" or len(vertices) != 2:
            show_warning("Drag a straight line across the lesion.")
            return
        voxels = shape_to_voxels(vertices, view.geometry)
        if not voxels_inside(voxels, view.volume.shape):
            show_error("The line ends outside the image; drag it across the lesion.")
            return
        a, b = (tuple(float(v) for v in p) for p in voxels)
        self._launch(view, LesionPrompt(line=(a, b)))
        # the image, not the lines layer, takes the keys next (napari's Shapes layer has its
        # own Shift+A), once napari has finished this gesture
        QTimer.singleShot(0, lambda: self._activate(view.image))

    def _activate(self: Controller, layer: Any) -> None:
        if layer is not None and layer in self.viewer.layers:
            self.viewer.layers.selection.active = layer

    def measure_at(
        self: Controller,
        world_position: Any,
        *,
        background: bool = True,
        line_zyx: Any = None,
    ) -> None:
        """Run the semi-automatic measurement seeded at a world point ``(S, P, L)`` mm.

        ``line_zyx``: a rough line ``(start, end)`` across the lesion, voxels ``(z, y, x)`` of
        the current view, prompting with the seed (a carried baseline line: the core's
        ``prompt_line``), or None for the seed alone.
        """
        if self._refused("click"):
            return
        view = self.current_view
        assert view is not None
        world = np.asarray(world_position, dtype=float)[-3:]
        seed = np.round(view.geometry.world_to_voxel(world)).astype(int)
        if np.any(seed < 0) or np.any(seed >= np.asarray(view.volume.shape)):
            show_error("The click is outside the image; click inside the lesion.")
            return
        line = None
        if line_zyx is not None:
            start, end = (tuple(float(v) for v in p) for p in line_zyx)
            line = (start, end)
        prompt = LesionPrompt(seed=tuple(int(v) for v in seed), line=line)
        self._launch(view, prompt, background=background)

    def adjust_threshold(self: Controller, tighter: bool, *, background: bool = True) -> None:
        """Tighter (a smaller region) or Looser: measure the proposal again with the core's
        threshold moved by :data:`THRESHOLD_STEP_HU`, keeping the reader's edits as strokes."""
        p = self.proposal
        if p is None or p.label not in self.views:
            show_info("There is no proposal to correct; click in a lesion first (⇧M).")
            return
        view = self.views[p.label]
        delta = THRESHOLD_STEP_HU if tighter else -THRESHOLD_STEP_HU
        prompt = p.with_strokes(self._painted_labels(view), delta)
        self._launch(view, prompt, lesion_id=p.lesion_id, background=background)

    # ------------------------------------------------------------------------------ worker
    def _click_lesion(self: Controller) -> None:
        """The lesion a measurement is for: the selected target, else a new one here (a target
        at baseline, a new lesion at a follow-up: targets are chosen at baseline)."""
        assert self.session is not None and self.current_label is not None
        lesion = self.current_lesion()
        follow_up = self.session.index_of(self.current_label) > 0
        if lesion is not None and lesion.category is not Category.NON_TARGET:
            return  # a target (re-)measured, or a new lesion at a follow-up sized
        category = Category.NEW if follow_up else Category.TARGET
        lesion_id = self.session.next_id(category)
        self.pending = Lesion(
            lesion_id,
            category,
            LesionState.UNEQUIVOCAL if follow_up else LesionState.MEASURED,
            kind=None if follow_up else Kind.VIABLE,
        )
        self.current_lesion_id = lesion_id
        self.emit("selection")

    def _phase(self: Controller, view: TimepointView) -> tuple[str, str]:
        """The series' phase as the loader assessed it, and the phase check's doubt about an
        'arterial' series (in words, "" when none)."""
        header = dict(getattr(view.image, "metadata", {}).get(META_KEY) or {})
        phase = str(header.get("phase") or "")
        phase = phase if phase in _PHASES else Phase.UNKNOWN.value
        warnings = [str(w) for w in header.get("phase_warnings") or ()]
        doubt = ""
        if phase == Phase.ARTERIAL.value and warnings:
            doubt = (
                f"the phase check doubts this series is arterial ({'; '.join(warnings)}): its "
                "viable diameter may not be mRECIST's"
            )
        return phase, doubt

    def _launch(
        self: Controller,
        view: TimepointView,
        prompt: LesionPrompt,
        *,
        lesion_id: str | None = None,
        background: bool = True,
    ) -> None:
        """Measure ``prompt`` on a timepoint in the worker (one at a time) and show the
        proposal; ``lesion_id`` keeps the proposal's lesion (a correction)."""
        if self.measuring:
            show_info("A measurement is running: wait for it, then measure again.")
            return
        if lesion_id is None:
            self._click_lesion()
            lesion_id = self.current_lesion_id or ""
        phase, doubt = self._phase(view)
        self.measuring = True
        self.emit("proposal")
        label, lazy = view.label, view.volume

        def run() -> Any:
            # a lazily read layer is read whole once, here in the worker, and kept
            volume = materialised(lazy)
            return volume, run_measurement(volume, prompt, phase)

        def done(returned: Any) -> None:
            if isinstance(returned, Failed):
                self._measure_failed(returned.error)
                return
            volume, result = returned
            if view.volume is lazy and is_lazy(lazy):
                view.volume = volume
            self._show_proposal(label, lesion_id, prompt, result, doubt)

        if not background:
            try:
                done(run())
            except LesionToolError as err:
                self._measure_failed(err)
            return

        @thread_worker
        def work() -> Any:
            try:
                return run()
            except LesionToolError as err:  # user-fixable: a notification, not a traceback
                return Failed(err)

        worker = work()
        worker.returned.connect(done)
        worker.errored.connect(self._measure_failed)
        self._measure_worker = worker
        worker.start()

    def _measure_failed(self: Controller, err: Exception) -> None:
        self.measuring = False
        self.emit("proposal")
        if isinstance(err, LesionToolError):
            show_error(str(err))
        else:
            show_error(f"The measurement failed: {type(err).__name__}: {err}")

    def _show_proposal(
        self: Controller,
        label: str,
        lesion_id: str,
        prompt: LesionPrompt,
        result: LesionMeasurement,
        doubt: str,
    ) -> None:
        self.measuring = False
        view = self.views.get(label)
        if view is None:
            return
        labels, box = proposal_labels(result, view.volume.shape)
        before = self.proposal
        self.proposal = Proposal(label, lesion_id, prompt, result, result, box, doubt)
        if before is not None:
            self.proposal.change = correction_text(before, self.proposal)
        self._show_mask(view, labels, box)
        self.render(view)
        self.emit("proposal")
        if result.flags:
            show_warning(f"{lesion_id}: check the proposal: {'; '.join(result.flags)}.")
        if label == self.current_label:
            self.go_to_lesion(lesion_id)
            self._frame_proposal()

    def _frame_proposal(self: Controller) -> None:
        """Zoom in on a proposal that is small on screen (:func:`._zoom.zoom_to_show`; the
        reader's zoom is kept when it shows the proposal large enough). go_to_lesion has
        centred it; in a grid the camera frames every cell and is left alone."""
        p = self.proposal
        if p is None or p.whole_mm is None or self.grid().enabled:
            return
        scene = getattr(self.viewer, "scene", None)
        camera = scene.camera if scene is not None else self.viewer.camera
        zoom = zoom_to_show(p.whole_mm, float(camera.zoom), self.viewer.canvas.size)
        if zoom is not None:
            camera.zoom = zoom

    # ------------------------------------------------------------------------------ lines
    def proposal_lines(self: Controller, view: TimepointView) -> list[tuple]:
        """The proposal's lines on a timepoint: ``(voxel ends, lesion id, role, text)``."""
        p = self.proposal
        if p is None or p.label != view.label:
            return []
        texts = self.proposal_texts()
        out = []
        for role, ends in ((PROPOSED_VIABLE, p.viable), (PROPOSED_WHOLE, p.whole)):
            if ends is not None:
                out.append((ends, p.lesion_id, role, texts[role]))
        return out

    def proposal_texts(self: Controller) -> dict[str, str]:
        """Canvas texts of the proposal's lines (one label, on the viable line if any)."""
        p = self.proposal
        if p is None:
            return {}
        check = f" {CHECK_TEXT}" if p.flags else ""
        viable = "–" if p.viable_mm is None else f"{p.viable_mm:.1f}"
        text = f"{p.lesion_id}?{check} whole {fmt(p.whole_mm)} · viable {viable} mm"
        return {PROPOSED_VIABLE: text, PROPOSED_WHOLE: "" if p.viable is not None else text}

    def reconcile_proposal(self: Controller, view: TimepointView, present: dict) -> bool:
        """A proposal line moved (re-measured) or deleted (dropped); True if it changed."""
        p = self.proposal
        if p is None or p.label != view.label:
            return False
        changed = False
        for role, attr, value_attr in (
            (PROPOSED_VIABLE, "viable", "viable_mm"),
            (PROPOSED_WHOLE, "whole", "whole_mm"),
        ):
            old = getattr(p, attr)
            if old is None:
                continue
            key = (p.lesion_id, role)
            if key not in present:
                setattr(p, attr, None)
                setattr(p, value_attr, 0.0 if attr == "viable" else None)
                changed = True
            elif not np.allclose(
                present[key], view.geometry.voxel_to_display(np.asarray(old)), atol=1e-6
            ):
                value, line = self.measure(view, present[key])
                setattr(p, attr, (np.asarray(line.start), np.asarray(line.end)))
                setattr(p, value_attr, value)
                changed = True
        if changed:
            self.emit("proposal")
        return changed

    # ------------------------------------------------------------------------------ decide
    def accept_proposal(
        self: Controller, kind: Kind | None = None, category: Category | None = None
    ) -> None:
        """Record the proposal (as corrected) with its contour, by the core's rules; as another
        ``kind`` of target (the whole lesion: ``longest``) or as a non-target when given (the
        ways out the core names when it refuses a baseline target)."""
        p = self.proposal
        if p is None or self.session is None:
            show_info("There is no measurement to accept; click in a lesion first (⇧M).")
            return
        if self.measuring:
            show_info("A measurement is running: wait for it before accepting.")
            return
        try:
            lesion = self._proposal_reading(p, kind=kind, category=category, contour=True)
        except LesionToolError as err:
            show_warning(str(err))
            return
        if not self._record(p.label, lesion):
            return
        self.pending = None
        self.current_lesion_id = lesion.id
        self.drop_proposal()
        self.emit("selection")

    def proposal_refusal(
        self: Controller, kind: Kind | None = None, category: Category | None = None
    ) -> str | None:
        """Why the core would refuse to record the open proposal as it stands (or as ``kind``
        / ``category``), in the core's words; None when Accept would record it. Asked when
        the proposal is shown, so that the reason stands beside Accept before it is pressed
        (the rule is the core's, :func:`~lesion_tool.reading.rules.from_lesion_measurement`)."""
        p = self.proposal
        if p is None or self.session is None or self.measuring:
            return None
        try:
            self._proposal_reading(p, kind=kind, category=category, contour=False)
        except LesionToolError as err:
            return str(err)
        return None

    def _proposal_reading(
        self: Controller,
        p: Proposal,
        *,
        kind: Kind | None,
        category: Category | None,
        contour: bool,
    ) -> Lesion:
        """The lesion Accept records from ``p`` (the core's
        :func:`~lesion_tool.reading.rules.from_lesion_measurement`, baseline rules included);
        ``contour`` False leaves the stored outline out (a check before Accept)."""
        assert self.session is not None
        identity = self.session.identity(p.label, p.lesion_id)
        if identity is None and self.pending is not None and self.pending.id == p.lesion_id:
            identity = self.pending
        if identity is None:
            identity = Lesion(p.lesion_id, Category.TARGET, LesionState.MEASURED, kind=Kind.VIABLE)
        if category is Category.NON_TARGET and identity.category is not Category.NON_TARGET:
            why = self.session.why_not(Action.NEW_NON_TARGET, p.label)
            if self.session.identity(p.label, p.lesion_id) is not None:
                why = f"{p.lesion_id} is already in the reading as a {identity.category.value}"
            if why is not None:
                raise AssessmentError(why)
            identity = Lesion(
                self.session.next_id(Category.NON_TARGET),
                Category.NON_TARGET,
                LesionState.PRESENT,
                organ=identity.organ,
                location=identity.location,
            )
        elif kind is not None and identity.category is Category.TARGET:
            identity = with_kind(identity, kind)
        r = p.result
        segmentation = None
        if contour:
            z = r.whole.slice_index if r.whole.slice_index is not None else r.seed_voxel[0]
            segmentation = segmentation_of(
                r.mask, r.offset, z, prompt=p.stored_prompt(), edited=p.edited, flags=p.flags
            )
        view = self.views.get(p.label)
        uids = view.volume.sop_instance_uids if view is not None else ()
        return from_lesion_measurement(
            identity,
            whole_mm=p.whole_mm,
            whole_line=_line(p.whole, uids),
            viable_mm=p.viable_mm,
            viable_line=_line(p.viable, uids),
            seed=p.seed_zyx,
            segmentation=segmentation,
            viable_reason=r.viable_reason,
            at_baseline=self.session.index_of(p.label) == 0,
        )

    def reject_proposal(self: Controller) -> None:
        """Drop the proposal; nothing is recorded."""
        self.drop_proposal()

    def drop_proposal(self: Controller) -> None:
        """Forget the open proposal and clear its layers."""
        p, self.proposal = self.proposal, None
        self.stop_editing()
        if p is not None and p.label in self.views:
            self._show_mask(self.views[p.label], None)
            self.render(self.views[p.label])
        self.emit("proposal")

    def rename_proposal(self: Controller, old_id: str, new_id: str) -> None:
        """The proposal follows a renamed lesion."""
        if self.proposal is not None and self.proposal.lesion_id == old_id:
            self.proposal.lesion_id = new_id


def _line(ends: tuple[np.ndarray, np.ndarray] | None, uids: tuple[str, ...]) -> Line | None:
    """The proposal's voxel line, with the SOPInstanceUID of its image (the core's rule)."""
    return None if ends is None else line_on_image(ends[0], ends[1], uids)
