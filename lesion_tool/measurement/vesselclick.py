"""A click on a vessel or a bright speck inside a lesion, or on a piece of one: measure the lesion.

A reader's click can land on a structure that is not the lesion's body: a vessel passing through
a hepatocellular carcinoma (a feeding artery, a portal branch) or a bright speck in it, or a thin
piece of an enhancing lesion (its cap on the end slices, its pale margin, an arc of its rim).
The region grown from such a click is small and tube-like, and segment flags it "this looks like
a vessel" (arterial images, ``vessel.vessel_flag``) or "hyper-attenuating on a non-arterial
image". Today that small region is the answer, far below the lesion's size.

What tells a vessel inside a lesion from a vessel in the liver is the tissue around it. Two
ways of finding the lesion, tried in turn:

* **ring**: the tissue immediately around the region on the click's slice (a ring
  :data:`RING_MM` wide, :data:`RING_GAP_MM` out, past the region's partial-volume edge) differs
  from the liver's value in one sense, by at least :data:`RING_MARGIN_HU` (or
  :data:`RING_NOISE_SDS` smoothed-noise SDs), over at least :data:`RING_SHARE` of the ring: the
  vessel is wrapped in a lesion (hypo-attenuating on a portal-venous image, enhancing or
  necrotic on an arterial one). A vessel in the liver is wrapped in liver and keeps its
  answer. The lesion is clicked again at the deepest point of that tissue near the region.
* **piece** (arterial images, a region flagged as a vessel): the bright tissue the region is
  connected to within two of its radii (the level of ``vessel.runs_on_ratio``, holes filled
  slice by slice: a rim closes around its core) is much thicker than the region itself
  (:data:`PIECE_DEPTH_RATIO` and :data:`PIECE_DEPTH_MM` deeper): the region is a cap, margin or
  arc of a blob. A vessel runs on as a tube of its own calibre (or into a larger vessel, whose
  own region is then flagged a vessel and refused here).

The new result is kept only when it is a lesion of its own right and the one clicked: not
itself flagged a vessel nor running on through the slices, at least :data:`GROWTH` times longer
than the first region, and holding the reader's click in its outline (holes filled: the vessel
inside it) on the click's slice, or at least :data:`KEEP_SHARE` of the first region. It is
flagged with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage

from lesion_tool.errors import MeasurementError
from lesion_tool.measurement.enhancement import robust_sd
from lesion_tool.measurement.naming import slice_name
from lesion_tool.measurement.raster import fill_holes, padded_mask, ring_mm, within_mm
from lesion_tool.measurement.reseed import (
    RUNS_ON_FLAG,
    as_clicked,
    common_box,
    measure_again,
    slice_patch,
)

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement, LesionPrompt

__all__ = ["around_refused", "follow_vessel", "piece_click", "ring_click"]

Measure = Callable[["CTVolume", "LesionPrompt", object], "LesionMeasurement"]

VESSEL_FLAGS = ("this looks like a vessel", "this may be a piece of a vessel")
"""Starts of segment's flags on an enhancing region shaped or continued like a vessel."""
HYPER_FLAG = "hyper-attenuating on a "
"""Start of segment's flag on a bright region on a non-arterial image (like a vessel)."""
MAX_RADIUS_MM = 10.0
"""Regions wider than this (equivalent radius of their largest slice) are no vessel of the
liver (``vessel.TUBE_MAX_RADIUS_MM``)."""
RING_GAP_MM = 1.0
"""The ring starts this far out of the region: its partial-volume edge and the smoothing's."""
RING_MM = 2.5
"""Width of the ring: a few millimetres of the tissue wrapping the clicked structure."""
RING_MARGIN_HU = 15.0
"""The ring's tissue differs from the liver's value by at least this (HU): a lesion, not the
liver's own noise and texture (IRCADb's parenchyma, smoothed by 1 mm: SD 4-9 HU)."""
RING_NOISE_SDS = 3.0
"""...or by this many smoothed-noise SDs of the liver, whichever is more."""
RING_SHARE = 0.7
"""Share of the ring that must differ from the liver in the same sense: the structure is
wrapped in lesion, not lying at its border (half in liver) nor in plain liver."""
SEARCH_MM = 10.0
"""The new click is looked for within this of the region (on the click's slice)."""
PIECE_DEPTH_RATIO = 1.5
"""The bright tissue the region belongs to is at least this many times deeper than it ..."""
PIECE_DEPTH_MM = 2.0
"""... and at least this much deeper (mm): a blob the region is a thin piece of."""
GROWTH = 1.3
"""The lesion measured from the new click is at least this much longer than the first region."""
KEEP_SHARE = 0.5
"""Or at least this share of the first region lies in the new one (a cap or margin of it)."""


