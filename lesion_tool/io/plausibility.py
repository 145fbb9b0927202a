"""Plausibility of a loaded series' pixels: a slice that disagrees grossly with its neighbours.

A corrupted compressed slice (a damaged JPEG 2000 codestream, say) often decodes without any
complaint from the decoder and yields values that are wrong by hundreds of HU over most of the
image. CT slices a few millimetres apart, however, agree closely: a slice is predicted well by the
mean of its two neighbours, about as well as the neighbours predict each other. This module
compares, block by block, how far each slice is from that prediction with how far the neighbours
are from each other, and names the slices that disagree by far more than any real slice does.
The first and last slices have one neighbour only: they may match it shifted by a few pixels
(patient motion) and are measured against how much the next slices change (anatomy), see
:func:`_edge_ratios`.

Thresholds were chosen on the real series in ``../shared/data`` (HCC_006 arterial, 109 slices;
HCC_048 portal venous, 89; 3D-IRCADb-01 patient 1, 129): there the largest block ratio is 3.7 and
the largest whole-slice ratio 0.96, against thresholds of 6 and 3; slices of independent noise
give about 1.7. Damaged JPEG 2000 slices whose values are wrong by hundreds of HU over much of the
image give ratios from 8 to over 1,000. Corruption that changes values by a few tens of HU is not
caught (it is within what anatomy does between neighbouring slices). On those series every slice
taken as an edge slice, and every edge slice moved in-plane by up to 2.8 mm, is not named (the
one-sided comparison used before named 52 of 78 edge slices moved by 2 pixels); every planted
corruption with more than 5 % of the pixels off by over 200 HU is (docs/reliability.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "BLOCK_RATIO_LIMIT",
    "MIN_BLOCKS",
    "SLICE_RATIO_LIMIT",
    "SuspectSlice",
    "describe_suspects",
    "find_inconsistent_slices",
]

BLOCK_PX = 32
"""Side of the square blocks compared, in pixels (of the full-resolution slice)."""
FLOOR_HU = 10.0
"""Added to the neighbours' disagreement so that flat regions (air, water) do not divide by 0."""
BLOCK_RATIO_LIMIT = 6.0
"""A block is implausible when its distance from the neighbours' mean exceeds this many times
the neighbours' own disagreement (plus :data:`FLOOR_HU`). Largest on real series: 3.7."""
MIN_BLOCKS = 3
"""A slice is named when at least this many of its blocks are implausible."""
SLICE_RATIO_LIMIT = 3.0
"""...or when the ratio over all its body pixels exceeds this (largest on real series: 0.96)."""
BODY_HU = -500.0
MIN_SLICES = 5
"""Fewer slices (test objects, masks of a few frames) are not screened."""
MIN_SIZE_PX = 32
"""Nor images smaller than this (rows or columns)."""
"""Pixels counted in the whole-slice ratio: any of the three slices above this value."""


@dataclass(frozen=True, slots=True)
class SuspectSlice:
    """A slice whose values disagree grossly with its neighbours."""

    index: int
    """Array index along z (0 = the first slice of the volume)."""
    slice_ratio: float
    """Mean distance from the neighbours' prediction over its body pixels, over theirs."""
    bad_blocks: int
    """Blocks above :data:`BLOCK_RATIO_LIMIT`."""
    blocks: int
    """Blocks compared."""
    max_block_ratio: float


