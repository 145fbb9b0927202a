"""A click's region that is a flat sliver on thin slices: measured again one slice on.

A click on or next to a lesion's end slice on thin (<= 2 mm) slices reads a value diluted by the
liver beyond the end (partial volume), and the region grown from it may be a sliver: seen on two
slices only, yet wide, because on those slices the diluted level also takes in the lesion's
graded border or the liver next to it. A lesion >= 10 mm across spans five or more 1.6 mm
slices; a region 3.2 mm deep and 19-37 mm wide is no lesion's shape. On the development seeds 7,
8 and 9 of the stress bench (six 1.6 mm variants each), every tumour result "seen on 2 slice(s)
of 1.6 mm" was a miss (4 of 4: IRCADb 04 22.4 mm for 18.5 twice, 03 18.8 for 23.2, 05 36.6 for
32.5), while the same click's in-plane point measured one slice on gave the lesion whole (18.3 /
21.2, 21.9, 31.9 / 32.4 mm).

Here such a region (clicks only, slices <= :data:`THIN_MM`, seen on at most two slices and less
deep than :data:`FLAT_SHARE` of its diameter) is measured again at the click's in-plane point on
the slices next to the click. A new region is kept when it is a lesion of its own right: at least
three slices and not itself flat, not running on through the slices, not mostly outside the liver,
not of low contrast (as capclick's: in plain liver such a body is the liver's own noise; seed 7's
no-tumour click (89, 118, 240) on "hyper", 20.4 mm flagged, became a 41.5 mm region without this
check), and holding the reader's click voxel itself (the sliver lies in it: the same lesion). Of
the two (one on either side) the one on more slices is kept. The result is always flagged (the
reader clicked elsewhere), so a no-tumour click's flagged result stays flagged and a refusal is
never touched: only results are looked at.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lesion_tool.measurement.capclick import OUTSIDE_FLAGS
from lesion_tool.measurement.naming import slice_name
from lesion_tool.measurement.notwhole import LOW_CONTRAST_FLAG
from lesion_tool.measurement.reseed import as_clicked, measure_again, runs_on, slice_span
from lesion_tool.measurement.seam import holds_voxel

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.reseed import Measure
    from lesion_tool.measurement.segment import LesionMeasurement, LesionPrompt

ENABLED = True
"""Module switch: False leaves every result as found (its tests show the rule matters)."""
THIN_MM = 2.0
"""Slices at most this thick: a lesion of 10 mm or more spans five or more of them, so a region
on two is a partial-volume sliver (on 2.5 mm slabs IRCADb 06, 10 mm, is rightly seen on two)."""
MAX_SLICES = 2
"""A region seen on at most this many slices may be a sliver."""
FLAT_SHARE = 0.25
"""A region (or a candidate) whose depth through the slices is under this share of its
diameter is flat: no lesion's shape (a sphere's depth is its diameter)."""
STEPS = 1
"""Slices on either side of the click tried: the next one (every region kept on the development
seeds came from it; a second slice was tried only for no-tumour clicks, up to 4 measurements
instead of 2)."""


def _depth_mm(volume: CTVolume, m: LesionMeasurement) -> tuple[int, float]:
    """The number of slices ``m``'s region is seen on and its depth through them (mm)."""
    span = slice_span(m)
    n = 0 if span is None else span[1] - span[0] + 1
    return n, n * float(volume.spacing_mm[0])


def is_flat_sliver(volume: CTVolume, m: LesionMeasurement) -> bool:
    """Whether ``m`` is a flat sliver on thin slices (see the module docstring)."""
    if float(volume.spacing_mm[0]) > THIN_MM:
        return False
    n, depth = _depth_mm(volume, m)
    return 0 < n <= MAX_SLICES and depth < FLAT_SHARE * m.whole.length_mm


def _acceptable(volume: CTVolume, m: LesionMeasurement, click: tuple[int, int, int]) -> bool:
    """``m`` is a lesion of its own right holding the click's voxel."""
    n, depth = _depth_mm(volume, m)
    if n <= MAX_SLICES or depth < FLAT_SHARE * m.whole.length_mm:
        return False
    if runs_on(m) or any(s in f for f in m.flags for s in OUTSIDE_FLAGS):
        return False
    if any(f.startswith(LOW_CONTRAST_FLAG) for f in m.flags):
        return False
    return holds_voxel(m, click)


def reclick_sliver(
    volume: CTVolume,
    prompt: LesionPrompt,
    phase: object,
    first: LesionMeasurement,
    measure: Measure,
) -> LesionMeasurement:
    """``first``, or, when it is a flat sliver on thin slices, the lesion measured at the
    click's in-plane point on the next slices (see the module docstring)."""
    if not ENABLED or prompt.seed is None or prompt.line is not None:
        return first
    if first.seed_voxel is None or not is_flat_sliver(volume, first):
        return first
    click = tuple(int(v) for v in first.seed_voxel)
    spent = first.time_s
    for k in range(1, STEPS + 1):
        found = []
        for step in (-k, k):
            z = click[0] + step
            if not 0 <= z < volume.shape[0]:
                continue
            new = measure_again(volume, prompt, phase, (z, click[1], click[2]), measure)
            if new is None:
                continue
            spent += new.time_s
            if _acceptable(volume, new, click):
                found.append((step, new))
        if found:
            step, best = max(found, key=lambda sm: (_depth_mm(volume, sm[1])[0], -len(sm[1].flags)))
            n, depth = _depth_mm(volume, first)
            note = (
                f"the click on {slice_name(volume, click[0])} gave a {first.whole.length_mm:.1f} "
                f"mm region {depth:.1f} mm deep ({n} slices: a partial-volume sliver at the "
                f"lesion's end?): measured from the same point on "
                f"{slice_name(volume, click[0] + step)}; check that this is the lesion clicked"
            )
            return as_clicked(first, best, note, spent)
    return first


__all__ = ["ENABLED", "is_flat_sliver", "reclick_sliver"]
