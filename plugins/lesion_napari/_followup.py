"""Follow-up reading: *Next target* at a follow-up finds the baseline target again.

The follow-up is registered to the baseline (the core's :mod:`lesion_tool.registration`, in a
napari ``thread_worker`` with a progress bar, once per pair of series: the result is kept in
memory and in the reading's sidecar ``<reading>.registration.json``, which the ``propagate``
command shares). Every baseline target is then mapped to the follow-up with the core's checks.
When the reader reaches a target:

- the main canvas (the follow-up) goes to the mapped point, and a second canvas beside it
  (:class:`~._linked.LinkedCanvas`) shows the baseline at the baseline lesion; the two are linked
  through the registration (:class:`~._linked.ViewLink`): slice, pan, zoom and cursor of one move
  the other to the matching anatomy;
- a target found with confidence gets its proposal through the controller's own click
  measurement (:meth:`_propose`, the one call), to accept, correct or reject as any proposal;
- a target the checks flag gets no proposal: the reasons are shown in words, and the reader
  looks for it (or marks it absent / not evaluable, as always).

The worker only registers and maps (SimpleITK and numpy): the measurement runs afterwards in the
controller's own worker, so two threads never work in scipy.ndimage at once, and only one
registration worker runs at a time (a request made meanwhile waits for it). The reader keeps
working while it runs. Rules live in the core; this module only wires them to the viewer.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from napari.qt.threading import thread_worker
from napari.utils.notifications import show_error, show_warning

from lesion_tool.errors import LesionToolError

from ._click import Failed
from ._layers import is_lazy, materialised
from ._linked import LinkedCanvas, ViewLink, cursor_layer, move_to
from ._phases import PhaseLinking
from ._views import TimepointView

if TYPE_CHECKING:
    from lesion_tool.registration.propagate import Proposal, Target
    from lesion_tool.registration.register import Registration

    from ._controller import Controller

__all__ = ["Carried", "FollowUpReading", "pair_of", "target_centre", "world_maps"]

Pair = tuple[str, str]
"""(baseline SeriesInstanceUID, follow-up SeriesInstanceUID)."""

STAGE_TEXT = {
    "prepare": "preparing the images",
    "rigid": "rigid alignment",
    "affine": "affine alignment",
    "bspline": "deformable alignment",
    "cached": "registration already known (this reading or its registration file)",
    "propagate": "carrying the targets over",
}


@dataclass
class Carried:
    """A follow-up registered to the baseline and its targets carried over."""

    registration: Registration
    proposals: dict[str, Proposal]
    """Core proposals (mapping and checks; measured later by the controller) by target id."""
    cached: bool


@dataclass(frozen=True)
class _Done:
    pair: Pair
    carried: Carried
    volumes: tuple[Any, Any, Any, Any]
    """(lazy baseline, its pixels, lazy follow-up, its pixels): the views take the read ones."""


def pair_of(base: TimepointView, follow_up: TimepointView) -> Pair:
    """The key of a registration: both series' UIDs."""
    return (base.volume.series_instance_uid, follow_up.volume.series_instance_uid)


def world_maps(
    registration: Registration, base: TimepointView, follow_up: TimepointView
) -> tuple[Any, Any]:
    """World-point maps ``(baseline -> follow-up, follow-up -> baseline)`` of a registration.

    Each goes world (S, P, L) mm -> voxel -> LPS of one series, through the registration (its
    inverse for follow-up -> baseline), then LPS -> voxel -> world of the other series.
    """

    def base_to_fu(world: np.ndarray) -> np.ndarray:
        lps = base.volume.index_to_patient(base.geometry.world_to_voxel(np.asarray(world)))
        mapped = registration.map_points([lps])[0]
        return follow_up.geometry.voxel_to_world(follow_up.volume.patient_to_index(mapped))

    def fu_to_base(world: np.ndarray) -> np.ndarray:
        lps = follow_up.volume.index_to_patient(
            follow_up.geometry.world_to_voxel(np.asarray(world))
        )
        mapped = registration.map_points_back([lps])[0]
        return base.geometry.voxel_to_world(base.volume.patient_to_index(mapped))

    return base_to_fu, fu_to_base


def target_centre(target: Target) -> np.ndarray:
    """A baseline target's centre (voxel ``(z, y, x)``): its whole-lesion line's middle, else its
    primary line's, else its seed."""
    for name in ("longest_line", "line"):
        if name in target.lines:
            start, end = target.lines[name]
            return (np.asarray(start, float) + np.asarray(end, float)) / 2.0
    return np.asarray(target.seed_zyx, dtype=float)


