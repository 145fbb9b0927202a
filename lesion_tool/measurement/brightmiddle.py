"""A click on the pale margin of an enhancing lesion whose middle reads past the region's ceiling:
measured again from that middle.

On an arterial image a hyper-enhancing lesion is brightest in its middle and paler towards its
edge (partial volume with the liver, and on thick slabs with the slab above or below). A click on
that margin reads the pale value; the region's ceiling (its value plus a headroom, over which
contrast-filled vessels begin) then lies under the lesion's middle, and the rays cast from the
click stop where the middle begins: the region is a crescent of margin beside the lesion's bright
middle. Followed through the slabs from that crescent, it may even end on the liver's surface in
the dark tissue beyond (an arterial region counts necrosis as lesion), where the diameter is
taken. On the click-position census of the stress bench (issue 11, twenty-eighth pass, noise
seed 4) IRCADb 07 (20.9 mm) on "hyper 5 mm 25 HU", clicked at (36, 157, 236) on its left margin
(167 HU against a middle of 185-203 HU, ceiling 187 HU), came back 14.2 mm (Dice 0.32) with no
flag, the last known result more than 30 % off without one; clicked in its middle, 18.6 mm.

The outline's own re-centring (``segment._lesion_at``) steps into such a middle only when the
outline's centre already lies in it. Here, on the click's slice of an arterial click's region by
value brighter than the liver, the tissue between the region's ceiling and the vessels' values
(``segment._Levels``), opened by :data:`SPECK_MM`, is looked for beside the outline: a piece
touching it (:data:`TOUCH_MM`), at least :data:`MIN_SHARE` of the outline's area and a vessel's
disk, :data:`MIN_DEPTH_MM` deep, and wrapped in tissue on the lesion's side of its threshold
(:data:`WRAP_SHARE` of a band round it; a vessel beside a lesion is wrapped in liver) is the
lesion's bright middle, and the lesion is clicked again at its deepest point. The new result is
kept when it is the same lesion, larger: it holds the reader's click and :data:`KEEP_SHARE` of the
first outline on the click's slice, has the same attenuation, does not run on through the slices
or look like a vessel where the first did not, and its diameter is :data:`MIN_GAIN_MM` longer and
at most :data:`MAX_GROWTH` times the first's. It is flagged with where it was measured from.
Lines are left alone. ``margin.follow_core`` does the same for a dark core, and for a bright one
only beside a region flagged as a vessel.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage

from lesion_tool.io.phase import Phase
from lesion_tool.measurement.margin import _tube_like
from lesion_tool.measurement.naming import slice_name
from lesion_tool.measurement.raster import depth_mm, disk_footprint, open_by, within_mm
from lesion_tool.measurement.reseed import (
    _share_kept,
    as_clicked,
    attenuation,
    measure_again,
    runs_on,
    slice_patch,
)
from lesion_tool.measurement.seam import holds_voxel

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.reseed import Measure
    from lesion_tool.measurement.segment import LesionMeasurement, LesionPrompt

ENABLED = True
"""Module switch: False leaves every result as found (its tests show the rule matters)."""
MIN_SHARE = 0.5
"""The bright blob's area outside the outline, over the outline's area on the click's slice, from
which the click is taken to be on the margin of a brighter middle."""
TOUCH_MM = 1.0
"""The blob must come this close (mm) to the outline: it is the lesion the outline stopped at."""
KEEP_SHARE = 0.8
"""The new region holds at least this share of the first outline on the click's slice."""
MIN_GAIN_MM = 1.0
"""The new diameter must be at least this much longer."""
MAX_GROWTH = 2.0
"""...and at most this many times the first (the middle of the same lesion, not a leak)."""
REACH_MM = 20.0
"""How far (mm) past the outline the bright middle is looked for: room for the middle of a lesion
of up to 40 mm clicked at its edge."""
SPECK_MM = 1.0
"""The bright middle is opened by a disk of this radius (mm): the noise's bright specks go."""
MIN_DEPTH_MM = 2.0
"""The bright middle reaches this far (mm) from its edge, 4 mm across or more: not a small vessel
running beside the outline (07's middle: 2.5 mm)."""
WRAP_MM = (1.5, 2.5)
"""The band (mm from its edge) round the bright middle, outside the outline, whose values are
read: past the blurred edge of the middle itself (1.5 times the smoothing's reach)."""
WRAP_SHARE = 0.5
"""At least this share of that band reads on the lesion's side of its threshold: the middle is
wrapped in the lesion's pale margin (07's: over 75 %), where a vessel running beside a lesion is
wrapped in liver (a disc at the lesion's brightest values touching it: under 25 %)."""
NOTE = "measured again from the bright middle beside its outline"
"""The start of the re-click's flag."""


