"""The lesion assessment dock widget: builds the panels around one controller, and the keys.

Everything the reader does goes through :class:`~lesion_napari._controller.Controller` (state
and operations, the core's reading session inside); the panels (study, lesions, selected
lesion, response, saving) subscribe to it. The window / level and ROI are the viewer's display
tools (:mod:`._display`, one "Display" dock: the one window control of the viewer). This module
only assembles them and binds keys.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas  # noqa: F401 - napari's feature tables import it lazily (~0.7 s): do it now
from qtpy.QtCore import QEvent, Qt, QTimer
from qtpy.QtGui import QKeySequence
from qtpy.QtWidgets import QScrollArea, QShortcut, QVBoxLayout, QWidget

from lesion_tool.model import Category

from ._controller import Controller
from ._display import ensure_display_tools
from ._panels import follow
from ._panels.lesions import LesionsPanel
from ._panels.measurement import MeasurementPanel
from ._panels.pacs import PacsPanel
from ._panels.response import ResponsePanel
from ._panels.saving import SavingPanel
from ._panels.study import StudyPanel

if TYPE_CHECKING:
    import napari

MAX_HEIGHT = 1000
"""The dock fits a 1080p screen under napari's title and menu bars (it scrolls beyond)."""
MIN_WIDTH = 400
"""Narrowest dock; below the width its panels need it scrolls sideways (never clips them)."""
WINDOW_SHARE = 0.36
"""The dock takes at most this share of napari's window (1920 px: 691, room for every panel;
1366 px: 491, the canvas keeps over a third beside napari's left column and the panels scroll
sideways)."""


def shortcuts(c: Controller) -> dict[str, tuple[str, Callable[[], Any]]]:
    """Viewer keys (they act on the canvas, never in a text field): key -> (what, action)."""
    return {
        "Shift-T": ("new target", lambda: c.new_lesion(Category.TARGET)),
        "Shift-N": ("next lesion", c.next_lesion),
        "Shift-M": ("click in lesion", c.start_click_measure),
        "Shift-D": ("measure by a dragged line", c.start_line_measure),
        "Shift-A": ("accept", c.accept_proposal),
        "Shift-R": ("reject", c.reject_proposal),
        "Shift-W": ("other phase linked (washout)", c.follow.phases.link_phases),
        "Control-Z": ("undo", c.undo),
        "Shift-U": ("undo", c.undo),
        "Escape": ("cancel", c.escape),
    }


LAYER_OWN_KEYS = frozenset({"Control-Z"})
"""Keys a layer keeps when it binds them itself (a Labels layer's Ctrl+Z undoes its painting).
Every other reader key is bound on each layer too: napari asks the active layer's keymap
before the viewer's, so a layer's own binding would swallow it (a Points layer's Shift+A,
Shapes' and Labels' Escape, or any shortcut the user assigns in napari's preferences)."""
CHAINED_KEYS = frozenset({"Escape"})
"""Keys that do the layer's own thing first, then the reader's (Esc ends napari's drawing of a
shape and also cancels an armed tool)."""


