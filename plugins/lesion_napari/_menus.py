"""Menu commands of the manifest (File > IO Utilities).

No ``from __future__ import annotations`` here: napari finds the viewer to pass by the
parameter's annotation at run time.
"""

from napari.viewer import Viewer


def open_from_pacs(viewer: Viewer) -> None:
    """File > IO Utilities > Open from PACS...: the dialog of the viewer's assessment widget."""
    from ._pacs_dialog import find_assessment_widget

    find_assessment_widget(viewer).pacs.show_dialog()


def adjudication_view(viewer: Viewer) -> None:
    """File > IO Utilities > Adjudicate readings...: dock the adjudication view."""
    viewer.window.add_plugin_dock_widget("lesion-tool", "Adjudication (core lab)")
