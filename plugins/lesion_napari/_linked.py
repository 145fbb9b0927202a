"""A second canvas beside napari's, and the link that keeps two canvases at matching anatomy.

napari's grid mode shows layers side by side but under ONE camera and ONE slider, so a linked
baseline could only follow the follow-up by the same world point, not through a registration.
This module therefore adds a second canvas (napari's own ``ViewerModel`` drawn by a
``QtViewer``, as in napari's "multiple viewer widget" example) in a dock to the left of the main
canvas, full height, and :class:`ViewLink` ties the two: a change of slice, pan, zoom or cursor
in one is carried to the other through a pair of point maps (world mm -> world mm), never by the
same voxel index. The maps come from the controller's follow-up reading (the registration); this
module holds no rule of the reading.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
from napari.components import ViewerModel
from qtpy.QtCore import QEvent, QObject, Qt, QTimer
from qtpy.QtWidgets import QDockWidget, QLabel, QVBoxLayout, QWidget

WorldMap = Callable[[np.ndarray], np.ndarray]
"""World ``(S, P, L)`` mm ``(3,)`` of one canvas -> world mm of the other."""

WIDTH_SHARE = 0.3
"""Share of the window's width the linked canvas asks for (the main canvas keeps as much)."""
CURSOR_NAME = "Linked cursor"
CURSOR_STYLE = {"symbol": "cross", "size": 15, "face_color": "#ffd400", "border_width": 0}
"""The mark showing, on one canvas, where the mouse is on the other (through the mapping)."""


def world_position(viewer: Any) -> np.ndarray:
    """The world point ``(S, P, L)`` a 2-D viewer looks at: its slice and its camera centre."""
    centre = np.asarray(viewer.camera.center, dtype=float)[-2:]
    return np.array([float(viewer.dims.point[0]), centre[0], centre[1]])


def move_to(viewer: Any, world: Sequence[float], zoom: float | None = None) -> None:
    """Put a 2-D viewer's slice and camera centre at ``world`` ``(S, P, L)`` mm (and ``zoom``)."""
    viewer.dims.set_point(0, float(world[0]))
    viewer.camera.center = (float(world[1]), float(world[2]))
    if zoom is not None:
        viewer.camera.zoom = float(zoom)


def cursor_layer(viewer: Any, layer_kwargs: dict[str, Any]) -> Any:
    """A one-point layer marking the linked cursor, hidden until the mouse is on the other
    canvas. ``layer_kwargs``: the scale, translate and units of the image it marks (a layer of
    another scale would change the slider's step)."""
    layer = viewer.add_points(
        np.zeros((0, 3)),
        name=CURSOR_NAME,
        ndim=3,
        visible=False,
        out_of_slice_display=True,
        metadata={"lesion_tool": {"role": "linked_cursor"}},
        **layer_kwargs,
        **CURSOR_STYLE,
    )
    layer.editable = False
    return layer


class ViewLink:
    """Keeps viewer ``b`` at the anatomy viewer ``a`` shows, and ``a`` at ``b``'s.

    Parameters
    ----------
    a, b
        napari viewers (or viewer models) in 2-D.
    a_to_b, b_to_a
        World point maps between them (:data:`WorldMap`).
    cursor_a, cursor_b
        Points layers (:func:`cursor_layer`) in ``a`` and ``b`` that mark the other's mouse.

    Slice, pan and zoom of either viewer move the other; its mouse moves the other's cursor
    mark. Changes made while carrying one over are not carried back (no ping-pong).
    """

    def __init__(
        self,
        a: Any,
        b: Any,
        a_to_b: WorldMap,
        b_to_a: WorldMap,
        cursor_a: Any = None,
        cursor_b: Any = None,
    ) -> None:
        self.a, self.b = a, b
        self.maps = {id(a): (b, a_to_b, cursor_b), id(b): (a, b_to_a, cursor_a)}
        self._busy = False
        self._connections: list[tuple[Any, Callable[..., None]]] = []
        for viewer in (a, b):
            view = self._follower(viewer)
            cursor = self._cursor(viewer)
            for emitter in (
                viewer.dims.events.current_step,
                viewer.camera.events.center,
                viewer.camera.events.zoom,
            ):
                emitter.connect(view)
                self._connections.append((emitter, view))
            viewer.cursor.events.position.connect(cursor)
            self._connections.append((viewer.cursor.events.position, cursor))

    def _follower(self, src: Any) -> Callable[..., None]:
        def on_change(event: Any = None) -> None:
            self.carry_view(src)

        return on_change

    def _cursor(self, src: Any) -> Callable[..., None]:
        def on_move(event: Any = None) -> None:
            self.carry_cursor(src)

        return on_move

    @contextlib.contextmanager
    def holding(self) -> Iterator[None]:
        """Moves made inside this block are not carried to the other viewer."""
        busy, self._busy = self._busy, True
        try:
            yield
        finally:
            self._busy = busy

    def carry_view(self, src: Any) -> None:
        """Move the other viewer to the anatomy ``src`` shows (slice, centre, zoom)."""
        if self._busy:
            return
        dst, f, _ = self.maps[id(src)]
        self._busy = True
        try:
            move_to(dst, f(world_position(src)), zoom=src.camera.zoom)
        finally:
            self._busy = False

    def carry_cursor(self, src: Any) -> None:
        """Mark on the other viewer where the mouse is on ``src`` (through the mapping)."""
        dst, f, mark = self.maps[id(src)]
        if mark is None:
            return
        world = np.asarray(src.cursor.position, dtype=float)[-3:]
        if world.shape != (3,) or not np.all(np.isfinite(world)):
            return
        point = np.asarray(f(world), dtype=float)
        mark.data = np.asarray(mark.world_to_data(point), dtype=float).reshape(1, 3)
        mark.visible = True
        own = self.maps[id(dst)][2]
        if own is not None:
            own.visible = False  # the mouse is on src: dst's own mark of src means nothing now

    def close(self) -> None:
        """Stop linking (disconnect every event)."""
        for emitter, callback in self._connections:
            emitter.disconnect(callback)
        self._connections.clear()


