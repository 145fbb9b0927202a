"""The reader's workstation as a radiologist uses it: real drags and key presses on the canvas,
invalid actions that cannot be entered, and readings that are never lost."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from _gui import click, drag, key_on_canvas, open_two_timepoints, world_of
from lesion_napari._widget import MAX_HEIGHT, LesionWidget
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QScrollArea

from lesion_tool.storage import load_assessment

pytestmark = pytest.mark.gui


def _t1(widget, label="baseline"):
    return widget.controller.session.timepoint(label).lesion("T1")


def test_line_mode_ends_after_one_line_so_a_second_drag_pans(viewer, make_volume, qtbot):
    widget = open_two_timepoints(viewer, make_volume)
    view = widget.controller.views["baseline"]
    qtbot.mouseClick(widget.lesions.new_target_button, Qt.LeftButton)
    assert view.lines.mode == "add_line"
    drag(viewer, qtbot, world_of(view, (3, 30, 20)), world_of(view, (3, 30, 45)))
    assert _t1(widget).viable_diameter_mm == pytest.approx(20.0, abs=0.2)
    assert view.lines.mode == "pan_zoom"  # one line per arming
    first = _t1(widget)
    drag(viewer, qtbot, world_of(view, (3, 10, 10)), world_of(view, (3, 50, 60)))  # "to pan"
    assert _t1(widget) == first and len(view.lines.data) == 1


def test_escape_cancels_an_armed_click_and_ctrl_z_undoes(viewer, make_volume, qtbot):
    widget = open_two_timepoints(viewer, make_volume)
    view = widget.controller.views["baseline"]
    qtbot.mouseClick(widget.lesions.click_button, Qt.LeftButton)
    assert widget.controller.click_armed and widget.lesions.click_button.isChecked()
    key_on_canvas(viewer, qtbot, Qt.Key_Escape)
    assert not widget.controller.click_armed and not widget.lesions.click_button.isChecked()
    click(viewer, qtbot, world_of(view, (3, 31, 31)))  # a disarmed click measures nothing
    assert widget.controller.proposal is None and not widget.controller.measuring
    qtbot.mouseClick(widget.lesions.new_target_button, Qt.LeftButton)
    drag(viewer, qtbot, world_of(view, (3, 30, 20)), world_of(view, (3, 30, 45)))
    assert _t1(widget) is not None
    key_on_canvas(viewer, qtbot, Qt.Key_Z, Qt.ControlModifier)
    assert _t1(widget) is None and len(view.lines.data) == 0


def test_shortcuts_never_fire_inside_a_text_field(viewer, make_volume, qtbot):
    widget = open_two_timepoints(viewer, make_volume, reader=None)
    edit = widget.study.reader_edit
    qtbot.keyClick(edit, Qt.Key_T, Qt.ShiftModifier)  # Shift-T is "new target" on the canvas
    qtbot.keyClicks(edit, "1")
    qtbot.keyClick(edit, Qt.Key_Return)
    assert edit.text().upper() == "T1"  # typed into the field
    assert widget.controller.session.reader == edit.text()
    assert widget.controller.pending is None and widget.controller.session.all_lesion_ids() == set()
    key_on_canvas(viewer, qtbot, Qt.Key_T, Qt.ShiftModifier)  # on the canvas it acts
    assert widget.controller.pending is not None and widget.controller.pending.id == "T1"


def test_nothing_is_measured_before_the_reader_is_known(viewer, make_volume, qtbot):
    widget = open_two_timepoints(viewer, make_volume, reader=None)
    for button in (widget.lesions.new_target_button, widget.lesions.click_button):
        assert not button.isEnabled() and "reader id" in button.toolTip()
    assert "enter your reader id" in widget.saving.save_label.text()
    view = widget.controller.views["baseline"]
    view.lines.mode = "add_line"
    drag(viewer, qtbot, world_of(view, (3, 30, 20)), world_of(view, (3, 30, 45)))
    assert widget.controller.session.all_lesion_ids() == set()
    edit = widget.study.reader_edit
    qtbot.keyClicks(edit, "   ")
    qtbot.keyClick(edit, Qt.Key_Return)  # an empty reader id is refused
    assert widget.controller.session.reader == ""
    assert not widget.lesions.new_target_button.isEnabled()
    assert widget.controller.session.path is None  # no file without a reader


def test_invalid_states_cannot_be_entered(viewer, make_volume, qtbot, notices):
    widget = open_two_timepoints(viewer, make_volume)
    c, lesions = widget.controller, widget.lesions
    # a new lesion at baseline is not offered
    assert not lesions.new_new_button.isEnabled()
    assert "after baseline" in lesions.new_new_button.toolTip()
    qtbot.mouseClick(lesions.new_target_button, Qt.LeftButton)
    view = c.views["baseline"]
    drag(viewer, qtbot, world_of(view, (3, 30, 20)), world_of(view, (3, 30, 45)))
    # at a follow-up, neither a new target nor a new non-target
    widget.study.timepoint_combo.setCurrentText("fu1")
    assert c.current_label == "fu1"
    for button in (lesions.new_target_button, lesions.new_non_target_button):
        assert not button.isEnabled() and "chosen at baseline" in button.toolTip()
    key_on_canvas(viewer, qtbot, Qt.Key_T, Qt.ShiftModifier)  # the key is refused too
    assert c.pending is None and any("chosen at baseline" in w for w in notices.warnings)
    # Click in lesion with a new lesion selected at a follow-up sizes that new lesion
    qtbot.mouseClick(lesions.new_new_button, Qt.LeftButton)
    assert c.current_lesion_id == "N1"
    fu = c.views["fu1"]
    qtbot.mouseClick(lesions.click_button, Qt.LeftButton)
    click(viewer, qtbot, world_of(fu, (3.5, 31.5, 31.5)))
    qtbot.waitUntil(lambda: c.proposal is not None, timeout=30_000)
    assert c.proposal.lesion_id == "N1"
    # the proposal names its image (a test volume without files: "slice k / n")
    assert re.search(r"On slice \d / 8\.", lesions.proposal_label.text())
    qtbot.mouseClick(lesions.accept_button, Qt.LeftButton)
    recorded = c.session.timepoint("fu1")
    assert [les.id for les in recorded.lesions] == ["N1"]
    assert recorded.lesion("N1").category.value == "new"
    assert recorded.lesion("N1").longest_diameter_mm > 15
    assert "T2" not in c.session.all_lesion_ids() and "T3" not in c.session.all_lesion_ids()
    # a treatment date after every scan is refused and the field goes back
    start = c.session.assessment.treatment_start
    widget.study.start_edit.setDate(widget.study.start_edit.date().addYears(2))
    assert c.session.assessment.treatment_start == start
    assert widget.study.start_edit.date().toPyDate() == start
    assert any("after every scan" in w for w in notices.warnings)
    assert json.loads(c.session.path.read_text())["timepoints"][1]["lesions"][0]["id"] == "N1"


def test_deleting_a_line_keeps_the_lesion_and_says_it_is_not_evaluated(viewer, make_volume, qtbot):
    widget = open_two_timepoints(viewer, make_volume)
    c = widget.controller
    view = c.views["baseline"]
    qtbot.mouseClick(widget.lesions.new_target_button, Qt.LeftButton)
    widget.measurement.location_edit.setText("S8")
    widget.measurement.location_edit.editingFinished.emit()
    drag(viewer, qtbot, world_of(view, (3, 30, 20)), world_of(view, (3, 30, 45)))
    view.lines.selected_data = {0}
    view.lines.remove_selected()  # the Delete key of the shapes layer
    t1 = _t1(widget)
    assert t1 is not None and t1.location == "S8" and t1.state.value == "not_evaluated"
    assert widget.lesions.table.item(0, 0).text() == "T1"
    assert "T1 is not_evaluated" in widget.response.findings_label.text()
    drag_again = (world_of(view, (3, 30, 20)), world_of(view, (3, 30, 40)))
    widget.controller.arm_line()
    drag(viewer, qtbot, *drag_again)
    assert _t1(widget).state.value == "measured" and _t1(widget).viable_diameter_mm == 16.0


def test_one_line_fills_both_criteria_for_a_fully_viable_target(viewer, make_volume, qtbot):
    widget = open_two_timepoints(viewer, make_volume)
    view = widget.controller.views["baseline"]
    qtbot.mouseClick(widget.lesions.new_target_button, Qt.LeftButton)
    box = widget.measurement.fully_viable_box
    assert box.isEnabled()
    box.click()
    assert widget.controller.fully_viable
    drag(viewer, qtbot, world_of(view, (3, 30, 20)), world_of(view, (3, 30, 45)))
    t1 = _t1(widget)
    assert t1.viable_diameter_mm == t1.longest_diameter_mm == pytest.approx(20.0, abs=0.2)
    response = widget.response
    sums = [response.table.item(0, col).text() for col in range(3)]
    assert len(set(sums)) == 1 and sums[0] != "–"  # mRECIST, mRECIST-1.1 and RECIST 1.1
    assert "viable = whole" in view.lines.features["label"].iloc[0]


def test_the_widget_fits_a_1080p_screen(viewer, make_volume):
    widget = open_two_timepoints(viewer, make_volume)
    body = widget.findChild(QScrollArea).widget()
    assert body.sizeHint().height() <= MAX_HEIGHT <= 1080 - 80  # napari's title and menu bar


def test_reopening_a_patient_finds_the_saved_reading_intact(
    make_napari_viewer, make_volume, qtbot, _no_modal_dialogs
):
    asked = _no_modal_dialogs.asked
    first = open_two_timepoints(make_napari_viewer(), make_volume)
    view = first.controller.views["baseline"]
    qtbot.mouseClick(first.lesions.new_target_button, Qt.LeftButton)
    view.lines.add(np.array([[1, 30, 20], [1, 30, 45]], float), shape_type="line")  # far from mid
    path = first.controller.session.path
    assert path.name == "PAT-1__R1.json"
    saved = path.read_text()
    assert json.loads(saved)["saved_by"] == "R1"

    # napari closed and opened again: the same reader opens the same patient
    again = open_two_timepoints(make_napari_viewer(), make_volume)
    assert len(asked) == 1 and asked[0][0].path == path  # offered to resume
    assert again.controller.session.path == path
    assert _t1(again).viable_diameter_mm == 20.0
    t1_z = world_of(again.controller.views["baseline"], _t1(again).line.start)[0]
    assert again.viewer.dims.point[0] == pytest.approx(t1_z)  # it opens at the first target
    assert t1_z != pytest.approx(world_of(view, (3.5, 30, 30))[0])
    assert path.read_text() == saved  # nothing rewritten before an edit
    assert "T1" in [
        again.lesions.table.item(r, 0).text() for r in range(again.lesions.table.rowCount())
    ]

    # a second reader on the same machine gets a file of their own
    other = open_two_timepoints(make_napari_viewer(), make_volume, reader="R2")
    assert other.controller.session.path.name == "PAT-1__R2.json"
    assert other.controller.session.all_lesion_ids() == set()
    qtbot.mouseClick(other.lesions.new_target_button, Qt.LeftButton)
    other.controller.views["baseline"].lines.add(
        np.array([[3, 30, 20], [3, 30, 40]], float), shape_type="line"
    )
    assert load_assessment(path).timepoints[0].lesion("T1").viable_diameter_mm == 20.0
    assert load_assessment(other.controller.session.path).reader == "R2"


def test_starting_a_new_version_keeps_the_old_reading(
    make_napari_viewer, make_volume, qtbot, _no_modal_dialogs
):
    first = open_two_timepoints(make_napari_viewer(), make_volume)
    qtbot.mouseClick(first.lesions.new_target_button, Qt.LeftButton)
    first.controller.views["baseline"].lines.add(
        np.array([[3, 30, 20], [3, 30, 45]], float), shape_type="line"
    )
    old = first.controller.session.path
    saved = old.read_text()
    _no_modal_dialogs.answers.append("new")
    again = open_two_timepoints(make_napari_viewer(), make_volume)
    assert again.controller.session.path.name == "PAT-1__R1.v2.json"
    assert again.controller.session.all_lesion_ids() == set()
    qtbot.mouseClick(again.lesions.new_target_button, Qt.LeftButton)
    again.controller.views["baseline"].lines.add(
        np.array([[3, 30, 20], [3, 30, 30]], float), shape_type="line"
    )
    assert old.read_text() == saved
    assert load_assessment(again.controller.session.path).timepoints[0].lesion("T1") is not None


def test_the_phase_warning_of_hcc_006_is_shown_in_the_widget(viewer, shared_data, qtbot, notices):
    """HCC_006's "LIVER 3 PHASE (AP)" looks portal venous: the widget says so, once."""
    widget = LesionWidget(viewer)
    viewer.window.add_dock_widget(widget, area="right")
    widget.controller.open_study(shared_data / "hcc-tace-seg" / "HCC_006")
    qtbot.waitUntil(lambda: not widget.controller.loading, timeout=120_000)
    assert list(widget.controller.views) == ["baseline"]
    note = widget.study.phase_label.text()
    assert "look portal venous" in note and "not mRECIST" in note
    assert not widget.study.phase_label.isHidden()
    shown = [w for w in notices.warnings if "look portal venous" in w]
    assert len(shown) == 1  # each warning once
    assert "PRE LIVER" in " ".join(
        widget.study.series_combo.itemText(i) for i in range(widget.study.series_combo.count())
    )


