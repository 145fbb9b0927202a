"""The liver estimate with a surface tumour's enhancing rim and what it encloses (issue 11).

The liver estimated from one slice (``segment._liver_estimate``) is its largest parenchyma-like
region, closed and hole-filled: a lesion inside the liver is a hole and belongs to it. A large
tumour that replaces the liver's surface is no hole: on its outer side it meets the abdominal wall
or fat, so the closing cannot bridge it, and on an arterial image neither its enhancing rim
(brighter than the parenchyma's band) nor its necrotic core (darker) is liver-like. A click in
that core was then refused as "not in the liver", or its region flagged as lying outside it.

Here the enhancing tissue next to the liver estimate is added when it wraps a tumour embedded in
the liver: the outer border of that tissue (with what it encloses) lies for at least
RIM_LIVER_SHARE in the liver estimate. An HCC grows from the liver, so even one bulging from its
surface has most of its border against parenchyma; an enhancing organ merely touching the liver
(kidney cortex, bowel or stomach wall, spleen) has most of its border against fat or other
organs. The liver plus that rim is hole-filled: the dark core the rim and the liver enclose is in
the liver.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from lesion_tool.measurement.necrosis import rim_margin_hu
from lesion_tool.measurement.raster import fill_holes

RIM_LIVER_SHARE = 0.6
"""The enhancing tissue (with what it encloses) is a tumour of the liver when at least this
share of its outer border lies in the liver estimate. Measured: IRCADb 01's rim at the wall
0.64-0.86 on its slices; the kidney's enhancing upper pole in HCC_006's renal impression, where
the liver wraps it most, 0.50-0.52 (an organ beside the liver, not grown from it)."""

RIM_TOP_HU = 100.0
"""Enhancing tumour tissue reads at most this much above the liver's value on an arterial image
(a hypervascular HCC's wash-in); contrast-filled arteries and the aorta read higher and are not
rim."""

MIN_RIM_PX = 20
"""Enhancing specks smaller than this (pixels) are noise or vessels, not a rim."""


def liver_with_rim(
    plane: np.ndarray,
    liver: np.ndarray,
    liver_hu: float,
    noise_sd_hu: float,
    spacing_yx: Sequence[float],
) -> np.ndarray:
    """``liver`` (the liver estimated on the smoothed ``plane``, HU, ``(y, x)``) with the
    enhancing tissue that touches it and wraps a tumour of the liver (RIM_LIVER_SHARE of its
    outer border in ``liver``), hole-filled. ``liver`` itself when there is none."""
    del spacing_yx  # the rule is in pixels of the slice's own grid (one-pixel borders)
    lo = liver_hu + rim_margin_hu(noise_sd_hu)
    bright = (plane >= lo) & (plane <= liver_hu + RIM_TOP_HU) & ~liver
    if not bright.any():
        return liver
    lab, n = ndimage.label(bright)
    touching = np.unique(lab[ndimage.binary_dilation(liver) & bright])
    touching = touching[touching > 0]
    if touching.size == 0:
        return liver
    sizes = np.bincount(lab.ravel(), minlength=n + 1)
    keep = np.zeros_like(liver)
    for k in touching:
        if sizes[k] < MIN_RIM_PX:
            continue
        comp = fill_holes((lab == k) | liver) & ~liver
        comp |= lab == k
        border = ndimage.binary_dilation(comp) & ~comp
        if border.any() and float(liver[border].mean()) >= RIM_LIVER_SHARE:
            keep |= lab == k
    if not keep.any():
        return liver
    return fill_holes(liver | keep)
