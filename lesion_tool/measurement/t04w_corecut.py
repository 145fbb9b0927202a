"""A small rim-enhancing lesion's dark click region cut at the rim's outer edge read round its core.

IRCADb 04 (17 mm) is a faint enhancing rim, 10-20 HU above the liver, round a dark core 10-30 HU
below it. On an arterial slab of 2.5-5 mm with 25-30 HU of noise (21-27 HU per pixel) neither is
seen on one ray: a click in the core grows a dark region that runs out through the liver's noise
(20.4-21.8 mm for 17.1 on 5 mm slabs, seeds 1, 3, 4), flagged "low contrast" (the region's value
13-18 HU below the liver's, 2.2-2.8 smoothed noise SDs), and the rim rules, which confirm the
rim ray by ray and slice by slice, do not find it.

Averaged round the core, the rim stands out: from the dark blob's middle (a scale-normalised
Laplacian of Gaussian, ``smallles_blob``), the mean of each 1 mm annulus holds 100-300 pixels, so
its standard error is 1/10-1/17 of the pixel noise. On 04's deepest slab (seed 3, both 5 mm
arterial variants) the annuli read -15 and -23 HU at 0-2 mm (the core), rise through +8 at 3-5 mm
(the rim's inner half-way rise), peak at +18 HU at 6-7 mm and fall to +6 by 9 mm; the expert mask
fills 0.91 / 0.73 / 0.48 / 0.07 of the annuli at 5-6 / 6-7 / 7-8 / 8-9 mm, so the half-way fall
(8.2-8.6 mm on seeds 1, 3, 4, read by w20-t04slab) is where the expert's border is. That
half-way radius is where a reader puts the edge of a blurred step (the same half-way level the
rays use), read on all directions at once.

The region found from the click is then cut to the disk of that radius round the core (in
plane, on every slice) and the part holding the click is measured; the region only shrinks, and
is flagged (:data:`CUT_FLAG`).

w20-t04slab cut the same way and was reverted: it also cut IRCADb 03 made necrotic on 5 mm slabs
(seed 3, 22.1 -> 18.6 mm for 23.2). 03's annuli round its core read -36 / -20 / -15 HU at 0-3 mm,
+18 to +20 at 4-7 mm, +12 to +14 at 7-9 mm and +5 to +9 out to 14 mm: a rim 5 mm wide whose
half-way fall (9.5 mm) is 03's mean radius (area-equivalent 10.1 mm) but not its half-length
(11.6 mm: 03 is oval). Its whole there was found ray by ray at its rim's outer edge ("delineated
by its enhancing rim"), whose inside averages to the liver's value (contrast -0.1 HU, noise 8.2):
the outline already rests on an edge the rays read, which the disk can only shorten. A region
that ran out through the noise is one grown by its *dark* value: so the region must be darker
than the liver by at least :data:`MIN_DARK_SD` of its noise SDs and :data:`MIN_DARK_HU` (04:
13-18 HU, 2.2-2.8 SDs; a rim-delineated whole's inside, by construction, reads about the
liver's value).
The rim's width read from the rings (half-way rise out of the core to half-way fall) does not
tell the two apart: 04 about 2.0-8.4 mm, 03 about 3.4-9.5 mm; the region's own darkness does.

Applied when

* the image is arterial, of slabs thicker than :data:`MIN_SLAB_MM`, and the prompt a click (a
  line states the extent itself). On thinner slices the rays see the rim and the region by value
  ends at an edge of its own; the disk, a mean radius read on 1 mm annuli, is then the coarser
  estimate: on 1.6 mm slices (necrotic core, seed 4) a click in IRCADb 06 (10 mm) grew a 9.5 mm
  region the disk would cut to 7.4 mm;
* the region found is darker than the liver (above) and of low contrast to it (segment's
  ``low_contrast``: its edge is placed by the noise; a region that plainly differs from the liver
  ends at an edge the image shows);
* the blob at the click is dark, its annuli at 0-2 mm at least :data:`MIN_CORE_HU` below the
  liver ring (13-20 mm out) and :data:`MIN_Z` standard errors;
* the rim's peak, 3-:data:`MAX_RIM_MM` mm out, is at least :data:`MIN_RIM_HU` above the liver
  ring and :data:`MIN_RIM_Z` standard errors, and the annuli fall back below half of it before
  :data:`MAX_EDGE_MM` (a lesion larger than that - its rim ring is the liver ring - is not
  read so);
* the region runs past the disk (its diameter more than the disk's plus :data:`SLACK_MM`), and
  the part kept spans at least :data:`MIN_FILL` of the disk.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage

from lesion_tool.measurement.diameter import boundary_points, longest_axial_diameter
from lesion_tool.measurement.enhancement import robust_sd
from lesion_tool.measurement.smallles_blob import _fill_soft, blob_on
from lesion_tool.measurement.speed15_remask import remasked

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement, LesionPrompt

ENABLED = True
"""Module switch (A/B runs)."""

CORE_RADII_MM = (1.5, 2.0, 2.5, 3.0, 4.0)
"""Radii of the dark core looked for at the click (a small lesion's necrotic or hypo core)."""
LIVER_RING_MM = (13.0, 20.0)
"""The liver's level: the median of this ring round the core (beyond a <= 20 mm lesion)."""
MIN_CORE_HU = 15.0
"""The core's least darkness against the liver ring (slab-averaged necrosis, not perfusion)."""
MIN_RIM_HU = 10.0
"""The rim's least brightness against the liver ring (arterial enhancement after averaging)."""
MIN_Z = 3.0
"""The core in standard errors of its annuli's mean (ring robust SD / sqrt(pixels))."""
MIN_RIM_Z = 5.0
"""The rim's peak annulus in standard errors: 04's rim reads 5.8-7.9 on the development seeds; a
click beside the core (2.5 mm slabs, seed 0) found the core's own edge 2-3 mm out at 3.2, and
was cut to 8.6 mm for 17.3."""
MAX_RIM_MM = 9.0
"""The rim's peak lies within this radius: a lesion of <= ~20 mm."""
MAX_EDGE_MM = 11.0
"""The rim falls back to half its height within this radius, or nothing is cut."""
SLACK_MM = 1.0
"""The region is cut only when its diameter exceeds the disk's by more than this."""

MIN_SLAB_MM = 2.0
"""Slices thicker than this (IRCADb's own 1.6 mm are not; the 2.5 and 5 mm slabs are): slab
averaging hides the rim ray by ray (see the docstring)."""
MIN_DARK_SD = 1.0
"""The region's value lies at least this many of its smoothed noise SDs below the liver's (04:
2.2-2.8; 03's rim-delineated whole: 0.01)."""
MIN_DARK_HU = 5.0
"""... and at least this many HU below it."""

MIN_FILL = 0.7
"""The part kept must span this share of the disk: a region that does not is not the lesion the
rim describes (a click on its end slice, or beside it), and is left as it was."""

CUT_FLAG = "cut at the enhancing rim's outer edge read round its dark core"


def _profile(plane: np.ndarray, cy: int, cx: int, px: float, r_max: float):
    h, w = plane.shape
    yy, xx = np.mgrid[0:h, 0:w]
    rr = np.hypot((yy - cy) * px, (xx - cx) * px)
    ring = (rr >= LIVER_RING_MM[0]) & (rr < LIVER_RING_MM[1])
    if ring.sum() < 100:
        return None
    liver = float(np.median(plane[ring]))
    sd = robust_sd(plane[ring])
    edges = np.arange(0.0, r_max + 1e-6, 1.0)
    prof, se = [], []
    for r0 in edges[:-1]:
        a = (rr >= r0) & (rr < r0 + 1.0)
        n = int(a.sum())
        prof.append(float(np.mean(plane[a])) - liver if n else 0.0)
        se.append(sd / math.sqrt(max(n, 1)))
    return np.asarray(prof), np.asarray(se), liver


def rim_edge_mm(plane: np.ndarray, cy: int, cx: int, px: float) -> tuple[float, int, int] | None:
    """The rim's outer edge radius (mm) round the dark core at the click ``(cy, cx)`` of
    ``plane`` (raw HU), with the core's middle ``(y, x)``; None when the profile does not show a
    dark core inside an enhancing rim (see the module's docstring)."""
    filled = _fill_soft(plane)
    if filled is None:
        return None
    blob = blob_on(filled, cy, cx, px, 0.0, CORE_RADII_MM)
    if blob is None or blob[3] >= 0:
        return None  # no blob, or a bright one
    y, x = blob[0], blob[1]
    got = _profile(filled, y, x, px, MAX_EDGE_MM + 1.0)
    if got is None:
        return None
    prof, se, _ = got
    core = float(np.mean(prof[:2]))
    core_se = float(np.mean(se[:2])) / math.sqrt(2.0)
    if core > -MIN_CORE_HU or -core < MIN_Z * core_se:
        return None
    lo, hi = 3, int(MAX_RIM_MM)
    k = lo + int(np.argmax(prof[lo:hi]))
    peak = float(prof[k])
    if peak < MIN_RIM_HU or peak < MIN_RIM_Z * float(se[k]):
        return None
    half = peak / 2.0
    for j in range(k + 1, len(prof)):
        if prof[j] < half:
            # Linear between the bins' middles (j - 1 + 0.5 and j + 0.5 mm).
            a, b = prof[j - 1], prof[j]
            t = (a - half) / max(a - b, 1e-6)
            return float(j - 0.5 + t), y, x
    return None


def cut_at_rim(
    volume: CTVolume, prompt: LesionPrompt, arterial: bool, m: LesionMeasurement
) -> LesionMeasurement:
    """``m`` cut to the rim's outer edge round the dark core at the click, flagged; ``m`` itself
    when the rule does not apply (see the module's docstring)."""
    from lesion_tool.measurement.segment import low_contrast

    if not ENABLED or not arterial or prompt.seed is None or prompt.line is not None:
        return m
    ev = m.evidence
    dark = -ev.contrast_hu
    if not (dark >= MIN_DARK_HU and dark >= MIN_DARK_SD * ev.noise_sd_hu):
        return m  # not a dark region: a rim's whole (its inside at the liver's value), or bright
    if not low_contrast(ev.contrast_hu, ev.noise_sd_hu):
        return m  # a dark region with an edge of its own
    sp = tuple(float(s) for s in volume.spacing_mm)
    if sp[0] < MIN_SLAB_MM:
        return m  # thin slices: the rays read the rim themselves
    px = min(sp[1:])
    z0, y0, x0 = (round(v) for v in prompt.seed)
    half = math.ceil((LIVER_RING_MM[1] + 2.0) / px)
    ya, xa = max(y0 - half, 0), max(x0 - half, 0)
    plane = np.asarray(volume.array[z0, ya : y0 + half + 1, xa : x0 + half + 1], dtype=np.float32)
    found = rim_edge_mm(plane, y0 - ya, x0 - xa, px)
    if found is None:
        return m
    radius, cy, cx = found
    cy, cx = cy + ya, cx + xa
    if m.whole.length_mm <= 2.0 * radius + SLACK_MM:
        return m
    nz, ny, nx = m.mask.shape
    oz, oy, ox = m.offset
    yy = (np.arange(ny) + oy - cy) * sp[1]
    xx = (np.arange(nx) + ox - cx) * sp[2]
    disk = yy[:, None] ** 2 + xx[None, :] ** 2 <= radius**2
    cut = m.mask & disk[None]
    lab, _ = ndimage.label(cut)
    zi, yi, xi = z0 - oz, y0 - oy, x0 - ox
    if not (0 <= zi < nz and 0 <= yi < ny and 0 <= xi < nx) or lab[zi, yi, xi] == 0:
        return m
    keep = lab == lab[zi, yi, xi]
    sub = ndimage.find_objects(keep.view(np.uint8))[0]
    mask = keep[sub]
    offset = tuple(o + s.start for o, s in zip(m.offset, sub, strict=True))
    whole, whole_p = longest_axial_diameter(boundary_points(mask, offset), volume)
    if whole.length_mm >= m.whole.length_mm or whole.length_mm < MIN_FILL * 2.0 * radius:
        return m
    viable, viable_p, viable_mask = None, None, None
    if m.viable_mask is not None:
        vm = (m.viable_mask & keep)[sub]
        if vm.any():
            viable_mask = vm
            viable, viable_p = longest_axial_diameter(boundary_points(vm, offset), volume)
    note = (
        f"{CUT_FLAG} ({2 * radius:.0f} mm across, where the annuli round the core fall back "
        f"half-way to the liver): {m.whole.length_mm:.1f} -> {whole.length_mm:.1f} mm; check "
        "the contour"
    )
    return remasked(
        m, volume, mask, offset, (whole, whole_p), (viable, viable_p, viable_mask),
        (*m.flags, note),
    )  # fmt: skip


__all__ = ["CUT_FLAG", "ENABLED", "cut_at_rim", "rim_edge_mm"]
