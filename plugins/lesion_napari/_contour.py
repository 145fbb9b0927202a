"""The controller's proposal contour: the 3-D mask of a semi-automatic measurement shown as
outlines in the timepoint's proposal labels layer, which the reader can paint or erase; the core
measures the edited mask (:func:`~lesion_tool.measurement.edit.remeasure_edited`), and that
gives the proposal's diameters.

A mixin of :class:`~lesion_napari._controller.Controller` (through
:class:`~lesion_napari._click.ClickMixin`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from napari.utils.colormaps import DirectLabelColormap
from napari.utils.notifications import show_error, show_info
from qtpy.QtCore import QTimer

from lesion_tool.errors import LesionToolError
from lesion_tool.measurement.edit import remeasure_edited
from lesion_tool.measurement.segment import LesionMeasurement

from ._layers import (
    NON_VIABLE_LABEL,
    VIABLE_LABEL,
    proposal_colours,
    proposal_labels,
    volume_order,
)
from ._views import TimepointView

if TYPE_CHECKING:
    from ._controller import Controller

FLAGGED = "lesion_tool_proposal_flagged"
"""A proposal layer's ``metadata`` key: whether its contour has a flagged proposal's colours."""
WIRED = "lesion_tool_proposal_wired"
"""A proposal layer's ``metadata`` key: its colours, paint event and keys are set up."""
CUT_OFF = "lesion_tool_proposal_cut_off"
"""A proposal layer's ``metadata`` key: its last undo step is the controller's removal of the
pieces a reader's erase stroke cut off (undone together with that stroke)."""


