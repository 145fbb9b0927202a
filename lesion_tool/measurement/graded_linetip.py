"""A rough line's own axis keeps the lesion's tapering tips (issue 11, w18-graded05).

An outline found from a rough line is opened by a 7 mm disk past the line's reach
(``linebound.tongues_past``: a strand narrower than the disk running on past the line's ends is a
vessel's fringe or a leak), and every ray is protected from that trim only out to
``linebound.LINE_FLOOR_SHARE`` (half) of the line's length from its middle, in every direction.
A tapering lesion's own pole is narrower than the disk over its last few millimetres, and a line
drawn short (a reader's line is within 10-20 % of the lesion's longest diameter) stops short of
it: on IRCADb tumour 05 (32.5 mm, an ovoid with a pointed end towards the vena cava) a line 19 %
short left the pointed end 2.4 mm past its half-length, the opening took it, and the line's
result came out 28.3-29.0 mm on 2.5 mm, 5 mm and noisy images (30.9-32.0 mm untrimmed).

The line states more than an extent: it is drawn along the lesion's longest axis. Along that
axis a line up to READER_SHORT short leaves the lesion's poles up to LINE_FLOOR_SHARE /
(1 - READER_SHORT) of its length from its middle; across it the lesion is no wider than it is
long, and the half-length disk stays. The protected region is therefore an ellipse on the line:
semi-axis 0.625 x its length along it, 0.5 x across. A tip in the line's direction within that
reach is the lesion's own pole (kept as delineated: a ray is never moved out past its radius
before the trim); a tongue leaving sideways (a vessel beside the lesion) or running on past the
reach of the line's axis is trimmed as before. Not for texture outlines (their edge is spread by
the texture window: the line does not place it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from lesion_tool.measurement.linebound import LINE_FLOOR_SHARE

READER_SHORT = 0.2
"""How much shorter than the lesion's longest diameter a reader's rough line may be (10-20 %,
segment's LINE_STRICT): along the line's axis the lesion's poles may lie LINE_FLOOR_SHARE /
(1 - READER_SHORT) = 0.625 of the line's length from its middle."""


def axis_floor(
    n_rays: int,
    cy: float,
    cx: float,
    spacing_yx: Sequence[float],
    line,
    origin_yx: Sequence[float] = (0, 0),
) -> np.ndarray | None:
    """For each of ``n_rays`` rays from ``(cy, cx)`` (pixels of a window whose corner is
    ``origin_yx`` in the volume), the distance (mm) at which it leaves the ellipse a rough
    ``line`` (two ``(z, y, x)`` voxel points) protects: centred on the line's middle, semi-axes
    LINE_FLOOR_SHARE / (1 - READER_SHORT) of its length along it and LINE_FLOOR_SHARE across.
    None without a line, or when the centre lies outside that ellipse."""
    if line is None:
        return None
    a, b = (np.asarray(p, dtype=float) for p in line)
    sy, sx = float(spacing_yx[0]), float(spacing_yx[1])
    vy, vx = (b[1] - a[1]) * sy, (b[2] - a[2]) * sx
    length = math.hypot(vy, vx)
    if length <= 0:
        return None
    ay, ax = vy / length, vx / length  # the line's unit axis (mm)
    along = LINE_FLOOR_SHARE / (1.0 - READER_SHORT) * length
    across = LINE_FLOOR_SHARE * length
    my = (a[1] + b[1]) / 2.0 - float(origin_yx[0])
    mx = (a[2] + b[2]) / 2.0 - float(origin_yx[1])
    dy, dx = (cy - my) * sy, (cx - mx) * sx  # the centre from the line's middle (mm)
    # In the ellipse's frame, scaled to the unit circle: p + t q, solve |p + t q| = 1.
    p = np.array([(dy * ay + dx * ax) / along, (-dy * ax + dx * ay) / across])
    if float(p @ p) >= 1.0:
        return None
    ang = np.arange(n_rays) * (2.0 * math.pi / n_rays)
    uy, ux = np.sin(ang), np.cos(ang)
    qa = (uy * ay + ux * ax) / along
    qc = (-uy * ax + ux * ay) / across
    qq = qa**2 + qc**2
    pq = p[0] * qa + p[1] * qc
    disc = pq**2 - qq * (float(p @ p) - 1.0)
    return (-pq + np.sqrt(np.maximum(disc, 0.0))) / qq


def keep_tips(
    radii: np.ndarray,
    trimmed: np.ndarray,
    cy: float,
    cx: float,
    spacing_yx: Sequence[float],
    line,
    origin_yx: Sequence[float] = (0, 0),
) -> np.ndarray:
    """``trimmed`` (ray radii after a trim of ``radii``, mm, from ``(cy, cx)``) with each ray
    restored up to where it leaves the line's axis ellipse (:func:`axis_floor`), never beyond
    its radius before the trim. Unchanged without a line."""
    floor = axis_floor(len(radii), cy, cx, spacing_yx, line, origin_yx)
    if floor is None:
        return trimmed
    radii = np.asarray(radii, dtype=float)
    return np.maximum(np.asarray(trimmed, dtype=float), np.minimum(radii, floor))
