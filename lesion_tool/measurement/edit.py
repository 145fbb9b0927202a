"""A reader's correction of a semi-automatic lesion contour, and the contour as a polygon.

When the reader paints or erases the mask of a :class:`~lesion_tool.measurement.LesionMeasurement`
the edited mask, not the algorithm, gives the numbers: :func:`remeasure_edited` measures it with
the same functions the delineation uses for a mask changed by strokes
(:func:`~lesion_tool.measurement.diameter.boundary_points` and
:func:`~lesion_tool.measurement.diameter.longest_axial_diameter`, the pixel-edge boundary).
:func:`outline_polygon` gives the outline stored with an accepted lesion.

Voxel coordinates are ``(z, y, x)`` indices of the volume; lengths are millimetres.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage
from skimage.measure import approximate_polygon, find_contours

from lesion_tool.errors import MeasurementError
from lesion_tool.measurement.diameter import (
    Geometry,
    HasGeometry,
    boundary_points,
    longest_axial_diameter,
)
from lesion_tool.measurement.models import Diameter
from lesion_tool.measurement.segment import LesionMeasurement
from lesion_tool.measurement.speed15_remask import remasked

__all__ = ["outline_polygon", "paste", "remeasure_edited"]

OUTLINE_TOLERANCE_PX = 0.25
"""A stored outline keeps its shape to this many pixels (fewer vertices, same contour)."""
PROMPT_NEAR_MM = 5.0
"""An edited contour's piece this close to the click (a voxel-centre distance) is the one at
the click when none holds it: an erase brush a few millimetres wide drawn over the click leaves
the lesion's piece about a brush radius away (more than one that close: the reader's intent is
unclear and every piece is kept)."""
_CONNECTED = ndimage.generate_binary_structure(3, 3)


def _crop(mask: np.ndarray, offset: Sequence[int]) -> tuple[np.ndarray, tuple[int, int, int]]:
    box = ndimage.find_objects(mask.astype(np.uint8))[0]
    start = tuple(int(o) + s.start for o, s in zip(offset, box, strict=True))
    return mask[box], start  # type: ignore[return-value]


def remeasure_edited(
    volume: HasGeometry,
    measurement: LesionMeasurement,
    mask: np.ndarray,
    offset: Sequence[int],
    viable_mask: np.ndarray | None = None,
) -> LesionMeasurement:
    """The measurement after the reader edited its contour: diameters of the edited mask.

    Parameters
    ----------
    volume
        The grid the measurement was made on (a ``CTVolume`` or :class:`Geometry`).
    measurement
        The measurement whose mask was edited (its phase decides whether a viable part exists).
    mask
        Boolean ``(z, y, x)`` edited lesion mask, a box of the volume at ``offset``.
    offset
        ``(z, y, x)`` index in the volume of ``mask[0, 0, 0]``.
    viable_mask
        Boolean ``(z, y, x)`` edited viable part on the same box, or None to keep the
        measurement's viable part inside the edited lesion. Ignored when the viable part was
        not measured (not an arterial image): an edit cannot make it measurable.

    Returns
    -------
    LesionMeasurement
        Whole (and viable) diameters, mask, offset and volume of the edited contour; the
        automatic flags are kept. An edit that cut the contour in pieces keeps the piece at
        the click and drops those cut off from the automatic contour, with a flag saying so;
        where the click's piece is unclear every piece is kept, flagged as separate pieces.

    Raises
    ------
    MeasurementError
        When the edit left nothing of the lesion.
    """
    m = np.asarray(mask, dtype=bool)
    if m.ndim != 3:
        raise ValueError(f'Argument "mask" must be 3-D (z, y, x), got shape {m.shape}.')
    if not m.any():
        raise MeasurementError(
            "The edited contour is empty: nothing is left to measure. Undo the erasing, "
            "measure again, or reject the proposal."
        )
    crop, start = _crop(m, offset)
    flags = list(measurement.flags)
    crop, start, cut_flag = _keep_prompt_piece(crop, start, measurement, volume)
    if cut_flag:
        flags.append(cut_flag)
        m = np.zeros_like(m)
        paste(m, offset, crop, start)
    whole, whole_p = longest_axial_diameter(boundary_points(crop, start), volume)
    _, pieces = ndimage.label(crop, _CONNECTED)
    if pieces > 1:
        flags.append(
            f"the edited contour has {pieces} separate pieces: its diameter may span them; "
            "erase what is not this lesion"
        )
    viable = viable_p = None
    vm_out = None
    if measurement.viable is not None:
        if viable_mask is None:
            vm = np.zeros_like(m)
            if measurement.viable_mask is not None:
                paste(vm, offset, measurement.viable_mask, measurement.offset)
        else:
            vm = np.asarray(viable_mask, dtype=bool)
        vm = vm & m
        box = tuple(
            slice(s - o, s - o + n) for s, o, n in zip(start, offset, crop.shape, strict=True)
        )
        vm_out = vm[box]
        if vm_out.any():
            viable, viable_p = longest_axial_diameter(boundary_points(vm_out, start), volume)
        else:
            viable, viable_p = Diameter.empty(), Diameter.empty()
    return remasked(
        measurement, volume, crop, start, (whole, whole_p), (viable, viable_p, vm_out), flags
    )


def _keep_prompt_piece(
    crop: np.ndarray,
    start: tuple[int, int, int],
    measurement: LesionMeasurement,
    volume: HasGeometry,
) -> tuple[np.ndarray, tuple[int, int, int], str]:
    """An edited contour in pieces reduced to the piece of the reader's prompt, with a flag
    saying what was cut off; unchanged (and "") when nothing is to be dropped.

    Erasing across a lesion cuts off what is not the lesion, so the piece that holds the click
    (``measurement.seed_voxel``, a line's middle) is the lesion; failing that, the only piece
    within PROMPT_NEAR_MM of it (a stroke drawn over the click). Only pieces wholly from the
    automatic contour are dropped: tissue the reader painted is never discarded.
    """
    lab, pieces = ndimage.label(crop, _CONNECTED)
    if pieces < 2:
        return crop, start, ""
    spacing = np.asarray(Geometry.of(volume).spacing_mm)
    vox = np.argwhere(crop)
    dist = np.sqrt(((vox + start - np.asarray(measurement.seed_voxel)) ** 2 * spacing**2).sum(1))
    ids = np.arange(1, pieces + 1)
    near = np.asarray(ndimage.minimum(dist, lab[crop], ids))
    inside = near == 0.0
    keep = ids[inside] if inside.any() else ids[near <= PROMPT_NEAR_MM]
    if len(keep) != 1:
        return crop, start, ""
    auto = np.zeros_like(crop)
    paste(auto, start, measurement.mask, measurement.offset)
    dropped = crop & (lab != keep[0])
    if (dropped & ~auto).any():  # the reader painted some of it: keep everything
        return crop, start, ""
    ml = float(dropped.sum()) * Geometry.of(volume).voxel_volume_ml
    where = "at the click" if inside.any() else "nearest the click"
    kept, kept_start = _crop(lab == keep[0], start)
    n = pieces - 1
    flag = f"kept the piece {where}; the erase stroke cut off {n} piece{'s' if n > 1 else ''}"
    return kept, kept_start, f"{flag} ({ml:.1f} mL)"


def paste(
    target: np.ndarray, target_offset: Sequence[int], source: np.ndarray, offset: Sequence[int]
) -> None:
    """OR ``source`` (placed at ``offset``) into ``target`` (placed at ``target_offset``): two
    boxes of one volume, over the voxels both cover."""
    dst, src = [], []
    for t0, tn, s0, sn in zip(target_offset, target.shape, offset, source.shape, strict=True):
        lo, hi = max(t0, s0), min(t0 + tn, s0 + sn)
        if hi <= lo:
            return
        dst.append(slice(lo - t0, hi - t0))
        src.append(slice(lo - s0, hi - s0))
    target[tuple(dst)] |= np.asarray(source, dtype=bool)[tuple(src)]


def outline_polygon(mask: np.ndarray, offset: Sequence[int], z: int) -> np.ndarray:
    """The outline of a mask on slice ``z`` of the volume: its largest piece's polygon.

    Parameters
    ----------
    mask
        Boolean ``(z, y, x)``, a box of the volume at ``offset``.
    offset
        ``(z, y, x)`` index in the volume of ``mask[0, 0, 0]``.
    z
        Slice index in the volume (e.g. the slice of the longest diameter).

    Returns
    -------
    numpy.ndarray
        ``(n, 2)`` closed polygon ``(y, x)`` (fractional voxel indices of the volume, on the
        pixel-edge 0.5 iso-contour, first vertex repeated last); empty when the mask has nothing
        on that slice.
    """
    k = int(z) - int(offset[0])
    m = np.asarray(mask, dtype=bool)
    if not 0 <= k < m.shape[0] or not m[k].any():
        return np.empty((0, 2))
    plane = np.pad(m[k].astype(float), 1)
    contours = find_contours(plane, 0.5)
    longest = max(contours, key=len)
    poly = approximate_polygon(longest, OUTLINE_TOLERANCE_PX)
    return poly - 1.0 + np.asarray(offset[1:], dtype=float)
