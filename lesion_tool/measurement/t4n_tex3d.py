"""On thin slices, the texture (local SD) is measured over a 3-D window, not one slice's.

A lesion whose mean value is the liver's is delineated by texture: the local standard deviation
of the raw values (``segment._Window.texture_plane``, a Gaussian window of TEXTURE_SIGMA_MM =
2 mm) against the parenchyma's. That SD is itself an estimate, from the few hundred pixels a
2 mm window holds on one slice, and under image noise it fluctuates: its rays then leave the
lesion at a dip of the estimate well inside the border.

IRCADb tumour 04 (18.5 mm over Im 90-104 of 1.6 mm; a dark core of 98-103 HU inside a faint
ring of 125 HU, liver 113-115), medians by distance to the expert border on Im 93-101 (seed 6):

=================  ============  ===========  ============  ==========
                    inside 4-6 mm  border +-1 mm  outside 2.5-4  liver 6-14
=================  ============  ===========  ============  ==========
original, 2-D SD     33.5          25-27         20.5          19-20
noise 30 HU, 2-D SD  42.4          35-36         32.5          32
=================  ============  ===========  ============  ==========

The noise adds in quadrature (the contrast falls from 14 to 10 HU) while the estimate's own
scatter grows with it: along 04's rays on noise 25 HU (levels 40.1 lesion, 26.8 liver,
threshold 33.5) the 2-D texture dips to 30-32 HU 4-5 mm from the centre on some rays, and the
cast stops there: per slice 8.2-11.5 mm wide on Im 98-101 where the expert's is 16.3-17.9 mm
(seed 6's deepest click (100, 241, 200): 15.1 mm on noise 25 HU, 13.6 on 30 HU, for 18.5;
tolerance 16.5). The lesion is three-dimensional: its core and ring run through 15 slices, so
the same 2 mm window taken through the neighbouring slices (Gaussian of 2 mm in z as in plane;
on 1.6 mm slices weights 1, 0.73, 0.28 over +-2 slices) holds about three times the samples of
the same tissue and its scatter falls by about sqrt(3), while the texture's contrast - a
property of the tissue, not of one slice - is kept (medians within 1-2 HU of the 2-D ones at
every distance above). With it that click gives 16.9 mm on noise 25 HU (rays leave at the
expert border +-1 mm on 9 of 12 directions on Im 100; the others meet 04's bright part, left
out as a vessel).

Only on thin slices (spacing under ``segment.SLAB_MM``): on slabs a slice's neighbours lie 2.5-
5 mm away, outside a 2 mm window, and a slab already averages through its thickness.
Vessels and fat are left out of every slice's window as on the slice itself (the weights
``segment._Window.texture_sums`` gives per slice, filtered in-plane once per slice and
kept for the prompt: the 3-D texture then costs a weighted sum of five kept planes).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from lesion_tool.measurement.enhancement import robust_sd

ENABLED = True
"""Module switch: when False, the texture is the one slice's local SD (as before)."""

TRUNCATE_SIGMAS = 2.0
"""Slices farther than this many z-sigmas from the slice are not read (weight under 0.14)."""


MIN_NOISE_HU = 16.0
"""The 3-D window only where the image's pixel noise (robust SD of the raw values less their
1 mm smoothing, over the texture window's slice) is at least this: there one slice's estimate
scatters. IRCADb reads 8-11 HU (original; its noise-15 variant is the same image), 20-23 with
25 HU of noise, 26-28 with 30 HU. On the original the one slice's estimate holds 04 whole
(19.6 mm for 18.5 at its deepest click), while the 3-D window at a click on 04's last slice
(Im 104, seed 4's (104, 240, 203)) read the textured slices above with the smooth liver
around and ran off through the liver (57.6 mm for 18.5, flagged; 16.8 mm, within, without it)."""


def pixel_noise_hu(raw: np.ndarray, smooth: np.ndarray) -> float:
    """Robust SD (HU) of ``raw`` less its smoothing ``smooth`` over soft tissue (40-200 HU)."""
    soft = (smooth > 40.0) & (smooth < 200.0)
    if soft.sum() < 100:
        return 0.0
    return float(robust_sd((raw - smooth)[soft]))


def uses_3d(slice_mm: float, slab_mm: float, noise_hu: float) -> bool:
    """Whether the texture is taken over 3-D on slices ``slice_mm`` apart (thin slices only)
    with pixel noise ``noise_hu`` (:func:`pixel_noise_hu`; noisy images only)."""
    return ENABLED and slice_mm < slab_mm and noise_hu >= MIN_NOISE_HU


def local_sd_3d(
    z: int,
    n_slices: int,
    spacing_mm: tuple[float, float, float],
    sigma_mm: float,
    sums: Callable[[int], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray]:
    """Local SD (HU) on slice ``z`` over a Gaussian window of ``sigma_mm`` in all three axes, and
    the normalised window weight (share of the window's pixels that are soft tissue, as the
    2-D texture's ``norm``). ``sums(zz)`` gives slice ``zz``'s weights ``w`` (0 on vessels, fat
    and their rims) and its in-plane Gaussian-filtered ``w``, ``w * raw`` and ``w * raw**2``
    (kept per slice by the caller, so each slice is filtered once for all its neighbours)."""
    sgz = sigma_mm / spacing_mm[0]
    k = max(1, math.ceil(TRUNCATE_SIGMAS * sgz))
    acc_w: np.ndarray | float = 0.0
    acc_m: np.ndarray | float = 0.0
    acc_q: np.ndarray | float = 0.0
    total = 0.0
    for zz in range(max(z - k, 0), min(z + k + 1, n_slices)):
        g = math.exp(-0.5 * ((zz - z) / sgz) ** 2)
        _, gw, gwr, gwrr = sums(zz)
        acc_w = acc_w + g * gw
        acc_m = acc_m + g * gwr
        acc_q = acc_q + g * gwrr
        total += g
    norm = np.maximum(np.asarray(acc_w) / total, 1e-3)
    mean = np.asarray(acc_m) / total / norm
    sq = np.asarray(acc_q) / total / norm
    return np.sqrt(np.maximum(sq - mean * mean, 0.0)), norm
