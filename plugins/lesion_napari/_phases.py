"""Arterial and portal-venous of one visit side by side, linked through their registration.

To judge washout the reader compares the lesion on the series measured on (arterial) with
another phase of the same visit (portal-venous), which the patient breathed differently for:
the other phase is registered to the measured series (the core's registration, in a worker; one
registration at a time with the follow-up reading's, whose worker slot and linked canvas this
reuses), shown on the linked canvas, and the two canvases are linked through the mapping as for
a follow-up. No rule lives here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from napari.qt.threading import thread_worker
from napari.utils.notifications import show_info

from lesion_tool.errors import LesionToolError

from ._click import Failed
from ._layers import META_KEY, DisplayGeometry, materialised, volume_from_layer
from ._views import TimepointView

if TYPE_CHECKING:
    from ._followup import FollowUpReading

__all__ = ["PhaseLinking", "other_phase"]

PREFERRED = ("portal_venous", "delayed", "non_contrast")
"""Which other series of a visit is linked first (the washout phase, then the others)."""


def other_phase(view: TimepointView) -> TimepointView | None:
    """Another series of ``view``'s study (its hidden layers) as a view of its own: the
    portal-venous one first (:data:`PREFERRED`); None when the study has no other series."""

    def phase(layer: Any) -> str:
        return str((layer.metadata.get(META_KEY) or {}).get("phase") or "")

    others = [layer for layer in view.others if phase(layer) != phase(view.image)]
    if not others:
        return None
    rank = {name: i for i, name in enumerate(PREFERRED)}
    layer = min(others, key=lambda lay: rank.get(phase(lay), len(rank)))
    volume = volume_from_layer(layer)
    label = f"{view.label} {phase(layer).replace('_', '-') or 'other series'}"
    return TimepointView(label, view.date, volume, DisplayGeometry.from_volume(volume), layer)


class PhaseLinking:
    """Links the measured series of the current timepoint with another phase of its visit.

    Parameters
    ----------
    follow
        The controller's follow-up reading (its canvas, link and worker slot are shared).
    """

    def __init__(self, follow: FollowUpReading) -> None:
        self.f = follow
        self.registrations: dict[tuple[str, str], Any] = {}
        """Registrations (measured series -> other phase) by both series' UIDs."""

    def link_phases(self) -> None:
        """Show the current timepoint's other phase beside it, linked (registering it first)."""
        f = self.f
        c = f.c
        view = c.current_view
        other = other_phase(view) if view is not None else None
        if view is None or other is None:
            show_info("This timepoint has no other phase to compare with (open its study).")
            return
        f.show_in_canvas(other, f"{other.label} · {other.image.name} (linked)")
        pair = (view.volume.series_instance_uid, other.volume.series_instance_uid)
        if pair in self.registrations:
            self._apply(pair, view, other)
            return
        if f.busy:
            f._say("A registration is running; link the phases again when it has finished.")
            return
        self._start(pair, view, other)

    def _start(self, pair: tuple[str, str], view: TimepointView, other: TimepointView) -> None:
        from lesion_tool.registration.register import STAGES, iter_register_series

        f = self.f
        lazy_fixed, lazy_moving = view.volume, other.volume
        what = f"{other.label} to {view.label}"

        @thread_worker(progress={"total": len(STAGES), "desc": f"Registering {what}"})
        def work() -> Any:
            try:
                fixed, moving = materialised(lazy_fixed), materialised(lazy_moving)
                registration = yield from iter_register_series(fixed, moving)
            except LesionToolError as err:
                return Failed(err)
            except RuntimeError as err:  # SimpleITK could not register
                last = str(err).strip().splitlines()[-1][:200]
                return Failed(LesionToolError(f"The registration of {what} failed: {last}"))
            return registration

        def done(returned: Any) -> None:
            f._worker = f._running = None
            if isinstance(returned, Failed):
                f._failed(returned.error)
            else:
                self.registrations[pair] = returned
                if f.c.current_view is view:
                    self._apply(pair, view, other)
            if f.wanted is not None:
                f._arrive()  # a follow-up target asked for meanwhile

        worker = work()
        worker.yielded.connect(lambda stage: f._say(f"Registering {what}: {stage}…"))
        worker.returned.connect(done)
        worker.errored.connect(f._on_error)
        f._worker, f._running = worker, pair
        f._say(f"Registering {what}… (you can keep reading)")
        worker.start()

    def _apply(self, pair: tuple[str, str], view: TimepointView, other: TimepointView) -> None:
        f = self.f
        f._link(self.registrations[pair], view, other, main_shows_fixed=True)
        if f.link is not None:
            f.link.carry_view(f.c.viewer)
        f._say(f"{view.label}: {view.image.name} linked with {other.image.name} (washout).")
