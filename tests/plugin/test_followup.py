"""Next target at a follow-up: the baseline target carried over by registration, with the baseline
and follow-up side by side and linked through the mapping (issue 15).

A small synthetic patient moved between the visits (``visit_motion``: patient shift and roll,
10-20 mm breathing, liver volume change); the truth (each lesion's centre at both visits and its
follow-up mask) comes from the generator. The first test registers in the plugin's worker; the
second opens a copy of the reading whose sidecar file the ``propagate`` command wrote beforehand
(its own fixture, so it holds whichever test ran before it, or on whichever pytest-xdist worker).
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import SimpleITK as sitk
from _gui import _canvas, canvas_pos, key_on_canvas
from qtpy.QtCore import Qt

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def moved(tmp_path_factory):
    """The patient, its truth, and a reading with the baseline targets measured (the truth's)
    and nothing yet at the follow-up."""
    from lesion_tool.synth import generate_patient

    root = tmp_path_factory.mktemp("moved")
    pdir = generate_patient(
        root / "images",
        patient_id="FU-LINK",
        seed=21,
        shape=(32, 112, 112),
        spacing_mm=(2.5, 2.0, 2.0),
        n_timepoints=2,
        phases=("arterial",),
        visit_motion=True,
        write_masks=True,
        n_lesions=2,
    )
    truth = json.loads((pdir / "truth.json").read_text())
    reading = json.loads((pdir / "assessment_truth.json").read_text())
    reading["reader"] = "R1"
    reading["timepoints"][1]["lesions"] = []
    path = root / "reading" / "FU-LINK_R1.json"
    path.parent.mkdir()
    path.write_text(json.dumps(reading))
    mask = sitk.GetArrayFromImage(
        sitk.ReadImage(str(pdir / truth["timepoints"][1]["masks"]["lesions"]))
    )
    return {"dir": pdir, "truth": truth, "reading": path, "text": path.read_text(), "fu_mask": mask}


@pytest.fixture(scope="module")
def registered(moved, tmp_path_factory):
    """``moved`` with a reading of its own (same content) whose registration sidecar the
    ``propagate`` command has written: the plugin must reuse it, not register again. Not the
    sidecar another test's registration left behind (that made the test depend on running after
    it, in the same process: it failed alone and under pytest-xdist)."""
    from lesion_tool.cli import main
    from lesion_tool.registration.cache import sidecar_path

    path = tmp_path_factory.mktemp("registered") / moved["reading"].name
    path.write_text(moved["text"])
    assert main(["propagate", str(path), "--images", str(moved["dir"]), "--timepoint", "fu1"]) == 0
    assert sidecar_path(path).is_file()
    return {**moved, "reading": path}


def _open(viewer, qtbot, moved):
    from lesion_napari._widget import LesionWidget

    widget = LesionWidget(viewer)
    viewer.window.add_dock_widget(widget, area="right")
    c = widget.controller
    c.open_study(moved["dir"])
    qtbot.waitUntil(lambda: not c.loading, timeout=120_000)
    moved["reading"].write_text(moved["text"])  # as before any test measured (autosave)
    c.open_assessment(moved["reading"])
    c.set_timepoint("fu1")
    return widget, c


def _lesion(moved, index: int, lesion_id: str) -> dict:
    return next(
        les for les in moved["truth"]["timepoints"][index]["lesions"] if les["id"] == lesion_id
    )


def _slice_of(view, world) -> int:
    """The slice of a timepoint's image a canvas shows at a world point."""
    return round(float(view.geometry.world_to_voxel(np.asarray(world, dtype=float))[0]))


