"""A region delineated by texture, and a sound region by value that holds the click.

Texture is the fallback evidence: a click is delineated by its local SD only when its value did
not differ from the liver value taken around it. Near the liver's dome that value is not the
liver beside the lesion: the window's commonest value is the parenchyma averaged with the lung
above it (IRCADb at Im 121, 3-7 cm from tumour 05: 95-110 HU, while the liver around the
tumour reads 125-150 HU; the heart lies above it too). A click on the lesion's diluted top slice
then reads "like the liver" there (96 HU against 109 HU), its region by value is a one-slice
sliver, and texture takes over: a heterogeneous 60 mm patch of parenchyma (Dice 0.26) that the
open-end re-click could not replace, being neither shorter nor nested in it.

The re-click one slice beyond the patch's widest end measures its own value: there the lesion
(71 HU) differs plainly from the liver around it (128 HU) and its region, delineated by value,
raises no flag at all (32.6 mm for the expert's 32.5, Dice 0.87) and holds the voxel clicked.
A value edge with clear contrast that encloses the very voxel the reader clicked is the lesion
clicked, whatever the texture patch's extent: it replaces the patch. A region by value that is
itself flagged (low contrast, partial volume, a leak, not surrounded by liver) is not sound
evidence and does not; nor does one that leaves the click (another lesion nearby).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lesion_tool.measurement.seam import holds_voxel

if TYPE_CHECKING:
    from lesion_tool.measurement.segment import LesionMeasurement


def supersedes_texture(first: LesionMeasurement, new: LesionMeasurement) -> bool:
    """True when ``first`` was delineated by texture and ``new`` (a re-click's region) is a
    sound region by value holding ``first``'s click: no flag at all, so neither low contrast,
    partial volume, a leak nor surroundings unlike the liver (see the module docstring)."""
    if first.evidence.texture_sd_hu is None or new.evidence.texture_sd_hu is not None:
        return False
    if new.flags or first.seed_voxel is None:
        return False
    return holds_voxel(new, first.seed_voxel)


__all__ = ["supersedes_texture"]