class LesionWidget(QWidget):
    """Dock widget: open a patient's studies, measure lesions, follow the response live.

    Parameters
    ----------
    napari_viewer
        The viewer to work in (npe2 passes it).
    """

    def __init__(self, napari_viewer: napari.viewer.Viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.controller = c = Controller(napari_viewer)
        keys = shortcuts(c)
        hint = "Keys (on the image): " + ", ".join(f"{k}: {what}" for k, (what, _) in keys.items())
        self.study = StudyPanel(c)
        self.response = ResponsePanel(c)
        self.lesions = LesionsPanel(c)
        self.measurement = MeasurementPanel(c)
        self.saving = SavingPanel(c, hint)
        self.pacs = PacsPanel(c, self)  # a dialog: open from PACS, sign off, send SR (issue 14)
        self.saving.button_row.addWidget(self.pacs.launcher)
        # the one window / level control: the display tools' "Display" dock (on the left, under
        # the layer list, so this column keeps its height for the reading)
        self.display = ensure_display_tools(napari_viewer)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAsNeeded)
        outer.addWidget(scroll)
        body = QWidget()
        scroll.setWidget(body)
        layout = QVBoxLayout(body)
        layout.setSpacing(4)
        layout.setContentsMargins(4, 2, 4, 2)
        for panel in (self.study, self.lesions, self.response, self.measurement, self.saving):
            panel.layout().setContentsMargins(6, 0, 6, 2)  # compact: all fits a 1080p screen
            panel.layout().setSpacing(2)
        for panel in (self.study, self.lesions, self.response, self.measurement):
            layout.addWidget(panel)
        layout.addStretch(1)
        # the reading file and Save stay on screen below the panels, which scroll (a proposal's
        # words and flags make them taller than a 1080p screen; 768 px never holds them)
        outer.addWidget(self.saving)
        self._scroll = scroll
        self._reveal = False
        follow(self, c, ("proposal",), self._show_proposal)
        self._window: weakref.ref[QWidget] | None = None  # napari's window, once docked
        body.installEventFilter(self)  # a panel grew (a long proposal text): fit again
        self.fit_width()
        self.setMaximumHeight(MAX_HEIGHT)
        self._keys = keys
        for key, (what, action) in keys.items():
            self.viewer.bind_key(key, _handler(what, action), overwrite=True)
        self.viewer.layers.events.inserted.connect(lambda event: self.bind_layer_keys(event.value))
        for layer in list(self.viewer.layers):
            self.bind_layer_keys(layer)
        # Ctrl+Z in the dock too (a text field keeps its own Ctrl+Z: Qt gives it priority)
        undo = QShortcut(QKeySequence.Undo, self)
        undo.setContext(Qt.WidgetWithChildrenShortcut)
        undo.activated.connect(c.undo)
        self.viewer.layers.events.inserted.connect(c.on_layer_inserted)
        self.viewer.layers.events.removed.connect(c.on_layer_removed)
        self.viewer.mouse_drag_callbacks.append(c.on_mouse_press)
        for layer in list(self.viewer.layers):
            c.register_layer(layer)
        QTimer.singleShot(0, _warm_up_layers)

    def bind_layer_keys(self, layer: Any) -> None:
        """Bind the reader's keys on a layer too, so they work whatever layer is active."""
        from napari.utils.key_bindings import KeyBinding

        for key, (what, action) in self._keys.items():
            if KeyBinding.from_str(key) in layer.keymap:
                continue  # bound on this very layer on purpose (the plugin's Esc, Ctrl+Z)
            own = _class_binding(layer, key)
            if key in LAYER_OWN_KEYS and own is not None:
                continue
            chained = own if key in CHAINED_KEYS else None
            layer.bind_key(key, _layer_handler(what, action, chained), overwrite=True)

    def _show_proposal(self) -> None:
        """Scroll the panels (as little as needed) so a proposal's words are on screen, again
        whenever they are laid out anew while it is open (its words grow as it is measured)."""
        self._reveal = self.controller.proposal is not None
        if self._reveal:
            QTimer.singleShot(0, self._reveal_proposal)

    def _reveal_proposal(self) -> None:
        text = self.measurement.proposal_text
        if not self._reveal or not text.isVisible():
            return
        self._scroll.ensureWidgetVisible(text, 0, 4)
        if self.lesions.accept_button.isEnabled():
            return
        # Accept refused: the refusal and its ways out before the tail of long flags (HCC_006's
        # two flags made the words taller than the room and scrolled them out of view); the
        # flags' heads are on the canvas too (_proposal_overlay)
        self._scroll.ensureWidgetVisible(self.lesions.proposal_label, 0, 4)
        self._scroll.ensureWidgetVisible(self.lesions.accept_button, 0, 4)

    def fit_width(self) -> None:
        """As wide as the panels need, up to :data:`WINDOW_SHARE` of napari's window; narrower
        than they need, they scroll sideways instead of being clipped.

        Called when shown (napari's style sheet, applied on docking, widens the panels), when
        a panel's content changes its size, and when napari's window is resized.
        """
        scroll = self._scroll
        needed = scroll.widget().minimumSizeHint().width() + 2 * scroll.frameWidth()
        needed += scroll.verticalScrollBar().sizeHint().width()
        needed = max(needed, self.saving.minimumSizeHint().width())
        window = self.window()
        if window is not self:
            needed = min(needed, int(WINDOW_SHARE * window.width()))
        width = max(MIN_WIDTH, needed)
        if width != self.minimumWidth():
            self.setMinimumWidth(width)

    def showEvent(self, event: Any) -> None:
        """Fit the width once styled and docked (see :meth:`fit_width`)."""
        super().showEvent(event)
        window = self.window()
        if window is not self and (self._window is None or self._window() is not window):
            window.installEventFilter(self)
            self._window = weakref.ref(window)
        self.fit_width()

    def eventFilter(self, obj: Any, event: Any) -> bool:
        """Fit the width again when the panels' layout or napari's window changes size."""
        if event.type() in (QEvent.LayoutRequest, QEvent.Resize) and (
            obj is self._scroll.widget() or obj is self.window()
        ):
            self.fit_width()
            if self._reveal:
                QTimer.singleShot(0, self._reveal_proposal)
        return False


def _handler(what: str, action: Callable[[], Any]) -> Callable[[Any], None]:
    def handler(viewer: Any) -> None:
        action()

    handler.__name__ = what.replace(" ", "_")
    return handler


def _class_binding(layer: Any, key: str) -> Callable[..., Any] | None:
    """The function napari binds to ``key`` for a layer's class (and its bases), if any."""
    from napari.utils.key_bindings import KeyBinding

    binding = KeyBinding.from_str(key)
    for cls in type(layer).__mro__:
        func = getattr(cls, "class_keymap", {}).get(binding)
        if func is not None and func is not Ellipsis:
            return func
    return None


def _layer_handler(
    what: str, action: Callable[[], Any], chained: Callable[..., Any] | None
) -> Callable[[Any], None]:
    def handler(layer: Any) -> None:
        if chained is not None:
            result = chained(layer)
            if inspect.isgenerator(result):  # a hold-key binding: its press part only
                next(result, None)
        action()

    handler.__name__ = what.replace(" ", "_")
    return handler


def _warm_up_layers() -> None:
    """Build (and drop) one layer of each kind the widget shows, off-screen.

    napari pays one-time costs (unit registry, feature tables, vispy event types: about 0.5 s)
    on the first layer of a kind; paying them when the widget opens keeps them out of the
    first display of a study.
    """
    from napari.layers import Image, Labels, Shapes

    Image(np.zeros((2, 2, 2), dtype=np.int16))
    Labels(np.zeros((1, 1, 1), dtype=np.uint8))
    Shapes(ndim=3, features={"label": np.array([], dtype=object)}, text={"string": "{label}"})
