"""A click off the lesion's widest slice: follow the lesion on from where its region stopped.

A reader does not always click on a lesion's widest slice. A click near one end of the lesion
(its cap) reads a value diluted towards the liver's (partial volume with the parenchyma above or
below, and the cap's own thinness), so the region grown from it follows the lesion through a few
slices and stops where the lesion's body, with a value well beyond the click's, no longer
matches the click's levels: its centre reads on the liver's side of the click's threshold, the
body lies beyond the click's ceiling (hyper-attenuating) or its outline collapses. Measured on
IRCADb made hyper-enhancing or in 2.5-5 mm slabs, none of those stops was the slice-to-slice
growth limit: all were the click's value (see the README, "A click off the lesion's widest
slice"). Such a region is widest on its last slice in one direction.

Here the lesion is clicked again, as a reader would, one slice beyond that widest slice, at the
deepest point of the region's widest outline (the new click measures its own value there), and
the new region is kept when it is the same lesion (it holds most of the first region's outline on
the clicked slice) and larger. At most :data:`MAX_RESEEDS` such steps; the result says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from scipy import ndimage

from lesion_tool.errors import LesionToolError
from lesion_tool.measurement.naming import slice_name
from lesion_tool.measurement.notwhole import LOW_CONTRAST_FLAG, cap_refusal, goes_on
from lesion_tool.measurement.raster import deepest_pixel, padded_mask
from lesion_tool.measurement.ring_follow import liver_inside_follow
from lesion_tool.measurement.slabend import same_on_widest_slab
from lesion_tool.measurement.small_beyond import grows_beyond
from lesion_tool.measurement.t03_dilutedend import on_diluted_end
from lesion_tool.measurement.valuetexture import supersedes_texture

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement, LesionPrompt

MAX_RESEEDS = 2
"""Clicks added beyond a region's widest end slice, one after the other."""
RESEED_KEEP_SHARE = 0.8
"""The new region must hold at least this share of the first region's outline on the clicked
slice: it is the same lesion, grown on, not a neighbour reached from beyond the end."""
OPEN_END_FLAG = "the region is widest on its last slice"
"""The start of the flag :func:`~lesion_tool.measurement.segment.measure_lesion` raises on a
region widest on its last slice in one direction (segment builds the flag from it)."""

RUNS_ON_FLAG = "the region runs on through the slices"
"""The start of the flag of a region that runs on through the slices beyond its width (a vessel
or an organ; segment builds the flag from it): a new click's region that does is not the
lesion's middle."""


def runs_on(m: LesionMeasurement) -> bool:
    """Whether ``m`` was flagged as running on through the slices beyond its width (a vessel or
    an organ?): :data:`RUNS_ON_FLAG`."""
    return any(f.startswith(RUNS_ON_FLAG) for f in m.flags)


Measure = Callable[["CTVolume", "LesionPrompt", object], "LesionMeasurement"]


class RegionPatch(NamedTuple):
    """``m``'s region on its click's slice in a box around it (see :func:`region_patch`)."""

    z: int
    y0: int
    x0: int
    raw: np.ndarray
    plane: np.ndarray
    here: np.ndarray
    spacing_yx: tuple[float, float]


def region_patch(volume: CTVolume, m: LesionMeasurement, sigma_mm: float) -> RegionPatch | None:
    """The click's slice of ``m`` in a box padded on every side by the region's own width plus
    the smoothing's reach (room for a core or neighbour as wide as the region): the raw values,
    the values smoothed in-plane by ``sigma_mm`` as the delineation smooths them, and the region
    as a mask of the box; None when the region has no voxel on that slice. Shared by the
    re-click rules that look beside a region for the tissue it touches."""
    z = m.seed_voxel[0]
    zi = z - m.offset[0]
    if not 0 <= zi < m.mask.shape[0] or not m.mask[zi].any():
        return None
    sy, sx = (float(s) for s in volume.spacing_mm[1:])
    ys, xs = np.nonzero(m.mask[zi])
    pad_y = int(np.ptp(ys)) + 1 + int(np.ceil(3 * sigma_mm / sy))
    pad_x = int(np.ptp(xs)) + 1 + int(np.ceil(3 * sigma_mm / sx))
    return slice_patch(volume, m, zi, m.mask[zi], sigma_mm, (pad_y, pad_x))