_ACTIVE: ContextVar[bool] = ContextVar("vesselclick_active", default=False)
"""Set while a re-click is measured: the new click's own chain does not look again."""


def measure_once(measure: Measure) -> Measure:
    """``measure`` for a reader's prompt that runs this module's re-click on its first call only:
    the calls after it are the cap rule's re-clicks on the slices next to it
    (``capclick.under_cap``), which must not each pay for a vessel re-click of their own."""
    calls: list[int] = []

    def once(v: CTVolume, p: LesionPrompt, ph: object) -> LesionMeasurement:
        if not calls:
            calls.append(1)
            return measure(v, p, ph)
        token = _ACTIVE.set(True)
        try:
            return measure(v, p, ph)
        finally:
            _ACTIVE.reset(token)

    return once


def _again(
    volume: CTVolume,
    prompt: LesionPrompt,
    phase: object,
    at: tuple[int, int, int],
    measure: Measure,
) -> LesionMeasurement | None:
    """``measure_again`` under :data:`_ACTIVE` (no re-click from within a re-click)."""
    token = _ACTIVE.set(True)
    try:
        return measure_again(volume, prompt, phase, at, measure)
    finally:
        _ACTIVE.reset(token)


def _radius_mm(m: LesionMeasurement, spacing: tuple[float, ...]) -> float:
    area = float(m.mask.sum(axis=(1, 2)).max()) * spacing[1] * spacing[2]
    return float(np.sqrt(area / np.pi))


def _triggered(m: LesionMeasurement) -> bool:
    return any(f.startswith((*VESSEL_FLAGS, HYPER_FLAG)) for f in m.flags)


def ring_click(
    volume: CTVolume, m: LesionMeasurement, sigma_mm: float
) -> tuple[tuple[int, int, int], float] | None:
    """The deepest point ``(z, y, x)`` of lesion-like tissue wrapping ``m``'s region on its
    click's slice and that tissue's median value (HU), or None when the ring around the region
    is not lesion (see the module docstring)."""
    ev = m.evidence
    sp = tuple(float(s) for s in volume.spacing_mm)
    z = m.seed_voxel[0]
    zi = z - m.offset[0]
    if not 0 <= zi < m.mask.shape[0] or not m.mask[zi].any():
        return None
    sy, sx = sp[1], sp[2]
    reach = SEARCH_MM + RING_GAP_MM + RING_MM + 3.0 * sigma_mm
    pad = (int(np.ceil(reach / sy)), int(np.ceil(reach / sx)))
    p = slice_patch(volume, m, zi, m.mask[zi], sigma_mm, pad)
    got = _ring_click(p.plane, p.here, ev.liver_hu, ev.lesion_hu, ev.noise_sd_hu, (sy, sx))
    if got is None:
        return None
    (y, x), ring_hu = got
    return (z, y + p.y0, x + p.x0), ring_hu


