"""Region-of-interest statistics on one slice: mean, SD, min / max HU and area of an ellipse or
rectangle, as PACS reports them (e.g. the HU of a nodule, or the liver's enhancement).

A shape is given as the four corners of its (possibly rotated) bounding box in pixel
coordinates ``(row, column)``, consecutive around the box, which is how napari stores ellipses
and rectangles. Pixel ``(i, j)`` covers ``[i - 0.5, i + 0.5] x [j - 0.5, j + 0.5]``; it belongs to
the ROI when its centre does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

KINDS = ("ellipse", "rectangle")


@dataclass(frozen=True)
class RoiStats:
    """Statistics of the pixels inside a ROI (HU) and its area."""

    mean: float
    sd: float
    """Population standard deviation (ddof 0) of the pixels inside."""
    minimum: float
    maximum: float
    n_pixels: int
    area_mm2: float
    """Area of the pixels counted (``n_pixels`` times the pixel area)."""

    def label(self) -> str:
        """One line for a panel:
        ``"mean 105.2 HU, SD 12.1, min 60, max 150, 314.2 mm² (512 px)"``.
        """
        return (
            f"mean {self.mean:.1f} HU, SD {self.sd:.1f}, min {self.minimum:.0f}, "
            f"max {self.maximum:.0f}, {self.area_mm2:.1f} mm² ({self.n_pixels} px)"
        )


def roi_mask(shape: tuple[int, int], corners: npt.ArrayLike, kind: str) -> np.ndarray:
    """Boolean ``shape`` mask of the pixels whose centre lies inside the ellipse or rectangle.

    Parameters
    ----------
    shape
        ``(rows, columns)`` of the slice.
    corners
        ``(4, 2)`` bounding-box corners ``(row, column)``, consecutive around the box.
    kind
        ``"ellipse"`` (inscribed in the box) or ``"rectangle"`` (the box).

    Raises
    ------
    ValueError
        For another ``kind``, corners that are not ``(4, 2)``, or a box of zero area.
    """
    if kind not in KINDS:
        raise ValueError(f'ROI kind must be one of {KINDS}, got "{kind}".')
    pts = np.asarray(corners, dtype=float)
    if pts.shape != (4, 2):
        raise ValueError(f"A ROI needs 4 corners (row, column), got shape {pts.shape}.")
    centre = pts.mean(axis=0)
    half_axes = np.column_stack([(pts[1] - pts[0]) / 2.0, (pts[3] - pts[0]) / 2.0])
    if abs(np.linalg.det(half_axes)) < 1e-9:
        raise ValueError("The ROI has no area (its corners are on one line).")
    rows, cols = np.indices(shape, dtype=float)
    rel = np.stack([rows.ravel() - centre[0], cols.ravel() - centre[1]])
    s, t = np.linalg.solve(half_axes, rel)
    inside = (s**2 + t**2 <= 1.0) if kind == "ellipse" else (np.abs(s) <= 1) & (np.abs(t) <= 1)
    return inside.reshape(shape)


def roi_stats(image: npt.ArrayLike, mask: npt.ArrayLike, pixel_area_mm2: float) -> RoiStats:
    """Mean, SD, min, max and area of ``image`` (2-D, HU) where ``mask`` is true.

    Raises
    ------
    ValueError
        If the mask holds no pixel (the ROI is outside the image or smaller than a pixel), or
        the shapes differ.
    """
    values = np.asarray(image)
    inside = np.asarray(mask, dtype=bool)
    if values.shape != inside.shape:
        raise ValueError(f"Image {values.shape} and mask {inside.shape} differ in shape.")
    picked = values[inside].astype(float)
    if picked.size == 0:
        raise ValueError("The ROI holds no pixel centre of the image.")
    return RoiStats(
        mean=float(picked.mean()),
        sd=float(picked.std()),
        minimum=float(picked.min()),
        maximum=float(picked.max()),
        n_pixels=int(picked.size),
        area_mm2=float(picked.size * pixel_area_mm2),
    )
