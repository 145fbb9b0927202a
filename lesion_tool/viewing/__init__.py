"""GUI-free logic of the image display: window presets, ROI statistics, the slice to open at.

The napari plugin draws; these functions decide (numbers only, no Qt or napari), so they are
tested on arrays and real series without a viewer.
"""

from lesion_tool.viewing.liver_slice import LiverSlice, find_liver_slice
from lesion_tool.viewing.roi import RoiStats, roi_mask, roi_stats
from lesion_tool.viewing.windows import (
    DEFAULT_WINDOW,
    PRESETS,
    Window,
    drag_window,
    series_window,
)

__all__ = [
    "DEFAULT_WINDOW",
    "PRESETS",
    "LiverSlice",
    "RoiStats",
    "Window",
    "drag_window",
    "find_liver_slice",
    "roi_mask",
    "roi_stats",
    "series_window",
]