def test_a_timepoint_can_be_measured_on_another_series(viewer, synthetic_patient, qtbot, notices):
    """RECIST 1.1 on the portal-venous phase: the series is chosen in the study panel."""
    widget = LesionWidget(viewer)
    viewer.window.add_dock_widget(widget, area="right")
    widget.controller.set_reader("R1")
    widget.controller.open_study(synthetic_patient)
    qtbot.waitUntil(lambda: not widget.controller.loading, timeout=60_000)
    combo = widget.study.series_combo
    names = [combo.itemText(i) for i in range(combo.count())]
    venous = next(name for name in names if "portal_venous" in name)
    combo.setCurrentText(venous)
    view = widget.controller.views["baseline"]
    assert view.image.name == venous and view.image.visible and view.lines is not None
    assert "not mRECIST" in widget.study.phase_label.text()
    tp = widget.controller.session.timepoint("baseline")
    assert tp.series_instance_uid == view.volume.series_instance_uid
    qtbot.mouseClick(widget.lesions.new_target_button, Qt.LeftButton)
    drag(viewer, qtbot, world_of(view, (10, 60, 50)), world_of(view, (10, 60, 70)))
    assert widget.controller.session.timepoint("baseline").lesion("T1") is not None
    # with a line recorded on it, the series cannot change under the reader's feet
    arterial = next(name for name in names if "arterial" in name)
    combo.setCurrentText(arterial)
    assert view.image.name == venous and any(
        "measured on this series" in w for w in notices.warnings
    )


