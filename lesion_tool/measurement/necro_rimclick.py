"""A click on a necrotic lesion's enhancing rim: click again on the dark core it surrounds.

On an arterial image a hepatocellular carcinoma after TACE (or a large one outgrowing its blood
supply) is a necrotic, hypo-attenuating core inside a rim of enhancing tumour 2-10 mm thick. A
click in the rim reads enhancing tissue; the region grown from it by value is the rim alone,
held between the liver outside and the dark core inside (the core lies below the click's floor,
as fat or a cyst would). What comes out is a crescent or an arc of the rim: a tube through the
slices ("this looks like a vessel"), or, where the rim meets the abdominal wall, a band running
along the wall out of the liver (IRCADb 01 given a necrotic core on 5 mm slabs with 25 HU
noise, clicked in its rim: 26-31 mm for 78; 02: 21 mm for 28).

A reader who clicks the rim means the lesion it belongs to, and sees the dark core beside the
click. Here the core is looked for on the click's slice: tissue at least CORE_MARGIN_HU darker
than the liver (necrosis is 45-70 HU under it; the liver's smoothed noise is 5-15 HU), not fat
nor its partial-volume edge, touching the rim's region within SEAM_SEARCH_MM (the seam between
rim and core, blurred by the smoothing and by a 5 mm slab's averaging with the rim above and
below, reads as the liver and lies between the two). The lesion is clicked again once, at the
deepest point of that core, and the new result is kept only when the core's own rule found it
(a dark core around which an enhancing rim closes, in at least half of the directions, measured
whole: ``segment._necrotic_whole`` or ``segment._rim_around_click``), it holds the reader's
click and it is longer than the rim's region. A dark neighbour that is not a core (muscle of
the abdominal wall, bowel, a plain hypo-attenuating lesion beside a vessel) has no enhancing
rim closing around it, and the click keeps its first result. A first result with no flag is
not second-guessed, unless its own outline holds such a dark core (a click in the enhancing cap
whose rays set out inside the core on the next slices: ``lesvessel_rimcore``); that result is
kept as well when it holds half the first region instead of the click (the core's whole on the
cap's slice is narrower than the region there).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage

from lesion_tool.measurement.lesvessel_rimcore import inner_core_clicks
from lesion_tool.measurement.n5b_rimcore import slab_core_clicks
from lesion_tool.measurement.naming import slice_name
from lesion_tool.measurement.raster import beyond_mm, depth_mm, within_mm
from lesion_tool.measurement.reseed import as_clicked, measure_again, region_patch
from lesion_tool.measurement.seam import (
    CORE_MARGIN_HU,
    SEAM_SEARCH_MM,
    holds_voxel,
    is_core_whole,
)
from lesion_tool.measurement.vesselclick import KEEP_SHARE, share_in

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement, LesionPrompt

__all__ = ["CORE_MIN_DEPTH_MM", "FAT_CLEAR_MM", "follow_necrosis", "necrotic_core_clicks"]

Measure = Callable[["CTVolume", "LesionPrompt", object], "LesionMeasurement"]

CORE_MIN_DEPTH_MM = 2.0
"""The dark tissue's deepest point lies at least this far inside it: a core a few mm across
(the new click reads a disk of it), not a noise speck or a vessel's dark partial-volume edge."""
MAX_CORES = 2
"""Dark regions tried, deepest first: the core, and a dark neighbour (bowel, the wall's muscle)
the rim touches as well, which the core's rule then refuses."""
CORE_ENCLOSED_SHARE = 0.5
"""A dark region whose border lies this much or more near the enhancing region is enclosed by it
(a core, tried first, deepest first): necrosis lies inside its tumour, so its rim wraps it, as
``necrosis.RIM_ENCLOSE_SHARE`` asks of the core's own rule; the abdominal wall's muscle, thicker
than the core near a tumour's end, touches the rim along one side only."""
FAT_CLEAR_MM = 3.0
"""Dark tissue within this of fat (below FAT_HU, raw) is fat's blurred edge at the liver's
surface, not a core (the smoothing spreads fat's -100 HU over 2-3 mm)."""