class ContourMixin:
    """The proposal's contour: shown, painted, erased, measured again."""

    def _show_mask(
        self: Controller,
        view: TimepointView,
        labels_zyx: np.ndarray | None,
        box: tuple[int, int, int] = (0, 0, 0),
    ) -> None:
        """Show a proposal's labels box (contours of its 3-D mask) on a timepoint, or clear."""
        layer = view.proposal
        if layer is None:
            return
        if labels_zyx is None:
            data, translate = np.zeros((1, 1, 1), dtype=np.uint8), view.geometry.translate
        else:
            data = view.geometry.display_array(labels_zyx)
            start = view.geometry.mask_display_offset(box, labels_zyx.shape)
            translate = tuple(view.geometry.display_to_world(np.asarray(start, dtype=float)))
        with self.quiet():
            layer.data = np.ascontiguousarray(data)
            layer.translate = translate
            self._colour_contour(layer)
            if not layer.metadata.get(WIRED):
                layer.metadata[WIRED] = True
                # napari emits "paint" before it writes a single edit (data_setitem): measure
                # once the event loop has the data written
                layer.events.paint.connect(lambda _event, v=view: self._after_edit(v))
                self._bind_edit_keys(view, layer)
            layer.selected_label = NON_VIABLE_LABEL
            layer.refresh()

    def _show_kept(
        self: Controller,
        view: TimepointView,
        labels: np.ndarray,
        edited: LesionMeasurement,
        box: tuple[int, int, int],
    ) -> None:
        """Clear from the proposal layer the pieces the core dropped from an edited contour
        (cut off by an erase stroke), as one undo step with the stroke: the contour shown is
        the one measured."""
        kept = np.zeros(labels.shape, dtype=bool)
        sl = tuple(
            slice(o - b, o - b + n)
            for o, b, n in zip(edited.offset, box, edited.mask.shape, strict=True)
        )
        kept[sl] = edited.mask
        dropped = (labels > 0) & ~kept
        layer = view.proposal
        if layer is None or not dropped.any():
            return
        with self.quiet():
            layer.data_setitem(np.nonzero(view.geometry.display_array(dropped)), 0)
        layer.metadata[CUT_OFF] = True

    def _colour_contour(self: Controller, layer: Any) -> None:
        """The contour in the colours of a sound proposal, or of a flagged one (red / yellow:
        the doubt shows on the image, not only in the panel's words)."""
        flagged = self.proposal is not None and bool(self.proposal.flags)
        colours = proposal_colours(flagged)
        if layer.metadata.get(FLAGGED) == flagged and layer.metadata.get(WIRED):
            return
        layer.metadata[FLAGGED] = flagged
        layer.colormap = DirectLabelColormap(
            color_dict={None: "transparent", 0: "transparent", **colours}
        )

    def _after_edit(self: Controller, view: TimepointView) -> None:
        if self._quiet:  # the controller's own edit (pieces cut off), measured already
            return
        if view.proposal is not None:
            view.proposal.metadata[CUT_OFF] = False
        QTimer.singleShot(0, lambda: self.contour_edited(view))

    def _bind_edit_keys(self: Controller, view: TimepointView, layer: Any) -> None:
        """On the proposal layer (active while painting): its own undo / redo of an edit also
        re-measure the contour, and Esc ends painting as everywhere."""

        def undo(layer: Any) -> None:
            layer.undo()
            if layer.metadata.get(CUT_OFF):  # the pieces came back: the stroke goes too
                layer.undo()
            self._after_edit(view)

        def redo(layer: Any) -> None:
            layer.redo()
            self._after_edit(view)

        layer.bind_key("Control-Z", undo, overwrite=True)
        layer.bind_key("Control-Shift-Z", redo, overwrite=True)
        layer.bind_key("Escape", lambda _layer: self.escape(), overwrite=True)

    def _painted_labels(self: Controller, view: TimepointView) -> np.ndarray | None:
        """The proposal layer's labels box back in ``(z, y, x)`` order (as painted)."""
        if view.proposal is None or self.proposal is None:
            return None
        return volume_order(view.geometry, np.asarray(view.proposal.data))

    def edit_contour(self: Controller, mode: str = "paint") -> None:
        """Let the reader paint (``"paint"``) or erase (``"erase"``) the proposal's contour;
        the edited contour gives the diameters."""
        p = self.proposal
        view = self.views.get(p.label) if p is not None else None
        if view is None or view.proposal is None:
            show_info("There is no proposal to edit; click in a lesion first (⇧M).")
            return
        self.disarm()
        layer = view.proposal
        self.viewer.layers.selection.active = layer
        layer.selected_label = NON_VIABLE_LABEL
        layer.brush_size = max(int(layer.brush_size), 3)
        layer.mode = mode
        self.emit("tools")

    def stop_editing(self: Controller) -> None:
        """Leave paint / erase mode on every proposal layer."""
        for view in self.views.values():
            layer = view.proposal
            if layer is not None and layer.mode != "pan_zoom":
                layer.mode = "pan_zoom"

    def editing(self: Controller) -> bool:
        """Whether the reader is painting or erasing the proposal's contour."""
        p = self.proposal
        view = self.views.get(p.label) if p is not None else None
        return bool(view and view.proposal is not None and view.proposal.mode != "pan_zoom")

    def contour_edited(self: Controller, view: TimepointView) -> None:
        """The reader painted or erased the proposal's contour: the core measures the edited
        mask (whole lesion, and the viable part on an arterial image), which replaces the
        numbers and lines."""
        p = self.proposal
        if self._quiet or p is None or p.label != view.label or self.measuring:
            return
        labels = self._painted_labels(view)
        if labels is None:
            return
        auto, _ = proposal_labels(p.auto, view.volume.shape)
        if labels.shape == auto.shape and np.array_equal(labels, auto):
            p.take(p.auto, edited=False)  # every edit undone: the core's own result again
            self.render(view)
            self.emit("proposal")
            return
        viable = labels == VIABLE_LABEL if p.auto.viable is not None else None
        try:
            edited = remeasure_edited(view.volume, p.auto, labels > 0, p.box, viable)
        except LesionToolError as err:
            show_error(str(err))
            return
        p.take(edited, edited=True)
        self._show_kept(view, labels, edited, p.box)
        self._colour_contour(view.proposal)
        self.render(view)
        self.emit("proposal")