def test_the_lesion_table_names_the_image_as_pacs_does(viewer, synthetic_patient, qtbot):
    """Finding 5: the table said "Slice 73" where PACS says Se / Im: a monitor must find the
    measured image. The synthetic study's files carry SeriesNumber and InstanceNumber."""
    widget = LesionWidget(viewer)
    viewer.window.add_dock_widget(widget, area="right")
    widget.controller.set_reader("R1")
    widget.controller.open_study(synthetic_patient)
    qtbot.waitUntil(lambda: not widget.controller.loading, timeout=60_000)
    view = widget.controller.views["baseline"]
    qtbot.mouseClick(widget.lesions.new_target_button, Qt.LeftButton)
    drag(viewer, qtbot, world_of(view, (10, 60, 50)), world_of(view, (10, 60, 70)))
    assert widget.controller.session.timepoint("baseline").lesion("T1") is not None
    image = widget.lesions.table.item(0, 5).text()
    assert image == view.info.label(10) and image.startswith("Se ") and " · Im " in image
    assert viewer.dims.axis_labels[0] == image  # the slider names the same image
    assert viewer.dims.nsteps[0] == view.volume.shape[0]  # hidden phases do not stretch it


def test_the_widget_fits_1080p_with_the_real_phase_warning(viewer, shared_data, qtbot):
    """HCC_006 (a phase warning, a one-slice series beside): the panels fit a 1080p screen
    and none is clipped on the right."""
    widget = LesionWidget(viewer)
    viewer.window.add_dock_widget(widget, area="right")
    widget.controller.open_study(shared_data / "hcc-tace-seg" / "HCC_006")
    qtbot.waitUntil(lambda: not widget.controller.loading, timeout=120_000)
    assert widget.study.phase_label.text()
    scroll = widget.findChild(QScrollArea)
    body = scroll.widget()
    assert body.sizeHint().height() <= 1080 - 150  # menu, title, status bars, a taskbar
    assert body.minimumSizeHint().width() <= scroll.viewport().width()


