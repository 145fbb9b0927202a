"""A click's region that left a necrotic lesion through its rim: the lesion from its core.

On an arterial image a necrotic HCC is a dark core inside an enhancing rim; where the rim is
thin (2-4 mm at a pole) a click near the lesion's edge lands on the rim or on the seam between
rim and core, and the region grown from it by value can leave the lesion through the rim into
the liver beside it. IRCADb tumour 05 (32.5 mm) given a necrotic core (1.6 mm slices):

- seed 4, click (115, 209, 207), 6 mm inside the expert's upper border: the click reads 85-90 HU
  (smoothed), the seam between the core (40-56 HU) and the rim's upper arc (149-157 HU, 2-3 mm
  thick), the liver above it 115-130 HU. Grown at that value (91 HU against 115) the region stops
  against the core (below its floor) and runs up through darker liver: 58.6 mm on 6 slices, Dice
  0.02 with the tumour, flagged (irregular, elongated, a dark region with enhancing tissue round
  44 % of it).
- seed 3, click (112, 207, 199), 5 mm inside the upper border, on the rim's arc (141-155 HU): its
  own region, a 10.2 mm sliver of the arc, slid 4 mm off the click (refused); grown again beyond
  its open end (``offliver.from_cap``) the rim's value ran on into the liver's graded halo round
  the lesion (125-141 HU): 55.5 mm of rim and halo, 133 HU against 116, flagged.

In both the image holds the evidence of which lesion was clicked: a dark core (80 HU under the
liver, 5 mm deep) within the seam's reach (``seam.SEAM_SEARCH_MM``) of the click's region, found
as ``necro_rimclick.necrotic_core_clicks`` finds a rim click's core. Necrosis lies inside its own
tumour, and the whole lesion measured from that core (the core's rule: core and rim outlined
through the rim, ``seam.WHOLE_MARKERS``) is the lesion the click was in when it holds the click.
A region that lies mostly outside that lesion (under LEFT_SHARE of its voxels inside it) left it
through the rim: it is not the lesion clicked, and the lesion is returned instead, flagged. A
region mostly inside the lesion is kept as it is (a click's own result is not second-guessed:
``necro_rimclick.follow_necrosis`` already looks for a larger whole round a rim's region). A
refused click's region grown again with the liver refusals lifted (seed 3's sliver) is looked
at before its open end is followed, as ``follow_necrosis`` looks at a rim click's accepted
region: the whole must hold the click and be longer than the sliver (:func:`core_of_refused`).

The core is clicked at its widest section, not at its deepest pixel on the click's slice: the
clicks lie near the lesion's pole in-plane, and from the core's section on the click's slice
the core's rule stops in the seam on one side or runs into the halo (05: 28.7 mm from Im 112,
the rim round 58 % of the core; 36.5 mm from Im 115), while from the core followed through the
slices to its deepest section (Im 118, the rim round 92 % of it) every ray crosses the rim
straight out: 32.3 mm for both clicks (the lesion's own deepest click, Im 113: 30.9 mm).

Clicks on arterial images whose result is flagged only (a line gives the lesion's extent; an
unflagged region is in no doubt). A click in plain liver or a vessel has no necrotic lesion whose
whole holds it, and its result is unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage

from lesion_tool.measurement.naming import slice_name
from lesion_tool.measurement.necro_rimclick import necrotic_core_clicks
from lesion_tool.measurement.raster import depth_mm
from lesion_tool.measurement.reseed import Measure, as_clicked, measure_again
from lesion_tool.measurement.seam import CORE_MARGIN_HU, holds_voxel, is_core_whole
from lesion_tool.measurement.vesselclick import share_in

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement, LesionPrompt

__all__ = ["ENABLED", "LEFT_SHARE", "REFUSED_NOTE", "core_of_refused", "from_core_left"]

ENABLED = True
"""Module switch (A/B measurement)."""

LEFT_SHARE = 0.5
"""A click's region with less than this share of its voxels inside the whole lesion measured
from the core beside it left that lesion (the two leaks above: 0.02-0.3 of it inside); a
region mostly inside it is the lesion or a part of it, kept."""


CORE_WINDOW_MM = 25.0
"""Half the side of the in-plane box the core is followed in (a core up to 50 mm across)."""
CORE_REACH_MM = 10.0
"""How far above and below the click's slice the dark core is followed to its widest section
(a 20-30 mm core spans 10-15 mm either side of its middle)."""


def widest_section(
    volume: CTVolume, click: tuple[int, int, int], liver_hu: float
) -> tuple[int, int, int]:
    """The deepest pixel of the dark core holding ``click`` on the slice (within CORE_REACH_MM)
    where the core's section is deepest: the core's middle in 3-D, the lesion's middle, from
    which the rays of the core's rule cross the rim straight out on its widest slices."""
    from lesion_tool.measurement.segment import SMOOTH_SIGMA_MM

    z0, y0, x0 = click
    nz, ny, nx = volume.shape
    sz, sy, sx = (float(s) for s in volume.spacing_mm)
    half = round(CORE_WINDOW_MM / min(sy, sx))
    ys = slice(max(y0 - half, 0), min(y0 + half + 1, ny))
    xs = slice(max(x0 - half, 0), min(x0 + half + 1, nx))

    def dark(z: int) -> np.ndarray:
        raw = np.asarray(volume.array[z, ys, xs], dtype=np.float32)
        plane = ndimage.gaussian_filter(raw, (SMOOTH_SIGMA_MM / sy, SMOOTH_SIGMA_MM / sx))
        return plane <= liver_hu - CORE_MARGIN_HU

    lab, _ = ndimage.label(dark(z0))
    at = int(lab[y0 - ys.start, x0 - xs.start])
    if at == 0:
        return click
    comp0 = lab == at
    best_d = float(depth_mm(comp0, (sy, sx)).max())
    best = click
    steps = round(CORE_REACH_MM / sz)
    for step in (1, -1):
        comp = comp0
        for k in range(1, steps + 1):
            z = z0 + step * k
            if not 0 <= z < nz:
                break
            lab, _ = ndimage.label(dark(z))
            ids = np.unique(lab[comp])
            ids = ids[ids > 0]
            if ids.size == 0:
                break
            comp = np.isin(lab, ids)
            depth = depth_mm(comp, (sy, sx))
            d = float(depth.max())
            if d > best_d:
                y, x = np.unravel_index(int(np.argmax(depth)), depth.shape)
                best_d, best = d, (z, int(y) + ys.start, int(x) + xs.start)
    return best


