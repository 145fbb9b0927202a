"""A star-shaped outline drawn from its radii: the analytic shape outline trims are tested on."""

from __future__ import annotations

import math

import numpy as np

SPACING = (0.6, 0.6)


def star(radii: np.ndarray, cy: float, cx: float, shape: tuple[int, int]) -> np.ndarray:
    """A mask of ``shape`` whose outline is ``radii`` (mm, evenly spaced angles) about (cy, cx)
    pixels, on pixels of SPACING mm."""
    from skimage.draw import polygon2mask

    a = np.arange(len(radii)) * (2.0 * math.pi / len(radii))
    outline = np.column_stack(
        [cy + np.sin(a) * radii / SPACING[0], cx + np.cos(a) * radii / SPACING[1]]
    )
    return polygon2mask(shape, outline)