def middle_click(volume: CTVolume, m: LesionMeasurement) -> tuple[int, int, int] | None:
    """The deepest point ``(z, y, x)`` of the bright middle touching ``m``'s outline on its
    click's slice (module docstring), or None when there is none that large."""
    from lesion_tool.measurement.segment import SMOOTH_SIGMA_MM, VESSEL_RADIUS_MM, _Levels

    e = m.evidence
    k = m.seed_voxel[0] - m.offset[0]
    if not 0 <= k < m.mask.shape[0] or not m.mask[k].any():
        return None
    pad = tuple(int(np.ceil(REACH_MM / float(s))) for s in volume.spacing_mm[1:])
    p = slice_patch(volume, m, k, m.mask[k], SMOOTH_SIGMA_MM, (pad[0], pad[1]))
    half = e.liver_hu + e.contrast_hu / 2.0
    lv = _Levels(e.liver_hu, e.lesion_hu, e.noise_sd_hu, e.threshold_hu - half, mixed=True)
    bright = (p.plane >= lv.ceiling) & (p.plane < lv.vessel_top) & ~p.here
    radius = tuple(SPECK_MM / s for s in p.spacing_yx)
    bright = open_by(bright, disk_footprint(radius))
    labels, _ = ndimage.label(bright)
    ids = np.unique(labels[within_mm(p.here, p.spacing_yx, TOUCH_MM) & bright])
    ids = ids[ids > 0]
    if ids.size == 0:
        return None
    px_mm2 = p.spacing_yx[0] * p.spacing_yx[1]
    sizes = ndimage.sum_labels(bright, labels, ids)
    least = max(MIN_SHARE * float(p.here.sum()), math.pi * VESSEL_RADIUS_MM**2 / px_mm2)
    if float(sizes.max()) < least:
        return None
    middle = labels == int(ids[int(np.argmax(sizes))])
    depth = depth_mm(middle, p.spacing_yx)
    if float(depth.max()) < MIN_DEPTH_MM:
        return None
    # Wrapped in the lesion's margin, not in the liver as a vessel beside the lesion is.
    wrap = within_mm(middle, p.spacing_yx, WRAP_MM[1]) & ~within_mm(
        middle, p.spacing_yx, WRAP_MM[0]
    )
    wrap &= ~p.here
    if not wrap.any() or float(np.mean(p.plane[wrap] > e.threshold_hu)) < WRAP_SHARE:
        return None
    y, x = np.unravel_index(int(np.argmax(depth)), depth.shape)
    return p.z, int(y) + p.y0, int(x) + p.x0


def from_bright_middle(
    volume: CTVolume,
    prompt: LesionPrompt,
    phase: object,
    first: LesionMeasurement,
    measure: Measure,
) -> LesionMeasurement:
    """``first``, or the lesion measured again from the bright middle beside its click's outline
    when that gives the same lesion, larger (module docstring)."""
    if (
        not ENABLED
        or prompt.seed is None
        or prompt.line is not None
        or first.phase is not Phase.ARTERIAL
        or attenuation(first) != "hyper"
        or not first.mask.any()
    ):
        return first
    at = middle_click(volume, first)
    if at is None:
        return first
    new = measure_again(volume, prompt, phase, at, measure)
    if new is None:
        return first
    click = first.seed_voxel
    if not (
        first.whole.length_mm + MIN_GAIN_MM <= new.whole.length_mm
        and new.whole.length_mm <= MAX_GROWTH * first.whole.length_mm
        and holds_voxel(new, click)
        and _share_kept(first, new, click[0], click[0]) >= KEEP_SHARE
        and attenuation(new) == attenuation(first)
        and (runs_on(first) or not runs_on(new))
        and (_tube_like(first) or not _tube_like(new))
    ):
        return first
    note = (
        f"{NOTE} on {slice_name(volume, at[0])}: the click read the lesion's pale margin "
        f"({first.evidence.lesion_hu:.0f} HU, {first.whole.length_mm:.1f} mm from there); check "
        "that this is the lesion clicked"
    )
    return as_clicked(first, new, note, first.time_s + new.time_s)