def test_next_target_at_follow_up_carries_it_with_linked_views(viewer, qtbot, moved, notices):
    """Shift+N at the follow-up: registration in the background, then the follow-up canvas at the
    carried target (within one slice of the truth), the baseline canvas at the baseline lesion,
    the proposal open; slice, zoom and cursor of either canvas move the other through the
    mapping (not to the same world point: the visit moved the lesion ~17 mm)."""
    from lesion_napari._followup import world_maps
    from lesion_napari._linked import world_position

    _widget, c = _open(viewer, qtbot, moved)
    key_on_canvas(viewer, qtbot, Qt.Key_N, Qt.ShiftModifier)  # Next target
    assert c.current_lesion_id == "T1"
    assert c.follow.busy or c.follow.ready("fu1")  # the registration runs in a worker
    qtbot.waitUntil(lambda: c.follow.ready("fu1"), timeout=180_000)
    qtbot.waitUntil(lambda: c.proposal is not None, timeout=60_000)
    assert "carried from baseline to fu1" in c.follow.status

    base, fu = c.views["baseline"], c.views["fu1"]
    canvas = c.follow.canvas
    assert canvas is not None and not canvas.dock.isHidden()
    b_truth, f_truth = _lesion(moved, 0, "T1"), _lesion(moved, 1, "T1")
    # the follow-up canvas shows the carried lesion's slice, the baseline canvas the baseline one
    assert abs(_slice_of(fu, world_position(viewer)) - f_truth["centre_voxel"][0]) <= 1.0
    base_at = world_position(canvas.model)
    # mapped back through the registration: its error on the synthetic set reaches ~4 mm
    # (bench_propagate), 1.6 slices of 2.5 mm
    assert abs(_slice_of(base, base_at) - b_truth["centre_voxel"][0]) <= 1.5
    centre_world = base.geometry.voxel_to_world(np.asarray(b_truth["centre_voxel"]))
    assert np.linalg.norm(base_at[1:] - centre_world[1:]) < 10.0
    # the proposal (the controller's own flow) lies in the follow-up lesion
    p = c.proposal
    assert (p.label, p.lesion_id) == ("fu1", "T1")
    seed = tuple(round(v) for v in p.seed_zyx)
    assert moved["fu_mask"][seed] == f_truth["mask_label"]

    carried = c.follow.carried[(base.volume.series_instance_uid, fu.volume.series_instance_uid)]
    base_to_fu, fu_to_base = world_maps(carried.registration, base, fu)
    spacing_z = fu.geometry.scale[0]

    # a real key on the main canvas steps the follow-up slice: the baseline follows the mapping
    before = world_position(viewer)
    key_on_canvas(viewer, qtbot, Qt.Key_Right)
    qtbot.wait(20)
    after = world_position(viewer)
    assert abs(after[0] - before[0]) == pytest.approx(spacing_z, abs=1e-6)
    expected = fu_to_base(after)
    linked = world_position(canvas.model)
    assert abs(linked[0] - expected[0]) <= base.geometry.scale[0] / 2 + 1e-6
    assert np.allclose(linked[1:], expected[1:], atol=1e-3)
    assert abs(linked[0] - after[0]) > 2 * spacing_z  # not the same world point

    # zoom and pan on the main canvas: the baseline canvas keeps the same scale and anatomy
    viewer.camera.zoom = viewer.camera.zoom * 2.0
    assert canvas.model.camera.zoom == pytest.approx(viewer.camera.zoom)
    viewer.camera.center = (after[1] + 12.0, after[2] - 8.0)
    expected = fu_to_base(world_position(viewer))
    assert np.allclose(world_position(canvas.model)[1:], expected[1:], atol=1e-3)

    # a slice step on the baseline canvas (a real key on it): the follow-up follows the forward
    # mapping
    before = world_position(canvas.model)
    qtbot.keyClick(canvas.qt_viewer.canvas.native, Qt.Key_Left)
    qtbot.wait(20)
    moved_to = world_position(canvas.model)
    assert abs(_slice_of(base, before) - _slice_of(base, moved_to)) == 1  # one slice
    expected = base_to_fu(moved_to)
    assert abs(world_position(viewer)[0] - expected[0]) <= spacing_z / 2 + 1e-6
    assert np.allclose(world_position(viewer)[1:], expected[1:], atol=1e-3)

    # the mouse over the main canvas (a real vispy move event): its mark on the baseline canvas
    here = world_position(viewer)
    pos = canvas_pos(viewer, here)
    _canvas(viewer)._scene_canvas.events.mouse_move(pos=pos, modifiers=(), button=None)
    qtbot.wait(30)
    mark = canvas.model.layers["Linked cursor"]
    assert mark.visible
    cursor = np.asarray(viewer.cursor.position, dtype=float)
    marked = np.asarray(mark.data_to_world(mark.data[0]))
    assert np.allclose(marked, fu_to_base(cursor), atol=1e-3)
    assert np.linalg.norm(marked - cursor) > 5.0  # through the mapping

    # accepting records the carried measurement at the follow-up
    c.accept_proposal()
    assert c.session.timepoint("fu1").lesion("T1") is not None


