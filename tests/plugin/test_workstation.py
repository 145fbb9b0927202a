"""The workstation as a reader meets it: the reader's keys reach the widget whatever layer is
active (real key presses on the canvas), and the dock fits napari's window without clipping
(1920 x 1080: every panel in full; 1366 x 768: it scrolls)."""

from __future__ import annotations

import numpy as np
import pytest
from _gui import click, drag, key_on_canvas, open_two_timepoints, world_of
from lesion_napari._display import ensure_display_tools
from lesion_napari._widget import WINDOW_SHARE
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QScrollArea

pytestmark = pytest.mark.gui

CENTRE = (3, 32, 32)
"""Voxel (z, y, x) at the centre of the test sphere (shape 8 x 64 x 64, radius 12 mm)."""


def _shift_key(viewer, qtbot, key) -> None:
    """Shift held, a letter pressed, Shift released, on the canvas: as a hand types it (napari's
    Shapes layer binds Shift alone, to lock the aspect ratio, while it is held)."""
    canvas = viewer.window._qt_viewer.canvas.native
    qtbot.keyPress(canvas, Qt.Key_Shift)
    qtbot.keyClick(canvas, key, Qt.ShiftModifier)
    qtbot.keyRelease(canvas, Qt.Key_Shift, Qt.ShiftModifier)


def _propose(widget, viewer, qtbot, view):
    key_on_canvas(viewer, qtbot, Qt.Key_M, Qt.ShiftModifier)
    assert widget.controller.click_armed
    click(viewer, qtbot, world_of(view, CENTRE))
    qtbot.waitUntil(
        lambda: widget.controller.proposal is not None and not widget.controller.measuring,
        timeout=30_000,
    )


def test_reader_keys_reach_the_widget_whatever_layer_is_active(viewer, make_volume, qtbot):
    """Shift+A / Shift+R / Esc with the lines layer (after a line drawn by hand), a Points
    layer (napari's own Shift+A: "select all"), the ROI shapes layer and a Labels layer
    active."""
    widget = open_two_timepoints(viewer, make_volume)
    c = widget.controller
    view = c.views["baseline"]
    points = viewer.add_points(np.zeros((0, 3)), ndim=3, name="points")
    labels = viewer.add_labels(np.zeros((8, 64, 64), dtype=np.uint8), name="user labels")
    tools = ensure_display_tools(viewer)
    # T1 drawn by hand: New target, one drag on the lines layer
    _shift_key(viewer, qtbot, Qt.Key_T)
    drag(viewer, qtbot, world_of(view, (3, 32, 20)), world_of(view, (3, 32, 44)))
    assert c.session.timepoint("baseline").lesion("T1") is not None
    # a click proposal for T2, then Accept pressed with the lines layer active
    _shift_key(viewer, qtbot, Qt.Key_T)
    _propose(widget, viewer, qtbot, view)
    viewer.layers.selection.active = view.lines
    _shift_key(viewer, qtbot, Qt.Key_A)
    t2 = c.session.timepoint("baseline").lesion("T2")
    assert c.proposal is None and t2 is not None and t2.segmentation is not None
    # a Points layer active: its own Shift+A would select its points
    _shift_key(viewer, qtbot, Qt.Key_T)
    _propose(widget, viewer, qtbot, view)
    viewer.layers.selection.active = points
    _shift_key(viewer, qtbot, Qt.Key_A)
    assert c.proposal is None and c.session.timepoint("baseline").lesion("T3") is not None
    # a Labels layer active: Shift+R rejects, Ctrl+Z stays the layer's own (its painting)
    _shift_key(viewer, qtbot, Qt.Key_T)
    _propose(widget, viewer, qtbot, view)
    viewer.layers.selection.active = labels
    _shift_key(viewer, qtbot, Qt.Key_R)
    assert c.proposal is None and c.session.timepoint("baseline").lesion("T4") is None
    key_on_canvas(viewer, qtbot, Qt.Key_Z, Qt.ControlModifier)
    assert c.session.timepoint("baseline").lesion("T3") is not None  # not undone by the reader
    # the ROI (shapes) layer active: Esc (napari's "finish drawing" there) also disarms a click
    tools.panel.ellipse_button.click()
    roi = viewer.layers.selection.active
    assert roi is not None and roi._type_string == "shapes" and roi is not view.lines
    key_on_canvas(viewer, qtbot, Qt.Key_M, Qt.ShiftModifier)
    assert c.click_armed
    key_on_canvas(viewer, qtbot, Qt.Key_Escape)
    assert not c.click_armed


def _clipped(widget) -> list[str]:
    """Visible controls of the dock whose right edge lies beyond what the dock can show
    without scrolling sideways (empty when nothing is cut off)."""
    scroll = widget.findChild(QScrollArea)
    body = scroll.widget()
    cut = []
    if body.width() < body.minimumSizeHint().width():
        cut.append(f"body {body.width()} < its minimum {body.minimumSizeHint().width()}")
    if body.width() > scroll.viewport().width() and not scroll.horizontalScrollBar().isVisible():
        cut.append(f"body {body.width()} > viewport {scroll.viewport().width()}, no scroll bar")
    window = widget.window()
    right = widget.mapTo(window, widget.rect().topRight()).x()
    if right >= window.width():
        cut.append(f"dock's right edge {right} beyond the window's {window.width()}")
    return cut


@pytest.mark.parametrize("size", [(1920, 1080), (1366, 768)])
def test_the_dock_fits_the_window_and_is_never_clipped(viewer, make_volume, qtbot, size):
    """After a proposal's long text and flags (which widen the measurement panel): at 1920 x
    1080 every panel shows in full (no sideways scrolling), at 1366 x 768 the dock leaves the
    canvas its room and scrolls; Save is on screen either way."""
    window = viewer.window._qt_window
    window.resize(*size)
    window.show()  # laid out as on a screen (the test viewer is hidden otherwise)
    widget = open_two_timepoints(viewer, make_volume)
    view = widget.controller.views["baseline"]
    qtbot.wait(50)
    _propose(widget, viewer, qtbot, view)
    qtbot.wait(100)
    scroll = widget.findChild(QScrollArea)
    assert _clipped(widget) == []
    canvas = viewer.window._qt_viewer.canvas.native
    if size[0] == 1920:
        assert not scroll.horizontalScrollBar().isVisible()
        assert scroll.widget().minimumSizeHint().width() <= scroll.viewport().width()
    else:
        assert widget.minimumWidth() <= WINDOW_SHARE * size[0] + 1
    assert canvas.width() >= 0.35 * size[0]
    # the proposal's words are scrolled into view, Accept stays on screen (1080p)
    text = widget.measurement.proposal_text
    assert text.visibleRegion().boundingRect().height() == text.height()
    if size[0] == 1920:
        accept = widget.lesions.accept_button
        assert accept.visibleRegion().boundingRect().height() == accept.height()
    # Save stays on screen without scrolling (below the panels, which scroll)
    save = widget.saving.save_button
    assert save.visibleRegion().boundingRect().height() == save.height()
    bottom = save.mapTo(window, save.rect().bottomRight())
    assert bottom.y() < window.height() and bottom.x() < window.width()
