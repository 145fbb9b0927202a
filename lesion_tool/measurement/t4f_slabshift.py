"""A faint rim through a rough line's ends, confirmed on the next slab at a shifted radius
(issue 11).

:func:`lesion_tool.measurement.ring.find_ring` confirms a ring found on one slice on the
neighbouring slices (independent noise): the rim, sampled along the same path there, must be
brighter (for an enhancing rim) than the tissue 2-5 mm inside and outside it. On 5 mm slabs a
lesion's section changes size from one slab to the next (a sphere of radius 8.5 mm is 6.9 mm
across at 5 mm off its middle), so on the next slab the rim lies 1-2 mm in or out of the path,
and the test reads the rim as "outside" (or "inside") and fails.

IRCADb 04 (17.1 mm, a faint enhancing rim round a core as dense as the liver or darker) on
arterial 5 mm slabs with 25 HU noise ("hyper 5 mm 25 HU"), the rough line drawn on slab 32
(expert 470 px), seed 9; azimuthal median of the smoothed (1 mm) HU round (239, 199), r = 0..10
mm:

- slab 31 (expert 512 px): 95 96 98 109 116 **123 125 123** 121 120 117 (a dark core, the rim at
  5-7 mm);
- slab 32 (the line's): 110 112 116 121 **126 126** 122 122 118 117 115 (the rim at 4-5 mm);
- slab 33 (past the expert's last slab): 131 129 126 121 122 122 123 123 123 121 120 (no ring).

The bright ring through the line's ends was found on slab 32 and tested on 31 and 33: on 31 rim
120.6, inside 115.8, outside 120.4 HU (the path lies inside slab 31's rim, whose brightness falls
in "outside"); on 33 rim 123.1, inside 126.8, outside 118.6; the mean of both: 121.9 / 121.3 /
119.5. Not confirmed (the test needs the rim brighter than both sides by 3 standard errors), nor at
the line's vouched bar (2.0). Every other delineation ran 1.8-2.1 times the 15 mm line (by value,
low contrast: 8-9 HU in 8 HU of noise), so the line was refused. Seeds 4 and 6 the same (lines on
slab 32 of 22 and 20 mm; every delineation 1.5-2.0 times the line; the bright ring not confirmed).

So when a bright ring through a rough line's ends is not confirmed on thick slabs (>=
``ring.THICK_SLAB_MM``), each neighbouring slab is tested again by itself with the path moved
in or out by SHIFTS_MM as a whole (one shift for every ray: the section grows or shrinks, it
does not change shape), at the same bar, and with the rim plain on its own slab as for any
one-slab confirmation (``ring.SLAB_MIN_RIM_HU``). Only with a line (the reader says a lesion is
there and how large; the ring is still checked against the line's length by the caller): a
click's ring is not touched, nor a dark ring (a capsule), nor thin slices.

Measured (w26-t4f, the stress bench's rough lines on the three 5 mm variants, development seeds
0, 1, 3, 4, 6, 7, 8, 9): only 04's line changed. Refused or over -> within on hyper and necrotic
5 mm 25 HU, seeds 9 (refused -> 14.8 mm), 8 (20.4 -> 15.7) and 6 (refused -> 18.9); within both
times on plain 5 mm, seeds 8 (19.3 -> 15.1) and 7 (19.4 -> 18.2); seed 4's line stays refused
(every delineation 36-42 mm, the ring not confirmed even shifted). The result keeps the ring's
flags (delineated by its enhancing rim; check the contour). On seed 8 the ring had been accepted
only at the line's vouched bar (2.0) and carried at that bar to slabs 31 and 30, where it ran out
(26 mm on slab 30: 20.4 mm); confirmed now at the usual bar by the shift (z 3.3), it is not carried
(15.7 mm, slab 32 alone: 1.4 mm under the expert, whose widest section is on slab 31).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

ENABLED = True
"""Module switch."""
SHIFTS_MM = (-2.0, -1.0, 1.0, 2.0)
"""How far the path is moved in (-) or out (+) on the next slab: the change of a 12-25 mm
lesion's radius over 5 mm (04: about 1.5 mm between slabs 31 and 32, above). Few, so that
choosing the best of them adds little to the test's chance of passing on noise."""


def shifted_confirmation(
    checks_s: Sequence[np.ndarray],
    jr: np.ndarray,
    rays: Sequence[tuple[int, slice, np.ndarray]],
    step_mm: float,
    band: int,
    n_eff: float,
    z_min: float,
    confirm: Callable[[np.ndarray, np.ndarray, np.ndarray, float, float], float | None],
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray] | None:
    """The first confirmation ``(z, rim, inside, outside)`` of a ring on one of ``checks_s``
    (signed check profiles, rays x samples) with its path ``jr`` moved by one of SHIFTS_MM, or
    None. ``rays`` lists the rays tested as ``(ray, inside sample mask, outside sample indices)``
    relative to the unshifted path; ``band`` the rim's half width in samples; ``confirm`` the
    ring's test (:func:`lesion_tool.measurement.ring._confirmed`)."""
    if not ENABLED or not rays:
        return None
    for q in checks_s:
        m = q.shape[1]
        for s_mm in SHIFTS_MM:
            d = round(s_mm / step_mm)
            rim, ins, out = [], [], []
            for i, i_sel, o_idx in rays:
                j = int(jr[i]) + d
                if j - band < 0 or j + band >= m:
                    break
                o = o_idx + d
                if o.size == 0 or o.max() >= m:
                    break
                ii = np.flatnonzero(i_sel) + d
                if ii.size == 0 or ii.min() < 0:
                    break
                rim.append(float(np.mean(q[i, j - band : j + band + 1])))
                ins.append(float(np.mean(q[i, ii])))
                out.append(float(np.mean(q[i, o])))
            else:
                rim_a, in_a, out_a = np.array(rim), np.array(ins), np.array(out)
                z = confirm(rim_a, in_a, out_a, n_eff, z_min)
                if z is not None:
                    return z, rim_a, in_a, out_a
    return None


__all__ = ["ENABLED", "SHIFTS_MM", "shifted_confirmation"]
