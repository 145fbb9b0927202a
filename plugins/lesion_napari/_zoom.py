"""Framing a small proposal: how much to zoom so that a reader can judge its contour.

napari opens a CT series fitted to the canvas, about 2.8 screen pixels per millimetre at 1080p
(a 360 mm field of view in some 1000 pixels), so the contour of a 10-20 mm lesion was a 30-60
pixel outline. A display choice, not a clinical rule: the numbers below are the plugin's.
"""

from __future__ import annotations

from collections.abc import Sequence

MIN_ON_SCREEN_PX = 100.0
"""A proposal whose longest diameter spans fewer screen pixels than this is zoomed into."""
TARGET_FRACTION = 0.15
"""... so that its longest diameter spans this share of the canvas's shorter side ..."""
MIN_FIELD_OF_VIEW_MM = 80.0
"""... but never so far that the canvas's shorter side shows less than this much of the
patient (the liver around a 10 mm nodule stays in view; 60 mm looked cramped on IRCADb's
11.9 mm tumour 06 at 1080p)."""


def zoom_to_show(extent_mm: float, zoom: float, canvas_size_px: Sequence[float]) -> float | None:
    """The camera zoom (screen pixels per world millimetre) that frames a proposal, or None
    to keep the reader's zoom.

    Parameters
    ----------
    extent_mm
        The proposal's longest diameter in mm (world units of a lesion-tool viewer are mm).
    zoom
        The camera's zoom now, screen pixels per mm.
    canvas_size_px
        The canvas (or grid cell) size in screen pixels, ``(height, width)``.

    Returns
    -------
    float or None
        A larger zoom when the proposal spans fewer than :data:`MIN_ON_SCREEN_PX` pixels now
        (it then spans :data:`TARGET_FRACTION` of the shorter side, and at least
        :data:`MIN_ON_SCREEN_PX`, unless that would show less than a
        :data:`MIN_FIELD_OF_VIEW_MM` field of view); None when it is large enough already, or
        when no zoom would make it larger (the reader's zoom is never reduced).
    """
    side = float(min(canvas_size_px))
    if not (extent_mm > 0 and zoom > 0 and side > 0):
        return None
    if extent_mm * zoom >= MIN_ON_SCREEN_PX:
        return None
    span_px = max(MIN_ON_SCREEN_PX, TARGET_FRACTION * side)
    wanted = min(span_px / extent_mm, side / MIN_FIELD_OF_VIEW_MM)
    return wanted if wanted > zoom * 1.01 else None
