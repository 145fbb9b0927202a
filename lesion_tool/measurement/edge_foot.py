"""Where a ray's edge goes past the half-way value: the foot of the border, as experts draw it.

The rays of :mod:`lesion_tool.measurement.segment` leave a lesion where the smoothed image
crosses the half-way value between the lesion and the liver, then move out through the blurred
border to a margin value close to the liver's (``_Levels.edge``). Where that margin value lies
decides the whole diameter: a step blurred by the scanner's PSF (and a slab's partial volume)
runs from the lesion's plateau to the liver's over about 2.5 blur widths, and a reader draws the
lesion's outline where the image stops changing, not across the middle of the ramp.

Measured on IRCADb patient 1's seven expert masks (median HU per 0.5 mm of in-plane signed
distance to the mask's border, middle half of each tumour's slices, liver-only outside,
`/tmp/w14-edge/prof.py`): on the original portal-venous images the expert's border lies past
the half-way value by 1.4-2.0 mm (tumours 01, 02, 03, 05, 07; 06 0.7 mm), past the 25 % value
(a quarter of the contrast from the liver) by 0.1-1.3 mm (median 0.8), and within -0.9..+0.3 mm
of the 10 % value; the same on 5 mm slabs (-1.0..+0.5 mm) and on the same tumours made
hyper-enhancing (the arterial stand-ins are the same borders mirrored about the liver's value:
-0.7..+0.1 mm). The expert's border is the foot of the ramp, the 10 % value, for hypo- and
hyper-attenuating lesions alike; the 25 % value the rays used left every border 0.5-1 mm inside
(diameters 1-2 mm short: IRCADb 02, 03, 07 on "hyper").

On a noisy image the foot cannot be told from the liver's noise: the margin is never closer to
the liver than ``EDGE_NOISE_K`` noise SDs of the smoothed liver (segment.py), and never past
``EDGE_MM`` from the half-way crossing, so the rule moves a border out by at most the width of
its own blur (a sharp step blurred by sigma ~1.2 mm: the 10 % value lies 1.5 mm past half-way,
the 25 % 0.8 mm).
"""

from __future__ import annotations

__all__ = ["FOOT_FRACTION", "foot_margin"]

FOOT_FRACTION = 0.10
"""The edge goes out to where tissue is within this share of the contrast from the liver."""


def foot_margin(contrast_hu: float, noise_hu: float, noise_k: float) -> float:
    """How far from the liver's value (HU, on the lesion's side) a border's edge is placed:
    FOOT_FRACTION of the contrast, or ``noise_k`` noise SDs when farther, never past half-way."""
    c = abs(contrast_hu)
    return min(max(FOOT_FRACTION * c, noise_k * noise_hu), c / 2.0)
