"""What a radiologist expects around the image: HU probe, window / level, ROI, scale bar,
orientation letters, patient / series overlay, PACS slice numbers, opening at the liver.

One entry point, :func:`install_display`, called once per lesion-tool image layer shown; the
tools are one :class:`DisplayTools` per viewer (the first call builds them, the next ones add
their image). Everything acts on the *current* image: the topmost visible lesion-tool image
given to :func:`install_display`. The numbers come from the GUI-free core
(:mod:`lesion_tool.viewing`, :mod:`lesion_tool.io.slices`); this module only wires napari:

- status bar: HU under the cursor, the slice's ``Se / Im`` and the patient position in mm,
  whichever layer is active (napari would show the active Lines layer's empty ``[, ]``);
- window / level: presets, the series' own window, a right-button drag on the canvas
  (horizontal = width, vertical = level) and typed values (:mod:`._display_panel`), applied to
  every installed image so baseline and follow-up look alike;
- a "ROI" Shapes layer: ellipse / rectangle, mean / SD / min / max HU and area on its slice;
- scale bar in mm, orientation letters at the canvas edges, a patient / date / series / slice
  overlay updated on slice change;
- the first image opens at the liver's largest slice (found when it is installed);
- the slider spans the shown series only (napari would stretch it over every layer, hidden ones
  too: a one-slice PRE series beside the arterial one added three steps) and its label names
  the slice as PACS does (``Se 103 · Im 35``), not only by napari's 0-based step.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from napari.components.overlays import TextOverlay
from napari.layers import Image
from qtpy.QtCore import QTimer

from lesion_tool.errors import LesionToolError
from lesion_tool.io.slices import SeriesDisplayInfo, series_display_info
from lesion_tool.io.volume import CTVolume
from lesion_tool.measurement.naming import remember_display_info
from lesion_tool.viewing import (
    DEFAULT_WINDOW,
    PRESETS,
    LiverSlice,
    Window,
    drag_window,
    find_liver_slice,
    series_window,
)

from ._display_roi import RoiTool
from ._layers import DisplayGeometry
from ._slider_label import fit_axis_labels

INFO_OVERLAY = "lesion_tool_info"
LETTER_OVERLAYS = {
    "top": ("lesion_tool_orient_top", "top_center"),
    "bottom": ("lesion_tool_orient_bottom", "bottom_center"),
    "left": ("lesion_tool_orient_left", "middle_left"),
    "right": ("lesion_tool_orient_right", "middle_right"),
}
# patient direction of decreasing / increasing index along each display axis (S, P, L world)
_AXIS_LETTERS = (("I", "S"), ("A", "P"), ("R", "L"))
RIGHT_BUTTON = 2

_TOOLS: weakref.WeakKeyDictionary[Any, DisplayTools] = weakref.WeakKeyDictionary()


@dataclass(eq=False)
class ShownImage:
    """One installed image layer with its volume, PACS numbers and display geometry."""

    layer: Any
    volume: CTVolume
    info: SeriesDisplayInfo
    geometry: DisplayGeometry
    liver: LiverSlice | None = None
    window_source: dict[str, Window] = field(default_factory=dict)


def install_display(
    viewer: Any, image_layer: Any, volume: CTVolume, info: SeriesDisplayInfo | None = None
) -> DisplayTools:
    """Give ``image_layer`` (a lesion-tool image of ``volume``) the display tools of ``viewer``.

    ``info`` (patient, date, series, per-slice InstanceNumbers, the series' window) is read from
    the volume's files when not given. Safe to call again for the same layer (no-op).
    """
    tools = ensure_display_tools(viewer)
    tools.add_image(image_layer, volume, info)
    return tools


def ensure_display_tools(viewer: Any) -> DisplayTools:
    """The viewer's display tools (and their "Display" dock), made on first use."""
    tools = _TOOLS.get(viewer)
    if tools is None:
        tools = DisplayTools(viewer)
        _TOOLS[viewer] = tools
    return tools


def display_tools(viewer: Any) -> DisplayTools | None:
    """The viewer's tools, if :func:`install_display` was called for it."""
    return _TOOLS.get(viewer)


class DisplayTools:
    """The display tools of one viewer (see the module docstring)."""

    def __init__(self, viewer: Any) -> None:
        # weak: the module's registry keeps the tools while their viewer lives, not the viewer
        self._viewer = weakref.ref(viewer)
        self.images: list[ShownImage] = []
        self.window = PRESETS[DEFAULT_WINDOW]
        self.roi = RoiTool(self)
        self._setting_status = False
        self._fitting = False
        self.panel: Any = None
        """The "Display" dock's panel (presets, typed window / level, ROI)."""
        overlays = viewer.canvas.overlays
        overlays[INFO_OVERLAY] = TextOverlay(
            text="", position="top_left", font_size=10, color="white", visible=False
        )
        for key, position in LETTER_OVERLAYS.values():
            overlays[key] = TextOverlay(
                text="", position=position, font_size=14, color="yellow", visible=False
            )
        overlays.scale_bar.visible = True
        overlays.scale_bar.position = "bottom_left"  # clear of napari's notifications
        overlays.scale_bar.ticks = True
        viewer.events.status.connect(self._on_status, position="last")
        viewer.dims.events.current_step.connect(self._on_slice_change)
        viewer.dims.events.range.connect(self._fit_slider)
        viewer.dims.events.order.connect(self._update_letters)
        viewer.dims.events.ndisplay.connect(self._update_letters)
        viewer.canvas.grid.events.enabled.connect(self.refresh)  # side by side: the first cell
        _camera(viewer).events.orientation.connect(self._update_letters)
        viewer.layers.events.inserted.connect(self._on_inserted)
        viewer.layers.events.removed.connect(self._on_removed)
        viewer.mouse_drag_callbacks.append(self._window_drag)
        for layer in list(viewer.layers):
            _use_mm(layer)
        window = getattr(viewer, "window", None)
        if window is not None and hasattr(window, "add_dock_widget"):
            from ._display_panel import DisplayPanel

            # the viewer's one window / level control; on the left, under the layer list, so
            # the lesion widget keeps the right column's height (Save visible at 1080p)
            self.panel = DisplayPanel(self)
            window.add_dock_widget(self.panel, name="Display", area="left")

    @property
    def viewer(self) -> Any:
        """The viewer these tools serve."""
        viewer = self._viewer()
        if viewer is None:
            raise RuntimeError("The viewer of these display tools was closed.")
        return viewer

    # ------------------------------------------------------------------------ images
    def add_image(
        self, layer: Any, volume: CTVolume, info: SeriesDisplayInfo | None = None
    ) -> ShownImage:
        """Register an image layer; it gets the current window and mm units."""
        for shown in self.images:
            if shown.layer is layer:
                return shown
        if info is None:
            info = series_display_info(volume)
            # The measurement's messages name slices from the same headers: read once.
            remember_display_info(volume, info)
        shown = ShownImage(layer, volume, info, DisplayGeometry.from_volume(volume))
        own = series_window(*(shown.info.window or (None, None)))
        if own is not None:
            shown.window_source["series"] = own
        self.images.append(shown)
        _use_mm(layer)
        layer.contrast_limits = self.window.limits
        layer.events.contrast_limits.connect(self._on_limits)
        layer.events.visible.connect(self.refresh)
        if len(self.images) == 1 and layer.visible:
            self._open_at_liver(shown)
        self.refresh()
        return shown

    def info_of(self, layer: Any) -> SeriesDisplayInfo | None:
        """The PACS numbers and identity of an installed image layer's series."""
        return next((s.info for s in self.images if s.layer is layer), None)

    def current(self, among: set[int] | None = None) -> ShownImage | None:
        """The topmost visible installed image (what the overlay and ROI act on), optionally
        among the layers whose ``id`` is in ``among``."""
        order = {id(layer): k for k, layer in enumerate(self.viewer.layers)}
        candidates = [
            s
            for s in self.images
            if id(s.layer) in order and s.layer.visible and (among is None or id(s.layer) in among)
        ]
        if not candidates:
            return None
        return max(candidates, key=lambda s: order[id(s.layer)])

    def under_cursor(self) -> ShownImage | None:
        """The image the mouse is over: in grid mode (baseline | follow-up side by side) that
        of the grid cell under the cursor, else :meth:`current`."""
        viewbox = self.viewer.cursor.viewbox
        return self.current() if viewbox is None else self.cell_image(tuple(viewbox))

    def cell_image(self, viewbox: tuple[int, int]) -> ShownImage | None:
        """The topmost installed image of a grid cell ``(row, column)`` in grid mode, else
        :meth:`current` (the overlay, top left, names the first cell's image)."""
        grid = self.viewer.canvas.grid
        if not grid.enabled:
            return self.current()
        layers = list(self.viewer.layers)
        return self.current(among={id(layers[i]) for i in grid.contents_at(viewbox, layers)})

    def slice_index(self, shown: ShownImage) -> int | None:
        """Array (z) index of ``shown``'s slice at the viewer's current point, or None."""
        point = np.asarray(self.viewer.dims.point, dtype=float)[-3:]
        if point.size != 3:
            return None
        z = int(np.round(shown.geometry.world_to_voxel(point)[0]))
        return z if 0 <= z < shown.volume.shape[0] else None

    # ------------------------------------------------------------------------ window / level
    def series_window(self) -> Window | None:
        """The current image's own window from its DICOM header, if any."""
        shown = self.current()
        return shown.window_source.get("series") if shown else None

    def set_window(self, window: Window) -> None:
        """Apply ``window`` to every installed image."""
        self.window = window
        for shown in self.images:
            shown.layer.contrast_limits = window.limits
        self.refresh()

    def set_preset(self, name: str) -> None:
        """Apply a named window: a :data:`PRESETS` name or ``"series"`` (the header's own).

        Raises
        ------
        KeyError
            For an unknown name, or ``"series"`` when the current series has no window.
        """
        if name == "series":
            own = self.series_window()
            if own is None:
                raise KeyError("The current series has no window of its own.")
            self.set_window(own)
        else:
            self.set_window(PRESETS[name])

    def _on_limits(self, event: Any) -> None:
        shown = self.current()
        if shown is not None and event.source is shown.layer:
            self.window = Window.from_limits(*shown.layer.contrast_limits)
            self.refresh()

    def _window_drag(self, viewer: Any, event: Any) -> Any:
        """Right-button drag on the canvas: horizontal = width, vertical = level."""
        shown = self.current()
        if event.button != RIGHT_BUTTON or shown is None or viewer.dims.ndisplay != 2:
            return
        start = Window.from_limits(*shown.layer.contrast_limits)
        x0, y0 = (float(v) for v in event.pos[:2])
        # the active layer (e.g. Lines in add_line mode) must not also take this drag: napari
        # calls the active layer's callbacks after the viewer's, so hand it to the image
        previous = viewer.layers.selection.active
        viewer.layers.selection.active = shown.layer
        event.handled = True
        yield
        try:
            while event.type == "mouse_move":
                self.set_window(drag_window(start, event.pos[0] - x0, event.pos[1] - y0))
                event.handled = True
                yield
        finally:
            if previous is not None and previous in viewer.layers:
                viewer.layers.selection.active = previous

    # ------------------------------------------------------------------------ status probe
    def probe_text(self, position: Any = None) -> str | None:
        """``"105 HU · Se 103 · Im 37 · R 12.3 A 45.6 I 117.5 mm"`` at a world position (the
        cursor's by default), or None off the image under the cursor."""
        shown = self.under_cursor()
        if shown is None:
            return None
        world = np.asarray(self.viewer.cursor.position if position is None else position)
        world = world.astype(float)[-3:]
        voxel = shown.geometry.world_to_voxel(world)
        index = np.round(voxel).astype(int)
        if np.any(index < 0) or np.any(index >= np.asarray(shown.volume.shape)):
            return None
        value = shown.layer.get_value(world, world=True)
        hu = "" if value is None else f"{float(value):.0f} HU · "
        lps = shown.volume.index_to_patient(voxel)
        where = " ".join(
            f"{(neg if v < 0 else pos)} {abs(v):.1f}"
            for v, (neg, pos) in zip(lps, (("R", "L"), ("A", "P"), ("I", "S")), strict=True)
        )
        return f"{hu}{shown.info.label(int(index[0]))} · {where} mm"

    def _on_status(self, event: Any) -> None:
        if self._setting_status or not self.viewer.mouse_over_canvas:
            return
        text = self.probe_text()
        if text is None:
            return
        value = event.value
        shown = self.under_cursor()
        if isinstance(value, dict):
            status: Any = {**value, "layer_base": shown.layer.name, "coordinates": text}
        else:
            status = text
        self._setting_status = True
        try:
            self.viewer.status = status
        finally:
            self._setting_status = False

    # ------------------------------------------------------------------------ overlays
    def info_text(self) -> str:
        """The canvas overlay: patient · date, series, the slice's PACS numbers and location
        (kept in short lines so the top orientation letter stays clear), and the window."""
        shown = self.cell_image((0, 0))
        if shown is None:
            return ""
        info = shown.info
        date = info.study_date.isoformat() if info.study_date else "no date"
        lines = [f"{info.patient_id or 'no patient id'} · {date}"]
        lines.append(f"{info.series_name} · {info.series_description}".strip(" ·"))
        z = self.slice_index(shown)
        if z is not None:
            location = shown.volume.index_to_patient(np.array([z, 0.0, 0.0]))[2]
            lines.append(f"{info.label(z)} · loc {location:.1f} mm")
        lines.append(self.window.label())
        return "\n".join(lines)

    def letters(self) -> dict[str, str] | None:
        """Orientation letter at each canvas edge, or None when not a 2-D view of the volume.

        Display axis 1 runs towards P and axis 2 towards L (see :mod:`._layers`), so an axial
        view has A on top and the patient's right (R) on the screen's left.
        """
        dims = self.viewer.dims
        if dims.ndisplay != 2 or dims.ndim < 3:
            return None
        vertical, horizontal = (d - (dims.ndim - 3) for d in dims.displayed)
        if not (0 <= vertical < 3 and 0 <= horizontal < 3):
            return None
        top, bottom = _AXIS_LETTERS[vertical]
        left, right = _AXIS_LETTERS[horizontal]
        v_orient, h_orient = (str(o) for o in _camera(self.viewer).orientation2d)
        if v_orient.endswith("up"):
            top, bottom = bottom, top
        if h_orient.endswith("left"):
            left, right = right, left
        return {"top": top, "bottom": bottom, "left": left, "right": right}

    def _update_letters(self, event: Any = None) -> None:
        letters = self.letters() if self.current() is not None else None
        overlays = self.viewer.canvas.overlays
        for edge, (key, _position) in LETTER_OVERLAYS.items():
            overlays[key].text = letters[edge] if letters else ""
            overlays[key].visible = letters is not None

    def refresh(self, event: Any = None) -> None:
        """Redraw the overlay text, the letters, the slider and the panel from the state."""
        overlay = self.viewer.canvas.overlays[INFO_OVERLAY]
        overlay.text = self.info_text()
        overlay.visible = bool(overlay.text)
        self._update_letters()
        self._fit_slider()
        self._label_slider()
        if self.panel is not None:
            self.panel.show_state()

    # ------------------------------------------------------------------------ slider
    def slider_range(self) -> tuple[float, float, float] | None:
        """World ``(start, stop, step)`` mm of the slice axis over the *visible* images.

        napari spans every layer, hidden series too, so a one-slice series elsewhere on the
        table (HCC_006's PRE LIVER) stretched the slider; shown, it counts again. Lines, ROI and
        proposal layers lie on their image. None when no image is visible (napari's range).
        """
        dims = self.viewer.dims
        axis = dims.ndim - 3
        extents = [
            layer.extent
            for layer in self.viewer.layers
            if isinstance(layer, Image) and layer.visible and layer.ndim == dims.ndim
        ]
        if axis < 0 or not extents:
            return None
        low = min(float(e.world[0][axis]) for e in extents)
        high = max(float(e.world[1][axis]) for e in extents)
        return low, high, min(float(e.step[axis]) for e in extents)

    def _fit_slider(self, event: Any = None) -> None:
        """Keep the slice slider on the shown images (napari resets it on layer changes)."""
        wanted = self.slider_range()
        dims = self.viewer.dims
        if wanted is None or self._fitting or dims.ndim < 3:
            return
        axis = dims.ndim - 3
        current = tuple(float(v) for v in dims.range[axis])
        if np.allclose(current, wanted):
            return
        point = float(dims.point[axis])
        ranges = list(dims.range)
        ranges[axis] = wanted
        self._fitting = True
        try:
            dims.range = tuple(ranges)
            if wanted[0] <= point <= wanted[1]:
                dims.set_point(axis, point)  # the same slice, not the same step index
        finally:
            self._fitting = False

    def _label_slider(self) -> None:
        """Name the slider's slice as PACS does (``Se 103 · Im 35``) in its axis label."""
        dims = self.viewer.dims
        shown = self.current()
        if dims.ndim < 3 or shown is None:
            return
        axis = dims.ndim - 3
        z = self.slice_index(shown)
        label = shown.info.label(z) if z is not None else "–"
        if dims.axis_labels[axis] != label:
            labels = list(dims.axis_labels)
            labels[axis] = label
            dims.axis_labels = tuple(labels)
            # once napari's slider shows the new name (it takes it after this handler)
            viewer = self._viewer
            QTimer.singleShot(0, lambda: fit_axis_labels(viewer()))

    def _on_slice_change(self, event: Any = None) -> None:
        self.refresh()

    def _on_inserted(self, event: Any) -> None:
        _use_mm(event.value)
        self.refresh()

    def _on_removed(self, event: Any) -> None:
        self.images = [s for s in self.images if s.layer is not event.value]
        self.refresh()

    # ------------------------------------------------------------------------ open at the liver
    def _open_at_liver(self, shown: ShownImage) -> None:
        """Find the liver slice and go there.

        Done on the main thread when the first image is installed (it reads at most about 48
        slices): run in a worker thread beside the click measurement's worker, the two hung
        the plugin in a test (both threads parked in scipy.ndimage, the main thread in Qt).
        """
        result = _liver_slice(shown.volume)
        shown.liver = result
        if result is not None and self.current() is shown:
            self.go_to_slice(shown, result.index)

    def go_to_slice(self, shown: ShownImage, index: int) -> None:
        """Show slice ``index`` (array order) of ``shown``."""
        centre = (np.asarray(shown.volume.shape, dtype=float) - 1) / 2.0
        centre[0] = index
        world = shown.geometry.voxel_to_world(centre)
        self.viewer.dims.set_point(self.viewer.dims.ndim - 3, float(world[0]))

    # ------------------------------------------------------------------------ ROI
    def start_roi(self, kind: str) -> None:
        """Arm the "ROI" layer to draw one ``"ellipse"`` or ``"rectangle"``."""
        self.roi.start(kind)


def _camera(viewer: Any) -> Any:
    """The viewer's camera (``viewer.scene.camera`` from napari 0.9, ``viewer.camera`` before)."""
    scene = getattr(viewer, "scene", None)
    return scene.camera if scene is not None else viewer.camera


def _liver_slice(volume: CTVolume) -> LiverSlice | None:
    """:func:`find_liver_slice`, or None when a slice cannot be read (the reader is told by
    the measurement that needs it; opening stays where napari put it)."""
    try:
        return find_liver_slice(volume)
    except LesionToolError:
        return None


def _use_mm(layer: Any) -> None:
    """World coordinates of a lesion-tool viewer are patient mm: say so, for the scale bar
    (napari reads the unit from the layers; one layer left in pixels makes it unitless)."""
    units = getattr(layer, "units", None)
    if units is None or getattr(layer, "ndim", 0) != 3:
        return
    if all(str(u) == "pixel" for u in units):
        layer.units = ("mm",) * 3
