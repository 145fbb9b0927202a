"""The "ROI" Shapes layer of :mod:`._display`: draw an ellipse or rectangle on a slice and read
its mean, SD, min / max HU and area (computed by the core's :mod:`lesion_tool.viewing.roi`).

The ROI is measured on the current image (the topmost visible lesion-tool image) through world
millimetres, so it is right on any timepoint's geometry, and on the slice it was drawn on.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lesion_tool.viewing import RoiStats, roi_mask, roi_stats

ROI_LAYER = "ROI"
ROLE_KEY = "lesion_tool_role"


class RoiTool:
    """The ROI layer of one viewer's :class:`~lesion_napari._display.DisplayTools`."""

    def __init__(self, tools: Any) -> None:
        self.tools = tools
        self.text = ""
        """The last ROI's result in words (shown in the Display panel)."""
        self.last: RoiStats | None = None

    def layer(self) -> Any:
        """The "ROI" Shapes layer (made over the current image on first use)."""
        for layer in self.tools.viewer.layers:
            if layer.metadata.get(ROLE_KEY) == ROI_LAYER:
                return layer
        shown = self.tools.current()
        if shown is None:
            raise RuntimeError("No lesion-tool image is shown to draw a ROI on.")
        layer = self.tools.viewer.add_shapes(
            ndim=3,
            name=ROI_LAYER,
            edge_color="yellow",
            face_color="transparent",
            edge_width=1.5,
            metadata={ROLE_KEY: ROI_LAYER},
            **shown.geometry.layer_kwargs(),
        )
        layer.events.data.connect(self._on_data)
        return layer

    def start(self, kind: str) -> None:
        """Arm the ROI layer to draw one ``"ellipse"`` or ``"rectangle"``."""
        layer = self.layer()
        self.tools.viewer.layers.selection.active = layer
        layer.mode = f"add_{kind}"

    def _on_data(self, event: Any) -> None:
        action = str(getattr(event, "action", "added"))
        if not action.endswith("ed") or action.endswith("removed"):
            return
        layer = event.source
        if not len(layer.data):
            return
        indices = sorted(getattr(event, "data_indices", ()) or ()) or [len(layer.data) - 1]
        index = indices[-1] if 0 <= indices[-1] < len(layer.data) else len(layer.data) - 1
        if action == "added" and layer.mode.startswith("add_"):
            layer.mode = "select"  # one ROI per click of the button, like the line tool
        try:
            self.measure(layer, index)
        except ValueError as err:
            self.text = f"ROI: {err}"
            self.last = None
        self.tools.refresh()

    def measure(self, layer: Any, index: int) -> RoiStats:
        """Statistics of shape ``index`` of ``layer`` on the current image's slice under it.

        Raises
        ------
        ValueError
            Not an ellipse or rectangle, drawn across slices, or outside the image.
        """
        shown = self.tools.current()
        if shown is None:
            raise ValueError("no image is shown")
        kind = layer.shape_type[index]
        world = layer.data[index] * np.asarray(layer.scale) + np.asarray(layer.translate)
        display = shown.geometry.world_to_display(world[:, -3:])
        planes = np.round(display[:, 0]).astype(int)
        if len(set(planes.tolist())) != 1:
            raise ValueError("draw the ROI on one axial slice")
        plane = int(planes[0])
        if not 0 <= plane < shown.geometry.display_shape[0]:
            raise ValueError("the ROI is outside the image")
        image = np.asarray(shown.geometry.display_array(shown.volume.array)[plane])
        mask = roi_mask(image.shape, display[:, 1:], kind)
        stats = roi_stats(image, mask, shown.geometry.scale[1] * shown.geometry.scale[2])
        z = int(np.round(shown.geometry.display_to_voxel(display[0])[0]))
        self.last = stats
        self.text = f"ROI {kind} on {shown.info.label(z)}: {stats.label()}"
        return stats