def slice_patch(
    volume: CTVolume,
    m: LesionMeasurement,
    k: int,
    region: np.ndarray,
    sigma_mm: float,
    pad: tuple[int, int],
) -> RegionPatch:
    """Slice ``k`` of ``m``'s box with ``region`` (a mask of that slice of the box, not empty) in
    a box padded by ``pad`` pixels (y, x) and clipped to the image: raw and smoothed values and
    the region as a mask of the box. The one place a rule cuts a smoothed plane round a region."""
    z = k + m.offset[0]
    sy, sx = (float(s) for s in volume.spacing_mm[1:])
    ys, xs = np.nonzero(region)
    ya, xa = int(ys.min()), int(xs.min())
    part = region[ya : int(ys.max()) + 1, xa : int(xs.max()) + 1]
    at = (m.offset[1] + ya, m.offset[2] + xa)
    (rows, cols), here = padded_mask(part, at, pad, volume.shape[1:])
    raw = np.asarray(volume.array[z, rows, cols], dtype=np.float32)
    plane = ndimage.gaussian_filter(raw, (sigma_mm / sy, sigma_mm / sx))
    return RegionPatch(z, rows.start, cols.start, raw, plane, here, (sy, sx))


def open_end_click(
    m: LesionMeasurement, shape: tuple[int, ...]
) -> tuple[tuple[int, int, int], int] | None:
    """The click beyond the open end of ``m``'s region, or None when its region is not widest on
    one of its end slices (or that end is the volume's).

    The region's widest slice (by area) is one of its end slices; the click is the deepest
    point of that slice's outline (farthest from its edge), one slice further on, ``(z, y, x)``,
    and the direction (+1 or -1 slice) it lies in.
    """
    areas = m.mask.sum(axis=(1, 2))
    zs = np.nonzero(areas)[0]
    if zs.size < 2:
        return None
    widest = int(zs[np.argmax(areas[zs])])
    if widest == zs[-1]:
        step = 1
    elif widest == zs[0]:
        step = -1
    else:
        return None
    z = m.offset[0] + widest + step
    if not 0 <= z < shape[0]:
        return None
    y, x = deepest_pixel(m.mask[widest])
    return (z, y + m.offset[1], x + m.offset[2]), step


def _share_kept(last: LesionMeasurement, new: LesionMeasurement, z_from: int, z_to: int) -> float:
    """Share of ``last``'s outline on slice ``z_from`` that ``new``'s region holds on slice
    ``z_to`` (volume indices): the outline of a slice nearer the lesion's middle holds the one
    nearer its end (nested sections), so the new region is the same lesion grown on."""
    a = last.mask[z_from - last.offset[0]]
    ys, xs = np.nonzero(a)
    zi = z_to - new.offset[0]
    if ys.size == 0 or not 0 <= zi < new.mask.shape[0]:
        return 0.0
    yi = ys + last.offset[1] - new.offset[1]
    xi = xs + last.offset[2] - new.offset[2]
    ok = (yi >= 0) & (yi < new.mask.shape[1]) & (xi >= 0) & (xi < new.mask.shape[2])
    hit = np.zeros(ys.size, dtype=bool)
    hit[ok] = new.mask[zi, yi[ok], xi[ok]]
    return float(hit.mean())


def slice_span(m: LesionMeasurement) -> tuple[int, int] | None:
    """The first and last slice (volume index) of ``m``'s region, or None when it is empty."""
    zs = m.offset[0] + np.flatnonzero(m.mask.any(axis=(1, 2)))
    return None if zs.size == 0 else (int(zs[0]), int(zs[-1]))


def common_box(
    a: LesionMeasurement, b: LesionMeasurement
) -> tuple[tuple[slice, ...], tuple[slice, ...]] | None:
    """The part of the volume both regions' boxes cover, as slices of ``a.mask`` and of
    ``b.mask`` (the same voxels), or None when the boxes do not overlap: where two results of
    one click are compared voxel by voxel."""
    lo = np.maximum(a.offset, b.offset)
    hi = np.minimum(np.add(a.offset, a.mask.shape), np.add(b.offset, b.mask.shape))
    if np.any(hi <= lo):
        return None
    sa = tuple(slice(int(s - o), int(e - o)) for s, e, o in zip(lo, hi, a.offset, strict=True))
    sb = tuple(slice(int(s - o), int(e - o)) for s, e, o in zip(lo, hi, b.offset, strict=True))
    return sa, sb


def attenuation(m: LesionMeasurement) -> str:
    """ "hypo" or "hyper" for a region delineated by value, "texture" for one delineated by
    texture (whose contrast is of local SD, not of value: either attenuation may follow)."""
    if m.evidence.texture_sd_hu is not None:
        return "texture"
    return m.evidence.attenuation


def measure_again(
    volume: CTVolume,
    prompt: LesionPrompt,
    phase: object,
    click: tuple[int, int, int],
    measure: Measure,
) -> LesionMeasurement | None:
    """The lesion measured from ``click`` in place of the reader's click (the prompt otherwise
    the same), or None when nothing is found there. Shared by the re-click steps
    (:func:`follow_open_end`, ``margin.follow_core``, ``nodule_seam.follow_seam``,
    ``recentre.follow_middle``)."""
    try:
        return measure(volume, replace(prompt, seed=click), phase)
    except LesionToolError:
        return None


