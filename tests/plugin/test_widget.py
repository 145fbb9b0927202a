"""The assessment widget on small hand-made volumes: lines -> diameters -> response -> file."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from lesion_napari._display import display_tools
from lesion_napari._display_panel import DisplayPanel
from lesion_napari._layers import image_layer_data
from lesion_napari._widget import LesionWidget
from qtpy.QtWidgets import QComboBox

from lesion_tool.response import PRESETS, score_assessment, settings_for
from lesion_tool.storage import load_assessment

pytestmark = pytest.mark.gui

BASELINE = dt.date(2026, 1, 2)
FOLLOW_UP = dt.date(2026, 3, 2)


def _open(viewer, make_volume):
    widget = LesionWidget(viewer)
    widget.controller.set_reader("R1")
    viewer.window.add_dock_widget(widget, area="right")
    for date, label, uid in ((BASELINE, "baseline", "1.2.3.1"), (FOLLOW_UP, "FU1", "1.2.3.2")):
        volume = make_volume(study_date=date, study_uid=uid)
        data, kwargs, _ = image_layer_data(
            volume, phase="arterial", label=label, extra={"measure_on": True}
        )
        viewer.add_image(data, **kwargs)
    return widget


def _draw(widget, label, start, end):
    """Add a line to a timepoint's lines layer as the line tool does (display indices)."""
    widget.controller.views[label].lines.add(np.array([start, end], dtype=float), shape_type="line")


def _cell(widget, row_title, preset):
    rows = [widget.response.table.verticalHeaderItem(r).text() for r in range(10)]
    return widget.response.table.item(rows.index(row_title), PRESETS.index(preset)).text()


def test_lines_measure_score_save_undo_and_reopen(viewer, make_volume, tmp_path):
    widget = _open(viewer, make_volume)
    assert list(widget.controller.views) == ["baseline", "FU1"]
    assert widget.controller.current_label == "baseline"
    out = tmp_path / "PAT-1.json"
    widget.controller.save(out)

    widget.lesions.new_target_button.click()
    _draw(widget, "baseline", (3, 20, 10), (3, 20, 35))  # 25 px x 0.8 mm = 20 mm
    widget.measurement.whole_box.setChecked(True)  # whole-lesion diameter, for RECIST 1.1
    _draw(widget, "baseline", (3, 15, 10), (3, 15, 40))  # 24 mm
    widget.measurement.whole_box.setChecked(False)
    widget.lesions.new_target_button.click()
    widget.measurement.kind_combo.setCurrentText("longest")
    widget.measurement.organ_combo.setCurrentText("lung")
    widget.measurement.location_edit.setText("RLL")
    _draw(widget, "baseline", (4, 40, 10), (4, 55, 10))  # 12 mm
    widget.lesions.new_non_target_button.click()
    bl = widget.controller.session.timepoint("baseline")
    assert [(les.id, les.category.value) for les in bl.lesions] == [
        ("T1", "target"),
        ("T2", "target"),
        ("NT1", "non_target"),
    ]
    assert bl.lesion("T1").viable_diameter_mm == pytest.approx(20.0)
    assert bl.lesion("T1").longest_diameter_mm == pytest.approx(24.0)
    assert bl.lesion("T2").longest_diameter_mm == pytest.approx(12.0)
    assert bl.lesion("T2").organ == "lung"
    # text next to each line on the canvas
    labels = list(widget.controller.views["baseline"].lines.features["label"])
    assert {"T1 20.0 mm viable · whole 24.0", "T2 12.0 mm"} <= set(labels)

    # follow-up: earlier lesions are listed with their values and slices
    widget.controller.set_timepoint("FU1")
    table = [widget.lesions.table.item(r, 0).text() for r in range(widget.lesions.table.rowCount())]
    assert table == ["T1", "T2", "NT1"]
    assert widget.lesions.table.item(0, 4).text() == "20.0 @ baseline"
    # the image measured on, named as PACS does; a test volume without files has no numbers
    assert widget.lesions.table.item(0, 5).text() == "slice 4 / 8 @ baseline"
    widget.controller.select_lesion("T1")
    _draw(widget, "FU1", (3, 20, 10), (3, 20, 20))  # 8 mm
    widget.measurement.whole_box.setChecked(True)
    _draw(widget, "FU1", (3, 15, 10), (3, 15, 30))  # 16 mm
    widget.measurement.whole_box.setChecked(False)
    widget.controller.select_lesion("T2")
    _draw(widget, "FU1", (4, 40, 10), (4, 50, 10))  # 8 mm
    widget.controller.select_lesion("NT1")
    widget.measurement.state_combo.setCurrentText("present")
    widget.measurement.record_button.click()
    fu = widget.controller.session.timepoint("FU1")
    assert fu.lesion("T1").viable_diameter_mm == pytest.approx(8.0)
    assert fu.lesion("NT1") is not None

    # the panel shows what the core computes for the saved file
    saved = load_assessment(out)
    assert saved == widget.controller.session.assessment
    # every plugin save went through the audit trail: a verified chain, by the reader
    from lesion_tool.storage.audit import verify_audit

    report = verify_audit(out)
    assert report.intact, report.problems
    assert {e["action"] for e in report.events} == {"save"} and len(report.events) >= 2
    assert {e["by"] for e in report.events} == {saved.reader}
    for preset in PRESETS:
        tp = score_assessment(saved, settings_for(preset)).timepoints[-1]
        assert _cell(widget, "Sum (mm)", preset) == f"{tp.target_sum_mm:.1f}"
        assert _cell(widget, "Overall", preset) == str(tp.overall_response)
    assert _cell(widget, "Target", "mrecist") == "PR"

    # moving a line end re-measures and re-scores; undo goes back
    lines = widget.controller.views["FU1"].lines
    index = list(lines.features["lesion_id"]).index("T1")
    data = [np.array(d) for d in lines.data]
    data[index][1] = (3, 20, 28.75)  # 15 mm
    lines.data = data
    lines.events.data(
        value=lines.data, action="changed", data_indices=(index,), vertex_indices=((1,),)
    )
    assert widget.controller.session.timepoint("FU1").lesion(
        "T1"
    ).viable_diameter_mm == pytest.approx(15.0)
    assert json.loads(out.read_text())["timepoints"][1]["lesions"][0]["viable_diameter_mm"] == 15.0
    assert _cell(widget, "Sum (mm)", "mrecist") == "23.0"
    widget.controller.undo()
    assert widget.controller.session.timepoint("FU1").lesion(
        "T1"
    ).viable_diameter_mm == pytest.approx(8.0)
    assert load_assessment(out) == widget.controller.session.assessment

    # reopen in a fresh widget: every line is back on its image
    widget2 = LesionWidget(viewer)
    widget2.controller.set_reader("R1")
    widget2.controller.open_assessment(out)
    assert widget2.controller.session.assessment == widget.controller.session.assessment
    shapes = {
        (lid, role): np.asarray(d)
        for lid, role, d in zip(
            widget2.controller.views["FU1"].lines.features["lesion_id"],
            widget2.controller.views["FU1"].lines.features["role"],
            widget2.controller.views["FU1"].lines.data,
            strict=True,
        )
    }
    np.testing.assert_allclose(shapes[("T1", "primary")], [[3, 20, 10], [3, 20, 20]])


