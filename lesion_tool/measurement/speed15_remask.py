"""One measurement rebuilt on a new mask (review mend of the fourteenth pass).

Three places rebuild a :class:`~lesion_tool.measurement.segment.LesionMeasurement` after its mask
changed — the whole widened to an enhancing rim's outer edge (``segment._to_rim_edge``), the 3-D
refinement (``refine.refine_3d``) and a reader's edit (``edit.remeasure_edited``) — with the same
field list: the diameters, both masks, the offset, the volume and the flags. They call
:func:`remasked`, so that a field added to the measurement is set in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from lesion_tool.measurement.diameter import Geometry, HasGeometry

if TYPE_CHECKING:
    from lesion_tool.measurement.models import Diameter
    from lesion_tool.measurement.segment import LesionMeasurement


def remasked(
    m: LesionMeasurement,
    volume: HasGeometry,
    mask: np.ndarray,
    offset: Sequence[int],
    whole: tuple[Diameter, Diameter],
    viable: tuple[Diameter | None, Diameter | None, np.ndarray | None],
    flags: Sequence[str],
) -> LesionMeasurement:
    """``m`` with ``mask`` at ``offset`` (``(z, y, x)`` in the volume): ``whole`` its longest
    axial diameter and perpendicular, ``viable`` the viable part's (diameter, perpendicular,
    mask), ``flags`` all of its flags; the volume (ml) is counted on ``mask``."""
    return replace(
        m,
        whole=whole[0],
        whole_perpendicular=whole[1],
        viable=viable[0],
        viable_perpendicular=viable[1],
        viable_mask=viable[2],
        mask=mask,
        offset=tuple(int(v) for v in offset),
        volume_ml=float(mask.sum()) * Geometry.of(volume).voxel_volume_ml,
        flags=tuple(flags),
    )