def as_clicked(
    first: LesionMeasurement, new: LesionMeasurement, note: str, spent: float
) -> LesionMeasurement:
    """``new``, found by a re-click, reported for the reader's click: ``note`` as its first
    flag, the reader's click as its seed and the time of every delineation spent."""
    return replace(new, flags=(note, *new.flags), seed_voxel=first.seed_voxel, time_s=spent)


def follow_open_end(
    volume: CTVolume,
    prompt: LesionPrompt,
    phase: object,
    first: LesionMeasurement,
    measure: Measure,
) -> LesionMeasurement:
    """``first`` (the region grown from the reader's click), or the lesion found by clicking
    again beyond its widest end slice when that is the same lesion and larger.

    Only clicks are followed on (a line says on which slice the reader sees the lesion). The
    new click measures its own value (:func:`open_end_click`); its region is kept when it holds
    :data:`RESEED_KEEP_SHARE` of the last region's widest outline on the next slice, its longest
    diameter is longer, it is attenuated the same way as ``first`` (hypo or hyper; anything
    after a ``first`` delineated by texture, whose contrast is not of value) and it does
    not run on through the slices (IRCADb's tumour 05 in 2.5 mm slabs, clicked at its end:
    22.8 mm, and from beyond, a bright structure, 82.8 mm running through 28 slices).
    On slabs the slice clicked may be the lesion's diluted end slab, whose section does not nest:
    the new region may instead hold the first's widest outline on that widest slab itself
    (:func:`~lesion_tool.measurement.slabend.same_on_widest_slab`).
    A region delineated by its rim is not replaced by its liver-valued inside read by value, low
    contrast (:func:`~lesion_tool.measurement.ring_follow.liver_inside_follow`).
    A kept result is flagged with the slice clicked and the slice of its longest diameter.
    """
    if prompt.seed is None or prompt.line is not None:
        return first
    z0 = first.seed_voxel[0]
    best = first
    spent = first.time_s
    for _ in range(MAX_RESEEDS):
        found = open_end_click(best, volume.shape)
        if found is None:
            break
        click, step = found
        new = measure_again(volume, prompt, phase, click, measure)
        if new is None:
            break
        spent += new.time_s
        if best is first and supersedes_texture(first, new):
            # A texture patch gives way to a sound region by value holding the click
            # (valuetexture.py), though shorter and not nested in it.
            best = new
            break
        if on_diluted_end(volume, best, new):
            # The click landed on the lesion's end slab, diluted by the slab's partial volume:
            # its region is no better measure of the lesion (t03_dilutedend.py).
            break
        kept = _share_kept(best, new, click[0] - step, click[0])
        if kept < RESEED_KEEP_SHARE:
            # On slabs the clicked slab may be the lesion's diluted end (slabend.py).
            z_w = click[0] - step
            on_widest = _share_kept(best, new, z_w, z_w)
            if same_on_widest_slab(best, new, z_w, float(volume.spacing_mm[0]), on_widest):
                kept = on_widest
        new_runs_on = runs_on(new)
        if (
            new.whole.length_mm <= best.whole.length_mm
            or kept < RESEED_KEEP_SHARE
            or attenuation(first) not in ("texture", attenuation(new))
            or new_runs_on
            # A region found by its rim, its inside the liver's value, is not followed on by
            # that inside read by value: low contrast, it runs on through the liver's noise
            # (ring_follow.py).
            or liver_inside_follow(best, new)
        ):
            if (
                best is first
                and not new_runs_on
                and any(f.startswith(LOW_CONTRAST_FLAG) for f in first.flags)
                and goes_on(first.whole.length_mm, new.whole.length_mm, kept)
                and grows_beyond(first, new, click[0] - step, step)
            ):
                # The lesion goes on, larger, beyond the click's low-contrast region (whose end
                # is no edge the image shows): not its measurement. A region that plainly differs
                # from the liver ends at an edge (IRCADb 07 in 5 mm slabs, 19.8 mm for 20.9,
                # with a 30 mm leak beyond it).
                raise cap_refusal(volume, first, new)
            break
        best = new
    if best is first:
        return replace(first, time_s=spent)
    zw = best.whole.slice_index
    widest = "another slice" if zw is None else slice_name(volume, zw)
    note = (
        f"found from the click on {slice_name(volume, z0)} ({first.whole.length_mm:.1f} mm "
        f"there, widest on its last slice) by clicking again beyond it: widest on {widest}; "
        "check that this is the lesion clicked"
    )
    return as_clicked(first, best, note, spent)
