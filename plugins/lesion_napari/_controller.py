"""The reading controller: owns the state of a reading in napari and every operation on it.

It holds the core :class:`~lesion_tool.reading.ReadingSession` (one reader, one patient), the
timepoints' layers, the selected lesion, the armed tools and the open proposal; panels call its
operations and subscribe to its topics (:data:`TOPICS`) instead of refreshing one another. It
imports no panel: the layering is panels -> controller -> core. The operations on layers live
in three mixins (:mod:`._study`: images and timepoints, :mod:`._lines`: drawn lines,
:mod:`._click`: the click measurement); this module holds the reading itself.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from napari.utils.notifications import show_error, show_info, show_warning

from lesion_tool.errors import AssessmentError, LesionToolError
from lesion_tool.model import Assessment, Category, Kind, Lesion, LesionState
from lesion_tool.reading import (
    Action,
    ReadingFile,
    ReadingSession,
    SessionEvent,
    find_readings,
)
from lesion_tool.reading.rules import (
    follow_up_template,
    summed_value,
    with_kind,
    with_state,
)
from lesion_tool.storage import load_assessment

from ._click import ClickMixin
from ._followup import FollowUpReading
from ._lines import LinesMixin
from ._study import StudyMixin

SAVE_DIR_ENV = "LESION_TOOL_SAVE_DIR"
"""Environment variable naming the folder of autosaved readings (default ~/lesion-tool)."""
TOPICS = ("study", "timepoint", "assessment", "selection", "proposal", "file", "tools")
"""What panels subscribe to: images / timepoints / warnings, the current timepoint, the
reading, the selected lesion, the click proposal, the reading's file, the armed tools."""
CLICK = "click"
"""The click-measurement action (see :meth:`Controller.why_not`)."""


def default_save_dir() -> Path:
    """Folder of autosaved readings: ``$LESION_TOOL_SAVE_DIR`` or ``~/lesion-tool``."""
    return Path(os.environ.get(SAVE_DIR_ENV) or Path.home() / "lesion-tool")


def resume_latest(found: list[ReadingFile]) -> ReadingFile | None:
    """Without a dialog: resume the newest version of the reader's reading."""
    return found[-1] if found else None