def _block_means(a: np.ndarray, b: int) -> np.ndarray:
    """Means of ``b x b`` blocks of ``a`` ``(z, y, x)`` -> ``(z, y // b, x // b)``."""
    z, y, x = a.shape
    ny, nx = max(y // b, 1), max(x // b, 1)
    by, bx = (b, b) if y >= b and x >= b else (y, x)
    a = a[:, : ny * by, : nx * bx]
    return a.reshape(z, ny, by, nx, bx).mean(axis=(2, 4))


def find_inconsistent_slices(
    array: np.ndarray,
    *,
    block_ratio_limit: float = BLOCK_RATIO_LIMIT,
    min_blocks: int = MIN_BLOCKS,
    slice_ratio_limit: float = SLICE_RATIO_LIMIT,
) -> list[SuspectSlice]:
    """The slices of ``array`` ``(z, y, x)`` in HU that disagree grossly with their neighbours.

    An inner slice ``k`` is compared with the mean of slices ``k - 1`` and ``k + 1`` (reference:
    half their difference). An edge slice has one neighbour only, so it is compared as
    :func:`_edge_ratios` says (motion and anatomy allowed for). Images larger than 256 pixels
    are compared on every second pixel (speed: about 0.1 s for 109 slices of 512 x 512). Fewer
    than :data:`MIN_SLICES` slices or images smaller than :data:`MIN_SIZE_PX`: not screened.
    """
    arr = np.asarray(array)
    if arr.ndim != 3 or arr.shape[0] < MIN_SLICES or min(arr.shape[1:]) < MIN_SIZE_PX:
        return []
    step = 2 if min(arr.shape[1:]) > 256 else 1
    s = arr[:, ::step, ::step].astype(np.float32)
    block = max(BLOCK_PX // step, 1)
    # inner slices: distance from the neighbours' mean (e), the neighbours' own disagreement (d)
    e = s[:-2] + s[2:]
    e *= 0.5
    np.subtract(s[1:-1], e, out=e)
    np.abs(e, out=e)
    d = s[:-2] - s[2:]
    d *= 0.5
    np.abs(d, out=d)
    ratio = _block_means(e, block) / (_block_means(d, block) + FLOOR_HU)
    # body pixels: any of the slice and its two comparison slices above BODY_HU
    body = s > BODY_HU
    near = body[1:-1] | body[:-2] | body[2:]
    count = near.sum(axis=(1, 2))
    e_body = np.where(near, e, 0).sum(axis=(1, 2)) / np.maximum(count, 1)
    d_body = np.where(near, d, 0).sum(axis=(1, 2)) / np.maximum(count, 1)
    whole = np.where(count > 0, e_body / (d_body + FLOOR_HU), 0.0)
    rows: list[tuple[int, np.ndarray, float]] = [
        (k + 1, ratio[k], float(whole[k])) for k in range(ratio.shape[0])
    ]
    for k, order in ((0, (0, 1, 2, 3)), (s.shape[0] - 1, (-1, -2, -3, -4))):
        edge_blocks, edge_whole = _edge_ratios(s, order, block)
        rows.insert(0 if k == 0 else len(rows), (k, edge_blocks, edge_whole))
    found = []
    for k, blocks, whole_k in rows:
        bad = int((blocks > block_ratio_limit).sum())
        if bad >= min(min_blocks, blocks.size) or whole_k > slice_ratio_limit:
            found.append(SuspectSlice(k, whole_k, bad, int(blocks.size), float(blocks.max())))
    return found


EDGE_SHIFT_PX = 2
"""An edge slice may match its neighbour shifted in-plane by up to this many pixels (of the
compared grid: 4 pixels of a 512-pixel image), block by block (motion, oblique anatomy)."""


def _edge_ratios(
    s: np.ndarray, order: tuple[int, int, int, int], block: int
) -> tuple[np.ndarray, float]:
    """Block ratios and whole-slice ratio of the edge slice ``s[order[0]]``.

    An edge slice ``a`` has one neighbour ``b``; next come ``c`` and ``d``. A gross difference
    between ``a`` and ``b`` alone proves nothing: anatomy can change more from ``a`` to ``b``
    than from ``b`` to ``c`` (a dome, a kidney pole, bowel gas, an organ edge moved by the
    patient's breathing or a rolled body). So, unlike inner slices, the distance is the
    smallest over in-plane shifts of ``b`` by up to :data:`EDGE_SHIFT_PX` pixels, block by
    block (what local motion explains is not counted), and the reference is the larger of the
    two next neighbour pairs' disagreements (``b``-``c`` and ``c``-``d``: how much anatomy
    changes here). Corrupted values (garbage, a constant, -1024 where the body is) match no
    shift of the neighbour and still stand out by far more than the limits.
    """
    r = EDGE_SHIFT_PX
    a, b, c, d = (s[i] for i in order)
    core = (slice(r, a.shape[0] - r), slice(r, a.shape[1] - r))
    a_c, b_c, c_c, d_c = a[core], b[core], c[core], d[core]
    near = (a_c > BODY_HU) | (b_c > BODY_HU) | (c_c > BODY_HU)
    n_near = max(int(near.sum()), 1)
    ref_bc, ref_cd = np.abs(b_c - c_c), np.abs(c_c - d_c)
    ref = np.maximum(_block_means(ref_bc[None], block)[0], _block_means(ref_cd[None], block)[0])
    ref_whole = max(float(ref_bc[near].sum()), float(ref_cd[near].sum())) / n_near
    best = np.full(_block_means(a_c[None], block)[0].shape, np.inf, dtype=np.float32)
    best_whole = np.inf
    h, w = a_c.shape
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            moved = b[r + dy : r + dy + h, r + dx : r + dx + w]
            diff = np.abs(a_c - moved)
            blocks = _block_means(diff[None], block)[0]
            np.minimum(best, blocks, out=best)
            best_whole = min(best_whole, float(diff[near].sum()) / n_near)
    whole = best_whole / (ref_whole + FLOOR_HU) if near.any() else 0.0
    return best / (ref + FLOOR_HU), whole


def describe_suspects(
    suspects: Sequence[SuspectSlice], labels: Sequence[str], name: str
) -> str | None:
    """One warning naming the suspect slices' files (``labels`` in array order), or None."""
    if not suspects:
        return None
    shown = ", ".join(
        f"{labels[s.index]} (slice {s.index + 1}: {s.bad_blocks} of {s.blocks} regions, "
        f"{s.max_block_ratio:.0f}x the neighbours' difference)"
        for s in suspects[:5]
    )
    more = f" and {len(suspects) - 5} more" if len(suspects) > 5 else ""
    return (
        f"{name}: {len(suspects)} slice(s) disagree grossly with both neighbouring slices, as a "
        f"corrupted image does: {shown}{more}. Their pixel values may be wrong (a damaged "
        "compressed file decodes without an error); look at them, and re-export the series "
        "from the scanner or PACS before measuring on them."
    )
