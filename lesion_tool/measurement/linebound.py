"""A rough line bounds what a trim of the outline may take away (issue 11, w14-line05).

A rough line dragged across a lesion is the reader's own statement of its extent: its ends lie
at, or a little past, the lesion's edge (a reader's line overshoots or falls short by 10-20 %,
plus a few millimetres of aim at each end). Two rules cut an outline's rays back when they take
its narrow parts for the liver's noise or a vessel's fringe (``texturetrim``: a faint enhancing
region on an arterial image, or an outline found by texture, opened by a 7 mm disk). From a
click that is all the evidence there is; from a line, a ray that does not reach past the line's
half-length ends inside the lesion the reader drew, so cutting it contradicts the line. Such a
ray is cut back no further than LINE_FLOOR_SHARE of the line's length from the outline's centre;
rays running past that (a tongue beyond the line's ends, the case the trim exists for) are still
cut. Rays never move outwards. Not for texture outlines: their edge is spread by the texture
window (+-4 mm), so the reader's extent does not place it (IRCADb 04's texture line on 2.5 mm
slabs went 20.2 -> 20.9 mm for 17.3 with the bound).

Past the line's disk the same opening cuts the narrow tongues of any outline found for a line
(:func:`tongues_past`): the reader put the ends at the lesion's edge, and a convex body is
unchanged by the opening, so only strands under 7 mm wide running on past the ends go (IRCADb 07
given a necrotic core: its whole ran 2-3 mm along a vessel past the line, 24.8 mm for 21.4).

A line reaching well past a dark region found (:func:`line_says_larger`) says the region is a
necrotic core, not the lesion: a rim seen around part of it is then enough for the whole.

IRCADb tumour 05 made a necrotic core in an enhancing rim (rim 151 HU, liver 128, noise 18 HU):
its whole, delineated by the rim's value, is a faint enhancing region by the trim's test; the
7 mm opening took its lobulated rim's lobes (rays cut by up to 7.5 mm on the slice that set its
diameter): 26.1 mm for 32.5 from a 35.6 mm line. A rim band is 3-6 mm wide; where the lesion's
outline is lobulated the opening removes lobes that are the lesion's own.
"""

from __future__ import annotations

import numpy as np

LINE_FLOOR_SHARE = 0.5
"""A ray is not cut back below this share of the line's length: half the line, shrunk by the
25 % a rough line may overshoot the lesion's diameter (1 / 1.25 x 0.5 = 0.4). A line 20 % too
long then still protects rays out to the lesion's true radius; one 20 % short protects 80 % of
it."""


def line_disk(line, spacing_mm, origin_yx=(0, 0)) -> tuple[float, float, float] | None:
    """The disk a rough ``line`` (two ``(z, y, x)`` voxel points; None for a click) says the
    lesion fills at least: centred on the line's middle (pixels ``(y, x)`` less ``origin_yx``,
    the window's corner), of radius LINE_FLOOR_SHARE x the line's in-plane length (mm)."""
    if line is None:
        return None
    a, b = (np.asarray(p, dtype=float) for p in line)
    length = float(np.linalg.norm((b - a)[1:] * np.asarray(spacing_mm, dtype=float)[1:]))
    if length <= 0:
        return None
    mid = (a[1:] + b[1:]) / 2.0 - np.asarray(origin_yx, dtype=float)
    return float(mid[0]), float(mid[1]), LINE_FLOOR_SHARE * length


TRIM_PAST_LINE = True
"""Whether a line prompt's outline is trimmed of narrow tongues beyond the line's disk."""


def tongues_past(disk: tuple[float, float, float] | None) -> bool:
    """Whether an outline found from a line (its ``disk``, :func:`line_disk`; None for a click)
    is trimmed of tongues beyond the line's reach whatever its contrast."""
    return disk is not None and TRIM_PAST_LINE


def bounded_by_line(
    radii: np.ndarray,
    trimmed: np.ndarray,
    cy: float,
    cx: float,
    spacing_yx,
    disk: tuple[float, float, float] | None,
) -> np.ndarray:
    """``trimmed`` (ray radii from ``(cy, cx)`` after a trim of ``radii``, mm), each ray
    restored up to where it leaves the line's ``disk`` (:func:`line_disk`) and never beyond its
    radius before the trim."""
    if disk is None:
        return trimmed
    my, mx, rho = disk
    n = len(radii)
    ang = np.arange(n) * (2.0 * np.pi / n)
    uy, ux = np.sin(ang), np.cos(ang)
    # The centre and the disk's in mm; each ray's exit from the disk: |c + t u - m| = rho.
    dy, dx = (cy - my) * spacing_yx[0], (cx - mx) * spacing_yx[1]
    bq = uy * dy + ux * dx
    disc = bq**2 - (dy**2 + dx**2 - rho**2)
    floor = np.maximum(-bq + np.sqrt(np.maximum(disc, 0.0)), 0.0)
    if dy**2 + dx**2 >= rho**2:
        return trimmed  # the outline's centre lies outside the reader's extent
    radii = np.asarray(radii, dtype=float)
    return np.maximum(np.asarray(trimmed, dtype=float), np.minimum(radii, floor))


def line_says_larger(length_mm: float, line_len_mm: float | None, strict_low: float) -> bool:
    """Whether a rough line (``line_len_mm``; None for a click) drawn across a dark region of
    ``length_mm`` says the lesion is larger than that region: the region is shorter than the
    shortest result the line agrees with (``strict_low`` x its length; segment's LINE_STRICT).
    The reader saw tissue past the dark core on both sides as lesion: an enhancing rim seen in
    only part of the directions (broken by a vessel or the liver's surface) is then the rim."""
    return line_len_mm is not None and length_mm < strict_low * line_len_mm
