"""An enhancing lesion whose enhancement fades inside its edge is outlined to the fade's foot.

A hyper-attenuating region's rays stop where the smoothed image crosses half-way between the
lesion and the liver, and the edge then moves out to where tissue is within a quarter of the
contrast of the liver (``segment.EDGE_FRACTION``). The contrast is the lesion's middle's. For a
lesion that enhances evenly the border's own step is that contrast, and the outer quarter lies
on the foot of the blurred step (an analytic 24 mm sphere enhancing by 80 HU, blurred as a
scanner does: 26.0 mm). When the enhancement fades towards the edge, the border's own step is
only part of it, a quarter of the middle's contrast lies over half-way up that step, and the
outline stops inside its border: the same sphere with its enhancement falling from 80 HU in the
middle to 20 HU at its edge measures 23.5 mm, 2.5 mm inside the even sphere's outline.

Seen on IRCADb tumour 02 made hyper-enhancing (29.4 mm; 25.5 mm from the stress bench's rough
line on seeds 3, 4 and 6, 26.1-27.1 from its clicks): 72 rays from the middle of its diameter's
slice (Im 78), the median over the rays meeting no other tissue, aligned on each ray's half-way
crossing, reads 180 177 175 173 169 161 | 147 | 130 118 115 115 115 HU from 6 mm inside to 5 mm
outside (1 mm apart; liver 112 HU, the middle 183 HU): from the half-way point the profile
rises to 90 % of its height over 2.3-3.6 mm inside, and falls to 10 % over 1.6-2.3 mm outside
(13 slices and prompts; the shoulder 1.3-2.1 times the foot). The expert's outline lies 1.4 mm
(median over 24 rays) past ours, where the image reads 113 HU, the liver's value: at the foot.
A blurred step is symmetric about its half-way point: on analytic spheres blurred over an SD of
1.5 mm (and ramped from 8 to 14 mm), 106 slices, the shoulder is 0.95-1.13 times the foot.

Here, on arterial images, for an enhancing lesion delineated by value whose rays cross half-way
at least MIN_RADIUS_MM out: the median profile (PROFILE_MM around each ray's crossing, over the
rays that meet nothing brighter than half-way nor darker than the liver by
``segment.HALO_OTHER_FRACTION`` of the contrast PAST_MM out, at least ``segment.HALO_MIN_RAYS``
of them) must end at the liver's value with no trough (``segment``'s halo rules' tolerance);
its height is its inside value (to TOP_MM) over that end. When the shoulder (half-way to
SHOULDER of the height) is ASYMMETRY times the foot (half-way to FOOT) and MIN_EXCESS_MM
longer, each ray's edge moves out by the same distance, to where the median profile comes
within FOOT_FRACTION of the contrast (or its standard error) of the liver, at most MAX_MM: the
fade's foot. Called where the default outline follows a halo (``segment._cast``, no Tighter
correction), so that Tighter and Looser stay monotone (Looser never gives less than the
default, Tighter never more). Tumour 02 then measures 27.0 mm from the line (seed 3), 27.5-28.5
from its clicks; the fading sphere 26.0-26.7 mm; evenly enhancing and blurred spheres, and a
sphere beside a darker neighbour, are unchanged. IRCADb 03 and 07 (radius under MIN_RADIUS_MM)
are not judged; 05 (a graded border on both sides: shoulder mostly 2.2-3.5 mm, foot 2.3-3.3) was
moved on 3 of 71 slices cast (seed 3, one click at 31 HU of contrast), its results unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from lesion_tool.measurement.segment import _Levels

ENABLED = True
"""Module switch: off, an enhancing border's edge stays at the outer quarter of the contrast."""

PROFILE_MM = (-6.0, 5.0)
"""The median profile is read from this far inside to this far outside each ray's half-way
crossing (mm)."""
SHOULDER = 0.9
"""The shoulder inside: from the half-way point in to where the profile reaches this share of
the contrast over the liver ..."""
FOOT = 0.1
"""... against the foot outside: from the half-way point out to this share."""
ASYMMETRY = 1.3
"""The border fades inside the lesion when its shoulder is at least this many times as long as
its foot (a blurred step: 1.0) ..."""
MIN_EXCESS_MM = 0.5
"""... and at least this much longer (mm)."""
FOOT_FRACTION = 0.05
"""The edge moves out to where the median profile comes within this share of the contrast (or
its standard error) of the liver's value beyond ..."""
MAX_MM = 2.0
"""... at most this far (mm) past the edge as placed."""
TOP_MM = -4.0
"""The lesion's value inside is the median profile's from PROFILE_MM[0] to this."""
MIN_RADIUS_MM = 8.0
"""Only lesions whose rays cross half-way this far out (median) are judged: the profile inside
must lie within the lesion."""
MAX_SLICE_MM = 4.0
"""Not on thicker slabs: a slab averages a lesion's sections of different radii, a fade inside
its edge made by partial volume, not by enhancement (IRCADb 01 with a necrotic core on 5 mm
slabs and 25 HU of noise, clicked on its rim: 62.7 mm for 78.2 with the rule, within without;
test_measure_wallrim)."""
FAR_MM = 3.0
"""The liver's value beyond is the median profile's from this far past the half-way point."""
PAST_MM = 2.0
"""A ray meets other tissue when, this far past its half-way crossing, it reads above the
half-way value or far below the liver (segment.HALO_OTHER_FRACTION of the contrast)."""


