"""How far the border of a result could lie elsewhere within the image's noise.

A delineation by value puts each ray's border where the smoothed image crosses the half-way
value between the lesion and the liver. Where the border is a blurred step, the image climbs
through that value within a millimetre or two (the scanner's blur, ~0.7 mm, and the smoothing,
1 mm), and the noise moves the crossing by about ``noise / slope``: the position is known. Where
the tissue beyond the border is neither the lesion nor the liver - the thin liver between a
lesion and the lung base, cut obliquely by the slice so that it reads 88-98 HU for a liver of
110, or a band of compressed or partial-volumed parenchyma - the profile stops climbing inside
the noise band around the half-way value, and the crossing can fall anywhere along that band: the
border's position is then not measured, only guessed, however large the contrast is against
the noise elsewhere.

IRCADb tumour 06 (10 mm, 1-2 mm from the lung) with 25 and 30 HU of added noise, seed 3: its
rough line measured 13.8 mm unflagged (Dice 0.73); both ends of its diameter lay in a band of
88-98 HU (threshold 97, smoothed noise 7.8 HU) that runs 5-6 mm past them before the liver's
value is reached. The lesion's contrast, 3.2 times the smoothed noise, does not make the low
contrast flag fire; the position of the ends is what is uncertain.

:func:`border_uncertainty_mm` measures that on the result's diameter: along the diameter line (the
median of BAND_LINES parallel lines half a millimetre apart, which quietens the noise without
mixing in other directions), the run of samples within one smoothed noise SD of the threshold that
holds each end (or starts within BLUR_MM of it), followed inward and outward. Half that run is how
far the end could lie either way. A sharp step blurred by the scanner and the smoothing gives a run
of ``2 noise / slope`` (about 1.9 mm for 06's 25 HU contrast at 7.8 HU of smoothed noise); the band
beyond a lesion into neither-lesion-nor-liver tissue runs on past BAND_REACH_MM. When the two ends'
uncertainties together exceed UNCERTAIN_SHARE of the diameter, the result is flagged: its diameter
could be off by more than the measurement's tolerance, and the reader is told by how much. The rule
reads only the result's own image, levels and noise: it holds on any patient whose noise and
anatomy put a lesion's border in such a band, and a border to fat, air, a vessel or the liver
itself leaves the band within the blur and is not flagged.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

import numpy as np
from scipy import ndimage

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement

BAND_REACH_MM = 6.0
"""How far past (and inside) each end of the diameter the band is followed (mm): farther than
the run a blurred step gives at any contrast the delineation accepts (2 noise / slope, under
3 mm at a contrast of 2 smoothed noise SDs), less than the liver around a small lesion."""
BAND_LINES = (-1.0, -0.5, 0.0, 0.5, 1.0)
"""Perpendicular offsets (mm) of the parallel lines whose median profile is read: within the
smoothing's reach of the diameter, so they see the same border."""
STEP_MM = 0.25
"""Sampling step along the lines (mm)."""
BLUR_MM = 1.5
"""A band that starts this near an end (mm) holds it: the end may lie just outside it where the
delineation moved the edge out to its margin value, or stopped at the lesion's step into it
(the scanner's blur and the smoothing combined, about 1.2 mm, rounded up)."""
UNCERTAIN_SHARE = 0.3
"""Flag a result whose two ends could together lie more than this share of its diameter from
where they were placed: beyond it the diameter may be more than 30 % off, the error the
measurement must never return unflagged."""
UNCERTAIN_FLAG = "border uncertain"
"""In the flag's text (tests and callers look for it)."""


def _plane_crop(
    volume: CTVolume, z: int, pts_yx: np.ndarray, pad_mm: float
) -> tuple[np.ndarray, np.ndarray]:
    """The slice ``z`` of ``volume`` around points ``pts_yx`` (voxels), padded by ``pad_mm``
    and smoothed as the delineation smooths it; and the crop's origin (y, x)."""
    from lesion_tool.measurement.segment import SMOOTH_SIGMA_MM

    sy, sx = volume.spacing_mm[1:]
    ny, nx = volume.shape[1:]
    lo = np.floor(pts_yx.min(axis=0) - np.array([pad_mm / sy, pad_mm / sx])).astype(int)
    hi = np.ceil(pts_yx.max(axis=0) + np.array([pad_mm / sy, pad_mm / sx])).astype(int) + 1
    lo = np.maximum(lo, 0)
    hi = np.minimum(hi, [ny, nx])
    raw = np.asarray(volume.array[z, lo[0] : hi[0], lo[1] : hi[1]], dtype=np.float32)
    sm = ndimage.gaussian_filter(raw, (SMOOTH_SIGMA_MM / sy, SMOOTH_SIGMA_MM / sx), mode="nearest")
    return sm, lo


def adjacent_run(band: np.ndarray, i: int) -> tuple[int, int] | None:
    """First and last index of the run of True in ``band`` that holds index ``i`` or comes
    within BLUR_MM of it (the nearest such run); None when there is none."""
    idx = np.flatnonzero(band)
    if idx.size == 0:
        return None
    reach = round(BLUR_MM / STEP_MM)
    gap = np.abs(idx - i)
    if gap.min() > reach:
        return None
    j = int(idx[int(np.argmin(gap))])
    lo = j
    while lo - 1 >= 0 and band[lo - 1]:
        lo -= 1
    hi = j
    while hi + 1 < band.size and band[hi + 1]:
        hi += 1
    return lo, hi


