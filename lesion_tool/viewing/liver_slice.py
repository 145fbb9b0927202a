"""Which axial slice to open a CT at: the liver's largest cross-section, found without a model.

A reader of liver CT wants the liver on screen, not the middle of the scan (often the kidneys or
the pelvis). The heuristic: on each axial slice, the body is everything above -300 HU (holes
filled); the liver is the largest connected blob of soft tissue (40-200 HU, i.e. unenhanced to
arterial-phase parenchyma) on the patient's right half of the body, after an opening of about
2.5 mm that cuts it from the abdominal wall muscles. The slice where that blob is largest is
the answer. On IRCADb patient 1 it is the slice where the expert liver mask is largest; on
TCIA HCC_006 it is the slice of the measured nodule's level.

Slices are sampled (at most :data:`MAX_SLICES` read, then the best one's neighbours) and pixels
strided to about 1.5 mm, so a lazy per-slice volume reads a few dozen files, not the series.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from lesion_tool.io.volume import CTVolume

BODY_HU = -300.0
SOFT_TISSUE_HU = (40.0, 200.0)
OPENING_MM = 2.5
PIXEL_TARGET_MM = 1.5
MAX_SLICES = 48


@dataclass(frozen=True)
class LiverSlice:
    """The chosen slice index (array order ``z``) and why."""

    index: int
    area_mm2: float
    """Area of the liver-like blob on that slice (0 when none was found)."""
    reason: str


def _right_side(volume: CTVolume, shape: tuple[int, int], stride: int) -> np.ndarray:
    """Patient-L coordinate (mm, up to a constant) of each strided pixel of an axial slice."""
    rows, cols = np.indices(shape, dtype=float)
    d = volume.direction
    sy, sx = volume.spacing_mm[1] * stride, volume.spacing_mm[2] * stride
    return d[0, 1] * rows * sy + d[0, 2] * cols * sx


def slice_score(hu: np.ndarray, l_mm: np.ndarray, pixel_mm: tuple[float, float]) -> float:
    """Area (mm²) of the largest soft-tissue blob on the patient's right of one axial slice.

    ``l_mm`` is each pixel's patient-L coordinate (larger = patient's left).
    """
    body = ndi.binary_fill_holes(hu > BODY_HU)
    if not body.any():
        return 0.0
    right = l_mm < np.median(l_mm[body])
    soft = (hu >= SOFT_TISSUE_HU[0]) & (hu <= SOFT_TISSUE_HU[1]) & right & body
    iterations = max(1, round(OPENING_MM / min(pixel_mm)))
    soft = ndi.binary_opening(soft, iterations=iterations)
    labels, n = ndi.label(soft)
    if n == 0:
        return 0.0
    largest = int(np.bincount(labels.ravel())[1:].max())
    return float(largest * pixel_mm[0] * pixel_mm[1])


def find_liver_slice(volume: CTVolume, max_slices: int = MAX_SLICES) -> LiverSlice:
    """The axial slice with the largest liver-like cross-section (see the module docstring).

    Falls back to the middle slice, saying why, for a non-axial series or when no soft tissue
    is found. Reads at most ``max_slices`` slices plus the best one's sampled neighbours.
    """
    nz = volume.shape[0]
    middle = nz // 2
    if abs(volume.direction[2, 0]) < 0.7:
        return LiverSlice(middle, 0.0, "not an axial series: the middle slice")
    stride = max(1, round(PIXEL_TARGET_MM / max(min(volume.spacing_mm[1:]), 1e-3)))
    step = max(1, math.ceil(nz / max_slices))
    pixel_mm = (volume.spacing_mm[1] * stride, volume.spacing_mm[2] * stride)
    scores: dict[int, float] = {}
    l_mm: np.ndarray | None = None

    def score(k: int) -> float:
        nonlocal l_mm
        if k not in scores:
            hu = np.asarray(volume.array[k, ::stride, ::stride], dtype=float)
            if l_mm is None:
                l_mm = _right_side(volume, hu.shape, stride)
            scores[k] = slice_score(hu, l_mm, pixel_mm)
        return scores[k]

    for k in range(step // 2, nz, step):
        score(k)
    best = max(scores, key=lambda k: scores[k])
    for k in range(max(0, best - step + 1), min(nz, best + step)):
        score(k)
    best = max(scores, key=lambda k: (scores[k], -abs(k - middle)))
    if scores[best] <= 0:
        return LiverSlice(middle, 0.0, "no soft tissue on the patient's right: the middle slice")
    return LiverSlice(best, scores[best], "largest soft-tissue area on the patient's right")