def _inward(g: np.ndarray, d: np.ndarray, j0: int, level: float) -> float:
    """Where the profile ``g`` (HU at distances ``d``), followed inwards from index ``j0``,
    first reaches ``level`` (interpolated); ``d[0]`` when it never does."""
    if g[j0] >= level:
        return float(d[j0])
    j = j0
    while j > 0 and g[j - 1] < level:
        j -= 1
    if j == 0:
        return float(d[0])
    g0, g1 = g[j - 1], g[j]
    return float(d[j - 1] + (g0 - level) / (g0 - g1) * (d[j] - d[j - 1]))


def _outward(g: np.ndarray, d: np.ndarray, j0: int, level: float) -> float:
    """Where the profile ``g``, followed outwards from index ``j0``, first comes down to
    ``level`` (interpolated); ``d[-1]`` when it never does."""
    if g[j0] <= level:
        return float(d[j0])
    j = j0
    while j + 1 < len(d) and g[j + 1] > level:
        j += 1
    if j + 1 >= len(d):
        return float(d[-1])
    g0, g1 = g[j], g[j + 1]
    return float(d[j] + (g0 - level) / (g0 - g1) * (d[j + 1] - d[j]))


def fade_foot_mm(
    prof: np.ndarray,
    core_r: np.ndarray,
    edge_r: np.ndarray,
    inside: np.ndarray,
    lv: _Levels,
    step_mm: float,
    slice_mm: float = 0.0,
) -> float:
    """How far (mm) past each ray's edge ``edge_r`` the foot of a fade inside an enhancing
    lesion lies, the same for every ray of the slice, or 0 (see the module's docstring).

    ``prof`` ``(ray, sample)`` is the smoothed HU every ``step_mm`` along each ray, ``core_r``
    each ray's half-way crossing (mm), ``inside`` the samples within the window, ``lv`` the
    slice's levels and ``slice_mm`` the slice thickness."""
    from lesion_tool.measurement.segment import _median_se, border_profile, ends_at_liver

    if not ENABLED or lv.sign < 0 or lv.texture or not lv.mixed or slice_mm > MAX_SLICE_MM:
        return 0.0
    contrast = abs(lv.lesion - lv.liver)
    if contrast <= 0:
        return 0.0
    if float(np.median(core_r)) < MIN_RADIUS_MM:
        return 0.0
    d = np.arange(PROFILE_MM[0], PROFILE_MM[1] + step_mm / 2, step_mm)
    half = lv.liver + contrast / 2.0
    found = border_profile(prof, core_r, inside, lv, d, PAST_MM, half, True, step_mm)
    if found is None:
        return 0.0
    g, clean = found
    se = _median_se(lv.noise, int(clean.sum()))
    bottom = float(np.median(g[d >= FAR_MM]))
    if not ends_at_liver(g, d, bottom, lv, se):
        return 0.0  # runs on past the liver's value, or through a trough: something else
    top = float(np.median(g[d <= TOP_MM]))
    height = top - bottom
    if height <= 0:
        return 0.0
    # The median profile's own half-way crossing (outermost within PAST_MM of the rays').
    above = np.nonzero((g >= bottom + height / 2.0) & (d <= PAST_MM))[0]
    if above.size == 0:
        return 0.0
    j0 = int(above[-1])
    x_half = _outward(g, d, j0, bottom + height / 2.0)
    shoulder = x_half - _inward(g, d, j0, bottom + SHOULDER * height)
    foot = _outward(g, d, j0, bottom + FOOT * height) - x_half
    if shoulder < ASYMMETRY * foot or shoulder - foot < MIN_EXCESS_MM:
        return 0.0
    x_foot = _outward(g, d, j0, bottom + max(FOOT_FRACTION * contrast, se))
    out = x_foot - float(np.median((edge_r - core_r)[clean]))
    return float(min(max(out, 0.0), MAX_MM))


__all__ = ["ENABLED", "fade_foot_mm"]