REFUSED_NOTE = (
    "the region at the click itself was refused (an enhancing rim's sliver beside a dark core?): "
    "the lesion was measured from the core's widest section; check that this is the lesion "
    "clicked"
)
"""The first flag of a result found by :func:`core_of_refused`."""


def core_of_refused(
    volume: CTVolume,
    prompt: LesionPrompt,
    phase: object,
    cap: LesionMeasurement,
    measure: Measure,
) -> LesionMeasurement | None:
    """The whole lesion measured from the dark core that ``cap`` wraps, flagged, or None.

    ``cap`` is a refused click's region grown again with the liver refusals lifted
    (``offliver.from_cap``), before its open end is followed: an enhancing sliver of a rim
    (seed 3 above: 10.2 mm of the rim's arc, 146 HU against 123) is looked at as a rim click's
    accepted region is (``necro_rimclick.follow_necrosis``: the core's rule must outline the
    whole, which must hold the click and be longer than the sliver); beyond its open end the
    rim's value runs on into the liver's halo. None when the switch is off or no such whole."""
    from lesion_tool.measurement.segment import Phase, _phase

    # Arterial images only, as follow_necrosis (an enhancing rim round necrosis is arterial).
    if not ENABLED or _phase(phase) is not Phase.ARTERIAL or cap.mask.size == 0:
        return None
    spent = cap.time_s
    for click, core_hu in necrotic_core_clicks(volume, cap):
        at = widest_section(volume, click, cap.evidence.liver_hu)
        new = measure_again(volume, prompt, phase, at, measure)
        if new is None:
            continue
        spent += new.time_s
        if (
            is_core_whole(new)
            and holds_voxel(new, cap.seed_voxel)
            and new.whole.length_mm > cap.whole.length_mm
        ):
            note = (
                f"{REFUSED_NOTE} ({core_hu:.0f} HU, at voxel {at} on "
                f"{slice_name(volume, at[0])}; the click's own region there "
                f"{cap.whole.length_mm:.1f} mm, {cap.evidence.lesion_hu:.0f} HU)"
            )
            return as_clicked(cap, new, note, spent)
    return None


def from_core_left(
    volume: CTVolume,
    prompt: LesionPrompt,
    phase: object,
    first: LesionMeasurement,
    measure: Measure,
) -> LesionMeasurement:
    """``first`` (a click's result), or the whole necrotic lesion measured from the dark core
    beside its region when that lesion holds the click and ``first`` lies mostly outside it
    (see the module docstring)."""
    from lesion_tool.measurement.segment import Phase, _phase

    if (
        not ENABLED
        or _phase(phase) is not Phase.ARTERIAL
        or prompt.seed is None
        or prompt.line is not None
        or not first.flags
        or first.mask.size == 0
    ):
        return first
    spent = first.time_s
    for core, core_hu in necrotic_core_clicks(volume, first, any_sign=True):
        click = widest_section(volume, core, first.evidence.liver_hu)
        new = measure_again(volume, prompt, phase, click, measure)
        if new is None:
            continue
        spent += new.time_s
        if not is_core_whole(new):
            continue
        if not holds_voxel(new, first.seed_voxel):
            continue
        inside = share_in(first, new)
        if inside >= LEFT_SHARE:
            continue
        note = (
            f"the region grown from the click ({first.whole.length_mm:.1f} mm, "
            f"{first.evidence.lesion_hu:.0f} HU) lies mostly outside ({100 * inside:.0f}% "
            "inside) the necrotic lesion that holds the click, measured from its dark core "
            f"({core_hu:.0f} HU, at voxel {click} on {slice_name(volume, click[0])}): it left "
            "the lesion through its rim; check that this is the lesion clicked"
        )
        return as_clicked(first, new, note, spent)
    return first
