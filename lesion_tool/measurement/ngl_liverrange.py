"""A large, faint bright region on an arterial image judged against the liver around its body:
flagged as possibly a perfusion difference, not a lesion (issue 11, w24-ngl).

What the image shows. IRCADb patient 1 in 5 mm slabs with 25 HU of noise, declared arterial
(stress variants "hyper 5 mm 25 HU" and "necrotic 5 mm 25 HU", seed 11): a no-tumour click at
voxel (38, 193, 144), on plain liver at the dome, read 113 HU raw, 126 HU smoothed at the click.
The liver is not one value there: its smoothed parenchyma (expert mask, tumours out) reads a
median of 112-115 HU on slabs 33-37 but with quartiles 101-105 / 120-127 HU (patches of
brighter and darker parenchyma tens of millimetres wide), and 97 HU on the dome slab 38 itself
(partial volume with the lung and diaphragm above it). The delineation took the liver's value
from the click's surroundings (the commonest value of slabs 36-40, 109 HU, then the outline's
shell on slab 38, 104 HU), so the brighter half of the parenchyma stood 21 HU above "the liver"
at 4.9 HU of smoothed noise: not low contrast. The region grew down through slabs 34-38 (45.1
mm, medians 119-124 HU, 100 % inside the expert liver, no vessel, no tumour but 41 voxels of
IRCADb 06 at its edge) and came back unflagged. Against the commonest value of the tissue
around its body (40 mm round the region on the slabs it spans: 111 HU) its inside (median 123
HU raw) is 12 HU brighter (10 HU on the necrotic variant): the contrast of a perfusion patch,
not of a lesion. The other liver clicks near the dome on that image grew regions of the same
kind (50-70 mm, 9-19 HU above the liver around them), flagged by other rules.

Why it holds on real images. A hyper-attenuating patch of parenchyma on an arterial image is a
known mimic of an enhancing lesion (a transient hepatic attenuation difference: a segment or
wedge perfused more by the hepatic artery, geographic, centimetres wide, faint, and gone on the
portal phase); at the dome the slab's partial volume with the lung also lowers the liver read
around a click there. A lesion's contrast is therefore judged once more against the liver
around the region's whole body (what liverbody.py does before refusing a region as outside the
liver) rather than the click's surroundings only, with the difference under which the "low
contrast" flag is raised (segment's LOW_CONTRAST_HU, 15 HU). Not its noise arm (3 smoothed noise
SDs): that noise is the one read round the click, not round the body, and with it (w24-ngl's
first draft) an enhancing tumour read noisily was flagged too (IRCADb 05 made necrotic, seed 7,
31 HU above the liver around it at 10+ HU of noise). On IRCADb's tumours made hyper-enhancing
the inside stood 33-58 HU above that value (seed 11), made necrotic (the core lowers the
inside's median) 17-40 HU.

Applied when the image is arterial, the result is a hyper-attenuating region by value (not by
texture: its value is then the liver's by construction), and at least :data:`MIN_WIDTH_MM`
across: a perfusion difference is a region centimetres wide, and on a small faint nodule the
local test is the one that counts (IRCADb 06, 10 mm, read 16-19 HU above the liver around it on
seed 11 and is already flagged there). The result is only flagged (:data:`FLAG`); its outline
and diameter are kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from lesion_tool.io.volume import CTVolume
from lesion_tool.measurement.raster import padded_mask

if TYPE_CHECKING:
    from lesion_tool.measurement.segment import LesionMeasurement

ENABLED = True
"""Module switch."""

MIN_WIDTH_MM = 30.0
"""Regions at least this long (whole diameter) are judged against the liver around their body."""

AROUND_MM = 40.0
"""The liver around the body: the commonest value within this of the region's box, in plane, on
the slices the region spans (the region itself left out)."""

SAMPLE_STEP = 3
"""Every this-th voxel of that box is sampled (the commonest value needs a few thousand)."""

FLAG = (
    "faint against the liver around it: inside {inside:.0f} HU against {around:.0f} HU for the "
    "liver around its body (difference {diff:.0f} HU, noise {noise:.1f} HU) though {click:.0f} "
    "HU around the click; a brighter patch of liver (arterial perfusion difference) rather than "
    "a lesion? check on the portal-venous phase"
)


def liver_around(
    volume: CTVolume,
    mask: np.ndarray,
    offset: tuple[int, int, int],
    mode: Callable[..., float | None],
) -> tuple[float, float] | None:
    """``(inside, around)`` in raw HU: the median of the region (``mask`` at ``offset``) and the
    commonest soft-tissue value (``mode``, segment's ``_mode``) within :data:`AROUND_MM` of its
    box on its slices, outside it; None when there is too little soft tissue."""
    sp = volume.spacing_mm
    pad = (0, round(AROUND_MM / sp[1]), round(AROUND_MM / sp[2]))
    where, inside = padded_mask(mask, offset, pad, volume.shape)
    box = np.asarray(volume.array[where], dtype=np.float32)
    if not inside.any():
        return None
    around = mode(box[~inside][::SAMPLE_STEP], exclude_near=None)
    if around is None:
        return None
    return float(np.median(box[inside])), float(around)


def flag_faint(
    volume: CTVolume,
    arterial: bool,
    m: LesionMeasurement,
    mode: Callable[..., float | None],
    low_contrast_hu: float,
) -> LesionMeasurement:
    """``m`` with :data:`FLAG` added when, on an ``arterial`` image, a hyper-attenuating region
    by value at least :data:`MIN_WIDTH_MM` long stands less than ``low_contrast_hu`` (segment's
    LOW_CONTRAST_HU) above the liver around its body (:func:`liver_around`); else ``m``
    unchanged."""
    e = m.evidence
    if not (ENABLED and arterial) or e.texture_sd_hu is not None or e.contrast_hu <= 0.0:
        return m
    if m.whole.length_mm < MIN_WIDTH_MM:
        return m
    levels = liver_around(volume, m.mask, m.offset, mode)
    if levels is None:
        return m
    inside, around = levels
    diff = inside - around
    if diff >= low_contrast_hu:
        return m
    note = FLAG.format(
        inside=inside, around=around, diff=diff, noise=e.noise_sd_hu, click=e.liver_hu
    )
    return replace(m, flags=(*m.flags, note))