class Controller(StudyMixin, LinesMixin, ClickMixin):
    """State and operations of one reading in a napari viewer (no widgets of its own).

    Parameters
    ----------
    viewer
        The napari viewer whose layers it manages.
    """

    def __init__(self, viewer: Any) -> None:
        self.viewer = viewer
        self.session: ReadingSession | None = None
        self.reader = ""
        """Who is reading (typed before or after a study is opened)."""
        self.current_label: str | None = None
        self.current_lesion_id: str | None = None
        self.pending: Lesion | None = None
        """Identity of a lesion chosen but not yet recorded at the current timepoint."""
        self.fully_viable = False
        """The reader says the selected target has no necrosis: one line fills both criteria."""
        self.whole_line = False
        """The next line drawn is a viable target's whole-lesion diameter (RECIST 1.1)."""
        self.ask_resume: Callable[[list[ReadingFile]], ReadingFile | None] = resume_latest
        """Asked when a reader opens a patient they already read: a file to resume, or None for
        a new version (the widget shows a dialog)."""
        self._topics: dict[str, list[Callable[[], None]]] = defaultdict(list)
        self._quiet = 0
        self._warned: set[str] = set()
        StudyMixin.__init__(self)
        ClickMixin.__init__(self)
        self.follow = FollowUpReading(self)
        """Next target at a follow-up: registration, carried proposal, linked baseline view."""

    # ------------------------------------------------------------------------------ events
    def subscribe(self, topic: str, callback: Callable[[], None]) -> None:
        """Call ``callback()`` whenever ``topic`` (one of :data:`TOPICS`) changes."""
        if topic not in TOPICS:
            raise ValueError(f"Unknown topic {topic!r}; one of {TOPICS}.")
        self._topics[topic].append(callback)

    def unsubscribe(self, topic: str, callback: Callable[[], None]) -> None:
        """Stop calling ``callback`` for ``topic``."""
        if callback in self._topics[topic]:
            self._topics[topic].remove(callback)

    def emit(self, *topics: str) -> None:
        """Tell the subscribers of ``topics`` that they changed."""
        for topic in topics:
            for callback in list(self._topics[topic]):
                callback()

    @contextlib.contextmanager
    def quiet(self) -> Iterator[None]:
        """Edits of the controller's own layers inside this block are not user gestures."""
        self._quiet += 1
        try:
            yield
        finally:
            self._quiet -= 1

    def warn_once(self, text: str) -> None:
        """A warning notification, shown once per controller however often it recurs."""
        if text not in self._warned:
            self._warned.add(text)
            show_warning(text)

    def _on_session_event(self, event: SessionEvent) -> None:
        if event.kind == "assessment":
            self.emit("assessment")
        elif event.kind == "save_failed":
            show_error(f"Autosave failed: {event.error}")
            self.emit("file")
        else:
            self.emit("file")

    # ------------------------------------------------------------------------------ reader, file
    def set_reader(self, reader: str) -> bool:
        """Set who is reading; finds their earlier reading of this patient (resume or new
        version, never overwritten). An empty id, or another reader's id once this reading has
        measurements, is refused with a notification. Returns whether it was set."""
        reader = reader.strip()
        if not reader:
            show_warning("The reader id cannot be empty: enter who is reading (e.g. R1).")
            return False
        s = self.session
        if s is not None and s.reader and reader != s.reader and s.all_lesion_ids():
            show_warning(
                f"This reading is {s.reader}'s; to read as {reader}, open the study again in a "
                "new viewer (each reader has a file of their own)."
            )
            return False
        self.reader = reader
        if s is not None and (reader != s.reader or s.path is None):
            s.set_reader(reader)
            self._bind_file()
        self.emit("file", "selection", "tools")
        return True

    def _bind_file(self) -> None:
        """Give the session its reader's file: resume an earlier reading or a new version."""
        s = self.session
        assert s is not None and s.reader
        folder = default_save_dir()
        found = find_readings(folder, s.patient_id, s.reader)
        choice = self.ask_resume(found) if found else None
        try:
            s.attach(folder, resume=choice)
        except LesionToolError as err:
            show_error(str(err))
            return
        if choice is not None:
            self._match_views()
            self.redraw()
            self.go_to_first_lesion()  # the views may be complete already (see StudyMixin)
            show_info(f"Resumed {choice.describe()}")
        self.emit("study", "assessment", "file")

    def _start_session(self, patient_id: str, treatment_start: dt.date) -> None:
        self.session = ReadingSession(
            Assessment(patient_id=patient_id, treatment_start=treatment_start)
        )
        self.session.subscribe(self._on_session_event)

    def save(self, path: str | os.PathLike[str] | None = None) -> Path | None:
        """Save the reading now (atomically); ``path`` (chosen by the reader, who confirmed
        any overwrite) becomes its file."""
        if self.session is None:
            show_error("There is nothing to save yet: open a study first.")
            return None
        try:
            if path is not None:
                self.session.set_file(Path(path), owns_file=True)
            out = self.session.save()
        except (LesionToolError, OSError, ValueError) as err:
            show_error(f"Could not save the assessment: {err}")
            return None
        return out

    def open_assessment(self, path: str | os.PathLike[str]) -> None:
        """Open a saved assessment (it becomes the file saved to) and put its lines back."""
        try:
            assessment = load_assessment(Path(path))
        except LesionToolError as err:
            show_error(str(err))
            return
        if self.session is not None and self.session.patient_id != assessment.patient_id:
            show_warning(
                f"{path}: patient {assessment.patient_id!r} differs from the open images "
                f"({self.session.patient_id!r})."
            )
        if self.session is None:
            self.session = ReadingSession(assessment, Path(path), owns_file=True)
            self.session.subscribe(self._on_session_event)
        else:
            self.session.set_file(Path(path), owns_file=True)
            self.session.replace(assessment, undoable=False)
        self.reader = assessment.reader
        self._match_views()
        self.redraw()
        self.emit("study", "timepoint", "assessment", "selection", "file", "tools")

    def set_treatment_start(self, date: dt.date) -> bool:
        """Set the treatment start; a date after every scan is refused with a notification."""
        if self.session is None:
            return False
        try:
            self.session.set_treatment_start(date)
        except AssessmentError as err:
            show_warning(str(err))
            self.emit("assessment")  # the field goes back to the stored date
            return False
        return True

    # ------------------------------------------------------------------------------ allowed
    def why_not(self, action: str) -> str | None:
        """Why ``action`` (an :class:`~lesion_tool.reading.Action` or :data:`CLICK`) is not
        possible now, in words for a tooltip; None when it is."""
        if self.session is None or self.current_label is None:
            return "Open a study first (Open study… or File > Open Folder)."
        if self.current_label not in self.session.labels:
            return "The current timepoint is not part of the reading."
        core = Action.MEASURE if action == CLICK else action
        return self.session.why_not(core, self.current_label)

    def _refused(self, action: str) -> bool:
        why = self.why_not(action)
        if why is not None:
            show_warning(why)
        return why is not None

    # ------------------------------------------------------------------------------ lesions
    def current_lesion(self) -> Lesion | None:
        """The selected lesion here (recorded, or waiting for its first line)."""
        if not (self.session and self.current_label and self.current_lesion_id):
            return None
        here = self.session.timepoint(self.current_label).lesion(self.current_lesion_id)
        return here if here is not None else self.pending

    def new_lesion(self, category: Category, **identity: Any) -> Lesion | None:
        """Start a lesion of ``category`` here (refused with a reason where it is invalid).

        A target waits for its line (line mode is armed); a non-target (present) or a new lesion
        (unequivocal) is recorded at once. ``identity``: organ, location, kind, type, flags.
        """
        action = {
            Category.TARGET: Action.NEW_TARGET,
            Category.NON_TARGET: Action.NEW_NON_TARGET,
            Category.NEW: Action.NEW_LESION,
        }[Category(category)]
        if self._refused(action):
            return None
        assert self.session is not None and self.current_label is not None
        lesion_id = self.session.next_id(category)
        organ = identity.pop("organ", None) or "liver"
        state = {
            Category.TARGET: LesionState.MEASURED,
            Category.NON_TARGET: LesionState.PRESENT,
            Category.NEW: LesionState.UNEQUIVOCAL,
        }[category]
        if category is Category.TARGET:
            identity.setdefault("kind", Kind.VIABLE)
        else:
            identity.pop("kind", None)
        lesion = Lesion(lesion_id, category, state, organ, **identity)
        self.current_lesion_id = lesion_id
        if category is Category.TARGET:
            self.pending = lesion
            self.arm_line()
        else:
            self.pending = None
            self.session.set_lesion(self.current_label, lesion)
            self.redraw()
        self.emit("selection")
        return lesion

    def select_lesion(self, lesion_id: str | None) -> None:
        """Make a lesion current (at a follow-up, one of the earlier lesions to re-measure)."""
        self.current_lesion_id = lesion_id
        self.pending = None
        s, label = self.session, self.current_label
        if lesion_id and s and label and s.timepoint(label).lesion(lesion_id) is None:
            identity = s.identity(label, lesion_id)
            if identity is not None:
                self.pending = follow_up_template(identity)
        self.emit("selection")

    def next_lesion(self) -> None:
        """Select the next lesion of the table and go to it."""
        if not self.session or not self.current_label:
            return
        ids = self.session.lesion_ids(self.current_label)
        if ids:
            i = ids.index(self.current_lesion_id) + 1 if self.current_lesion_id in ids else 0
            self.select_lesion(ids[i % len(ids)])
            self.go_to_lesion()
            self.follow.lesion_reached()

    def remove_current_lesion(self) -> None:
        """Remove the current lesion's reading at this timepoint (undoable)."""
        if self.session and self.current_label and self.current_lesion_id:
            self.session.remove_lesion(self.current_label, self.current_lesion_id)
            self.pending = None
            self.redraw()
            self.emit("selection")

    def rename_current_lesion(self, new_id: str) -> bool:
        """Rename the selected lesion at every timepoint; a clash is a notification."""
        lesion = self.current_lesion()
        if lesion is None or self.session is None:
            show_info("Select a lesion in the table first.")
            return False
        old_id = lesion.id
        try:
            new_id = self.session.check_new_id(old_id, new_id)
            if new_id == old_id:
                return False
            if old_id in self.session.all_lesion_ids():
                self.session.rename_lesion(old_id, new_id)
        except AssessmentError as err:
            show_warning(str(err))
            self.emit("selection")
            return False
        if self.pending is not None and self.pending.id == old_id:
            self.pending = dataclasses.replace(self.pending, id=new_id)
        self.rename_proposal(old_id, new_id)
        self.current_lesion_id = new_id
        self.redraw()
        self.emit("selection")
        return True

    def edit_current(self, *, record: bool = False, **changes: Any) -> None:
        """Change the selected lesion's identity or state (form fields), with the core's rules
        for a new kind or a state without diameter. A lesion not recorded here yet is recorded
        by ``record`` ("Record state here"), or once its line is drawn."""
        lesion = self.current_lesion()
        if lesion is None or self.session is None or self.current_label is None:
            return
        kind = changes.pop("kind", None)
        state = changes.pop("state", None)
        new = dataclasses.replace(lesion, **changes)
        if kind is not None and new.category is Category.TARGET:
            new = with_kind(new, Kind(kind))
        if state is not None:
            new = with_state(new, LesionState(state))
        here = self.session.timepoint(self.current_label).lesion(lesion.id)
        if here is None:
            waits = new.category is Category.TARGET and new.state is LesionState.MEASURED
            if waits or (not record and new.category is not Category.TARGET):
                self.pending = new  # waits for its line, or for "Record state here"
                self.emit("selection")
                return
        measured = new.category is Category.TARGET and new.state is LesionState.MEASURED
        if record and measured and summed_value(new) is None:
            show_warning(f"{new.id}: draw its diameter (or click in it) to record it measured.")
            return
        if new == here:
            return
        try:
            self.session.set_lesion(self.current_label, new)
        except AssessmentError as err:
            show_warning(str(err))
            return
        self.pending = None
        self.redraw()
        self.emit("selection")

    def undo(self) -> None:
        """Undo the last change to the reading (a measurement, a state, a new lesion)."""
        if self.session is None:
            show_info("Nothing to undo.")
            return
        before = self.session.all_lesion_ids()
        if not self.session.undo():
            show_info("Nothing to undo.")
            return
        after = self.session.all_lesion_ids()
        gone, back = before - after, after - before
        if len(gone) == 1 and len(back) == 1 and self.current_lesion_id in gone:
            self.current_lesion_id = back.pop()  # a rename was undone: keep the lesion selected
        self.redraw()
        self.emit("selection")

    def escape(self) -> None:
        """Esc: cancel an armed click or line or contour editing, else a waiting proposal."""
        if self.click_armed or self.line_armed() or self.editing():
            self.disarm()
        elif self.proposal is not None:
            self.reject_proposal()
