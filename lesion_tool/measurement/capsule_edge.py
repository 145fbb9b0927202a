"""A click at a large lesion's edge where it meets the liver's capsule: look under the click.

A tumour that reaches the liver's surface has liver on its inner side and the capsule, fat, the
diaphragm or the abdominal wall on its outer side. IRCADb's 80 mm tumour 01 (a stress variant
of an arterial HCC) touches the abdominal wall: on the expert mask 74 % of a 1.7 mm shell around
it is liver and 26 % lies outside the liver (muscle and fat, median 69 HU), and the whole lesion
passes segment's surroundings test as it is (refusal below 15 % of the shell like the liver).

What fails there is a click in the last millimetres under the capsule. Its disk reads the
lesion's value averaged with the wall beyond it (133-158 HU for an enhancing body of 160-190 HU),
so the lesion's brighter inside lies above the region's ceiling and the rays stop a few
millimetres from the click: the region is a fragment seen on one slice, 13-19 mm, whose shell is
the tumour's own brighter tissue (58-59 %) and the wall (38-42 %), almost no liver (0-3 %).
segment then refused it as "not surrounded by liver", and the step that measures a cap click
from the same point on the next slices (``capclick.under_cap``) did not look, though it does for
the other refusals a lesion's edge at the liver's surface gives (the click's value is the
liver's, the region lies outside the liver estimate): seed 3 of the stress bench, 01's two
clicks under the wall (73, 113, 180) and (56, 173, 121) were refused on hyper and necrotic core.

Here that refusal is looked under as well (:data:`SURFACE_REFUSALS`): the same in-plane point
on the slices within ``capclick.CAP_MM``, nearest first. Nothing is relaxed for the result: a
new region is kept only under every liver test of its own (surrounded by liver, in the liver,
not running on through the slices, seen on several slices, not low-contrast, not delineated by
texture, holding the clicked point), so a click on a neighbouring organ or a vessel beside the
liver, clicked again under itself, is still that organ and still refused. It is flagged with the
refusal it replaces (:func:`refused_how`).
"""

from __future__ import annotations

from lesion_tool.errors import MeasurementError
from lesion_tool.measurement.offliver import NotInLiver, OffLiver

SURFACE_REFUSALS: tuple[type[MeasurementError], ...] = (OffLiver,)
"""Liver refusals of a click's own region under which the lesion is looked for: not surrounded
by liver (the plain :class:`OffLiver`) and, its subclass, outside the liver estimate
(:class:`NotInLiver`). Both are what a lesion's edge at the liver's surface gives."""


def refused_how(err: MeasurementError | None) -> str:
    """How the click fared, for the note of a result found under it (``err``: its refusal)."""
    if isinstance(err, OffLiver) and not isinstance(err, NotInLiver):
        return "grew a region not surrounded by liver"
    return "reads like the liver"  # the wording of the refusals looked under before
