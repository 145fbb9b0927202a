"""The controller's click measurement: a click in a lesion proposes its viable and whole-lesion
diameters (the core's semi-automatic measurement) to accept, adjust or reject.

A mixin of :class:`~lesion_napari._controller.Controller`. :func:`run_measurement` is the one
place the plugin calls the core's semi-automatic measurement, so it can be swapped for another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from napari.qt.threading import thread_worker
from napari.utils.notifications import show_error, show_info

from lesion_tool.errors import LesionToolError
from lesion_tool.io.volume import CTVolume
from lesion_tool.measurement import measure_viable
from lesion_tool.model import Category, Kind, Lesion, LesionState, Line
from lesion_tool.reading.rules import from_viable_measurement

from ._layers import is_lazy, materialised, proposal_parts
from ._views import PROPOSED_VIABLE, PROPOSED_WHOLE, TimepointView, fmt

if TYPE_CHECKING:
    from ._controller import Controller


def run_measurement(volume: CTVolume, seed_zyx: tuple[int, int, int]) -> Any:
    """THE call of the core's semi-automatic measurement (seeded at a voxel ``(z, y, x)``).

    Runs in a worker thread; returns what :func:`._layers.proposal_parts` reads (viable and
    whole-lesion diameters and masks).
    """
    return measure_viable(volume, seed_zyx)


@dataclass(frozen=True)
class Failed:
    """A user-fixable error carried out of a worker thread (a returned exception would be
    re-raised by the worker); shown as a notification."""

    error: LesionToolError


@dataclass
class Proposal:
    """A semi-automatic measurement waiting to be accepted, adjusted or rejected."""

    label: str
    lesion_id: str
    seed_zyx: tuple[float, float, float]
    viable: tuple[np.ndarray, np.ndarray] | None
    """Voxel end points of the proposed viable diameter, or None when nothing enhances."""
    viable_mm: float
    whole: tuple[np.ndarray, np.ndarray] | None
    whole_mm: float | None

    def describe(self) -> str:
        """The proposal in words, for the panel and the canvas."""
        whole = f", whole lesion {fmt(self.whole_mm)} mm" if self.whole_mm is not None else ""
        return f"Proposal for {self.lesion_id}: viable {self.viable_mm:.1f} mm{whole}."


class ClickMixin:
    """Click measurement of the controller."""

    def __init__(self: Controller) -> None:
        self.proposal: Proposal | None = None
        self.click_armed = False
        self.measuring = False
        self._measure_worker: Any = None

    def start_click_measure(self: Controller) -> None:
        """Arm the next click on the image as the seed of a semi-automatic measurement."""
        if self._refused("click"):
            return
        view = self.current_view
        if view is not None and view.lines is not None:
            view.lines.mode = "pan_zoom"  # the click must not also start a line
        self.click_armed = True
        show_info("Click inside the lesion (in its enhancing part) to measure it; Esc cancels.")
        self.emit("tools")

    def on_mouse_press(self: Controller, viewer: Any, event: Any) -> None:
        """A press on the canvas: the seed of an armed click measurement."""
        if not self.click_armed or getattr(event, "type", "") != "mouse_press":
            return
        self.click_armed = False
        self.emit("tools")
        self.measure_at(np.asarray(event.position, dtype=float))

    def _click_lesion(self: Controller) -> None:
        """The lesion a click measures: the selected target, else a new one here (a target at
        baseline, a new lesion at a follow-up: targets are chosen at baseline)."""
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

    def measure_at(self: Controller, world_position: Any, *, background: bool = True) -> None:
        """Run the semi-automatic measurement seeded at a world point ``(S, P, L)`` mm."""
        if self._refused("click"):
            return
        view = self.current_view
        assert view is not None
        world = np.asarray(world_position, dtype=float)[-3:]
        seed = np.round(view.geometry.world_to_voxel(world)).astype(int)
        if np.any(seed < 0) or np.any(seed >= np.asarray(view.volume.shape)):
            show_error("The click is outside the image; click inside the lesion.")
            return
        self._click_lesion()
        seed_zyx = tuple(int(v) for v in seed)
        self.measuring = True
        self.emit("proposal")
        label, lesion_id, lazy = view.label, self.current_lesion_id or "", view.volume

        def run() -> Any:
            # a lazily read layer is read whole once, here in the worker, and kept
            volume = materialised(lazy)
            return volume, run_measurement(volume, seed_zyx)

        def done(returned: Any) -> None:
            if isinstance(returned, Failed):
                self._measure_failed(returned.error)
                return
            volume, result = returned
            if view.volume is lazy and is_lazy(lazy):
                view.volume = volume
            self._show_proposal(label, lesion_id, seed_zyx, result)

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
        self: Controller, label: str, lesion_id: str, seed: tuple, result: Any
    ) -> None:
        self.measuring = False
        view = self.views.get(label)
        if view is None:
            return
        parts = proposal_parts(result)
        self.proposal = Proposal(
            label,
            lesion_id,
            tuple(float(v) for v in seed),
            parts.viable_line,
            parts.viable_mm,
            parts.whole_line,
            parts.whole_mm,
        )
        self._show_mask(view, parts.masks)
        self.render(view)
        self.emit("proposal")
        if label == self.current_label:
            self.go_to_lesion(lesion_id)

    def _show_mask(self: Controller, view: TimepointView, masks: Any) -> None:
        layer = view.proposal
        if layer is None:
            return
        if masks is None:
            data, translate = np.zeros((1, 1, 1), dtype=np.uint8), view.geometry.translate
        else:
            labels_zyx, offset = masks
            data = view.geometry.display_array(labels_zyx)
            start = view.geometry.mask_display_offset(offset, labels_zyx.shape)
            translate = tuple(view.geometry.display_to_world(np.asarray(start, dtype=float)))
        layer.data = np.ascontiguousarray(data)
        layer.translate = translate
        layer.refresh()

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
        text = f"{p.lesion_id}? viable {p.viable_mm:.1f} · whole {fmt(p.whole_mm)} mm"
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

    def accept_proposal(self: Controller) -> None:
        """Record the proposal (as adjusted) with the core's rules; the session checks it."""
        p = self.proposal
        if p is None or self.session is None:
            show_info("There is no measurement to accept; click in a lesion first (⇧M).")
            return
        identity = self.session.identity(p.label, p.lesion_id)
        if identity is None and self.pending is not None and self.pending.id == p.lesion_id:
            identity = self.pending
        if identity is None:
            identity = Lesion(p.lesion_id, Category.TARGET, LesionState.MEASURED, kind=Kind.VIABLE)
        lesion = from_viable_measurement(
            identity,
            viable_mm=p.viable_mm,
            viable_line=_line(p.viable),
            whole_mm=p.whole_mm,
            whole_line=_line(p.whole),
            seed=p.seed_zyx,
        )
        if not self._record(p.label, lesion):
            return
        self.pending = None
        self.current_lesion_id = lesion.id
        self.drop_proposal()
        self.emit("selection")

    def reject_proposal(self: Controller) -> None:
        """Drop the proposal; nothing is recorded."""
        self.drop_proposal()

    def drop_proposal(self: Controller) -> None:
        """Forget the open proposal and clear its layers."""
        p, self.proposal = self.proposal, None
        if p is not None and p.label in self.views:
            self._show_mask(self.views[p.label], None)
            self.render(self.views[p.label])
        self.emit("proposal")

    def rename_proposal(self: Controller, old_id: str, new_id: str) -> None:
        """The proposal follows a renamed lesion."""
        if self.proposal is not None and self.proposal.lesion_id == old_id:
            self.proposal.lesion_id = new_id


def _line(ends: tuple[np.ndarray, np.ndarray] | None) -> Line | None:
    return None if ends is None else Line(tuple(ends[0]), tuple(ends[1]))
