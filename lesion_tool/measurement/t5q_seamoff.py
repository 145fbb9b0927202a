"""A click in the seam of a necrotic lesion whose region was refused as not surrounded by liver:
measure from the dark core beside it (arterial images).

On an arterial image a necrotic (hypo-attenuating) core sits inside a rim of enhancing tumour,
and between the two the seam reads anywhere from the core's value to the rim's, blurred by the
smoothing and, on a 5 mm slab, by the rim above and below. ``seam.py`` measures from the core
beside a seam click whose value is the liver's (refused by value). A seam click that reads a
little brighter than the liver's value takes another path: its region by value is the seam's
own sliver, a few millimetres across, walled by the core on one side and the rim on the other,
so its surroundings read like neither the liver nor the lesion, and ``segment._delineate``
refuses it as "not surrounded by liver".

IRCADb tumour 05 on "necrotic 5 mm 25 HU" (core 40-60 HU, rim 140-190 HU, the liver around it
120-135 HU, the window's commonest value 107 HU: the lower liver): seed 8's click (36, 217, 199)
reads 123 HU smoothed (liver 107, lesion 123, threshold 115); its region is 6.4 mm in radius
and its shell reads 145 HU (the rim): 6 % of it looks like the liver, refused. Seed 9's click
(37, 227, 200) reads 118 HU: the same, 7 %. The dark core lies 2.9-3.8 mm from each click (its
smoothed value 40-60 HU, >= 30 HU under the liver), and measured from it the whole lesion is
found through its enhancing rim: 29.0 / 34.0 mm for the expert's 31.8 mm. A reader who clicked
on the lesion's seam means that lesion.

So when the region by value at a click is refused as not surrounded by liver (:class:`OffLiver`,
not :class:`NotInLiver`: a region outside the liver estimate stays refused, as the kidney's
enhancing pole must), the click is handed to :func:`segment._core_beside` (``seam.py``, reused:
arterial images only; a dark core within SEAM_SEARCH_MM; kept only when the core's own rule
outlined the whole lesion through its rim and that outline holds the click; flagged). Anything
else leaves the refusal as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from lesion_tool.measurement.offliver import NotInLiver, OffLiver

if TYPE_CHECKING:
    from lesion_tool.errors import MeasurementError
    from lesion_tool.measurement.segment import LesionMeasurement, LesionPrompt

__all__ = ["ENABLED", "core_beside_refused"]

ENABLED = True
"""Module switch."""


def core_beside_refused(
    err: MeasurementError,
    prompt: LesionPrompt,
    beside: Callable[[], LesionMeasurement | None],
) -> LesionMeasurement | None:
    """The whole lesion measured from a necrotic core beside a click whose region by value was
    refused as not surrounded by liver (``err`` a plain :class:`OffLiver`), or None.

    ``beside`` is ``segment._core_beside`` bound to the click (arterial images only; None when
    no dark core lies beside the click or the core's whole lesion does not hold it)."""
    if not ENABLED or prompt.line is not None:
        return None
    if not isinstance(err, OffLiver) or isinstance(err, NotInLiver):
        return None
    return beside()
