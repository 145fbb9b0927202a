"""The click measurement in the plugin on a real patient, as a reader uses it: the 3D-IRCADb-01
patient 1 CT (portal venous, one DICOM per slice, no frame of reference, synthetic positions,
window 0 / 0 in its headers) read by the plugin's own reader, real key presses and mouse
gestures on the canvas, checked against the expert masks' ``truth.json`` and the core.

The series is read once per module (the reader's layer data, as napari gets it); each test
docks a fresh widget in a fresh viewer and adds the layer, as opening the folder does.
Skipped only where ../shared/data is absent.
"""

from __future__ import annotations

import html
import json

import numpy as np
import pytest
from _gui import canvas_pos, click, key_on_canvas, stroke, world_of
from lesion_napari._layers import volume_order
from lesion_napari._views import LINES_OPACITY, PROPOSED_WHOLE
from lesion_napari._widget import LesionWidget
from lesion_napari._zoom import MIN_FIELD_OF_VIEW_MM, MIN_ON_SCREEN_PX, zoom_to_show
from qtpy.QtCore import Qt

from lesion_tool.measurement import measure_lesion

pytestmark = pytest.mark.gui

TUMOURS = [f"livertumor0{k}" for k in range(1, 8)]
OUTSIDE_LIVER = [(63, 380, 256), (63, 300, 420)]
"""Clicks on IRCADb's slice 63 off the liver: behind the aorta (spine side) and in the patient's
left upper abdomen (the core refuses them: "not in the liver", "not surrounded by liver")."""


@pytest.fixture(scope="module")
def ircadb(shared_data):
    """``(layer data tuples from the plugin's reader, truth.json's tumours, the warnings shown
    on opening)``."""
    import lesion_napari._reader as plugin_reader

    case = shared_data / "ircadb" / "3Dircadb1.1"
    folder = str(case / "PATIENT_DICOM")
    reader = plugin_reader.get_reader(folder)
    assert reader is not None, "the plugin declines IRCADb's folder"
    said: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plugin_reader, "show_warning", said.append)
        layers = reader(folder)
    truth = json.loads((case / "truth.json").read_text())["tumours"]
    return layers, truth, said


def _open(viewer, layers):
    widget = LesionWidget(viewer)
    viewer.window.add_dock_widget(widget, area="right")
    widget.controller.set_reader("R1")
    for data, kwargs, _kind in layers:
        viewer.add_image(data, **kwargs)
    return widget, widget.controller.views["baseline"]


def _wait(qtbot, widget):
    c = widget.controller
    qtbot.waitUntil(lambda: c.proposal is not None and not c.measuring, timeout=30_000)
    return c.proposal


def _shown_slice(viewer, view) -> int:
    return int(np.round(view.geometry.world_to_voxel(np.asarray(viewer.dims.point))[0]))


def _voxels(mask, offset) -> set[tuple[int, int, int]]:
    return {tuple(int(v) for v in p) for p in np.argwhere(mask) + np.asarray(offset)}


def test_the_series_opens_readable(viewer, ircadb):
    """Window 0 / 0 in the headers: shown with the abdomen window, not black; the phase the
    pixels say (portal venous) and what that means for the reading, in words; the series,
    which has neither description nor number, named by its UID (it was 'measuring on ""')."""
    layers, _truth, said = ircadb
    assert any(
        "measuring on the series without a description (UID ...991212815128)" in m for m in said
    )
    assert not any('""' in m for m in said)
    widget, view = _open(viewer, layers)
    assert tuple(view.image.contrast_limits) == (-160.0, 240.0)  # W 400 L 40
    assert view.volume.shape == (129, 512, 512) and viewer.dims.nsteps[0] == 129
    assert "portal_venous" in view.image.name
    assert "viable ones are not mRECIST" in widget.study.phase_label.text()