def _adjacent_run_mm(band: np.ndarray, i: int) -> float:
    """Length (mm) of the run of True in ``band`` that holds index ``i`` or comes within
    BLUR_MM of it (the nearest such run); 0 when there is none."""
    run = adjacent_run(band, i)
    return 0.0 if run is None else (run[1] - run[0] + 1) * STEP_MM


def band_profile(
    volume: CTVolume, m: LesionMeasurement
) -> tuple[np.ndarray, np.ndarray, int, int, int] | None:
    """The profile :func:`border_uncertainty_mm` reads along ``m``'s diameter: the median of
    the BAND_LINES parallel lines from BAND_REACH_MM before its start to as far past its end,
    every STEP_MM (HU, smoothed as the delineation smooths); the samples within one smoothed
    noise SD of the threshold; the indices of the start and the end; and half the diameter in
    samples. None for a result delineated by texture, without a diameter, or without noise
    measured."""
    ev = m.evidence
    d = m.whole
    if (
        ev is None
        or ev.texture_sd_hu is not None
        or d.slice_index is None
        or d.start_voxel is None
        or d.end_voxel is None
        or not (math.isfinite(ev.noise_sd_hu) and ev.noise_sd_hu > 0.0)
        or d.length_mm <= 0.0
    ):
        return None
    z = int(d.slice_index)
    sy, sx = volume.spacing_mm[1:]
    a = np.array(d.start_voxel[1:], dtype=float)
    b = np.array(d.end_voxel[1:], dtype=float)
    a_mm, b_mm = a * [sy, sx], b * [sy, sx]
    length = float(np.hypot(*(b_mm - a_mm)))
    if length <= 0.0:
        return None
    u = (b_mm - a_mm) / length
    perp = np.array([-u[1], u[0]])
    pad = BAND_REACH_MM + max(abs(o) for o in BAND_LINES) + 3.0
    plane, lo = _plane_crop(volume, z, np.stack([a, b]), pad)
    t = np.arange(-BAND_REACH_MM, length + BAND_REACH_MM + STEP_MM / 2, STEP_MM)
    profs = []
    for off in BAND_LINES:
        p_mm = a_mm[None, :] + t[:, None] * u[None, :] + off * perp[None, :]
        yx = p_mm / [sy, sx] - lo
        profs.append(ndimage.map_coordinates(plane, yx.T, order=1, mode="nearest"))
    g = np.median(np.stack(profs), axis=0)
    band = np.abs(g - ev.threshold_hu) <= ev.noise_sd_hu
    ia = round(BAND_REACH_MM / STEP_MM)
    ib = round((BAND_REACH_MM + length) / STEP_MM)
    ib = min(ib, band.size - 1)
    half = round(length / 2.0 / STEP_MM)
    return g, band, ia, ib, half


def border_uncertainty_mm(volume: CTVolume, m: LesionMeasurement) -> tuple[float, float] | None:
    """How far (mm) each end of ``m``'s diameter could lie from where it was placed, within one
    smoothed noise SD of the result's threshold (see the module's docstring): half the run of
    the band that holds the end or starts within BLUR_MM of it, followed from the diameter's
    middle to BAND_REACH_MM past the end; 0 for an end with no band beside it. None for a
    result delineated by texture, without a diameter, or without noise measured."""
    got = band_profile(volume, m)
    if got is None:
        return None
    _, band, ia, ib, half = got
    out = []
    for i, inward in ((ia, 1), (ib, -1)):
        # From the diameter's middle out to BAND_REACH_MM past the end.
        seg = band[i - half : None] if inward < 0 else band[: i + half + 1]
        k = half if inward < 0 else i
        out.append(_adjacent_run_mm(seg, k) / 2.0)
    return out[0], out[1]


def flag_uncertain_border(
    volume: CTVolume,
    m: LesionMeasurement,
    u: tuple[float, float] | Literal["unread"] | None = "unread",
) -> LesionMeasurement:
    """``m`` with a flag saying by how much its diameter could be off when the ends of its
    diameter lie in a band of values within the noise of its threshold wider than
    UNCERTAIN_SHARE of the diameter (:func:`border_uncertainty_mm`); ``m`` itself otherwise.
    ``u``: that function's answer for ``m`` when the caller has read it already."""
    from dataclasses import replace

    if u == "unread":
        u = border_uncertainty_mm(volume, m)
    if u is None:
        return m
    total = u[0] + u[1]
    if total <= UNCERTAIN_SHARE * m.whole.length_mm:
        return m
    ev = m.evidence
    flag = (
        f"{UNCERTAIN_FLAG} by +-{total:.0f} mm on its diameter ({m.whole.length_mm:.0f} mm): "
        f"at its ends the image stays within the noise ({ev.noise_sd_hu:.0f} HU) of the "
        f"threshold ({ev.threshold_hu:.0f} HU) over {u[0] * 2:.0f} and {u[1] * 2:.0f} mm, "
        "neither lesion nor liver (a thin or partial-volumed liver, a graded border): the border "
        "could lie anywhere there; check the contour, tighten or loosen the threshold"
    )
    return replace(m, flags=(*m.flags, flag))
