"""A click on the seam between a tumour's enhancing part and its necrosis: click again inside.

An arterial HCC is often an enhancing (viable) nodule beside a necrotic part darker than the
liver. A click on the seam between them reads a value half-way between the two parts (145 and
22 HU smoothed to about 95 HU, the liver 75 HU), so the region grown from it is neither part:
on ``benchmarks/bench_measure.py``'s synthetic lesions (512 x 512 x 300, 1 mm slices), a click
on the nodule's edge against the necrosis gave the necrotic part with a rim of liver and no
viable part at all: 43.1 mm and viable 0.0 mm for 52 and 28.5 (an unflagged complete response
of a tumour whose 28 mm enhancing nodule was under the click), 60.3 / 0.0 for 60 / 23.9 and
34.7 / 12.2 for 44 / 30.7.

The sign is in the result itself: the click reads as an enhancing (hyper-attenuating) lesion,
tissue brighter than the click by the click's own contrast lies within 3 mm of it (the click is
half-way up an edge), and the region grown from it is mostly darker than the liver (its median
below the liver's value). Then the lesion is clicked again,
once, at the deepest point of the region on the click's slice (well inside the lesion, away
from the seam), and the new result is kept when it is the same lesion, grown on: it holds
:data:`~lesion_tool.measurement.reseed.RESEED_KEEP_SHARE` of the first region's outline on that
slice, its longest diameter is not shorter, its viable part is larger and it does not run on
through the slices. On the three lesions above: 51.6 / 28.4, 61.5 / 23.6 and 45.8 / 30.3 mm. A
kept result is flagged (the reader should check that this is the lesion clicked).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage

from lesion_tool.measurement.margin import _held
from lesion_tool.measurement.naming import slice_name
from lesion_tool.measurement.raster import deepest_pixel
from lesion_tool.measurement.reseed import RUNS_ON_FLAG, as_clicked, measure_again

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement, LesionPrompt

Measure = Callable[["CTVolume", "LesionPrompt", object], "LesionMeasurement"]

SEAM_REACH_MM = 3.0
"""Tissue brighter than the click by its contrast with the liver lies within this of a click on
the seam (the half-way value of an edge blurred by the smoothing and the partial volume)."""
SEAM_KEEP_SHARE = 0.5
"""The new region holds at least this share of the first one's outline on the click's slice
(the first region, grown from a half-way value, also takes in a rim of the liver and parts of
the necrosis the new one may leave out: 0.77 on the 52 mm synthetic lesion)."""
SEAM_VIABLE_SHARE = 0.5
"""The first result's viable diameter is at most this share of the new one's: the new click
found an enhancing part the first left out, not the same one measured a little differently."""
SEAM_FLAG = "found by clicking again inside the region"
"""The start of the flag of a result kept from the new click."""


def on_seam(volume: CTVolume, m: LesionMeasurement) -> bool:
    """Whether ``m`` (from a click) may be grown from the seam between an enhancing part and a
    necrotic one (arterial images only: elsewhere the viable part is not measured): its click
    reads hyper-attenuating, tissue brighter than the click by its own contrast with the liver
    lies within :data:`SEAM_REACH_MM` of it (the click is half-way up an edge; a click in the
    middle of an enhancing nodule has nothing that much brighter beside it), and its region's
    median is darker than the liver."""
    from lesion_tool.measurement.segment import SMOOTH_SIGMA_MM

    ev = m.evidence
    if m.viable_mask is None or ev.texture_sd_hu is not None or ev.contrast_hu <= 0:
        return False
    # Brighter tissue beside the click, beyond it by at least its own contrast (smoothed as
    # the delineation smooths): the click reads half-way up an edge.
    z, y, x = m.seed_voxel
    sy, sx = (float(s) for s in volume.spacing_mm[1:])
    ry = int(np.ceil((SEAM_REACH_MM + 3 * SMOOTH_SIGMA_MM) / sy))
    rx = int(np.ceil((SEAM_REACH_MM + 3 * SMOOTH_SIGMA_MM) / sx))
    y0, x0 = max(y - ry, 0), max(x - rx, 0)
    raw = np.asarray(volume.array[z, y0 : y + ry + 1, x0 : x + rx + 1], dtype=np.float32)
    plane = ndimage.gaussian_filter(raw, (SMOOTH_SIGMA_MM / sy, SMOOTH_SIGMA_MM / sx))
    yy, xx = np.ogrid[: plane.shape[0], : plane.shape[1]]
    near = ((yy + y0 - y) * sy) ** 2 + ((xx + x0 - x) * sx) ** 2 <= SEAM_REACH_MM**2
    if float(plane[near].max()) < ev.lesion_hu + ev.contrast_hu:
        return False
    # ... while the region grown from it is mostly darker than the liver.
    box = tuple(slice(o, o + n) for o, n in zip(m.offset, m.mask.shape, strict=True))
    values = np.asarray(volume.array[box], dtype=np.float32)[m.mask]
    return values.size > 0 and float(np.median(values)) < ev.liver_hu


def deepest_click(volume: CTVolume, m: LesionMeasurement) -> tuple[int, int, int] | None:
    """The point ``(z, y, x)`` of ``m``'s region on the click's slice farthest from its edge."""
    z = m.seed_voxel[0]
    zi = z - m.offset[0]
    if not 0 <= zi < m.mask.shape[0] or not m.mask[zi].any():
        return None
    sy, sx = (float(s) for s in volume.spacing_mm[1:])
    y, x = deepest_pixel(m.mask[zi], (sy, sx))
    return (z, y + m.offset[1], x + m.offset[2])


def follow_seam(
    volume: CTVolume,
    prompt: LesionPrompt,
    phase: object,
    first: LesionMeasurement,
    measure: Measure,
) -> LesionMeasurement:
    """``first``, or the lesion found by clicking again at the deepest point of its region when
    ``first`` was grown from a click on the seam between an enhancing part and a necrotic one
    (:func:`on_seam`) and the new result is the same lesion, grown on (see the module's
    docstring). Only clicks are followed (a line gives the lesion's extent)."""
    if prompt.seed is None or prompt.line is not None or not on_seam(volume, first):
        return first
    click = deepest_click(volume, first)
    if click is None or click == first.seed_voxel:
        return first
    new = measure_again(volume, prompt, phase, click, measure)
    if new is None:
        return first
    spent = first.time_s + new.time_s
    z0 = first.seed_voxel[0]
    z, y, x = first.seed_voxel
    local = (z - new.offset[0], y - new.offset[1], x - new.offset[2])
    holds_click = all(0 <= v < n for v, n in zip(local, new.mask.shape, strict=True)) and bool(
        new.mask[local]
    )
    if (
        not holds_click
        or new.whole.length_mm < first.whole.length_mm
        or (first.viable_diameter_mm or 0.0) > SEAM_VIABLE_SHARE * (new.viable_diameter_mm or 0.0)
        or _held(volume, first, new, z0) < SEAM_KEEP_SHARE
        or any(f.startswith(RUNS_ON_FLAG) for f in new.flags)
    ):
        return replace(first, time_s=spent)
    note = (
        f"{SEAM_FLAG} on {slice_name(volume, z0)}: the click read {first.evidence.lesion_hu:.0f}"
        f" HU, between an enhancing part and a darker one (its region gave "
        f"{first.whole.length_mm:.1f} mm, viable {first.viable_diameter_mm or 0.0:.1f} mm); "
        "check that this is the lesion clicked"
    )
    return as_clicked(first, new, note, spent)