def _ring_click(
    plane: np.ndarray,
    here: np.ndarray,
    liver_hu: float,
    structure_hu: float,
    noise_hu: float,
    spacing_yx: tuple[float, float],
) -> tuple[tuple[int, int], float] | None:
    """The deepest pixel ``(y, x)`` of ``plane`` (smoothed HU) of the lesion-like tissue that
    wraps the structure ``here`` (read ``structure_hu``), and the ring's median value, or None
    when the ring around ``here`` is not lesion (see the module docstring)."""
    sy, sx = spacing_yx
    here = fill_holes(here)
    ring = ring_mm(here, (sy, sx), RING_GAP_MM, RING_GAP_MM + RING_MM)
    if not ring.any():
        return None
    margin = max(RING_MARGIN_HU, RING_NOISE_SDS * noise_hu)
    ring_hu = float(np.median(plane[ring]))
    diff = plane[ring] - liver_hu
    sign = 1.0 if ring_hu > liver_hu else -1.0
    if float(np.mean(diff * sign >= margin)) < RING_SHARE:
        return None
    if abs(ring_hu - structure_hu) < margin:
        return None  # the ring reads as the structure clicked: no distinct structure in it
    if sign > 0 and ring_hu >= structure_hu:
        return None  # brighter than the clicked structure: a larger vessel around a speck?
    lesion = ((plane - liver_hu) * sign >= 0.5 * margin) & ~here
    lesion &= within_mm(here, (sy, sx), SEARCH_MM)
    labels, _ = ndimage.label(lesion)
    ids = np.unique(labels[ring & lesion])
    ids = ids[ids > 0]
    if ids.size == 0:
        return None
    tissue = np.isin(labels, ids)
    depth = ndimage.distance_transform_edt(tissue, sampling=(sy, sx))
    y, x = np.unravel_index(int(np.argmax(depth)), depth.shape)
    return (int(y), int(x)), ring_hu


def piece_click(volume: CTVolume, m: LesionMeasurement) -> tuple[int, int, int] | None:
    """The deepest point ``(z, y, x)`` of the bright tissue ``m``'s enhancing region is
    connected to within two of its radii (holes filled slice by slice), or None when that
    tissue is not much thicker than the region (a vessel's own calibre; see the module
    docstring)."""
    from lesion_tool.measurement.vessel import RUNS_ON_LEVEL

    ev = m.evidence
    if ev.lesion_hu <= ev.liver_hu:
        return None
    sp = np.asarray(volume.spacing_mm, dtype=float)
    reg = np.asarray(m.mask, dtype=bool)
    rad = _radius_mm(m, tuple(sp))
    reach = 2.0 * rad
    pad = np.ceil((reach + 2.0) / sp).astype(int) + 1
    where, inside = padded_mask(reg, m.offset, pad, volume.shape)
    box = np.asarray(volume.array[where], dtype=np.float32)
    sm = ndimage.gaussian_filter(box, (0.0, 1.0 / sp[1], 1.0 / sp[2]), truncate=3.0)
    near = ndimage.distance_transform_edt(~inside, sampling=sp) <= reach
    level = ev.liver_hu + (1.0 - RUNS_ON_LEVEL) * (ev.lesion_hu - ev.liver_hu)
    bright = (sm > level) & near | inside
    labels, _ = ndimage.label(bright)
    ids = np.unique(labels[inside])
    part = np.isin(labels, ids[ids > 0])
    part = fill_holes(part)  # slice by slice
    own = fill_holes(inside)
    depth = ndimage.distance_transform_edt(np.pad(part, 1), sampling=sp)[1:-1, 1:-1, 1:-1]
    d_own = ndimage.distance_transform_edt(np.pad(own, 1), sampling=sp)[1:-1, 1:-1, 1:-1]
    dmax, dreg = float(depth.max()), float(d_own.max())
    if dmax < PIECE_DEPTH_RATIO * dreg or dmax < dreg + PIECE_DEPTH_MM:
        return None
    k = np.unravel_index(int(np.argmax(depth)), depth.shape)
    return tuple(int(a + b.start) for a, b in zip(k, where, strict=True))  # type: ignore[return-value]


def share_in(first: LesionMeasurement, new: LesionMeasurement) -> float:
    """Share of ``first``'s region inside ``new``'s (holes filled slice by slice)."""
    n = int(first.mask.sum())
    box = common_box(first, new)
    if n == 0 or box is None:
        return 0.0
    sa, sb = box
    filled = fill_holes(new.mask[sb])  # slice by slice
    return float(np.count_nonzero(first.mask[sa] & filled)) / n


