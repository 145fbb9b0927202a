"""A click's region that the image shows is not the whole lesion: refused with what to do.

A result far from the lesion's size is flagged, but a reader who sees a contour half the tumour
needs the right answer or a refusal that says what to do. A region widest on its end slice (or
seen on one slice only) stops where a lesion's body should go on. The re-click steps (reseed.py
beyond the widest end slice, capclick.py under the click) measure again there; when that finds
a region :data:`GROWTH` times longer lying under the first (it holds :data:`HOLD_SHARE` of the
first's end outline, or the click's in-plane point) that the steps still cannot accept as the
lesion (another delineation, a partial-volume sliver, a share just under their bar), the lesion
plainly goes on beyond the first region, and neither region is its measurement. A lesion's
sections are nested towards its widest slice: a section larger by half under the end one is the
same lesion's body (IRCADb 04, 18.5 mm, clicked on its bright top slices: 9.5 mm there, 15.9 mm
one slice below holding 71 % of it but delineated by texture; in 5 mm slabs 9.5 mm on the end
slab, a 26 mm two-slab region on the next). A region beyond that runs on through the slices is
no such evidence (a vessel under the cap) and changes nothing.

The region is refused (:class:`NotWhole`) with what to do: click in the lesion's middle on its
largest slice, or drag a line across it there.

Tried and not kept (w16-off30): refusing a click's region flagged both as running on through the
slices and as a tube at its own scale (IRCADb 06 necrotic, 22-23 mm for 10): it also refused 03
on necrotic 5 mm slabs (seed 1, 23.3 mm for 23.2, within).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lesion_tool.errors import MeasurementError

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement

GROWTH = 1.5
"""How much longer the region beyond a cap must be to show the lesion goes on: capclick's
CAP_GROWTH (a cap's section is much smaller than the body's one slice on; a lesion measured whole
gives about its own length again from the next slice)."""
HOLD_SHARE = 0.5
"""The share of the first region's end outline the region beyond must hold: more than half of it
lies over the larger section (nested sections), so the two are one structure, not neighbours."""


LOW_CONTRAST_FLAG = "low contrast"
"""The start of segment's flag on a region that differs little from the liver (defined here, the
lowest module that needs it; capclick, reseed, linereach and segment import it). A cap reads like
the liver only because the slice averages it with what lies beyond; the body under it must
plainly differ from the liver, or the re-click has found the liver's own noise: in plain liver
(IRCADb, 40 clicks) such bodies turned 5 of 24 refusals into flagged "lesions" of 8-27 mm, on
HCC_006 4 of 17. Beyond an open end, only such a region's end is in doubt (w16-off30: without it,
07 in 5 mm slabs, 19.8 mm for 20.9, was refused for a 30 mm leak beyond its last slab)."""


class NotWhole(MeasurementError):
    """The click's region is, by the image, not the whole lesion (see the module docstring)."""


def goes_on(first_mm: float, beyond_mm: float, held: float) -> bool:
    """Whether a region of ``beyond_mm`` measured beyond a ``first_mm`` region, holding ``held``
    of its end outline (or, for a cap, 1.0 when it holds the click's point), shows the lesion
    going on past the first region."""
    return beyond_mm >= GROWTH * first_mm and held >= HOLD_SHARE


def cap_refusal(volume: CTVolume, first: LesionMeasurement, beyond: LesionMeasurement) -> NotWhole:
    """The refusal of ``first``, a region stopped at a lesion's end, when ``beyond`` (measured
    past that end) shows the lesion going on."""
    from lesion_tool.measurement.naming import slice_name

    at = getattr(beyond.whole, "slice_index", None)
    where = "" if at is None else f" on {slice_name(volume, at)}"
    return NotWhole(
        f"No whole lesion at voxel {first.seed_voxel}: the region found there "
        f"({first.whole.length_mm:.1f} mm) stops at its end slice, and a larger region goes on "
        f"beyond it ({beyond.whole.length_mm:.1f} mm{where}) that could not be delineated with "
        "confidence. If there is a lesion here, click in its middle on its largest slice, or "
        "drag a line across it there."
    )


__all__ = ["GROWTH", "HOLD_SHARE", "NotWhole", "cap_refusal", "goes_on"]
