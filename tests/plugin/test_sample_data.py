"""File > Open Sample: the synthetic multiphase patient opens and the widget takes it in."""

from __future__ import annotations

import pytest
from lesion_napari import _sample_data
from lesion_napari._widget import LesionWidget
from qtpy.QtCore import Qt

pytestmark = pytest.mark.gui


def test_open_sample_gives_timepoints_to_the_widget(viewer):
    widget = LesionWidget(viewer)
    widget.controller.set_reader("R1")
    viewer.window.add_dock_widget(widget)
    layers = viewer.open_sample("lesion-tool", "synthetic")
    assert layers
    folder = _sample_data.sample_folder()
    assert (folder / "truth.json").is_file()
    assert list(widget.controller.views) == ["baseline", "fu1", "fu2"]
    # one arterial image visible at a time, the other phases hidden but available
    assert sum(layer.visible for layer in viewer.layers if layer.name.find("arterial") > 0) == 1
    hidden = [layer for layer in viewer.layers if "portal_venous" in layer.name]
    assert hidden and not any(layer.visible for layer in hidden)


def test_sample_missing_and_not_generatable_says_what_to_do(monkeypatch):
    from lesion_tool.errors import LesionToolError

    monkeypatch.setattr(_sample_data, "_project_sample", lambda: None)

    def fail(*args, **kwargs):
        raise OSError("read-only file system")

    monkeypatch.setattr("lesion_tool.synth.generate_patient", fail)
    with pytest.raises(LesionToolError, match="lesion-tool synth"):
        _sample_data.sample_folder()


def test_widget_contribution_docks_and_reader_opens_a_folder(viewer, synthetic_patient, qtbot):
    """Plugins > Lesion assessment, then File > Open Folder (the reader via napari)."""
    _dock, widget = viewer.window.add_plugin_dock_widget("lesion-tool", "Lesion assessment")
    assert isinstance(widget, LesionWidget)
    # napari hands plugins a public-only proxy of the viewer
    layers = viewer.open(str(synthetic_patient), plugin="lesion-tool")
    assert len(layers) == 4  # 2 studies x (arterial + portal venous)
    assert list(widget.controller.views) == ["baseline", "fu1"]
    assert widget.controller.current_label == "baseline"
    assert widget.controller.views["baseline"].image.visible
    # nothing can be measured before the reader says who they are
    button = widget.lesions.new_target_button
    assert not button.isEnabled() and "reader id" in button.toolTip()
    qtbot.keyClicks(widget.study.reader_edit, "R1")
    qtbot.keyClick(widget.study.reader_edit, Qt.Key_Return)
    assert button.isEnabled() and widget.controller.session.reader == "R1"
    # the whole workflow runs through the proxy too
    qtbot.mouseClick(button, Qt.LeftButton)
    widget.controller.views["baseline"].lines.add([[10, 60, 50], [10, 60, 70]], shape_type="line")
    assert widget.controller.session.timepoint("baseline").lesion("T1").viable_diameter_mm == 32.0
    widget.controller.set_timepoint("fu1")
    widget.controller.set_side_by_side(True)
    assert viewer.canvas.grid.enabled
    widget.controller.go_to_lesion("T1")
    viewer.layers.remove(widget.controller.views["fu1"].lines)
    assert widget.controller.views["fu1"].lines is None