def necrotic_core_clicks(
    volume: CTVolume, m: LesionMeasurement, any_sign: bool = False
) -> list[tuple[tuple[int, int, int], float]]:
    """The deepest points ``(z, y, x)`` of the dark regions (CORE_MARGIN_HU under the liver of
    ``m``'s evidence; no fat) touching ``m``'s region on its click's slice within
    SEAM_SEARCH_MM, with their smoothed values: at most MAX_CORES, deepest first, each at least
    CORE_MIN_DEPTH_MM deep (a rim may touch the bowel or the wall's muscle besides its core).
    Empty unless ``m`` is an enhancing region (hyper-attenuating, by value), or, with
    ``any_sign``, any region by value (``n05_leftring``: a seam's region that left the lesion)."""
    from lesion_tool.measurement.segment import FAT_HU, SMOOTH_SIGMA_MM

    ev = m.evidence
    if ev.texture_sd_hu is not None or (ev.contrast_hu <= 0 and not any_sign):
        return []
    patch = region_patch(volume, m, SMOOTH_SIGMA_MM)
    if patch is None:
        return []
    z, y0, x0, raw, plane, here, (sy, sx) = patch
    clear = beyond_mm(raw >= FAT_HU, (sy, sx), FAT_CLEAR_MM)
    dark = (plane <= ev.liver_hu - CORE_MARGIN_HU) & clear & ~here
    labels, n = ndimage.label(dark)
    if n == 0:
        return []
    near = within_mm(here, (sy, sx), SEAM_SEARCH_MM)
    touching = np.unique(labels[near & dark])
    touching = touching[touching > 0]
    if touching.size == 0:
        return []
    depth = depth_mm(dark, (sy, sx))
    out = []
    for lab in touching:
        comp = labels == lab
        d = np.where(comp, depth, 0.0)
        y, x = np.unravel_index(int(np.argmax(d)), d.shape)
        if d[y, x] >= CORE_MIN_DEPTH_MM:
            enclosed = enclosed_share(comp, near)
            core = enclosed >= CORE_ENCLOSED_SHARE
            out.append((core, float(d[y, x]), (z, int(y) + y0, int(x) + x0), float(plane[y, x])))
    # Cores the region encloses first (deepest first), then other dark neighbours.
    out.sort(key=lambda c: (not c[0], -c[1]))
    return [(c[2], c[3]) for c in out[:MAX_CORES]]


def enclosed_share(comp: np.ndarray, near: np.ndarray) -> float:
    """The share of the border of the dark region ``comp`` (pixels just outside it, ``(y, x)``)
    that lies ``near`` the enhancing region: a necrotic core is wrapped by its rim; the wall's
    muscle or the bowel touches the rim along one side and runs on beyond it."""
    border = ndimage.binary_dilation(comp) & ~comp
    return float(near[border].mean()) if border.any() else 0.0


def follow_necrosis(
    volume: CTVolume,
    prompt: LesionPrompt,
    phase: object,
    first: LesionMeasurement,
    measure: Measure,
) -> LesionMeasurement:
    """``first`` (the region grown from the reader's click), or the whole lesion measured from
    the necrotic core its enhancing region surrounds (:func:`necrotic_core_clicks`) when the
    core's rule outlined it whole, it holds the click and is longer (see the module docstring).
    Arterial images and clicks only (a line gives the lesion's extent)."""
    from lesion_tool.measurement.segment import Phase, _phase

    if _phase(phase) is not Phase.ARTERIAL or prompt.seed is None or prompt.line is not None:
        return first
    if not first.flags:
        # Nothing in doubt: a rim's region alone is a crescent or a band, which the outline's
        # tests flag (a tube, irregular, outside the liver, on one slice); an unflagged
        # enhancing lesion is not measured again (nor paid for again), unless its own outline
        # holds a dark core (lesvessel_rimcore.py).
        cores = inner_core_clicks(volume, first)
        if not cores:
            return first
    else:
        cores = necrotic_core_clicks(volume, first)
        # On slabs, the dark core the flagged region itself holds (n5b_rimcore.py).
        cores += slab_core_clicks(volume, first, cores)
    spent = first.time_s
    kept = None
    for at in cores:
        new = measure_again(volume, prompt, phase, at[0], measure)
        if new is None:
            continue
        spent += new.time_s
        if (
            is_core_whole(new)
            and (
                holds_voxel(new, first.seed_voxel)
                # A click on the lesion's cap, past the core's whole there: the same lesion
                # when it holds most of the first region (vesselclick's test).
                or (not first.flags and share_in(first, new) >= KEEP_SHARE)
            )
            and new.whole.length_mm > first.whole.length_mm
        ):
            kept = (new, *at)
            break
    if kept is None:
        return replace(first, time_s=spent)
    new, click, core_hu = kept
    z0 = first.seed_voxel[0]
    note = (
        f"found from the click on {slice_name(volume, z0)} ({first.whole.length_mm:.1f} mm "
        f"there, {first.evidence.lesion_hu:.0f} HU: an enhancing rim?) by clicking again on the "
        f"dark (necrotic?) core it surrounds ({core_hu:.0f} HU, at voxel {click}); check that "
        "this is the lesion clicked"
    )
    return as_clicked(first, new, note, spent)
