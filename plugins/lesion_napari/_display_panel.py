"""The display panel of :mod:`._display`: window presets, typed window / level, ROI.

The one window / level control of a viewer (the lesion widget has none of its own), docked on
the left under the layer list. It only calls :class:`~lesion_napari._display.DisplayTools` and shows
its state; the tools call :meth:`DisplayPanel.show_state` after every change (drag, preset,
slice, ROI).
"""

from __future__ import annotations

from typing import Any

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QPushButton,
    QWidget,
)

from lesion_tool.viewing import PRESETS, Window
from lesion_tool.viewing.windows import MIN_WIDTH

CUSTOM = "custom"
SERIES = "series"


class DisplayPanel(QWidget):
    """Window presets (incl. the series' own), width / level spin boxes and ROI buttons."""

    def __init__(self, tools: Any) -> None:
        super().__init__()
        self.tools = tools
        grid = QGridLayout(self)
        grid.setContentsMargins(4, 2, 4, 2)
        self.preset_combo = QComboBox()
        self.preset_combo.setToolTip(
            "Window presets; 'series' is the series' own WindowCenter / WindowWidth. "
            "Right-drag on the image: horizontal = width, vertical = level."
        )
        self.width_spin = QDoubleSpinBox()
        self.width_spin.setRange(MIN_WIDTH, 5000.0)
        self.width_spin.setDecimals(0)
        self.width_spin.setPrefix("W ")
        self.level_spin = QDoubleSpinBox()
        self.level_spin.setRange(-2000.0, 4000.0)
        self.level_spin.setDecimals(0)
        self.level_spin.setPrefix("L ")
        for spin in (self.width_spin, self.level_spin):
            spin.setKeyboardTracking(False)  # apply on Enter / focus out, not per keystroke
            spin.valueChanged.connect(self._typed)
        self.preset_combo.currentTextChanged.connect(self._preset_chosen)
        self.ellipse_button = QPushButton("Ellipse ROI")
        self.ellipse_button.clicked.connect(lambda: self.tools.start_roi("ellipse"))
        self.rectangle_button = QPushButton("Rectangle ROI")
        self.rectangle_button.clicked.connect(lambda: self.tools.start_roi("rectangle"))
        self.roi_label = QLabel("Draw a ROI for its mean, SD, min / max HU and area.")
        self.roi_label.setWordWrap(True)
        grid.addWidget(QLabel("Window"), 0, 0)
        grid.addWidget(self.preset_combo, 0, 1, 1, 2)
        grid.addWidget(self.width_spin, 1, 1)
        grid.addWidget(self.level_spin, 1, 2)
        grid.addWidget(self.ellipse_button, 2, 1)
        grid.addWidget(self.rectangle_button, 2, 2)
        grid.addWidget(self.roi_label, 3, 0, 1, 3)
        grid.setVerticalSpacing(2)
        # room for a three-line ROI result in the narrow left column
        self.roi_label.setMinimumHeight(3 * self.roi_label.fontMetrics().lineSpacing())
        self.setMinimumHeight(self.sizeHint().height())
        self._updating = False
        self.show_state()

    def _names(self) -> list[str]:
        names = list(PRESETS)
        if self.tools.series_window() is not None:
            names.append(SERIES)
        return [*names, CUSTOM]

    def _matching(self, window: Window) -> str:
        own = self.tools.series_window()
        if own is not None and own == window:
            return SERIES
        for name, preset in PRESETS.items():
            if preset == window:
                return name
        return CUSTOM

    def show_state(self) -> None:
        """Show the tools' window (combo and spin boxes) and last ROI, without re-applying."""
        self._updating = True
        try:
            names = self._names()
            if [self.preset_combo.itemText(i) for i in range(self.preset_combo.count())] != names:
                self.preset_combo.clear()
                self.preset_combo.addItems(names)
            own = self.tools.series_window()
            index = names.index(SERIES) if SERIES in names else -1
            if index >= 0 and own is not None:
                self.preset_combo.setItemText(index, SERIES)
                self.preset_combo.setItemData(
                    index, f"series' own window: {own.label()}", Qt.ToolTipRole
                )
            self.preset_combo.setCurrentText(self._matching(self.tools.window))
            self.width_spin.setValue(self.tools.window.width)
            self.level_spin.setValue(self.tools.window.level)
            if self.tools.roi.text:
                self.roi_label.setText(self.tools.roi.text)
            no_image = self.tools.current() is None
            for button in (self.ellipse_button, self.rectangle_button):
                button.setEnabled(not no_image)
                button.setToolTip("Not now: open a study first" if no_image else "")
        finally:
            self._updating = False

    def _preset_chosen(self, name: str) -> None:
        if self._updating or not name or name == CUSTOM:
            return
        self.tools.set_preset(name)

    def _typed(self, _value: float) -> None:
        if self._updating:
            return
        self.tools.set_window(Window(self.level_spin.value(), self.width_spin.value()))