class _OnClose(QObject):
    """Calls back when the watched window closes (its docks get no close event of their own)."""

    def __init__(self, callback: Callable[[], None]) -> None:
        super().__init__()
        self.callback = callback

    def eventFilter(self, obj: Any, event: Any) -> bool:
        if event.type() == QEvent.Close:
            self.callback()
        return False


class LinkedCanvas:
    """A napari canvas of its own in a full-height dock left of the main canvas.

    Parameters
    ----------
    viewer
        The main napari viewer (its window receives the dock).
    title
        The dock's title.
    on_close
        Called when the main window closes, after the canvas has released its resources (the
        owner drops its references then, so nothing of the canvas outlives the window).
    """

    def __init__(self, viewer: Any, title: str, on_close: Callable[[], None] | None = None) -> None:
        from napari.qt import QtViewer

        self.model = ViewerModel(title=title)
        self.qt_viewer: Any = QtViewer(self.model)
        self.series = ""
        """SeriesInstanceUID of the image shown."""
        self.lines: Any = None
        self.cursor: Any = None
        """The linked-cursor mark on this canvas (:func:`cursor_layer`)."""
        self.widget = QWidget()
        layout = QVBoxLayout(self.widget)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        self.header = QLabel(title)
        self.header.setWordWrap(True)
        self.header.setStyleSheet("font-weight: bold")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.header)
        layout.addWidget(self.status)
        layout.addWidget(self.qt_viewer, 1)
        self.dock: QDockWidget = viewer.window.add_dock_widget(self.widget, area="left", name=title)
        window = self.dock.parentWidget()
        # beside the layer list (full height), not stacked under it
        window.addDockWidget(Qt.LeftDockWidgetArea, self.dock, Qt.Horizontal)
        self._on_close = on_close
        self._watcher = _OnClose(self.close)
        window.installEventFilter(self._watcher)
        self._window = window
        self.fit()
        QTimer.singleShot(0, self.fit)  # again once the window has laid the dock out

    def fit(self) -> None:
        """Give the canvas about as much width as the main canvas keeps (once laid out)."""
        if self.qt_viewer is None:
            return  # closed meanwhile
        width = max(int(self._window.width() * WIDTH_SHARE), 360)
        self._window.resizeDocks([self.dock], [width], Qt.Horizontal)

    def close(self) -> None:
        """Release the canvas (its GL canvas, its layers) and tell the owner."""
        if self.qt_viewer is None:
            return
        self._window.removeEventFilter(self._watcher)
        self.qt_viewer.close()  # napari's own clean-up of a QtViewer (closeEvent)
        self.qt_viewer.setParent(None)
        self.qt_viewer.deleteLater()
        self.qt_viewer = None
        self.model.layers.clear()
        self.lines = self.cursor = None
        if self._on_close is not None:
            self._on_close()

    def show_view(self, view: Any, lesions: Any = ()) -> None:
        """Show a timepoint view's image (its pixels shared, not copied) with ``lesions``' lines
        (read-only), and the linked-cursor mark; the layers are remade for another series."""
        from ._layers import line_to_shape
        from ._views import LINE_COLOURS, LINE_WIDTHS, line_text, lines_of

        model = self.model
        kwargs = view.geometry.layer_kwargs()
        series = view.volume.series_instance_uid
        if self.series != series:
            model.layers.clear()
            model.add_image(
                view.geometry.display_array(view.volume.array),
                name=view.image.name,
                colormap="gray",
                contrast_limits=view.image.contrast_limits,
                **kwargs,
            )
            self.lines = model.add_shapes(name="Lines", ndim=3, **kwargs)
            self.cursor = cursor_layer(model, kwargs)
            self.series = series
        model.layers[0].contrast_limits = view.image.contrast_limits
        shapes, colours, widths, texts = [], [], [], []
        for lesion in lesions:
            for role, line in lines_of(lesion):
                shapes.append(line_to_shape(line, view.volume, view.geometry))
                colours.append(LINE_COLOURS[role])
                widths.append(LINE_WIDTHS[role])
                texts.append(line_text(lesion, role))
        layer = self.lines
        layer.data = []
        if shapes:
            layer.add(shapes, shape_type="line", edge_color=colours, edge_width=widths)
        layer.features = {"label": np.array(texts, dtype=object)}
        layer.text = {"string": "{label}", "color": "yellow", "size": 11, "anchor": "upper_left"}
        layer.editable = False

    def show(self) -> None:
        """Show the dock again if the reader closed it, at its width."""
        hidden = self.dock.isHidden()
        self.dock.show()
        if hidden:
            QTimer.singleShot(0, self.fit)

    def set_texts(self, header: str, status: str) -> None:
        """The dock's header (what is shown) and status (progress, flags, in words)."""
        self.header.setText(header)
        self.status.setText(status)
