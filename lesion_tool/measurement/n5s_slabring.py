"""A small necrotic lesion's ring on a thick slab when no dark blob stands out at the click.

``t06_ringclick`` looks at a refused arterial click again for a dark blob (``smallles_blob``'s
scale-normalised LoG, the blob's median >= 15 HU and 5 standard errors below the ring 1.3-2
radii round it) and then tests for a bright rim closing round it (``t06_ringclick.ring_test``).
On IRCADb 06 made necrotic on 5 mm slabs with 25 HU noise (9.8 mm, at the liver's dome), the
clicks of development seeds 0, 1, 3 and 4 read 99-114 HU, the commonest value round them, and
``t06_ringclick``'s first step finds no blob on most of them, for two reasons read off the
image:

* The core is 3-4 mm across on its slab (34): a 1.5-2 mm disk of 0.57 mm pixels holds 21-37
  pixels, and with 21-25 HU of noise its median's standard error against the ring round it is
  4-7 HU. On seed 1 the strongest LoG extremum at the deepest click is that core (1.5 mm, one
  pixel off the middle) at -18.7 HU against its ring, 3.4 standard errors: no blob (>= 5 asked).
  The three-level test of the ring (core < rim > tissue beyond, closed in 7 of 8 directions)
  holds there: rim 116-121 HU 1.5-5 mm from the middle, core 91-103 HU, tissue 1-5 mm beyond the
  rim 101-103 HU (the dome's thin liver averaged with the lung above), on seeds 1, 3 and 4.
* A 10 mm lesion spans two 5 mm slabs (34 and 35). On the upper one (35) the core is half
  averaged away (the 1.5-2 mm disk 93-112 HU, rim 111-117, beyond 107-108: no ring; the blob
  there -24 HU / 3.6 standard errors on seed 3, +5.5 HU on seed 4), and on the slab below only
  blobs of radius > 5 mm (the slab's distance) are looked at: the whole lesion as a faint bright
  blob, +9 to +10 HU (15 asked). A reader clicking on slab 35 clicks the lesion whose ring slab 34
  shows, at the same place in the plane.

So when ``t06_ringclick`` finds nothing, on slabs >= ``ring.THICK_SLAB_MM`` (thin slices give a
core enough pixels for the blob test), the dark LoG extremum of each small core radius
(:data:`CORE_RADII_MM`) within that radius plus :data:`SEARCH_BEYOND_MM` of the click (a click
on the inner rim) is taken as a core's middle on the click's slab, then on the slab below and
above it, and kept only when ``t06_ringclick.ring_test`` - the same thresholds, the same closure
in 7 of 8 directions - finds a rim round it, and the reader's click lies inside the outline
traced at the rim's outer edge (on the neighbouring slab, at the click's place in the plane).
Radii >= 3 mm are not tried: such a core has >= 87 pixels and the blob test sees it.

What it does not do: on seed 0 the same ring reads rim 113-116 HU, core 94-102, beyond 102 HU
(the rim 11-14 HU above the tissue beyond, 15 asked; 3.3-4.5 standard errors above the core, 5
asked): too weak, 06's clicks there stay refused. Called directly at each of the 200 no-tumour
clicks of the four development seeds (40 in plain liver, 10 in vessels, each; whether or not
the delineation refuses them), it fired on none with these radii and search; with 3 mm radii
and 1-1.5 mm of search on one or two (a vessel click at 3 mm, a plain-liver click), both
returned flagged by the delineation before (so never reaching this rule), but a margin lost.

The result is flagged (``t06_ringclick.RING_FLAG`` and how it was found): one slab, weak
evidence, not grown by value.
"""

from __future__ import annotations

import math
import time

import numpy as np
from scipy import ndimage

from lesion_tool.measurement.ring import THICK_SLAB_MM
from lesion_tool.measurement.smallles_blob import _disk_offsets, _fill_soft
from lesion_tool.measurement.t06_ringclick import ring_measurement, ring_test, ring_window

ENABLED = True
"""Module switch (A/B runs)."""

CORE_RADII_MM = (1.5, 2.0, 2.5)
"""The core radii (mm) tried: a small lesion's necrotic core, too few pixels on a slab for the
blob test (smallles_blob.BLOB_RADII_MM's smallest three)."""

SEARCH_BEYOND_MM = 1.0
"""How far beyond the core's radius from the click its middle may lie (a click on the inner part
of the rim, 1 mm wide: the ring's 1 mm smoothing)."""

SLAB_STEPS = (0, -1, 1)
"""The click's slab first, then the one below and above (a lesion of two slabs)."""

NOTE = ", found at the click's place without a dark blob standing out"


def _dark_middle(plane: np.ndarray, cy: int, cx: int, r_mm: float, px: float):
    """The scale-``r_mm`` LoG's darkest local extremum within ``r_mm + SEARCH_BEYOND_MM`` of
    ``(cy, cx)``, as ``(y, x)``, or None (no dark extremum there)."""
    sigma = r_mm / px / math.sqrt(2.0)
    resp = -(sigma**2) * ndimage.gaussian_laplace(plane, sigma)
    dy, dx = _disk_offsets((r_mm + SEARCH_BEYOND_MM) / px)
    ys, xs = cy + dy, cx + dx
    ok = (ys >= 1) & (ys < plane.shape[0] - 1) & (xs >= 1) & (xs < plane.shape[1] - 1)
    ys, xs = ys[ok], xs[ok]
    if ys.size == 0:
        return None
    i = int(np.argmin(resp[ys, xs]))
    y, x = int(ys[i]), int(xs[i])
    if resp[y, x] >= 0 or resp[y, x] > resp[y - 1 : y + 2, x - 1 : x + 2].min():
        return None
    return y, x


def ring_near_click(volume, prompt, phase):
    """The small necrotic lesion found by its ring at the click's place on its slab or the next
    (module docstring), as a flagged one-slab measurement, or None."""
    if not ENABLED or prompt.seed is None or prompt.line is not None:
        return None
    sp = tuple(float(s) for s in volume.spacing_mm)
    if sp[0] < THICK_SLAB_MM:
        return None
    t0 = time.perf_counter()
    seed = tuple(round(v) for v in prompt.seed)
    z0, y0, x0 = seed
    px = min(sp[1:])
    # The window t06_ringclick reads (its soft-tissue fill, the lung's stand-in, is its median).
    ya, yb, xa, xb = ring_window(volume, y0, x0)
    for step in SLAB_STEPS:
        z = z0 + step
        if not 0 <= z < volume.shape[0]:
            continue
        plane = _fill_soft(np.asarray(volume.array[z, ya:yb, xa:xb], dtype=np.float32))
        if plane is None:
            continue
        for r_mm in CORE_RADII_MM:
            mid = _dark_middle(plane, y0 - ya, x0 - xa, r_mm, px)
            if mid is None:
                continue
            found = ring_test(plane, mid[0], mid[1], r_mm, px)
            if found is None:
                continue
            got = ring_measurement(
                volume, plane, (z, ya, xa), mid, r_mm, found, seed, phase, t0, note=NOTE
            )
            if got is not None:
                return got
    return None


__all__ = ["CORE_RADII_MM", "ENABLED", "SEARCH_BEYOND_MM", "ring_near_click"]
