"""On thick slabs a diameter's end on a wide border goes out to that border's foot.

IRCADb's expert outlines a lesion at the foot of its border: 1 mm inside the expert's outline
the smoothed image reads only 0.04-0.24 of the contrast from the liver, and at the outline the
liver's value (03, 05, 07 on "original" and on 5 mm slabs; w33-near). Our outline stops where
the tissue is within a quarter of the contrast of the liver (``segment.EDGE_FRACTION``). On
IRCADb's 1.6 mm slices the difference is hidden by the largest of 10-18 slices; on 5 mm slabs
the lesion spans 4-6 slabs and the shortfall is the diameter's: on a census of 20 clicks per
tumour, 01 / 03 / 05 measure a median 0.6 / 0.85 / 0.7 tolerances short on "5 mm".

w33-near moved every ray of every slab out to the foot (``segment._cast``): census +13 / -11;
the losses came from the moved outline changing the rules downstream (02 on "5 mm": slab 25
moved 0.75 mm, the diameter on slab 24, which did not move, went 28.1 -> 31.9 mm for 27.8) and
from sharp edges (three synthetic slab tests: a blurred step already has its true edge inside
the outer quarter, and its foot lies outside it). Here only the final diameter's two ends move,
after every other rule and flag (nothing downstream sees it), and only where the border is wide:

- slabs of at least MIN_SLICE_MM, a region by value (not texture), a diameter at least MIN_SLABS
  slab thicknesses long (a small lesion spans one or two slabs, both ends of it: its slab's
  half-mask is narrower than the partial-volumed border suggests; a 10 mm sphere under the lung
  would go 12.3 -> 13.5 mm for 9.5);
- along the diameter's line past each end (the median of ``lowcnr_border.BAND_LINES``), read as
  a share of the contrast from the liver to the threshold's double: the end must lie on the
  border's outer half (at most MAX_END_FRACTION: higher, the tissue beyond is no liver: fat,
  another lesion, an end slab's average), the profile must fall to FOOT_FRACTION within MAX_MM
  without rising on the way (no other structure), and that foot must lie at least MIN_FOOT_MM
  past the end. A blurred sharp step (synthetic spheres, 05 and 03's sharp ends on "5 mm") reaches
  its foot within 0.5-0.75 mm and does not move; a partial-volumed border that falls slowly
  through the slab (necrotic 01: 0.27 -> 0.12 over 1.5 mm, 03: 0.34 -> 0.12 over 1 mm) does.

The diameter's end points move along its line; the mask, the perpendicular and the flags are
left as found (a no-tumour click's result keeps its flags; a refused click stays refused).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage

from lesion_tool.measurement.lowcnr_border import BAND_LINES, STEP_MM, _plane_crop

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement

ENABLED = True
"""Module switch: off, the diameter's ends stay where the outline put them."""

MIN_SLICE_MM = 4.0
"""Only slices at least this thick (a 20-30 mm lesion spans 4-6 of them)."""
MIN_SLABS = 3.0
"""Only a diameter at least this many slab thicknesses long."""
MAX_MM = 2.5
"""The profile is read from each end to this far past it: each end moves at most this far (mm)."""
MAX_END_FRACTION = 0.45
"""An end must lie where the image is within this share of the contrast of the liver."""
FOOT_FRACTION = 0.1
"""The foot: where the profile comes within this share of the contrast of the liver."""
RISE_FRACTION = 0.02
"""A rise by more than this share of the contrast from one sample to the next on the way to the
foot is another structure: the end stays."""
MIN_FOOT_MM = 1.0
"""The end moves only when the foot lies at least this far past it (a wide border)."""


def end_move_mm(profile: np.ndarray, liver_hu: float, threshold_hu: float) -> float:
    """How far (mm) the end at ``profile[0]`` moves out: ``profile`` is the smoothed HU every
    STEP_MM from the end outward (at least MAX_MM long); 0 unless the module's conditions hold."""
    span = 2.0 * abs(threshold_hu - liver_hu)
    if span <= 0.0:
        return 0.0
    sign = 1.0 if threshold_hu >= liver_hu else -1.0
    h = sign * (np.asarray(profile, dtype=float) - liver_hu) / span  # 1 lesion, 0 liver
    if h[0] > MAX_END_FRACTION:
        return 0.0
    seg = h[: round(MAX_MM / STEP_MM) + 1]
    foot = np.flatnonzero(seg <= FOOT_FRACTION)
    if foot.size == 0:
        return 0.0
    k = int(foot[0])
    if k and bool(np.any(np.diff(seg[: k + 1]) > RISE_FRACTION)):
        return 0.0
    moved = k * STEP_MM
    return float(moved) if moved >= MIN_FOOT_MM else 0.0


def foot_ends(volume: CTVolume, m: LesionMeasurement) -> LesionMeasurement:
    """``m`` with its diameter's ends moved out to the foot of a wide border on thick slabs (see
    the module's docstring); ``m`` itself when neither end moves."""
    from lesion_tool.measurement.diameter import Geometry
    from lesion_tool.measurement.models import Diameter

    ev, d = m.evidence, m.whole
    if (
        not ENABLED
        or volume.spacing_mm[0] < MIN_SLICE_MM
        or ev is None
        or ev.texture_sd_hu is not None
        or d.slice_index is None
        or d.start_voxel is None
        or d.end_voxel is None
        or d.length_mm < MIN_SLABS * volume.spacing_mm[0]
    ):
        return m
    z = int(d.slice_index)
    sy, sx = volume.spacing_mm[1:]
    a = np.array(d.start_voxel[1:], dtype=float)
    b = np.array(d.end_voxel[1:], dtype=float)
    a_mm, b_mm = a * [sy, sx], b * [sy, sx]
    length = float(np.hypot(*(b_mm - a_mm)))
    if length <= 0.0:
        return m
    u = (b_mm - a_mm) / length
    perp = np.array([-u[1], u[0]])
    pad = MAX_MM + max(abs(o) for o in BAND_LINES) + 3.0
    plane, lo = _plane_crop(volume, z, np.stack([a, b]), pad)
    t = np.arange(0.0, MAX_MM + STEP_MM / 2, STEP_MM)
    moves = []
    for end_mm, out in ((a_mm, -u), (b_mm, u)):
        profs = []
        for off in BAND_LINES:
            p_mm = end_mm[None, :] + t[:, None] * out[None, :] + off * perp[None, :]
            yx = p_mm / [sy, sx] - lo
            profs.append(ndimage.map_coordinates(plane, yx.T, order=1, mode="nearest"))
        moves.append(end_move_mm(np.median(np.stack(profs), axis=0), ev.liver_hu, ev.threshold_hu))
    if moves[0] <= 0.0 and moves[1] <= 0.0:
        return m
    ends = np.array([(a_mm - moves[0] * u) / [sy, sx], (b_mm + moves[1] * u) / [sy, sx]])
    voxels = np.column_stack([np.full(2, float(z)), ends])
    patient = Geometry.of(volume).index_to_patient(voxels)
    whole = Diameter(
        length_mm=float(d.length_mm * (length + moves[0] + moves[1]) / length),
        slice_index=z,
        start_voxel=tuple(voxels[0]),
        end_voxel=tuple(voxels[1]),
        start_patient=tuple(patient[0]),
        end_patient=tuple(patient[1]),
    )
    return replace(m, whole=whole)


__all__ = ["ENABLED", "end_move_mm", "foot_ends"]