def test_a_target_not_found_with_confidence_shows_why_and_no_proposal(
    viewer, qtbot, registered, notices, monkeypatch
):
    """A flagged target gets no proposal: the reasons in words, and marking it absent or not
    evaluable still works. The registration comes from the reading's sidecar, written by the
    ``propagate`` command (the plugin and the command key a pair alike: no second run)."""
    import lesion_napari._followup as followup

    monkeypatch.setattr(followup, "show_warning", notices.warnings.append)
    _widget, c = _open(viewer, qtbot, registered)
    c.next_lesion()
    qtbot.waitUntil(lambda: c.follow.ready("fu1"), timeout=120_000)
    base, fu = c.views["baseline"], c.views["fu1"]
    carried = c.follow.carried[(base.volume.series_instance_uid, fu.volume.series_instance_uid)]
    assert carried.cached  # the propagate command's registration, from the sidecar
    qtbot.waitUntil(lambda: c.proposal is not None, timeout=60_000)
    c.reject_proposal()
    # T2 as the core flags a target whose surroundings do not match (see test_registration)
    reason = "the follow-up does not look like the baseline around the target"
    carried.proposals["T2"] = dataclasses.replace(
        carried.proposals["T2"], status="flagged", reasons=[reason], confidence=0.0
    )
    c.next_lesion()
    assert c.current_lesion_id == "T2"
    qtbot.wait(50)
    assert c.proposal is None and not c.measuring
    assert "T2 was not found with confidence" in c.follow.status
    assert reason in c.follow.status and "absent / not evaluable" in c.follow.status
    assert any(reason in w for w in notices.warnings)
    assert c.follow.canvas.status.text() == c.follow.status
    c.edit_current(record=True, state="absent")
    assert str(c.session.timepoint("fu1").lesion("T2").state) == "absent"


def test_other_phase_of_the_visit_is_linked_through_its_registration(
    viewer, qtbot, synthetic_patient
):
    """Shift+W: the portal-venous series of the current visit beside the arterial one measured
    on, registered to it in the background; a slice step on the main canvas moves the linked one
    through the mapping, and the mouse shows its mark there (washout judged side by side)."""
    from lesion_napari._followup import world_maps
    from lesion_napari._linked import world_position
    from lesion_napari._widget import LesionWidget

    widget = LesionWidget(viewer)
    viewer.window.add_dock_widget(widget, area="right")
    c = widget.controller
    c.open_study(synthetic_patient)
    qtbot.waitUntil(lambda: not c.loading, timeout=120_000)
    view = c.current_view
    key_on_canvas(viewer, qtbot, Qt.Key_W, Qt.ShiftModifier)
    phases = c.follow.phases
    qtbot.waitUntil(lambda: bool(phases.registrations), timeout=180_000)
    qtbot.waitUntil(lambda: c.follow.link is not None, timeout=10_000)
    canvas = c.follow.canvas
    other = next(
        lay for lay in view.others if lay.metadata["lesion_tool"]["phase"] == "portal_venous"
    )
    assert canvas.series == other.metadata["lesion_tool"]["series_instance_uid"]
    assert "linked with" in c.follow.status
    [registration] = phases.registrations.values()
    from lesion_napari._phases import other_phase

    pv = other_phase(view)
    art_to_pv, _ = world_maps(registration, view, pv)
    key_on_canvas(viewer, qtbot, Qt.Key_Left)
    qtbot.wait(20)
    here = world_position(viewer)
    expected = art_to_pv(here)
    linked = world_position(canvas.model)
    assert abs(linked[0] - expected[0]) <= pv.geometry.scale[0] / 2 + 1e-6
    assert np.allclose(linked[1:], expected[1:], atol=1e-3)
    scene = _canvas(viewer)._scene_canvas
    for dx in (0.0, 3.0):  # napari throttles mouse moves: two, apart
        pos = canvas_pos(viewer, here + np.array([0.0, 0.0, dx]))
        scene.events.mouse_move(pos=pos, modifiers=(), button=None)
        qtbot.wait(30)
    mark = canvas.cursor
    qtbot.waitUntil(lambda: mark.visible, timeout=2_000)
    cursor = np.asarray(viewer.cursor.position, dtype=float)
    assert np.allclose(mark.data_to_world(mark.data[0]), art_to_pv(cursor), atol=1e-3)
    # another timepoint unlinks (the registration holds for one pair of series)
    other_label = next(lb for lb in c.views if lb != c.current_label)
    c.set_timepoint(other_label)
    assert c.follow.link is None
