"""A click's region that drifts off the click: the click is not on the lesion found.

On the click's slice the rays are cast from the click, then again from the outline's centre
until it settles (segment._delineate). Where the click's value is also that of a wide stretch
of parenchyma around it (a 10 mm enhancing lesion clicked on its end slice, where partial
volume with the liver above dilutes it to 121-126 HU, beside a brighter perfusion zone of the
liver at 125-130 HU), the first rays run out into that stretch and each re-cast moves the centre
further from the click: IRCADb 06 made arterial, clicked on its last slice, gave a 44-49 mm
region of plain liver 26 mm from the click that no longer held it (Dice 0).

An outline always holds its own lesion's interior, and a reader's click is in the lesion: an
outline whose edge passed the click by more than :data:`DRIFT_MM` is another structure's. It is
refused as a click whose value is the liver's (:class:`Drifted`, a ``LiverValue``), so the lesion
is looked for beyond the region's open end (offliver.from_cap, with this check lifted as the
liver refusals are: a click on a lesion's end slab whose region slid onto the liver beside it),
then under the click on the next slices (capclick.under_cap), or the reader is told.
"""

from __future__ import annotations

import numpy as np

from lesion_tool.measurement.capclick import LiverValue

DRIFT_MM = 1.5
"""How far outside its outline (mm) the click may lie: a click on a lesion's margin lies within
the partial-volume ramp of its edge (sigma 0.8-1.0 mm on IRCADb's expert borders, w14-edge),
which the rays' threshold may leave outside."""


class Drifted(LiverValue):
    """The region grown from a click moved off it: the click's value is a wider structure's."""


def off_click(mask: np.ndarray, cy: float, cx: float, spacing_yx: tuple[float, ...]) -> float:
    """How far (mm) the click at window pixel ``(cy, cx)`` lies outside ``mask`` (the outline on
    its slice); 0 inside it."""
    y, x = round(cy), round(cx)
    if 0 <= y < mask.shape[0] and 0 <= x < mask.shape[1] and mask[y, x]:
        return 0.0
    if not mask.any():
        return float("inf")
    ys, xs = np.nonzero(mask)
    d = np.hypot((ys - cy) * spacing_yx[0], (xs - cx) * spacing_yx[1])
    return float(d.min())


def check_click(
    mask: np.ndarray, cy: float, cx: float, spacing_yx: tuple[float, ...], seed: tuple[int, ...]
) -> None:
    """Raise :class:`Drifted` when the outline ``mask`` left the click ``(cy, cx)`` (window
    pixels) by more than :data:`DRIFT_MM`."""
    d = off_click(mask, cy, cx, spacing_yx)
    if d > DRIFT_MM:
        # An empty outline is infinitely far: say what happened, not "inf mm" (IRCADb 04 clicked
        # on its lower end, Im 90 / 92 of the original series, stress bench seed 35).
        where = (
            "no region holding it could be outlined on its slice"
            if np.isinf(d)
            else f"the region grown from it lies {d:.0f} mm away from the click"
        )
        raise Drifted(
            f"No lesion at voxel {seed}: {where} (its value is that of a wider stretch of tissue "
            "around it, the liver?). Click nearer the lesion's middle or on its largest slice, or "
            "drag a line across it."
        )


__all__ = ["DRIFT_MM", "Drifted", "check_click", "off_click"]
