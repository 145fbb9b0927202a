"""An end of the diameter on a thin layer at the threshold's value over fat or air.

A dark lesion 1-3 mm under the liver's surface (beside a fissure, under the dome) is wrapped on
that side in a thin layer of liver, averaged through the slice with the fat or lung beyond: it
reads near the threshold, not at the liver's value. A delineation by value runs through that
layer to the fat's ramp, and the diameter may end there, past the lesion's own border.
:mod:`.lungedge_border` re-places such a border half-way between the lesion and the layer, but
only on a result :mod:`.lowcnr_border` already finds uncertain: both ends' bands together over
UNCERTAIN_SHARE of the diameter. A short layer at one end with a clean end opposite stays under
that share, however far past the lesion the layer carries the end.

IRCADb tumour 06 (9.95 mm, beside the lung base), "noise 30 HU", noise seed 27, click (108,
175, 104): 13.0 mm, no flag (31 % long). On the diameter's slice (Im 109) the region runs up
through a layer 2-3 mm thick between the tumour and the lung's ramp, its smoothed values 84-97
HU against a threshold of 93 (liver 103, lesion 83, smoothed noise 6 HU); the long axis ends on
a spur three pixels wide at the layer's outer edge. Along the diameter the image climbs from the
lesion's value to the threshold, stays within its noise over 4 mm, holding the upper end, and
falls below the lesion's own value into the lung without reaching the liver's. Both ends' half
bands add to 2.5 mm, 19 % of the diameter: `lowcnr_border` does not fire and the border is not
re-placed.

:func:`layer_ends_mm` reads the same profile as :mod:`.lowcnr_border` (the median of its
parallel lines along the diameter) and finds an end whose band - the run within one smoothed
noise SD of the threshold that holds the end or starts within BLUR_MM of it - is at least
LAYER_MIN_MM long and is followed outward, within FALL_MM, by values at or below the lesion's
own: a layer at the threshold with darker tissue beyond, not a step to the liver. A border to
the liver leaves the band on the liver's side; a border straight to fat never enters the band
(fat and air are darker than the lesion); a noise bump inside the lesion is shorter than
LAYER_MIN_MM. Only a dark lesion is read: fat and air are darker than every lesion, and beside
an enhancing one the tissue past a layer would have to be brighter than the lesion (a vessel),
another rule's business.

`lowcnr_border` takes half a band as an end's uncertainty: the end could lie that far either
way. An end on a layer over fat can lie anywhere along the layer, and only inward (beyond it is
the fat): its uncertainty is the layer's whole length. :func:`layer_uncertainty_mm` gives
`lowcnr_border`'s two uncertainties with a layer end's replaced by its layer's length; the
re-placing (:func:`.lungedge_border.reborder_band`) reads that, under its own share
(UNCERTAIN_SHARE of the diameter) and bound (the diameter may shrink by no more than the two
ends' uncertainty), and a result it moves carries its note. 06's case: 4.0 mm of layer at the
upper end and 0.5 mm at the lower, 35 % of 13.0 mm; re-placed, 11.1 mm, the region on Im 109
back inside the expert's outline on the lung's side. A large lesion's graded surface (01 at the
liver's edge, 74 mm: 5.5-7.3 mm of band over fat on the noisy variants of seeds 9 and 27) stays
under the share: a tenth of its diameter. A first form that re-placed every result with a layer
end, whatever its share, took 01 from 74-75 to 71-72 mm (expert 79.8; read on the results as
found), two of them out of tolerance.

The flag of `lowcnr_border` is left as it was (it reads the two halves); the result that moves
is flagged by the re-placing's note, and one that does not move keeps what it had.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from lesion_tool.measurement.lowcnr_border import STEP_MM, adjacent_run, band_profile

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement

LAYER_MIN_MM = 2.0
"""The band at the end must run at least this far (mm): longer than a blurred step's crossing
of the band at 06's contrast and noise (2 noise / slope, about 1.9 mm), and than a noise bump
inside the lesion; a layer reads at the threshold over its whole thickness and the blur."""
FALL_MM = 2.0
"""Past the band, the profile must reach the lesion's own value within this (mm): the fat or
air beyond a layer falls through it within the blur and the smoothing (about 1.2 mm) of the
band's edge, rounded up."""


def layer_ends_mm(volume: CTVolume, m: LesionMeasurement) -> tuple[float, float] | None:
    """The length (mm) of the layer at the start and at the end of ``m``'s diameter (0 for an
    end on none; module docstring), or None for a bright result, one delineated by texture, or
    one without a diameter or noise measured."""
    ev = m.evidence
    if ev is None or ev.contrast_hu >= 0.0:
        return None
    got = band_profile(volume, m)
    if got is None:
        return None
    g, band, ia, ib, half = got
    n = band.size
    span = ev.liver_hu - ev.lesion_hu
    if span <= 0.0:
        return None
    fall = round(FALL_MM / STEP_MM)
    out = []
    # Each end's window: from the diameter's middle out to the profile's end past that end.
    for i, lo_w, hi_w, way in (
        (ia, 0, min(ia + half, n - 1), -1),
        (ib, max(ib - half, 0), n - 1, 1),
    ):
        out.append(0.0)
        win = np.zeros(n, dtype=bool)
        win[lo_w : hi_w + 1] = band[lo_w : hi_w + 1]
        run = adjacent_run(win, i)
        if run is None:
            continue
        length = (run[1] - run[0] + 1) * STEP_MM
        if length < LAYER_MIN_MM:
            continue
        past = run[1] + 1 if way > 0 else run[0] - 1
        if not 0 <= past < n or g[past] >= ev.threshold_hu:
            continue  # the band ends on the liver's side (or the profile does): a step to it
        beyond = g[past : past + fall + 1] if way > 0 else g[max(past - fall, 0) : past + 1]
        if float(((beyond - ev.lesion_hu) / span).min()) <= 0.0:
            out[-1] = length
    return out[0], out[1]


def layer_uncertainty_mm(
    volume: CTVolume, m: LesionMeasurement, u: tuple[float, float] | None
) -> tuple[float, float] | None:
    """``u`` (:func:`.lowcnr_border.border_uncertainty_mm` for ``m``) with the uncertainty of
    an end on a layer over fat or air raised to the layer's whole length (module docstring);
    ``u`` itself when neither end lies on one, or when ``u`` is None."""
    if u is None:
        return None
    layers = layer_ends_mm(volume, m)
    if layers is None or not any(layers):
        return u
    return max(u[0], layers[0]), max(u[1], layers[1])
