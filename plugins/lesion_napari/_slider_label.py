"""The slider's slice name (``Se 103 · Im 100``), sized to be read in full.

The name is the display tools' (:meth:`._display.DisplayTools._label_slider`); this module only
gives napari's label widget the width the name needs.
"""

from __future__ import annotations

import warnings
import weakref
from typing import Any

SLICE_NAME_SHARE = 0.6
"""The slider's slice name may take up to this share of the slider row (napari caps its axis
labels at a fifth, which cut ``Se 103 · Im 100`` beside a docked widget)."""


PRIVATE_API = (
    "window._qt_viewer.dims",
    "window._qt_viewer.dims._resize_axis_labels",
    "window._qt_viewer.dims.slider_widgets",
    "slider_widgets[i].axis_label",
    "slider_widgets[i].size_changed",
)
"""napari's private API the slice name's width depends on (napari 0.9 has no public way: the
model's ``Dims.axis_labels`` sets the text, never the width of its widget)."""
_warned: set[str] = set()


def missing_private_api(viewer: Any) -> list[str]:
    """Which of :data:`PRIVATE_API` a shown viewer lacks (empty when napari still has it all);
    a test fails on it, naming the piece, when a napari release moves one."""
    window = getattr(viewer, "window", None)
    qt_viewer = getattr(window, "_qt_viewer", None)
    if qt_viewer is None:  # napari moved it, or (its class still has it) the window is closed
        closed = window is not None and hasattr(type(window), "_qt_viewer")
        return [] if closed else [PRIVATE_API[0]]
    qt_dims = getattr(qt_viewer, "dims", None)
    if qt_dims is None:
        return [PRIVATE_API[0]]
    missing = []
    if not callable(getattr(qt_dims, "_resize_axis_labels", None)):
        missing.append(PRIVATE_API[1])
    sliders = getattr(qt_dims, "slider_widgets", None)
    if sliders is None:
        return [*missing, PRIVATE_API[2]]
    for name, piece in (("axis_label", PRIVATE_API[3]), ("size_changed", PRIVATE_API[4])):
        if any(not hasattr(slider, name) for slider in sliders):
            missing.append(piece)
    return missing


def fit_axis_labels(viewer: Any) -> None:
    """Widen the slider's label to the slice name just set (``Se 103 · Im 100`` in full).

    napari sizes its axis labels when one is typed or a slider is resized, not when a label is
    set from the model (``QtDimSliderWidget._pull_label`` blocks the signal), so the name was
    cut to the width of an earlier, shorter one; and it caps them at a fifth of the slider
    row, which beside the docked widget (a canvas of some 600 px) is too narrow for a PACS
    slice name. napari's sizing is asked for again, then a label still too narrow for its
    text is widened up to :data:`SLICE_NAME_SHARE` of its row, again after every resize of the
    row. Private napari API, guarded: a napari without it keeps its own behaviour (the name
    may then be cut), and says so once as a warning (:func:`missing_private_api`).
    """
    if viewer is None:
        return
    missing = missing_private_api(viewer)
    if missing:
        text = ", ".join(missing)
        if text not in _warned:
            _warned.add(text)
            warnings.warn(
                f"napari {_napari_version()} lacks {text}: the slider's slice name is sized by "
                "napari alone and may be cut (lesion_napari._slider_label)",
                RuntimeWarning,
                stacklevel=2,
            )
        return
    qt_viewer = getattr(getattr(viewer, "window", None), "_qt_viewer", None)
    qt_dims = getattr(qt_viewer, "dims", None)
    if qt_dims is None:
        return  # the window is closed
    qt_dims._resize_axis_labels()
    fm = qt_dims.fontMetrics()
    margin = int(fm.averageCharWidth() * 4)  # napari's: a space and the ellipsis
    ref = weakref.ref(viewer)
    for slider in list(getattr(qt_dims, "slider_widgets", ())):
        label = getattr(slider, "axis_label", None)
        if label is None:
            continue
        if not getattr(slider, "_lesion_tool_fitted", False) and hasattr(slider, "size_changed"):
            slider._lesion_tool_fitted = True
            slider.size_changed.connect(lambda *_: fit_axis_labels(ref()))
        need = fm.boundingRect(label.text()).width() + margin
        now = label.minimumWidth()  # napari's fixed width
        if now < need:
            label.setFixedWidth(max(now, min(need, int(slider.width() * SLICE_NAME_SHARE))))


def _napari_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("napari")
    except PackageNotFoundError:  # pragma: no cover - napari is what runs this
        return "?"