def test_line_outside_the_image_is_a_notification_not_a_traceback(viewer, make_volume, notices):
    errors = notices.errors
    widget = _open(viewer, make_volume)
    widget.lesions.new_target_button.click()
    _draw(widget, "baseline", (3, 20, 10), (3, 20, 500))
    assert errors and "outside the image" in errors[0]
    assert widget.controller.session.timepoint("baseline").lesions == ()
    assert len(widget.controller.views["baseline"].lines.data) == 0


def test_one_window_control_for_every_timepoint_and_side_by_side(viewer, make_volume):
    widget = _open(viewer, make_volume)
    # one window / level control in the whole window: the Display dock (no combo in the widget)
    panels = viewer.window._qt_window.findChildren(DisplayPanel)
    assert len(panels) == 1 and panels[0] is display_tools(viewer).panel
    combos = widget.findChildren(QComboBox)
    assert not any(c.findText("abdomen") >= 0 for c in combos)  # no window preset here
    panels[0].preset_combo.setCurrentText("lung")
    for view in widget.controller.views.values():
        assert tuple(view.image.contrast_limits) == (-1350.0, 150.0)
    panels[0].width_spin.setValue(300.0)  # typed: applied to every timepoint too
    assert tuple(widget.controller.views["baseline"].image.contrast_limits) == (-750.0, -450.0)
    assert panels[0].preset_combo.currentText() == "custom"
    widget.controller.set_timepoint("FU1")
    widget.controller.set_side_by_side(True)
    assert viewer.canvas.grid.enabled
    assert (
        widget.controller.views["baseline"].image.visible
        and widget.controller.views["FU1"].image.visible
    )
    order = list(viewer.layers)
    assert order.index(widget.controller.views["baseline"].lines) < order.index(
        widget.controller.views["FU1"].image
    )
    widget.controller.set_side_by_side(False)
    assert not viewer.canvas.grid.enabled
    assert not widget.controller.views["baseline"].image.visible


def test_closing_a_timepoint_image_keeps_the_rest_working(viewer, make_volume):
    widget = _open(viewer, make_volume)
    assert widget.controller.current_label == "baseline"
    viewer.layers.remove(widget.controller.views["baseline"].image)
    assert list(widget.controller.views) == ["FU1"]
    assert widget.controller.current_label == "FU1"
    assert [
        widget.study.timepoint_combo.itemText(i)
        for i in range(widget.study.timepoint_combo.count())
    ] == ["FU1"]