class FollowUpReading:
    """Registration, propagation and linked views of the controller's follow-up reading.

    Parameters
    ----------
    controller
        The reading controller (its views, session, proposal flow).
    """

    def __init__(self, controller: Controller) -> None:
        self.c = controller
        self.settings: Any = None
        """:class:`~lesion_tool.registration.RegistrationSettings` (defaults when None)."""
        self.carried: dict[Pair, Carried] = {}
        self.wanted: tuple[str, str] | None = None
        """(follow-up label, lesion id) the reader is at, waiting for its registration."""
        self.status = ""
        """What the follow-up reading says now (progress, a flag in words), shown on the
        linked canvas."""
        self.canvas: LinkedCanvas | None = None
        self.link: ViewLink | None = None
        self.linked_label: str | None = None
        self._worker: Any = None
        self._running: Pair | None = None
        self._cursor: Any = None
        self.phases = PhaseLinking(self)
        """Another phase of the current visit, linked (washout): ``phases.link_phases()``."""
        controller.subscribe("timepoint", self._on_timepoint)

    # ------------------------------------------------------------------------------ entry
    def lesion_reached(self, lesion_id: str | None = None) -> None:
        """The reader went to a lesion (Next target): at a follow-up, carry it from baseline."""
        c = self.c
        s, label = c.session, c.current_label
        lesion_id = lesion_id or c.current_lesion_id
        if not (s and label and lesion_id) or label not in s.labels or s.index_of(label) == 0:
            return
        base_label = s.labels[0]
        base, fu = c.views.get(base_label), c.views.get(label)
        if base is None or fu is None:
            return
        self.wanted = (label, lesion_id)
        if c.side_by_side:
            c.set_side_by_side(False)  # the linked canvas replaces the same-point grid here
        self._show_baseline(base)
        pair = pair_of(base, fu)
        if pair in self.carried:
            self._arrive()
        else:
            self._start(base, fu)

    def ready(self, label: str) -> bool:
        """Whether the follow-up ``label`` is registered to the baseline (in this reading)."""
        c = self.c
        if not c.session or label not in c.views:
            return False
        base = c.views.get(c.session.labels[0])
        return base is not None and pair_of(base, c.views[label]) in self.carried

    @property
    def busy(self) -> bool:
        """A registration is running."""
        return self._worker is not None

    # ------------------------------------------------------------------------------ worker
    def _start(self, base: TimepointView, fu: TimepointView) -> None:
        """Register ``fu`` to ``base`` in a worker (one at a time; a later request waits)."""
        if self._worker is not None:  # one worker at a time: this one starts when it ends
            then = "" if self._running == pair_of(base, fu) else f" (then {fu.label})"
            self._say(f"Registering {self._running_label()}…{then}")
            return
        # SimpleITK (~0.4 s to import) only once a follow-up is read
        from lesion_tool.registration import cache
        from lesion_tool.registration.propagate import propagate_targets, targets_of
        from lesion_tool.registration.register import (
            STAGES,
            RegistrationSettings,
            iter_register_series,
        )

        c = self.c
        assert c.session is not None
        pair = pair_of(base, fu)
        base_tp = c.session.timepoint(base.label)
        targets = targets_of(base_tp, base.volume)
        focus = (
            base.volume.index_to_patient(np.array([t.seed_zyx for t in targets]))
            if targets
            else None
        )
        sidecar = cache.sidecar_path(c.session.path) if c.session.path else None
        key = cache.pair_key(
            pair[0],
            pair[1],
            cache.volume_signature(base.volume),
            cache.volume_signature(fu.volume),
            self.settings or RegistrationSettings(),
            focus,
        )
        settings = self.settings or RegistrationSettings()
        known = self.carried.pop(pair, None)  # targets changed: map again, do not register
        base_lazy, fu_lazy = base.volume, fu.volume
        what = f"{fu.label} to {base.label}"

        @thread_worker(progress={"total": len(STAGES) + 1, "desc": f"Registering {what}"})
        def work() -> Any:
            try:
                base_vol = materialised(base_lazy)  # a lazy layer is read once, here
                fu_vol = materialised(fu_lazy)
                registration = known.registration if known is not None else None
                if registration is None and sidecar is not None:
                    registration = cache.read_cached(sidecar, key)
                cached = registration is not None
                if registration is None:
                    registration = yield from iter_register_series(
                        base_vol, fu_vol, focus_lps=focus, settings=settings
                    )
                    if sidecar is not None:
                        cache.store(sidecar, key, registration)
                else:
                    yield "cached"
                yield "propagate"
                props = propagate_targets(registration, base_vol, fu_vol, targets, measure=False)
            except LesionToolError as err:  # user-fixable: a notification, not a traceback
                return Failed(err)
            except RuntimeError as err:  # SimpleITK could not register (e.g. no overlap)
                last = str(err).strip().splitlines()[-1][:200]
                return Failed(LesionToolError(f"The registration of {what} failed: {last}"))
            carried = Carried(registration, {p.lesion_id: p for p in props}, cached)
            return _Done(pair, carried, (base_lazy, base_vol, fu_lazy, fu_vol))

        worker = work()
        worker.yielded.connect(lambda stage: self._say(f"Registering {what}: {STAGE_TEXT[stage]}…"))
        worker.returned.connect(self._on_done)
        worker.errored.connect(self._on_error)
        self._worker, self._running = worker, pair
        self._say(f"Registering {what}… (you can keep reading)")
        worker.start()

    def _running_label(self) -> str:
        for label, view in self.c.views.items():
            if self._running and view.volume.series_instance_uid == self._running[1]:
                return label
        return "a follow-up"

    def _on_done(self, returned: Any) -> None:
        self._worker = self._running = None
        if isinstance(returned, Failed):
            self._failed(returned.error)
            return
        self.carried[returned.pair] = returned.carried
        base_lazy, base_vol, fu_lazy, fu_vol = returned.volumes
        for view in self.c.views.values():  # keep the pixels read in the worker
            if view.volume is base_lazy and is_lazy(base_lazy):
                view.volume = base_vol
            if view.volume is fu_lazy and is_lazy(fu_lazy):
                view.volume = fu_vol
        self._arrive()

    def _on_error(self, err: Exception) -> None:
        self._worker = self._running = None
        self._failed(err)

    def _failed(self, err: Exception) -> None:
        text = str(err) if isinstance(err, LesionToolError) else f"{type(err).__name__}: {err}"
        self._say(f"No registration: {text}")
        show_error(text if isinstance(err, LesionToolError) else f"The registration failed: {text}")

    # ------------------------------------------------------------------------------ arrival
    def _arrive(self) -> None:
        """Show the wanted lesion: views linked and moved, proposal or flag."""
        c = self.c
        if self.wanted is None or c.session is None:
            return
        label, lesion_id = self.wanted
        base_label = c.session.labels[0]
        base, fu = c.views.get(base_label), c.views.get(label)
        if base is None or fu is None:
            return
        pair = pair_of(base, fu)
        carried = self.carried.get(pair)
        if carried is None:  # a later follow-up was asked for while another registered
            self._start(base, fu)
            return
        if (c.current_label, c.current_lesion_id) != (label, lesion_id):
            return  # the reader moved on meanwhile; the next arrival links the views
        self.wanted = None
        self._link(carried.registration, base, fu)
        prop = carried.proposals.get(lesion_id)
        if prop is None and any(t.lesion_id == lesion_id for t in self._targets()):
            self.wanted = (label, lesion_id)  # a target added since: map the targets again
            self._start(base, fu)
            return
        recorded = c.session.timepoint(label).lesion(lesion_id)
        where = f"{lesion_id} carried from {base_label} to {label}"
        if prop is None or recorded is not None:
            # the main canvas is where Go to put it (a recorded line, a non-target): follow it
            if self.link is not None:
                self.link.carry_view(c.viewer)
            self._say(
                f"{where}: already recorded here (its line is shown)."
                if prop is not None
                else f"{lesion_id} is not a baseline target: the views follow each other."
            )
            return
        base_world = base.geometry.voxel_to_world(target_centre(self._target(prop)))
        fu_world = fu.geometry.voxel_to_world(np.asarray(prop.seed_zyx, dtype=float))
        zoom = c.viewer.camera.zoom
        with self._placing():  # both placed exactly; neither is carried from the other
            move_to(c.viewer, fu_world, zoom)
            if self.canvas is not None:
                move_to(self.canvas.model, base_world, zoom)
        if prop.status != "proposed":
            text = f"{lesion_id} was not found with confidence at {label}: " + "; ".join(
                prop.reasons
            )
            self._say(text + ". Look for it, or mark it absent / not evaluable.")
            show_warning(text)
        else:
            self._say(f"{where} (confidence {prop.confidence:.2f}): accept, correct or reject.")
            self._propose(fu, prop)

    def _placing(self) -> Any:
        """A block in which moving a canvas is not carried to the other."""
        return self.link.holding() if self.link is not None else contextlib.nullcontext()

    def _propose(self, fu: TimepointView, prop: Proposal) -> None:
        """THE call into the controller's proposal flow: measure at the carried seed with the
        carried baseline line, the core's prompt (``prompt_line``, as ``measure_proposal`` and
        the ``propagate`` command use it)."""
        from lesion_tool.registration.propagate import prompt_line

        line = prompt_line(prop.lines, prop.seed_zyx, fu.volume.shape)
        world = fu.geometry.voxel_to_world(np.asarray(prop.seed_zyx, dtype=float))
        self.c.measure_at(world, line_zyx=line)

    def _targets(self) -> list[Target]:
        """The baseline targets as the core carries them (seed and lines)."""
        from lesion_tool.registration.propagate import targets_of

        c = self.c
        assert c.session is not None
        base_label = c.session.labels[0]
        return targets_of(c.session.timepoint(base_label), c.views[base_label].volume)

    def _target(self, prop: Proposal) -> Target:
        from lesion_tool.registration.propagate import Target

        for target in self._targets():
            if target.lesion_id == prop.lesion_id:
                return target
        return Target(prop.lesion_id, tuple(prop.baseline_seed_zyx))  # type: ignore[arg-type]

    # ------------------------------------------------------------------------------ canvas
    def _say(self, text: str) -> None:
        self.status = text
        if self.canvas is not None:
            self.canvas.status.setText(text)

    def _show_baseline(self, base: TimepointView) -> None:
        """The linked canvas shows the baseline image and its lines (read-only copies)."""
        assert self.c.session is not None
        lesions = self.c.session.timepoint(base.label).lesions
        self.show_in_canvas(base, f"Baseline · {base.label} · {base.image.name}", lesions)

    def show_in_canvas(self, view: TimepointView, header: str, lesions: Any = ()) -> None:
        """Show a timepoint's (or another series') image on the linked canvas, made on first use
        (none without a napari window), with ``lesions``' lines (read-only copies)."""
        c = self.c
        if getattr(c.viewer, "window", None) is None:
            return
        if self.canvas is None:
            self.canvas = LinkedCanvas(c.viewer, "Linked view", on_close=self._canvas_closed)
        self.canvas.show()
        self.canvas.show_view(view, lesions)
        self.canvas.header.setText(header)
        if self.status:
            self.canvas.status.setText(self.status)

    def _link(
        self,
        registration: Registration,
        base: TimepointView,
        fu: TimepointView,
        *,
        main_shows_fixed: bool = False,
    ) -> None:
        """Link the main canvas and the linked one through ``registration`` (``base`` -> ``fu``).

        The main canvas shows ``fu`` (a follow-up; the canvas the baseline), or ``base`` with
        ``main_shows_fixed`` (a measured series; the canvas another phase of its visit)."""
        c = self.c
        if self.canvas is None:
            return
        if self.link is not None:
            self.link.close()
        forward, back = world_maps(registration, base, fu)
        main, maps = (base, (forward, back)) if main_shows_fixed else (fu, (back, forward))
        self.link = ViewLink(
            c.viewer,
            self.canvas.model,
            *maps,
            cursor_a=self._main_cursor(main),
            cursor_b=self.canvas.cursor,
        )
        self.linked_label = c.current_label

    def _main_cursor(self, fu: TimepointView) -> Any:
        """The linked-cursor mark in the main viewer, over the follow-up's image (made once per
        image geometry; the active layer kept)."""
        viewer = self.c.viewer
        kwargs = fu.geometry.layer_kwargs()
        mark = self._cursor
        if mark is not None and mark in viewer.layers:
            if tuple(mark.scale) == tuple(kwargs["scale"]):
                mark.translate = kwargs["translate"]
                return mark
            viewer.layers.remove(mark)
        active = viewer.layers.selection.active
        with self.c.quiet():
            self._cursor = cursor_layer(viewer, kwargs)
        if active is not None:
            viewer.layers.selection.active = active
        return self._cursor

    def _canvas_closed(self) -> None:
        """The window closed: forget the canvas and the link."""
        if self.link is not None:
            self.link.close()
        self.link = self.canvas = None
        self.linked_label = None

    def _on_timepoint(self) -> None:
        """Another timepoint: the link holds for one follow-up only."""
        if self.link is not None and self.c.current_label != self.linked_label:
            self.link.close()
            self.link = None
            self.linked_label = None
            for mark in (self._cursor, self.canvas.cursor if self.canvas else None):
                if mark is not None:
                    mark.visible = False
            self._say("Not linked: Next target (⇧N) at a follow-up links the views again.")