def _holds_click(new: LesionMeasurement, click: tuple[int, ...]) -> bool:
    """``new``'s outline on the click's slice, holes filled, holds the click."""
    z, y, x = (c - o for c, o in zip(click, new.offset, strict=True))
    if not (
        0 <= z < new.mask.shape[0] and 0 <= y < new.mask.shape[1] and 0 <= x < new.mask.shape[2]
    ):
        return False
    return bool(fill_holes(new.mask[z])[y, x])


def _acceptable(first: LesionMeasurement, new: LesionMeasurement) -> bool:
    if any(f.startswith(VESSEL_FLAGS) or f.startswith(RUNS_ON_FLAG) for f in new.flags):
        return False
    if new.whole.length_mm < GROWTH * first.whole.length_mm:
        return False
    return _holds_click(new, first.seed_voxel) or share_in(first, new) >= KEEP_SHARE


def follow_vessel(
    volume: CTVolume,
    prompt: LesionPrompt,
    phase: object,
    first: LesionMeasurement,
    measure: Measure,
) -> LesionMeasurement:
    """``first``, or the lesion around (or beside) the vessel-like structure clicked when there
    is one (see the module docstring). Clicks only (a line gives the lesion's extent); regions
    delineated by value, flagged as a vessel or as bright on a non-arterial image, at most
    :data:`MAX_RADIUS_MM` in radius."""
    from lesion_tool.measurement.segment import SMOOTH_SIGMA_MM, Phase, _phase

    if prompt.seed is None or prompt.line is not None or first.evidence.texture_sd_hu is not None:
        return first
    if _ACTIVE.get():
        return first
    if not _triggered(first) or _radius_mm(first, volume.spacing_mm) > MAX_RADIUS_MM:
        return first
    spent = first.time_s
    tries: list[tuple[tuple[int, int, int], str]] = []
    ring = ring_click(volume, first, SMOOTH_SIGMA_MM)
    if ring is not None:
        why = (
            f"the click fell on a vessel or bright speck inside the lesion (the tissue "
            f"around it reads {ring[1]:.0f} HU against the liver's "
            f"{first.evidence.liver_hu:.0f} HU): measured the lesion around it"
        )
        tries.append((ring[0], why))
    if _phase(phase) is Phase.ARTERIAL and any(f.startswith(VESSEL_FLAGS) for f in first.flags):
        piece = piece_click(volume, first)
        if piece is not None:
            why = (
                "the click fell on a thin piece (a cap, margin or arc) of a thicker bright "
                "lesion, which looked like a vessel: measured the lesion from its deepest point"
            )
            tries.append((piece, why))
    for at, why in tries:
        new = _again(volume, prompt, phase, at, measure)
        if new is None:
            continue
        spent += new.time_s
        if _acceptable(first, new):
            note = (
                f"{why} (clicked again at voxel {at} on {slice_name(volume, at[0])}; "
                f"{first.whole.length_mm:.1f} mm at the click); check that this is the lesion "
                "clicked"
            )
            return as_clicked(first, new, note, spent)
    return replace(first, time_s=spent)


def _speck_at(
    plane: np.ndarray, cy: int, cx: int, spacing_yx: tuple[float, float]
) -> np.ndarray | None:
    """The small structure at pixel ``(cy, cx)`` of ``plane`` (smoothed HU): a disk out to where
    the mean over rings of 0.5 mm first crosses half-way from the click's value to the tissue
    SPECK_FAR_MM around it; None when it reaches no such edge within MAX_RADIUS_MM."""
    sy, sx = spacing_yx
    yy, xx = np.indices(plane.shape)
    r = np.hypot((yy - cy) * sy, (xx - cx) * sx)
    far = plane[(r > SPECK_FAR_MM[0]) & (r <= SPECK_FAR_MM[1])]
    if far.size == 0:
        return None
    v0, vf = float(plane[cy, cx]), float(np.median(far))
    half = 0.5 * (v0 + vf)
    for k in range(1, int(2 * MAX_RADIUS_MM)):
        band = (r > 0.5 * (k - 1)) & (r <= 0.5 * k)
        if band.any() and (float(plane[band].mean()) - half) * (v0 - half) <= 0:
            return r <= 0.5 * k
    return None


