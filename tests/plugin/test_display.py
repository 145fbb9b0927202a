"""The display tools in a real napari viewer: HU probe in the status bar whichever layer is
active, window / level by right-drag (real Qt mouse events) and typed, presets, ROI, scale bar,
orientation letters, patient / series overlay, opening at the liver (real HCC_006)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import warnings
from pathlib import Path

import numpy as np
import pytest
from lesion_napari._display import INFO_OVERLAY, LETTER_OVERLAYS, install_display
from lesion_napari._display_roi import ROI_LAYER
from lesion_napari._layers import DisplayGeometry, image_layer_data
from qtpy.QtCore import QEvent, QPointF, Qt
from qtpy.QtGui import QMouseEvent
from qtpy.QtWidgets import QApplication

from lesion_tool.io import load_series
from lesion_tool.io.slices import SeriesDisplayInfo, series_display_info
from lesion_tool.viewing import PRESETS, Window

pytestmark = pytest.mark.gui

HCC_006 = "hcc-tace-seg/HCC_006/08-06-1999-NA-ABDPEL LIVER-65146/103.000000-LIVER 3 PHASE AP-45033"


def _show(viewer, volume, info=None, label="baseline"):
    data, kwargs, _ = image_layer_data(
        volume, phase="arterial", label=label, extra={"measure_on": True}
    )
    layer = viewer.add_image(data, **kwargs)
    return layer, install_display(viewer, layer, volume, info)


def _info(volume) -> SeriesDisplayInfo:
    n = volume.shape[0]
    return SeriesDisplayInfo(
        "PAT-1", volume.study_date, 5, "ART test", tuple(range(n, 0, -1)), window=(60.0, 360.0)
    )


def _canvas(viewer):
    return viewer.window._qt_viewer.canvas.native


def _mouse(widget, kind, pos, button=Qt.NoButton, buttons=Qt.NoButton):
    event = QMouseEvent(kind, QPointF(*pos), button, buttons, Qt.NoModifier)
    QApplication.sendEvent(widget, event)


def _centre_pixel(widget) -> tuple[float, float]:
    return widget.width() / 2.0, widget.height() / 2.0


def test_status_shows_hu_and_pacs_numbers_while_lines_layer_is_active(
    make_napari_viewer, make_volume, qtbot
):
    viewer = make_napari_viewer(show=True)
    volume = make_volume(radius_mm=12.0)
    _layer, tools = _show(viewer, volume, _info(volume))
    lines = viewer.add_shapes(
        ndim=3, name="Lines", **DisplayGeometry.from_volume(volume).layer_kwargs()
    )
    lines.mode = "add_line"
    viewer.layers.selection.active = lines
    tools.go_to_slice(tools.current(), 4)
    canvas = _canvas(viewer)
    qtbot.waitExposed(canvas)
    viewer.reset_view()
    qtbot.wait(100)
    x, y = _centre_pixel(canvas)
    # the mouse enters the window (napari starts its status thread) and the canvas
    for widget in (viewer.window._qt_window, canvas):
        QApplication.sendEvent(widget, QEvent(QEvent.Enter))
    assert viewer.mouse_over_canvas
    _mouse(canvas, QEvent.MouseMove, (x, y))
    _mouse(canvas, QEvent.MouseMove, (x + 1, y + 1))
    # napari computes the status in its StatusChecker thread, which make_napari_viewer
    # disables: run its one step here (napari's own code path, on the main thread)
    viewer.window._qt_window.status_thread.calculate_status()

    def probed() -> bool:
        status = viewer.status
        return isinstance(status, dict) and "HU" in status.get("coordinates", "")

    qtbot.waitUntil(probed, timeout=5000)
    text = viewer.status["coordinates"]
    # the sphere (200 HU) is at the centre; slice 4 of 8 is InstanceNumber 8 - 4 = 4
    assert text.startswith("200 HU · Se 5 · Im 4 · ")
    assert text.endswith(" mm")
    assert viewer.status["layer_base"] == _layer.name


def test_side_by_side_grid_probes_the_image_under_the_mouse(make_napari_viewer, make_volume, qtbot):
    viewer = make_napari_viewer(show=True)
    baseline = make_volume(radius_mm=12.0)
    follow_up = make_volume(radius_mm=12.0, study_uid="1.2.3.2", study_date=dt.date(2026, 3, 2))
    follow_up.array[:] += 50  # sphere 250 HU: the two cells differ
    _show(viewer, baseline, _info(baseline))
    _show(viewer, follow_up, _info(follow_up), label="fu1")
    viewer.canvas.grid.enabled = True
    canvas = _canvas(viewer)
    qtbot.waitExposed(canvas)
    viewer.reset_view()
    qtbot.wait(100)
    for widget in (viewer.window._qt_window, canvas):
        QApplication.sendEvent(widget, QEvent(QEvent.Enter))
    seen = []
    for fraction in (0.25, 0.75):  # the centre of the left and of the right cell
        _mouse(canvas, QEvent.MouseMove, (canvas.width() * fraction, canvas.height() / 2))
        qtbot.wait(50)
        viewer.window._qt_window.status_thread.calculate_status()
        seen.append(viewer.status["coordinates"].split(" HU")[0])
    assert set(seen) == {"200", "250"}
    # the overlay (top left, over the left cell) names the left cell's image, not another
    left_date = {"200": baseline.study_date, "250": follow_up.study_date}[seen[0]]
    first_line = viewer.canvas.overlays[INFO_OVERLAY].text.splitlines()[0]
    assert first_line == f"PAT-1 · {left_date.isoformat()}"


def test_right_drag_changes_window_not_zoom_nor_lines(make_napari_viewer, make_volume, qtbot):
    viewer = make_napari_viewer(show=True)
    volume = make_volume()
    layer, tools = _show(viewer, volume, _info(volume))
    lines = viewer.add_shapes(
        ndim=3, name="Lines", **DisplayGeometry.from_volume(volume).layer_kwargs()
    )
    lines.mode = "add_line"
    viewer.layers.selection.active = lines
    canvas = _canvas(viewer)
    qtbot.waitExposed(canvas)
    assert tuple(layer.contrast_limits) == PRESETS["abdomen"].limits
    zoom = viewer.camera.zoom
    x, y = _centre_pixel(canvas)
    _mouse(canvas, QEvent.MouseButtonPress, (x, y), Qt.RightButton, Qt.RightButton)
    for step in range(1, 6):
        _mouse(canvas, QEvent.MouseMove, (x + 10 * step, y - 4 * step), Qt.NoButton, Qt.RightButton)
        qtbot.wait(20)
    _mouse(canvas, QEvent.MouseButtonRelease, (x + 50, y - 20), Qt.RightButton, Qt.NoButton)
    # 50 px right widens by 100 HU, 20 px up lowers the level by 40 HU
    assert Window.from_limits(*layer.contrast_limits) == Window(0.0, 500.0)
    assert viewer.camera.zoom == pytest.approx(zoom)
    assert len(lines.data) == 0
    assert viewer.layers.selection.active is lines
    panel = tools.panel
    assert (panel.width_spin.value(), panel.level_spin.value()) == (500.0, 0.0)
    assert panel.preset_combo.currentText() == "custom"


def test_typed_window_presets_and_series_window(make_napari_viewer, make_volume, qtbot):
    viewer = make_napari_viewer()
    volume = make_volume()
    layer, tools = _show(viewer, volume, _info(volume))
    other, _ = _show(viewer, make_volume(study_uid="1.2.3.2"), label="fu1")
    panel = tools.panel
    panel.width_spin.setValue(250)
    panel.level_spin.setValue(70)
    assert tuple(layer.contrast_limits) == (-55.0, 195.0)
    assert tuple(other.contrast_limits) == (-55.0, 195.0)  # same window on every timepoint
    items = [panel.preset_combo.itemText(i) for i in range(panel.preset_combo.count())]
    assert items == ["abdomen", "liver", "bone", "lung", "custom"]  # fu1 (on top) has none
    viewer.layers.move(viewer.layers.index(layer), len(viewer.layers))  # baseline on top
    tools.set_preset("abdomen")
    items = [panel.preset_combo.itemText(i) for i in range(panel.preset_combo.count())]
    assert "series" in items
    panel.preset_combo.setCurrentText("series")
    assert tuple(layer.contrast_limits) == (-120.0, 240.0)
    panel.preset_combo.setCurrentText("lung")
    assert tuple(layer.contrast_limits) == PRESETS["lung"].limits
    # napari's own contrast slider moves the spin boxes too
    layer.contrast_limits = (0.0, 100.0)
    assert (panel.width_spin.value(), panel.level_spin.value()) == (100.0, 50.0)


def test_roi_ellipse_stats_on_its_slice(make_napari_viewer, make_volume, qtbot):
    viewer = make_napari_viewer()
    volume = make_volume(radius_mm=12.0)  # 200 HU sphere in 100 HU
    _layer, tools = _show(viewer, volume, _info(volume))
    tools.panel.ellipse_button.click()
    roi = tools.roi.layer()
    assert roi.name == ROI_LAYER and roi.mode == "add_ellipse"
    # an ellipse of radius 5 px around the sphere's centre on display slice 4
    centre = (np.asarray(volume.shape) - 1) / 2.0
    cy, cx = centre[1], centre[2]
    box = [[4, cy - 5, cx - 5], [4, cy - 5, cx + 5], [4, cy + 5, cx + 5], [4, cy + 5, cx - 5]]
    roi.add_ellipses(np.array(box))
    assert roi.mode == "select"  # one ROI per click of the button
    stats = tools.roi.last
    assert stats is not None
    assert (stats.mean, stats.sd, stats.minimum, stats.maximum) == (200.0, 0.0, 200.0, 200.0)
    assert stats.area_mm2 == pytest.approx(stats.n_pixels * 0.8 * 0.8)
    assert stats.n_pixels == pytest.approx(np.pi * 25, rel=0.15)
    assert "Im 4" in tools.roi.text and "mean 200.0 HU" in tools.panel.roi_label.text()
    # a rectangle straddling sphere and background: both values, SD > 0
    tools.start_roi("rectangle")
    rect = [[4, cy - 2, cx], [4, cy - 2, 63], [4, cy + 2, 63], [4, cy + 2, cx]]
    roi.add_rectangles(np.array(rect))
    assert tools.roi.last.minimum == 100.0 and tools.roi.last.maximum == 200.0
    assert tools.roi.last.sd > 0


def test_overlays_scale_bar_letters_and_series_text(make_napari_viewer, make_volume, qtbot):
    viewer = make_napari_viewer()
    volume = make_volume()
    _layer, tools = _show(viewer, volume, _info(volume))
    overlays = viewer.canvas.overlays
    assert overlays.scale_bar.visible
    assert [str(u) for u in viewer.layers.units] == ["millimeter"] * 3
    letters = {edge: overlays[key].text for edge, (key, _) in LETTER_OVERLAYS.items()}
    assert letters == {"top": "A", "bottom": "P", "left": "R", "right": "L"}
    tools.go_to_slice(tools.current(), 2)
    text = overlays[INFO_OVERLAY].text
    assert text.splitlines()[:2] == ["PAT-1 · 2026-01-02", "Se 5 · ART test"]
    assert text.splitlines()[2].startswith("Se 5 · Im 6 · loc ")
    assert text.splitlines()[3] == "W 400 L 40"
    viewer.camera.orientation2d = ("up", "left")
    letters = {edge: overlays[key].text for edge, (key, _) in LETTER_OVERLAYS.items()}
    assert letters == {"top": "P", "bottom": "A", "left": "L", "right": "R"}
    viewer.dims.ndisplay = 3
    assert not overlays[LETTER_OVERLAYS["top"][0]].visible


@pytest.fixture(scope="module")
def hcc_006(shared_data: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_series(shared_data / HCC_006)


def test_hcc_006_opens_at_the_liver_with_overlays(make_napari_viewer, hcc_006, qtbot, test_output):
    viewer = make_napari_viewer(show=True)
    viewer.window.resize(1400, 900)
    _layer, tools = _show(viewer, hcc_006)
    qtbot.waitUntil(lambda: tools.current().liver is not None, timeout=30_000)
    shown = tools.current()
    assert tools.slice_index(shown) == shown.liver.index
    info = series_display_info(hcc_006)
    text = viewer.canvas.overlays[INFO_OVERLAY].text
    assert text.startswith("HCC_006 · 1999-08-06\nSe 103 · LIVER 3 PHASE (AP)\n")
    assert info.label(shown.liver.index) in text
    assert "series" in [tools.panel.preset_combo.itemText(i) for i in range(6)]
    viewer.reset_view()
    qtbot.wait(500)
    path = test_output / "display_hcc_006.png"
    viewer.screenshot(str(path), canvas_only=False, flash=False)
    assert path.stat().st_size > 10_000


def test_widget_opens_real_hcc_006_at_the_liver_probe_and_roi(
    make_napari_viewer, shared_data, qtbot, test_output
):
    """File > Open on the real study with the widget docked: the hook in the widget installs
    the tools on the lazy (per-slice) arterial layer; the mouse probes the liver and an ellipse
    ROI drawn with the mouse reads its HU (HCC_006 liver about 105 HU, see the data README)."""
    from lesion_napari._widget import LesionWidget

    viewer = make_napari_viewer(show=True)
    viewer.window.resize(1600, 1000)
    widget = LesionWidget(viewer)
    viewer.window.add_dock_widget(widget, area="right")
    viewer.open(str(shared_data / HCC_006), plugin="lesion-tool")
    qtbot.waitUntil(lambda: len(widget.controller.views) == 1, timeout=30_000)
    view = next(iter(widget.controller.views.values()))
    tools = install_display(viewer, view.image, view.volume)  # already installed: same tools
    shown = tools.current()
    assert shown.layer is view.image and len(tools.images) == 1
    qtbot.waitUntil(lambda: shown.liver is not None, timeout=30_000)
    assert tools.slice_index(shown) == shown.liver.index
    assert tuple(view.image.contrast_limits) == PRESETS["abdomen"].limits
    viewer.reset_view()
    qtbot.wait(300)

    canvas = _canvas(viewer)
    for target in (viewer.window._qt_window, canvas):
        QApplication.sendEvent(target, QEvent(QEvent.Enter))
    # the liver is on the screen's left (patient's right), a little above the middle
    x, y = canvas.width() * 0.3, canvas.height() * 0.45
    _mouse(canvas, QEvent.MouseMove, (x, y))
    qtbot.wait(50)
    viewer.window._qt_window.status_thread.calculate_status()
    text = viewer.status["coordinates"]
    voxel = np.round(shown.geometry.world_to_voxel(np.asarray(viewer.cursor.position))).astype(int)
    hu = int(np.asarray(view.volume.array[tuple(voxel)]))
    assert text.startswith(f"{hu} HU · {shown.info.label(int(voxel[0]))} · ")
    assert 60 <= hu <= 160  # liver parenchyma

    tools.panel.ellipse_button.click()
    r = canvas.width() * 0.04
    _mouse(canvas, QEvent.MouseButtonPress, (x - r, y - r), Qt.LeftButton, Qt.LeftButton)
    for k in range(1, 5):
        pos = (x - r + k * r / 2, y - r + k * r / 2)
        _mouse(canvas, QEvent.MouseMove, pos, Qt.NoButton, Qt.LeftButton)
        qtbot.wait(20)
    _mouse(canvas, QEvent.MouseButtonRelease, (x + r, y + r), Qt.LeftButton, Qt.NoButton)
    qtbot.waitUntil(lambda: tools.roi.last is not None, timeout=5000)
    stats = tools.roi.last
    assert 80 <= stats.mean <= 130 and stats.sd < 40, stats
    assert tools.roi.layer().mode == "select"
    assert shown.info.label(shown.liver.index) in tools.panel.roi_label.text()
    _mouse(canvas, QEvent.MouseMove, (x, y))
    qtbot.wait(50)
    viewer.window._qt_window.status_thread.calculate_status()
    qtbot.wait(300)
    path = test_output / "display_hcc_006_widget.png"
    viewer.screenshot(str(path), canvas_only=False, flash=False)
    assert path.stat().st_size > 10_000


def test_the_slider_spans_the_shown_series_and_names_its_slice(make_napari_viewer, make_volume):
    """Finding 5: "slider 72 of 111, stretched by a one-slice series", a 0-based index and no
    PACS number. A hidden one-slice series 40 mm below stretches napari's slider no more, and
    the slider's label is the slice's ``Se / Im``."""
    viewer = make_napari_viewer()
    volume = make_volume()  # 8 slices of 2.5 mm
    _layer, tools = _show(viewer, volume, _info(volume))
    lone = dataclasses.replace(
        make_volume(shape=(1, 64, 64)), origin_mm=(-25.0, -25.0, 60.0), series_instance_uid="9"
    )
    data, kwargs, _ = image_layer_data(lone, phase="unenhanced", label="baseline", visible=False)
    viewer.add_image(data, **kwargs)
    assert (
        max(layer.extent.world[1][0] for layer in viewer.layers)
        - min(layer.extent.world[0][0] for layer in viewer.layers)
        > 40.0
    )  # napari alone would span both series
    assert viewer.dims.nsteps[0] == 8
    viewer.add_shapes(ndim=3, name="more")  # any layer change: napari resets the range
    assert viewer.dims.nsteps[0] == 8
    for z in (0, 5):
        tools.go_to_slice(tools.current(), z)
        assert viewer.dims.axis_labels[0] == f"Se 5 · Im {8 - z}"  # _info numbers 8, 7, ... 1
    shown = tools.current()
    assert tools.slice_index(shown) == 5  # the same slice kept when the range was refitted