def test_file_open_folder_shows_each_warning_once(viewer, shared_data, qtbot, notices):
    """Minor finding: "each warning shown twice via File > Open Folder" (the reader's and the
    widget's). HCC_006 through napari's reader with the widget docked: the phase warning once."""
    widget = LesionWidget(viewer)
    viewer.window.add_dock_widget(widget, area="right")
    viewer.open(str(shared_data / "hcc-tace-seg" / "HCC_006"), plugin="lesion-tool")
    qtbot.waitUntil(lambda: len(widget.controller.views) == 1, timeout=60_000)
    qtbot.wait(300)
    phase = [w for w in notices.warnings if "portal venous" in w]
    assert len(phase) == 1, notices.warnings
    assert len(notices.warnings) == len(set(notices.warnings)), notices.warnings
    assert "look portal venous" in widget.study.phase_label.text()


def test_a_failed_autosave_is_said_in_the_panel(viewer, make_volume, qtbot, notices, tmp_path):
    """Finding 3: autosave failed quietly while the panel said all was well."""
    widget = open_two_timepoints(viewer, make_volume)
    c = widget.controller
    blocked = tmp_path / "a-folder-not-a-file.json"
    blocked.mkdir()
    c.session.set_file(blocked, owns_file=True)  # the reading's file cannot be written
    qtbot.mouseClick(widget.lesions.new_target_button, Qt.LeftButton)
    view = c.views["baseline"]
    drag(viewer, qtbot, world_of(view, (3, 30, 20)), world_of(view, (3, 30, 45)))
    assert _t1(widget) is not None  # the reading keeps the line
    assert widget.saving.save_label.text().startswith("autosave failed")
    assert any("Autosave failed" in e for e in notices.errors)
