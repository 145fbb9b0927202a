"""A click's region by texture whose own re-clicks find a sound region by value holding the click.

A click on a dark lesion's margin reads half-way between the lesion and the liver: IRCADb 05
(32.45 mm over Im 106-123, 71-85 HU in liver of 125-140 HU) clicked at (116, 207, 221), 2.4 mm
inside the expert's outline on one of its middle slices, reads 110 HU, the commonest value
within 60 mm, and is refused by value ("the liver?"). Texture takes over: the local SD is high
across the lesion's edge, and the outline by texture is that edge band, 26.7 mm (Dice well under
the lesion's), flagged but short by 5.8 mm against a tolerance of 3.2 ("original" and "noise 15
HU"; 28.4 mm on "noise 25 HU"). ``tex_vote`` then clicks the texture region again at the deepest
points of its sections a third and two thirds through its slices (Im 113 and 118): both land in
the lesion's dark body, and both find it by value with plain contrast (-46 and -62 HU, 34.8 and
33.2 mm, no flag), each holding the voxel the reader clicked 0.8-1.3 mm inside its outline. The
vote counts texture regions only, so neither was used and the edge band stood.

This is the rule of :mod:`lesion_tool.measurement.valuetexture` met by another path: a value edge
with clear contrast that encloses the very voxel the reader clicked is the lesion clicked,
whatever the texture patch's extent. Here a re-click of ``tex_vote`` that gives such a region
(:func:`~lesion_tool.measurement.valuetexture.supersedes_texture`: delineated by value, no flag at
all, holding the click) replaces the texture region; of two, the one clicked nearer the reader's
click (mm) is kept. The result is flagged with where it was measured from, so a no-tumour
click's texture patch stays flagged whatever replaces it. A faint mottled lesion measured right
by texture (04, 07's faint parts) has no such body: its re-clicks read the liver's value or are
delineated by texture themselves.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from lesion_tool.measurement.naming import slice_name
from lesion_tool.measurement.reseed import as_clicked
from lesion_tool.measurement.valuetexture import supersedes_texture

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement

ENABLED = True
"""Module switch: False leaves ``tex_vote``'s re-clicks by value unused (its test shows the rule
matters)."""


def _distance_mm(a: Sequence[int], b: Sequence[int], spacing: Sequence[float]) -> float:
    """Distance (mm) between voxels ``a`` and ``b`` ``(z, y, x)``."""
    return math.dist(
        [u * s for u, s in zip(a, spacing, strict=True)],
        [v * s for v, s in zip(b, spacing, strict=True)],
    )


def value_over_texture(
    volume: CTVolume,
    first: LesionMeasurement,
    reclicks: Sequence[LesionMeasurement],
    spent: float,
) -> LesionMeasurement | None:
    """The re-click's region (of ``reclicks``, measured from points inside ``first``, a click's
    region by texture) that supersedes ``first`` (module docstring), reported for the reader's
    click with a note and ``spent`` seconds; None when none does or the rule is off."""
    if not ENABLED or first.seed_voxel is None:
        return None
    sound = [m for m in reclicks if m.seed_voxel is not None and supersedes_texture(first, m)]
    if not sound:
        return None
    spacing = tuple(float(s) for s in volume.spacing_mm)
    click = tuple(first.seed_voxel)
    kept = min(sound, key=lambda m: _distance_mm(m.seed_voxel, click, spacing))
    note = (
        f"the click on {slice_name(volume, click[0])} reads like the liver (the lesion's "
        f"margin?): measured by value from {slice_name(volume, kept.seed_voxel[0])}, inside its "
        f"region by texture ({first.whole.length_mm:.1f} mm); check that this is the lesion "
        "clicked"
    )
    return as_clicked(first, kept, note, spent)


__all__ = ["ENABLED", "value_over_texture"]
