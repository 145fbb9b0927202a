"""A click on a lesion's pale margin: click again on the core the region stopped against.

A hypo-attenuating tumour seen on thick slabs is graded, not flat: its middle is darkest and its
margin reads part-way to the liver (partial volume of the 5 mm slab with the liver above and
below a roundish tumour's curved surface, and the tumour's own rim of less necrotic tissue). A
click on that margin reads a value near the liver's, and the region grown from it is held
between the liver on one side and, on the other, the tumour's darker core, which lies beyond
the click's floor (:attr:`~lesion_tool.measurement.segment._Levels.floor`): the region stops
there as it would at fat or a cyst. Only hypo-attenuating regions are followed: beside an
enhancing one, brighter tissue still is a contrast-filled vessel as often as not (a 160 HU
phantom sphere touching a 200 HU vessel grew into it, 21.5 -> 24.6 mm). The result is a
crescent of the lesion's margin: IRCADb's tumour 02 in 5 mm slabs (portal venous), clicked on
its margin at 89 HU (liver 114, core 45-65), gave 11.7 mm for 27.8.

An enhancing lesion is graded the same way (the same tumour 02 made hyper-enhancing: core
170-187 HU, margin 130-150, liver 112), and a click on its margin sets a ceiling under the core,
which is then kept out as a vessel would be. Its region is a crescent running along the core
through the slices, and the tube test flags it as a vessel ("this looks like a vessel", 21.6 mm
for 29.4, Dice 0.23). So an enhancing region is followed too, but only when it was itself
flagged as a vessel or a piece of one (:data:`VESSEL_FLAGS`), and the new region is kept only
when it is not: a click on a vessel's edge re-clicks into the vessel's lumen, a tube again, and
keeps its flag; an enhancing lesion touching a vessel is a blob, not flagged, and never followed.

A reader sees the darker core beside the click. Here the lesion is clicked again, once, at the
deepest point of that core (tissue further from the liver than the click's region by
:data:`CORE_CONTRAST_SHARE` of its contrast, no fat, touching the region's outline on the
click's slice); the new region is kept when it is the same lesion, grown on: it holds
:data:`~lesion_tool.measurement.reseed.RESEED_KEEP_SHARE` of the first region's outline on that
slice (allowing for the blur of the edge, :func:`_held`), is longer, attenuated the same way
and does not run on through the slices (a vessel). Fat, a cyst or the gallbladder beside a
lesion is not grown into: a region grown from them stops at the lesion, which is on the liver's
side of their half-way value, and holds little of the first outline. A kept result is flagged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage

from lesion_tool.measurement.naming import slice_name
from lesion_tool.measurement.raster import depth_mm, mask_in_box, padded_box, within_mm
from lesion_tool.measurement.reseed import (
    RESEED_KEEP_SHARE,
    RUNS_ON_FLAG,
    as_clicked,
    measure_again,
    region_patch,
)

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement, LesionPrompt

Measure = Callable[["CTVolume", "LesionPrompt", object], "LesionMeasurement"]

CORE_CONTRAST_SHARE = 0.5
"""The core reads beyond the region's value by at least this share of its contrast with the
liver (the margin the half-way edge leaves on the liver's side, mirrored), and by EDGE_NOISE_K
noise SDs: a click's region stopped by the floor, the ceiling or mottled tissue between them."""
TOUCH_MM = 1.5
"""The core must lie within this of the first region's outline (it is what the region stopped
against, not a structure further away)."""
CORE_MIN_DEPTH_MM = 1.5
"""The core's deepest point must lie at least this far inside it: a core, not a noise speck or
the partial-volume edge of a vessel (the new click reads a disk of SEED_DISK_MM)."""


VESSEL_FLAGS = ("this looks like a vessel", "this may be a piece of a vessel")
"""The starts of :func:`~lesion_tool.measurement.vessel.vessel_flag`'s flags: an enhancing
region that is a tube, or a piece of a brighter structure running on beyond it."""


def _tube_like(m: LesionMeasurement) -> bool:
    """Whether ``m``'s region was flagged as a vessel or a piece of one."""
    return any(f.startswith(VESSEL_FLAGS) for f in m.flags)


def core_click(volume: CTVolume, m: LesionMeasurement) -> tuple[int, int, int] | None:
    """The deepest point ``(z, y, x)`` of tissue further from the liver than ``m``'s region (see
    :data:`CORE_CONTRAST_SHARE`) touching its outline on the click's slice, or None.

    Values are smoothed as the delineation smooths them (SMOOTH_SIGMA_MM); fat is never a core.
    """
    from lesion_tool.measurement.segment import (
        EDGE_NOISE_K,
        FAT_HU,
        SMOOTH_SIGMA_MM,
    )

    ev = m.evidence
    if ev.texture_sd_hu is not None or (ev.contrast_hu >= 0 and not _tube_like(m)):
        # Delineated by texture (its contrast is not of value), or hyper-attenuating: tissue
        # brighter still beside an enhancing lesion is a contrast-filled vessel as often as not
        # (unless the region itself is tube-like: a crescent of a graded lesion's pale margin
        # held against its brighter core, which the new region must then not be).
        return None
    # A box around the region, padded by the reach of a core as wide as the region itself.
    patch = region_patch(volume, m, SMOOTH_SIGMA_MM)
    if patch is None:
        return None
    z, y0, x0, _raw, plane, here, (sy, sx) = patch
    c = ev.lesion_hu - ev.liver_hu
    past = max(CORE_CONTRAST_SHARE * abs(c), EDGE_NOISE_K * ev.noise_sd_hu)
    beyond = np.sign(c) * (plane - ev.lesion_hu) >= past
    beyond &= plane > FAT_HU
    beyond &= ~here
    near = within_mm(here, (sy, sx), TOUCH_MM)
    labels, n = ndimage.label(beyond)
    if n == 0:
        return None
    touching = np.unique(labels[near & beyond])
    touching = touching[touching > 0]
    if touching.size == 0:
        return None
    core = np.isin(labels, touching)
    depth = depth_mm(core, (sy, sx))
    if depth.max() < CORE_MIN_DEPTH_MM:
        return None
    y, x = np.unravel_index(int(np.argmax(depth)), depth.shape)
    return (z, int(y) + y0, int(x) + x0)


def _held(volume: CTVolume, first: LesionMeasurement, new: LesionMeasurement, z: int) -> float:
    """Share of ``first``'s outline on slice ``z`` that ``new``'s region holds, or lies within
    BLUR_FOOT_MM of: the new click, further from the liver, places its edge at a value further
    from the liver too, a blurred edge's width inside the first click's edge."""
    from lesion_tool.measurement.segment import BLUR_FOOT_MM

    plane = tuple(slice(0, n) for n in volume.shape[1:])
    placed = []
    for m in (first, new):
        zi = z - m.offset[0]
        if not 0 <= zi < m.mask.shape[0]:
            return 0.0
        placed.append(mask_in_box(m.mask[zi], m.offset[1:], plane))
    a, b = placed
    if not a.any():
        return 0.0
    sy, sx = (float(s) for s in volume.spacing_mm[1:])
    box = ndimage.find_objects((a | b).view(np.uint8))[0]
    pad = int(np.ceil(BLUR_FOOT_MM / min(sy, sx))) + 1
    sl = padded_box(box, pad, a.shape)
    near = within_mm(b[sl], (sy, sx), BLUR_FOOT_MM)
    return float(near[a[sl]].mean())


def follow_core(
    volume: CTVolume,
    prompt: LesionPrompt,
    phase: object,
    first: LesionMeasurement,
    measure: Measure,
) -> LesionMeasurement:
    """``first`` (the region grown from the reader's click), or the lesion found by clicking
    again on the core its region stopped against (:func:`core_click`) when that is the same
    lesion, grown on, and longer (see the module's docstring). Only clicks are followed (a line
    gives the lesion's extent)."""
    if prompt.seed is None or prompt.line is not None:
        return first
    click = core_click(volume, first)
    if click is None:
        return first
    new = measure_again(volume, prompt, phase, click, measure)
    if new is None:
        return first
    spent = first.time_s + new.time_s
    z0 = first.seed_voxel[0]
    if (
        new.whole.length_mm <= first.whole.length_mm
        or _held(volume, first, new, z0) < RESEED_KEEP_SHARE
        or new.evidence.texture_sd_hu is not None
        or new.evidence.attenuation != first.evidence.attenuation
        or any(f.startswith(RUNS_ON_FLAG) for f in new.flags)
        or (first.evidence.contrast_hu >= 0 and _tube_like(new))
    ):
        return replace(first, time_s=spent)
    side = "darker" if first.evidence.contrast_hu < 0 else "brighter"
    note = (
        f"found from the click on {slice_name(volume, z0)} ({first.whole.length_mm:.1f} mm "
        f"there, {first.evidence.lesion_hu:.0f} HU: the lesion's margin?) by clicking again on "
        f"the {side} core beside it; "
        "check that this is the lesion clicked"
    )
    return as_clicked(first, new, note, spent)
