"""A texture outline on slabs: the lesion's texture level read where the window is all lesion.

A mottled nodule whose mean value is the liver's (IRCADb tumour 04: a core with bright specks
and a faint ring, 17.1-17.3 mm on 5 and 2.5 mm slabs) is delineated by texture: the local
standard deviation (SD) of the raw values in a Gaussian window of ``TEXTURE_SIGMA_MM`` (2 mm),
cut half-way between the lesion's level and the liver's. The lesion's level is re-read from the
first outline (``segment._levels_from_shell``: the median texture inside it, eroded by two
pixels). But the window spreads the lesion's specks and ring over +-2 sigma (4 mm) of the liver
around it, and the lesion's own inside near its edge mixes in the liver's smooth tissue: the
texture inside the outline's outer 4 mm is neither. Read there, the level comes out low, the
half-way cut falls into the spread, the outline widens and the next reading is lower still.

On 04 in slabs (random clicks, seeds 3 and 4 of the stress bench, main e060346), the texture
outline on the widest slab covered 693-816 px for the expert mask's 512 (5 mm, slice 31) and
711-731 px for 551 (2.5 mm, slice 63); the voxels it took beyond the mask read 116-120 HU
(liver 113-115, the mask's mean 121-123) and a texture of 16.9 HU SD, against 20.1 inside the
mask and 12.8 in the liver 3-6 mm out (5 mm, slice 31). The level the delineation used was
16.9 and 19.6 HU SD (5 mm; liver 10.0), 24.0-24.3 (2.5 mm; liver 12.9-13.7): 23.2 and 20.4 mm
for 17.1, 20.4 and 21.4 for 17.3 (tolerance 3 mm), flagged but over. Read only where the
window lies wholly inside the first outline (the outline eroded by 2 sigma), the level is
20.1-20.4 (5 mm) and 24.8-26.9 (2.5 mm), and the outlines 18.5 / 18.9 mm (5 mm) and 18.7 /
20.3 mm (2.5 mm).

Here, on slabs (slices of ``segment.SLAB_MM`` or more, where those over-long texture outlines
were seen; on IRCADb's 1.6 mm slices 04's texture outlines measure within tolerance and are
left alone), a texture delineation's re-read lesion level is raised to the median texture of
its first outline eroded by :data:`SPREAD_SIGMAS` window sigmas, when that leaves at least
:data:`MIN_INNER_PX` pixels (a lesion wider than the spread on both sides; a smaller one keeps
the level as before). The level is never lowered: a nodule whose texture is uniform up to its
edge reads the same either way. Delineations by value are not touched, nor arterial images:
the evidence is 04 on portal-venous slabs; the arterial slab variants (hyper / necrotic with
noise) and HCC_006's arterial texture results were not measured with the rule in this pass.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage

from lesion_tool.measurement.raster import disk_footprint

if TYPE_CHECKING:
    from collections.abc import Sequence

ENABLED = True
"""Module switch (A/B runs)."""

SPREAD_SIGMAS = 2.0
"""The texture window spreads a speck or an edge over +-2 sigma: a point deeper than that
inside the outline reads the lesion's texture alone."""
MIN_INNER_PX = 30
"""At least this many pixels left after the erosion to read a level from (as
``_levels_from_shell`` asks of the shell)."""


def deep_level(
    mask: np.ndarray,
    plane: np.ndarray,
    spacing_yx: Sequence[float],
    sigma_mm: float,
) -> float | None:
    """The median texture (``plane``) of ``mask`` eroded by :data:`SPREAD_SIGMAS` times
    ``sigma_mm`` (a disk in millimetres), or None when too little of it is left."""
    r = SPREAD_SIGMAS * sigma_mm
    foot = disk_footprint((r / float(spacing_yx[0]), r / float(spacing_yx[1])))
    inner = ndimage.binary_erosion(mask, structure=foot)
    if int(inner.sum()) < MIN_INNER_PX:
        return None
    vals = plane[inner]
    vals = vals[vals > 0]  # vessels and fat are 0 in the texture plane
    if vals.size < MIN_INNER_PX:
        return None
    return float(np.median(vals))


def raise_texture_level(
    lv: object,
    mask: np.ndarray,
    plane: np.ndarray,
    spacing_zyx: Sequence[float],
    slab_mm: float,
    sigma_mm: float,
    arterial: bool = False,
) -> object:
    """``lv`` (segment's ``_Levels``) with its lesion level raised to :func:`deep_level` of the
    first outline's ``mask`` when delineating by texture on slabs of a non-arterial image (see
    the module's docstring); ``lv`` itself otherwise."""
    if not ENABLED or arterial or not getattr(lv, "texture", False):
        return lv
    if float(spacing_zyx[0]) < slab_mm:
        return lv
    deep = deep_level(mask, plane, spacing_zyx[1:], sigma_mm)
    if deep is None or deep <= lv.lesion:  # type: ignore[attr-defined]
        return lv
    return replace(lv, lesion=deep)  # type: ignore[type-var]


__all__ = ["ENABLED", "deep_level", "raise_texture_level"]