@pytest.mark.parametrize("name", TUMOURS)
def test_a_click_at_a_tumours_deepest_point(viewer, ircadb, qtbot, name, notices):
    """Shift+M, a click at the tumour's deepest point (``truth.json``): the core's result,
    within max(3 mm, 10 %) of the expert's long axis, its contour and diameter on the slice the
    viewer shows, at the clicked place, framed large enough to judge, and its flags in
    words."""
    layers, truth, _said = ircadb
    t = truth[name]
    widget, view = _open(viewer, layers)
    zoom_before = viewer.camera.zoom
    key_on_canvas(viewer, qtbot, Qt.Key_M, Qt.ShiftModifier)
    click(viewer, qtbot, world_of(view, t["deepest_point_zyx"]))
    p = _wait(qtbot, widget)
    assert p.seed_zyx == tuple(float(v) for v in t["deepest_point_zyx"])
    expert = t["long_axis_mm"]
    assert p.whole_mm == pytest.approx(expert, abs=max(3.0, 0.1 * expert))
    core = measure_lesion(view.volume, p.prompt, phase="portal_venous")
    assert p.whole_mm == pytest.approx(core.longest_diameter_mm)
    # the contour: the core's mask, voxel for voxel, in the proposal layer
    labels = volume_order(view.geometry, np.asarray(view.proposal.data))
    assert _voxels(labels > 0, p.box) == _voxels(core.mask, core.offset)
    # ... on the slice shown, where the image shows those voxels
    z = core.whole.slice_index
    assert _shown_slice(viewer, view) == z
    on_slice = np.argwhere(core.mask[z - core.offset[0]]) + np.asarray(core.offset[1:])
    for yx in on_slice[:: max(1, len(on_slice) // 25)]:
        world = view.geometry.voxel_to_world(np.array([z, *yx], dtype=float))
        index = tuple(int(v) for v in np.round(view.proposal.world_to_data(world)))
        assert view.proposal.data[index] > 0
        image_index = np.round(view.image.world_to_data(world)).astype(int)
        assert view.image.data[tuple(image_index)] == view.volume.array[z, yx[0], yx[1]]
    # the diameter line: the core's ends, on that slice, drawn opaque with its text
    roles = [str(r) for r in view.lines.features["role"]]
    line = view.geometry.display_to_voxel(np.asarray(view.lines.data[roles.index(PROPOSED_WHOLE)]))
    ends = np.array([core.whole.start_voxel, core.whole.end_voxel])
    assert np.allclose(line, ends, atol=1e-6) or np.allclose(line, ends[::-1], atol=1e-6)
    assert view.lines.opacity == LINES_OPACITY == 1.0
    label = str(view.lines.features["label"][roles.index(PROPOSED_WHOLE)])
    assert f"{p.whole_mm:.1f}" in label
    # framed: a small proposal is zoomed into (tumour 06, 11.9 mm), a large one keeps the zoom
    a, b = (np.array(canvas_pos(viewer, world_of(view, e))) for e in p.whole)
    on_screen = float(np.linalg.norm(a - b))
    assert zoom_to_show(p.whole_mm, viewer.camera.zoom, viewer.canvas.size) is None
    if min(viewer.canvas.size) >= MIN_ON_SCREEN_PX * MIN_FIELD_OF_VIEW_MM / p.whole_mm:
        assert on_screen >= MIN_ON_SCREEN_PX - 1
    if p.whole_mm * zoom_before >= MIN_ON_SCREEN_PX:
        assert viewer.camera.zoom == pytest.approx(zoom_before)
    # flags in words, never an unflagged result shown as sound when the core doubts it
    text = widget.measurement.proposal_text.text()
    if p.flags:
        assert "Check this result" in text and "No warning" not in text
        assert all(flag.split(":")[0].split("(")[0].strip() in text for flag in p.flags)
    else:
        assert "No warning from the automatic checks" in text


def test_corrections_then_accept_and_the_reading_is_saved(viewer, ircadb, qtbot, tmp_path):
    """Tumour 02: Tighter gives a smaller region, Looser the first one back, an erase stroke
    across the contour changes it and its diameters, Shift+A records it with its contour, and
    the saved reading carries the measurement."""
    layers, truth, _said = ircadb
    t = truth["livertumor02"]
    widget, view = _open(viewer, layers)
    c = widget.controller
    key_on_canvas(viewer, qtbot, Qt.Key_M, Qt.ShiftModifier)
    click(viewer, qtbot, world_of(view, t["deepest_point_zyx"]))
    first = _wait(qtbot, widget)
    first_voxels = int(first.result.mask.sum())
    qtbot.mouseClick(widget.measurement.tighter_button, Qt.LeftButton)
    tighter = _wait(qtbot, widget)
    assert tighter.prompt.threshold_offset_hu == 10.0 and tighter.lesion_id == first.lesion_id
    assert 0 < tighter.result.mask.sum() < first_voxels
    assert "10 HU tighter" in widget.measurement.proposal_text.text()
    # the region shrank while its longest diameter may have grown: both said, before -> after
    said = (
        f"Tighter: region {first.result.volume_ml:.1f} -> {tighter.result.volume_ml:.1f} mL, "
        f"whole lesion {first.whole_mm:.1f} -> {tighter.whole_mm:.1f} mm."
    )
    assert said in html.unescape(widget.measurement.proposal_text.text())
    labels = volume_order(view.geometry, np.asarray(view.proposal.data))
    assert (labels > 0).sum() == tighter.result.mask.sum()  # the layer shows the new contour
    qtbot.mouseClick(widget.measurement.looser_button, Qt.LeftButton)
    back = _wait(qtbot, widget)
    assert back.prompt.threshold_offset_hu == 0.0
    assert back.result.mask.sum() == first_voxels and back.whole_mm == pytest.approx(first.whole_mm)
    # erase a band across the contour on the shown slice, as a reader's brush does
    z = back.result.whole.slice_index
    assert _shown_slice(viewer, view) == z
    labels_at_z = volume_order(view.geometry, np.array(view.proposal.data))[z - back.box[0]]
    qtbot.mouseClick(widget.measurement.erase_button, Qt.LeftButton)
    assert view.proposal.mode == "erase" and c.editing()
    _z, y, x = (float(v) for v in t["deepest_point_zyx"])
    stroke(viewer, qtbot, world_of(view, (z, y - 30, x + 6)), world_of(view, (z, y + 30, x + 6)))
    qtbot.waitUntil(lambda: back.edited, timeout=10_000)
    edited = volume_order(view.geometry, np.asarray(view.proposal.data))
    before = (labels_at_z > 0).sum()
    assert 0 < (edited[z - back.box[0]] > 0).sum() < before  # erased on the shown slice only
    assert (edited > 0).sum() == first_voxels - (before - (edited[z - back.box[0]] > 0).sum())
    assert back.result.mask.sum() == (edited > 0).sum()
    assert "edited by you" in widget.measurement.proposal_text.text()
    key_on_canvas(viewer, qtbot, Qt.Key_Escape)
    assert not c.editing()
    z = back.result.whole.slice_index  # the edited contour's longest diameter may lie elsewhere
    # accept (Kind longest: a portal-venous image gives no viable diameter), then save
    widget.measurement.kind_combo.setCurrentText("longest")
    key_on_canvas(viewer, qtbot, Qt.Key_A, Qt.ShiftModifier)
    t1 = c.session.timepoint("baseline").lesion("T1")
    assert t1 is not None and c.proposal is None
    assert t1.longest_diameter_mm == pytest.approx(back.whole_mm, abs=0.05)
    assert t1.segmentation is not None and t1.segmentation.edited and t1.segmentation.z == z
    path = c.save(tmp_path / "reading.json")
    stored = json.loads(path.read_text())["timepoints"][0]["lesions"]
    assert [lesion["id"] for lesion in stored] == ["T1"]
    seg = stored[0]["segmentation"]
    assert stored[0]["longest_diameter_mm"] == pytest.approx(back.whole_mm, abs=0.05)
    assert seg["z"] == z and seg["edited"] is True
    assert seg["prompt"]["seed"] == [float(v) for v in t["deepest_point_zyx"]]
    ys, xs = np.array(seg["contour"], dtype=float).T
    on_slice = np.argwhere(back.result.mask[z - back.result.offset[0]])
    on_slice += np.asarray(back.result.offset[1:])
    assert (
        abs(ys.min() - on_slice[:, 0].min()) <= 1.0 and abs(ys.max() - on_slice[:, 0].max()) <= 1.0
    )
    assert (
        abs(xs.min() - on_slice[:, 1].min()) <= 1.0 and abs(xs.max() - on_slice[:, 1].max()) <= 1.0
    )


@pytest.mark.parametrize("voxel", OUTSIDE_LIVER)
def test_a_click_outside_the_liver_is_refused_and_nothing_recorded(
    viewer, ircadb, qtbot, notices, tmp_path, voxel
):
    """A click off the liver: the core's refusal shown as an error with its reason, no proposal
    drawn, nothing recorded, and a saved reading without lesions."""
    layers, _truth, _said = ircadb
    widget, view = _open(viewer, layers)
    c = widget.controller
    key_on_canvas(viewer, qtbot, Qt.Key_M, Qt.ShiftModifier)
    click(viewer, qtbot, world_of(view, voxel))
    qtbot.waitUntil(lambda: bool(notices.errors) and not c.measuring, timeout=30_000)
    assert (
        "not in the liver" in notices.errors[-1] or "not surrounded by liver" in notices.errors[-1]
    )
    assert f"voxel {voxel}" in notices.errors[-1]
    assert c.proposal is None
    assert (np.asarray(view.proposal.data) == 0).all()
    assert not any(str(r).startswith("proposed") for r in view.lines.features["role"])
    assert c.session.timepoint("baseline").lesions == ()
    path = c.save(tmp_path / "reading.json")
    assert json.loads(path.read_text())["timepoints"][0]["lesions"] == []
