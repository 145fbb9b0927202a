"""A click's region that the image shows is not the whole lesion: refused with what to do.

A result far from the lesion's size is flagged, but a reader who sees a contour half the tumour,
or twice it, needs the right answer or a refusal that says what to do. Two kinds of region are
known, from the image itself, not to be the lesion's whole extent:

- **A cap whose lesion goes on beyond it.** A region widest on its end slice (or seen on one
  slice only) stops where a lesion's body should go on. The re-click steps (reseed.py beyond the
  widest end slice, capclick.py under the click) measure again there; when that finds a region
  :data:`GROWTH` times longer lying under the first (it holds :data:`HOLD_SHARE` of the first's
  end outline, or the click's in-plane point) that the steps still cannot accept as the lesion
  (another delineation, a partial-volume sliver, a share just under their bar), the lesion
  plainly goes on beyond the first region and neither region is its measurement. A lesion's
  sections are nested towards its widest slice: a section larger by half, under the end one,
  is the same lesion's body (IRCADb 04, 18.5 mm, clicked on its bright top slices: 9.5 mm
  there, 15.9 mm one slice below holding 71 % of it but delineated by texture; in 5 mm slabs
  9.5 mm on the end slab, a 26 mm two-slab region on the next).
- **A tube through the slices.** A click's region that runs on through the slices beyond its
  width and is tube-shaped in 3-D at its own scale (vessel.py's blob ratio) is a vessel or a
  leak along one, by both tests: a tumour, however elongated, is a blob at its own scale, and
  stops on the slices (IRCADb 06, 10 mm, necrotic, clicked on its margin: a 20-22 mm tube).

Both are refused (:class:`NotWhole`) with what to do: click on the lesion's largest slice, or drag
a line across it there (a line bounds the region by the reader's own extent).
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

RUNS_ON_FLAG = "the region runs on through the slices"
TUBE_FLAG = "this looks like a vessel"


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

    at = beyond.whole.slice_index
    where = "" if at is None else f" on {slice_name(volume, at)}"
    return NotWhole(
        f"No whole lesion at voxel {first.seed_voxel}: the region found there "
        f"({first.whole.length_mm:.1f} mm) stops at the lesion's end, and the lesion goes on "
        f"beyond it (a region of {beyond.whole.length_mm:.1f} mm{where}) where it could not be "
        "delineated with confidence. Click in the lesion's middle on its largest slice, or drag "
        "a line across it there."
    )


def tube_refusal(m: LesionMeasurement) -> NotWhole | None:
    """The refusal of a click's region ``m`` that runs on through the slices and is a tube in
    3-D (both flags raised), else None."""
    runs = any(f.startswith(RUNS_ON_FLAG) for f in m.flags)
    tube = any(f.startswith(TUBE_FLAG) for f in m.flags)
    if not (runs and tube):
        return None
    return NotWhole(
        f"No lesion at voxel {m.seed_voxel}: the region found there ({m.whole.length_mm:.1f} mm) "
        "is a tube that runs on through the slices, a vessel or a leak along one. If a lesion is "
        "there, click in its middle on its largest slice, or drag a line across it."
    )


__all__ = ["GROWTH", "HOLD_SHARE", "NotWhole", "cap_refusal", "goes_on", "tube_refusal"]
