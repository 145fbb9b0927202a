"""Real gestures for the GUI tests: mouse drags on napari's canvas (vispy events, as napari's
own tests send them) and key presses on the canvas widget (Qt events)."""

from __future__ import annotations

import datetime as dt

import numpy as np
from lesion_napari._layers import image_layer_data
from lesion_napari._widget import LesionWidget
from qtpy.QtCore import Qt
from vispy.app.canvas import MouseEvent


def open_two_timepoints(viewer, make_volume, *, reader: str | None = "R1", **volume_kwargs):
    """A docked widget with a baseline and a follow-up image (12 mm radius sphere)."""
    widget = LesionWidget(viewer)
    viewer.window.add_dock_widget(widget, area="right")
    if reader:
        widget.controller.set_reader(reader)
    for date, label, uid in (
        (dt.date(2026, 1, 2), "baseline", "1.2.3.1"),
        (dt.date(2026, 3, 2), "fu1", "1.2.3.2"),
    ):
        volume = make_volume(study_date=date, study_uid=uid, radius_mm=12.0, **volume_kwargs)
        data, kwargs, _ = image_layer_data(
            volume, phase="arterial", label=label, extra={"measure_on": True}
        )
        viewer.add_image(data, **kwargs)
    return widget


def _canvas(viewer):
    return viewer.window._qt_viewer.canvas


def canvas_pos(viewer, world_zyx) -> tuple[float, float]:
    """Canvas pixel (x, y) of a world point (its in-plane part)."""
    canvas = _canvas(viewer)
    transform = canvas.view.transform * canvas.view.scene.transform
    mapped = transform.map([float(world_zyx[2]), float(world_zyx[1])])
    return float(mapped[0]), float(mapped[1])


def drag(viewer, qtbot, start_world, end_world, *, steps: int = 5) -> None:
    """Press, move and release the left button on the canvas from one world point to another
    (on the slice of ``start_world``)."""
    viewer.dims.set_point(0, float(start_world[0]))
    scene = _canvas(viewer)._scene_canvas
    p0, p1 = np.array(canvas_pos(viewer, start_world)), np.array(canvas_pos(viewer, end_world))
    press = MouseEvent(pos=tuple(p0), modifiers=(), button=1, type="mouse_press")
    scene.events.mouse_press(pos=tuple(p0), modifiers=(), button=1)
    for t in np.linspace(0, 1, steps)[1:]:
        pos = tuple(p0 + t * (p1 - p0))
        scene.events.mouse_move(pos=pos, modifiers=(), button=1, press_event=press)
        qtbot.wait(10)  # napari throttles mouse moves (5 ms)
    scene.events.mouse_release(pos=tuple(p1), modifiers=(), button=1)
    qtbot.wait(20)  # the controller ends line mode once napari has finished the gesture


def click(viewer, qtbot, world) -> None:
    """Press and release the left button on the canvas at a world point (on its slice)."""
    viewer.dims.set_point(0, float(world[0]))
    scene = _canvas(viewer)._scene_canvas
    pos = canvas_pos(viewer, world)
    scene.events.mouse_press(pos=pos, modifiers=(), button=1)
    scene.events.mouse_release(pos=pos, modifiers=(), button=1)
    qtbot.wait(10)


def key_on_canvas(viewer, qtbot, key, modifier=Qt.NoModifier) -> None:
    """A key press on the canvas widget (where napari's key bindings listen)."""
    qtbot.keyClick(_canvas(viewer).native, key, modifier)


def world_of(view, voxel_zyx) -> np.ndarray:
    """World coordinates of a voxel of a timepoint's image."""
    return view.geometry.voxel_to_world(np.asarray(voxel_zyx, dtype=float))


def stroke(viewer, qtbot, start_world, end_world, *, steps: int = 12) -> None:
    """A brush stroke (paint or erase) on the canvas from one world point to another: as
    :func:`drag`, at whole canvas pixels as a real mouse gives them (napari's brush cursor
    accepts only those)."""
    viewer.dims.set_point(0, float(start_world[0]))
    scene = _canvas(viewer)._scene_canvas
    p0, p1 = np.array(canvas_pos(viewer, start_world)), np.array(canvas_pos(viewer, end_world))

    def pixel(t: float) -> tuple[int, int]:
        return tuple(round(float(v)) for v in p0 + t * (p1 - p0))

    press = MouseEvent(pos=pixel(0.0), modifiers=(), button=1, type="mouse_press")
    scene.events.mouse_press(pos=pixel(0.0), modifiers=(), button=1)
    for t in np.linspace(0, 1, steps)[1:]:
        scene.events.mouse_move(pos=pixel(t), modifiers=(), button=1, press_event=press)
        qtbot.wait(10)
    scene.events.mouse_release(pos=pixel(1.0), modifiers=(), button=1)
    qtbot.wait(20)