SPECK_FAR_MM = (4.0, 6.0)
"""The tissue a speck at a refused click is compared with: a ring 4-6 mm out (past a small
vessel's width, within a lesion's)."""


class Speck(MeasurementError):
    """segment's refusal of a region only a few millimetres across (a speck, a vessel's section):
    it may lie inside a lesion (:func:`around_refused`)."""


def around_refused(
    volume: CTVolume,
    prompt: LesionPrompt,
    phase: object,
    measure: Measure,
) -> LesionMeasurement | None:
    """The lesion around a click refused as a speck or as not surrounded by liver, when the
    structure at the click is small and wrapped in lesion (the ring rule of the module
    docstring): a vessel or speck deep in a lesion has lesion, not liver, all around it. None
    otherwise (the caller raises its refusal as before)."""
    from lesion_tool.measurement.segment import (
        LIVER_BAND_MIN_HU,
        SMOOTH_SIGMA_MM,
        _mode,
    )

    if prompt.seed is None or prompt.line is not None or _ACTIVE.get():
        return None
    z, cy, cx = (round(v) for v in prompt.seed)
    sy, sx = (float(s) for s in volume.spacing_mm[1:])
    reach = max(SEARCH_MM + RING_GAP_MM + RING_MM + MAX_RADIUS_MM, LIVER_REACH_MM)
    ry, rx = int(np.ceil(reach / sy)), int(np.ceil(reach / sx))
    y0, x0 = max(cy - ry, 0), max(cx - rx, 0)
    y1, x1 = min(cy + ry + 1, volume.shape[1]), min(cx + rx + 1, volume.shape[2])
    sig = (SMOOTH_SIGMA_MM / sy, SMOOTH_SIGMA_MM / sx)
    plane = ndimage.gaussian_filter(np.asarray(volume.array[z, y0:y1, x0:x1], np.float32), sig)
    here = _speck_at(plane, cy - y0, cx - x0, (sy, sx))
    if here is None:
        return None
    near = [
        ndimage.gaussian_filter(np.asarray(volume.array[k, y0:y1, x0:x1], np.float32), sig)
        for k in range(max(z - 2, 0), min(z + 3, volume.shape[0]))
    ]
    sample = np.stack(near)[:, ::2, ::2]
    click_hu = float(np.median(plane[here]))
    liver = _mode(sample, exclude_near=click_hu)
    if liver is None:
        return None
    noise = robust_sd(sample[np.abs(sample - liver) <= LIVER_BAND_MIN_HU])
    ring = _ring_click(plane, here, liver, click_hu, noise, (sy, sx))
    if ring is None:
        return None
    at = (z, ring[0][0] + y0, ring[0][1] + x0)
    new = _again(volume, prompt, phase, at, measure)
    if new is None or new.whole.length_mm < MIN_LESION_MM or not _holds_click(new, (z, cy, cx)):
        return None
    if any(f.startswith(VESSEL_FLAGS) or f.startswith(RUNS_ON_FLAG) for f in new.flags):
        return None
    note = (
        f"the click fell on a vessel or speck inside the lesion ({click_hu:.0f} HU; the tissue "
        f"around it reads {ring[1]:.0f} HU against the liver's {liver:.0f} HU, so its own region "
        f"was refused): measured the lesion around it (clicked again at voxel {at} on "
        f"{slice_name(volume, z)}); check that this is the lesion clicked"
    )
    return replace(new, flags=(note, *new.flags), seed_voxel=(z, cy, cx))


LIVER_REACH_MM = 60.0
"""The liver's value at a refused click is the commonest one within this, on five slices, other
than the click's (segment's own estimate: ``CLICK_SEARCH_MM``); nearer, a large lesion around
the click would be the commonest."""
MIN_LESION_MM = 10.0
"""A lesion around a refused speck is at least this long (it wraps a structure a few mm wide
with a ring of lesion past it on every side)."""
