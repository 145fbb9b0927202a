"""A click on a lesion's end slab whose own region is refused as off the liver (issue 11).

Clicked on the slab where a lesion at the liver's surface ends (its cap), the value read is the
lesion's partial volume with what lies beyond the liver there (fat, bowel, the diaphragm), and
the region grown from it is a thin section whose surroundings are mostly that tissue, not
parenchyma. :func:`~lesion_tool.measurement.segment.measure_lesion` then refused it as "not
surrounded by liver" or "not in the liver" before the step that follows a region widest on its
last slice on beyond it (``reseed.follow_open_end``) could run: IRCADb's tumour 02 (27.8 mm, at
the surface beside the bowel) in 5 mm slabs made hyper-enhancing, clicked on its end slab, was
refused (6 % of the cap's surroundings like parenchyma), and clicked again beyond, one slab
nearer its middle, it measures 25.5 mm.

Here such a refusal is looked at once more: the region is grown again with the two liver
refusals lifted (:func:`off_liver_kept`), and when it is widest on one of its end slices, the
lesion is clicked again beyond it under every rule, liver tests included
(:func:`~lesion_tool.measurement.reseed.follow_open_end`: the same lesion, larger, attenuated
the same way, not running on through the slices). Only that new region is ever returned,
flagged; otherwise the click stays refused as before. A click in a neighbouring organ stays
refused: clicked again beyond, it is still in that organ and refused by the same tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from typing import TYPE_CHECKING

from lesion_tool.errors import LesionToolError, MeasurementError
from lesion_tool.measurement.n05_leftring import core_of_refused
from lesion_tool.measurement.reseed import Measure, follow_open_end

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement, LesionPrompt

CAP_NOTE = (
    "the region at the click itself lies off the liver (a lesion's end slab, or a neighbour?): "
    "the result was found by clicking again beyond it; check that this is the lesion clicked"
)
"""The flag of a result found this way (the first, before reseed's own note)."""

_lifted: ContextVar[bool] = ContextVar("off_liver_lifted", default=False)


class OffLiver(MeasurementError):
    """A region refused because it is not surrounded by, or not in, the liver."""


class NotInLiver(OffLiver):
    """A region refused because it lies outside the liver estimated from the image (a cap at
    the liver's surface averaged with the tissue beyond may read so: ``capclick.under_cap``
    looks under it; a region merely not surrounded by liver is a plain :class:`OffLiver`)."""


def off_liver_kept() -> bool:
    """Whether the liver refusals are lifted (the region is wanted for its shape only)."""
    return _lifted.get()


@contextmanager
def _lift() -> Iterator[None]:
    token = _lifted.set(True)
    try:
        yield
    finally:
        _lifted.reset(token)


def from_cap(
    volume: CTVolume,
    prompt: LesionPrompt,
    phase: object,
    err: MeasurementError,
    measure: Measure,
) -> LesionMeasurement:
    """The lesion found beyond the open end of the refused region at ``prompt``'s click, or
    ``err`` raised again when there is none (a line, no open end, nothing kept beyond)."""
    if prompt.seed is None or prompt.line is not None:
        raise err
    try:
        with _lift():
            cap = measure(volume, prompt, phase)
    except LesionToolError:
        raise err from None
    # A sliver of a necrotic lesion's enhancing rim: the dark core it wraps (n05_leftring.py).
    core = core_of_refused(volume, prompt, phase, cap, measure)
    if core is not None:
        return core
    found = follow_open_end(volume, prompt, phase, cap, measure)
    if found.mask is cap.mask:
        raise err
    return replace(found, flags=(CAP_NOTE, *found.flags))
