"""One reader's reading of one patient being edited: checked edits, undo, atomic saves, events.

GUI-free (a test checks the core never imports Qt or napari). A user interface turns gestures
into calls on a :class:`ReadingSession` and subscribes to its :class:`SessionEvent` s instead of
refreshing itself after each call. The session edits the frozen
:class:`~lesion_tool.model.Assessment` by replacement and refuses, with a reason, edits that would
make an invalid reading (a new lesion at baseline, a target or non-target first seen at a
follow-up, a measurement before the reader is known, a treatment date after every scan);
:meth:`ReadingSession.why_not` says in advance which actions would be refused, so a user
interface can disable them with the reason as a tooltip. Saves are atomic
(:func:`~lesion_tool.storage.save_assessment`), stamped with who and when, and never overwrite a
file the session did not open or write itself.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lesion_tool.errors import AssessmentError
from lesion_tool.model import Assessment, Category, Lesion, Timepoint
from lesion_tool.reading.files import ReadingFile, new_reading_path
from lesion_tool.storage.audit import save_audited

__all__ = [
    "ID_PREFIX",
    "Action",
    "EarlierValue",
    "ReadingError",
    "ReadingSession",
    "SessionEvent",
]

ID_PREFIX = {Category.TARGET: "T", Category.NON_TARGET: "NT", Category.NEW: "N"}
"""Lesion ids are the category prefix and a number: T1, NT1, N1."""

UNDO_DEPTH = 50


class ReadingError(AssessmentError):
    """An edit the session refuses because it would make the reading invalid (says why)."""


class Action:
    """Names of the actions :meth:`ReadingSession.why_not` can check."""

    NEW_TARGET = "new_target"
    NEW_NON_TARGET = "new_non_target"
    NEW_LESION = "new_lesion"
    MEASURE = "measure"


@dataclass(frozen=True)
class SessionEvent:
    """What changed: ``"assessment"`` (an edit or undo), ``"saved"``, ``"save_failed"``
    (``error`` says why) or ``"file"`` (the session now saves to another file)."""

    kind: str
    error: Exception | None = None


@dataclass(frozen=True)
class EarlierValue:
    """A lesion's reading at an earlier timepoint (shown at follow-up)."""

    label: str
    lesion: Lesion


class ReadingSession:
    """One reader's assessment being edited, with an undo stack, autosave and events.

    Parameters
    ----------
    assessment
        The starting assessment (may have no timepoints yet).
    path
        Where to save. None: nothing is saved until a file is chosen (see :meth:`set_file`).
    owns_file
        Whether ``path`` may be overwritten: True when ``assessment`` was loaded from it. A new
        session never overwrites an existing file (that would lose a saved reading).
    """

    def __init__(
        self, assessment: Assessment, path: Path | None = None, *, owns_file: bool = False
    ) -> None:
        self._assessment = assessment
        self.path = Path(path) if path is not None else None
        self._owns_file = owns_file
        self.autosave = True
        self._undo: list[Assessment] = []
        self.last_save_error: Exception | None = None
        self._listeners: list[Callable[[SessionEvent], None]] = []
        self._saved: Assessment | None = assessment if owns_file else None

    # -- events --------------------------------------------------------------------------------
    def subscribe(self, callback: Callable[[SessionEvent], None]) -> None:
        """Call ``callback(event)`` after every change, save or failed save."""
        self._listeners.append(callback)

    def unsubscribe(self, callback: Callable[[SessionEvent], None]) -> None:
        """Stop calling ``callback``."""
        if callback in self._listeners:
            self._listeners.remove(callback)

    def _emit(self, kind: str, error: Exception | None = None) -> None:
        event = SessionEvent(kind, error)
        for callback in list(self._listeners):
            callback(event)

    # -- state ---------------------------------------------------------------------------------
    @property
    def assessment(self) -> Assessment:
        """The current assessment (frozen; replaced by every edit)."""
        return self._assessment

    @property
    def labels(self) -> list[str]:
        """Timepoint labels in order (baseline first)."""
        return [tp.label for tp in self._assessment.timepoints]

    def timepoint(self, label: str) -> Timepoint:
        """The timepoint with this label (KeyError if there is none)."""
        for tp in self._assessment.timepoints:
            if tp.label == label:
                return tp
        raise KeyError(f"No timepoint {label!r} in the assessment of {self.patient_id}.")

    def index_of(self, label: str) -> int:
        """Position of a timepoint (0 = baseline)."""
        return self.labels.index(label)

    @property
    def patient_id(self) -> str:
        """The assessed patient."""
        return self._assessment.patient_id

    @property
    def reader(self) -> str:
        """Who is reading ('' until set)."""
        return self._assessment.reader

    # -- what is allowed -----------------------------------------------------------------------
    def why_not(self, action: str, label: str | None) -> str | None:
        """Why ``action`` (an :class:`Action`) is refused at timepoint ``label`` now, or None."""
        if label is None or label not in self.labels:
            return "Open a study first."
        if not self.reader.strip():
            return "Enter your reader id first (Study panel): each reading is saved per reader."
        follow_up = self.index_of(label) > 0
        if action in (Action.NEW_TARGET, Action.NEW_NON_TARGET) and follow_up:
            word = "Targets" if action == Action.NEW_TARGET else "Non-targets"
            return (
                f"{word} are chosen at baseline; at a follow-up record a new lesion, or select "
                "an earlier lesion to re-measure."
            )
        if action == Action.NEW_LESION and not follow_up:
            return "New lesions appear after baseline; at baseline add a target or non-target."
        return None

    def allowed(self, label: str | None) -> dict[str, str | None]:
        """Every :class:`Action` with the reason it is refused at ``label`` (None: allowed)."""
        names = (Action.NEW_TARGET, Action.NEW_NON_TARGET, Action.NEW_LESION, Action.MEASURE)
        return {name: self.why_not(name, label) for name in names}

    def check_lesion(self, label: str, lesion: Lesion) -> None:
        """Raise :class:`ReadingError` if recording ``lesion`` at ``label`` makes it invalid."""
        if not self.reader.strip():
            raise ReadingError(
                "Enter your reader id before the first measurement: each reading is saved per "
                "reader."
            )
        i = self.index_of(label)
        if lesion.category is Category.NEW and i == 0:
            raise ReadingError(
                f"{lesion.id}: a new lesion cannot be recorded at baseline; new lesions appear "
                "only after it (add a target or non-target instead)."
            )
        if i > 0 and lesion.category is not Category.NEW:
            first = self._assessment.timepoints[0].lesion(lesion.id)
            if first is None or first.category is not lesion.category:
                word = "target" if lesion.category is Category.TARGET else "non-target"
                raise ReadingError(
                    f"{lesion.id}: a {word} must be chosen at baseline; at {label} record a "
                    "new lesion instead (targets and non-targets are fixed at baseline)."
                )
        if lesion.category is Category.NEW:
            first = self._assessment.timepoints[0].lesion(lesion.id)
            if first is not None:
                raise ReadingError(
                    f"{lesion.id} is a baseline lesion; a new lesion needs its own id."
                )

    # -- edits ---------------------------------------------------------------------------------
    def _commit(self, new: Assessment, *, undoable: bool = True) -> None:
        if undoable:
            self._undo.append(self._assessment)
            del self._undo[:-UNDO_DEPTH]
        self._assessment = new
        self._emit("assessment")
        if self.autosave:
            self.save_quietly()

    def replace(self, assessment: Assessment, *, undoable: bool = True) -> None:
        """Replace the whole assessment (e.g. one loaded from a file)."""
        self._commit(assessment, undoable=undoable)

    def set_reader(self, reader: str) -> None:
        """Set who is reading; an empty id is refused (every reading is saved per reader)."""
        reader = reader.strip()
        if not reader:
            raise ReadingError("The reader id cannot be empty: enter who is reading (e.g. R1).")
        if reader != self.reader:
            self._commit(dataclasses.replace(self._assessment, reader=reader), undoable=False)

    def set_treatment_start(self, date: dt.date) -> None:
        """Set the treatment start; a date after every scan is refused (nothing to follow up)."""
        dates = [tp.date for tp in self._assessment.timepoints]
        if dates and date > max(dates):
            raise ReadingError(
                f"Treatment start {date.isoformat()} is after every scan (last "
                f"{max(dates).isoformat()}): no scan would follow the treatment."
            )
        if date != self._assessment.treatment_start:
            self._commit(dataclasses.replace(self._assessment, treatment_start=date))

    def ensure_timepoint(
        self,
        label: str,
        date: dt.date,
        *,
        study_instance_uid: str | None = None,
        series_instance_uid: str | None = None,
    ) -> str:
        """Add a timepoint if no timepoint has this label (or this study); keep date order.

        A timepoint already present (same label, or same study UID) keeps its lesions and
        label; its missing UIDs are filled in. Not undoable: opening images is not a
        measurement change. Returns the timepoint's label in the assessment.
        """
        tps = list(self._assessment.timepoints)
        for i, tp in enumerate(tps):
            same_study = study_instance_uid and tp.study_instance_uid == study_instance_uid
            if tp.label == label or same_study:
                new = dataclasses.replace(
                    tp,
                    study_instance_uid=tp.study_instance_uid or study_instance_uid,
                    series_instance_uid=tp.series_instance_uid or series_instance_uid,
                )
                if new != tp:
                    tps[i] = new
                    self._commit(
                        dataclasses.replace(self._assessment, timepoints=tuple(tps)),
                        undoable=False,
                    )
                return tp.label
        tps.append(
            Timepoint(
                label=label,
                date=date,
                study_instance_uid=study_instance_uid,
                series_instance_uid=series_instance_uid,
            )
        )
        tps.sort(key=lambda tp: tp.date)
        self._commit(dataclasses.replace(self._assessment, timepoints=tuple(tps)), undoable=False)
        return label

    def set_series(self, label: str, series_instance_uid: str) -> None:
        """Measure a timepoint on another series of its study (e.g. portal venous for RECIST
        1.1). Refused once a line is recorded there: line positions belong to one series."""
        tp = self.timepoint(label)
        if tp.series_instance_uid == series_instance_uid:
            return
        drawn = [les.id for les in tp.lesions if les.line or les.longest_line]
        if drawn:
            raise ReadingError(
                f"{label}: {', '.join(drawn)} were measured on this series; remove their lines "
                "(or undo) before measuring on another series."
            )
        tps = tuple(
            dataclasses.replace(t, series_instance_uid=series_instance_uid) if t is tp else t
            for t in self._assessment.timepoints
        )
        self._commit(dataclasses.replace(self._assessment, timepoints=tps), undoable=False)

    def set_lesion(self, label: str, lesion: Lesion) -> None:
        """Add or replace (same id) a lesion at a timepoint. Checked, undoable; autosaves.

        Raises
        ------
        ReadingError
            If the lesion would make the reading invalid (see :meth:`check_lesion`).
        """
        self.check_lesion(label, lesion)
        tps = list(self._assessment.timepoints)
        i = self.index_of(label)
        lesions = list(tps[i].lesions)
        for j, old in enumerate(lesions):
            if old.id == lesion.id:
                if old == lesion:
                    return
                lesions[j] = lesion
                break
        else:
            lesions.append(lesion)
        tps[i] = dataclasses.replace(tps[i], lesions=tuple(lesions))
        self._commit(dataclasses.replace(self._assessment, timepoints=tuple(tps)))

    def remove_lesion(self, label: str, lesion_id: str) -> None:
        """Remove a lesion from one timepoint (at a follow-up it then counts as not evaluated)."""
        tps = list(self._assessment.timepoints)
        i = self.index_of(label)
        kept = tuple(les for les in tps[i].lesions if les.id != lesion_id)
        if len(kept) == len(tps[i].lesions):
            return
        tps[i] = dataclasses.replace(tps[i], lesions=kept)
        self._commit(dataclasses.replace(self._assessment, timepoints=tuple(tps)))

    def rename_lesion(self, old_id: str, new_id: str) -> str:
        """Give a lesion another id at every timepoint (one undoable change; autosaves).

        The id ties a lesion's readings across timepoints, so it is renamed everywhere at once
        and must stay unique. Returns the new id, stripped.

        Raises
        ------
        AssessmentError
            ``new_id`` is empty, holds spaces or is used by another lesion, or no lesion is
            called ``old_id``.
        """
        new_id = self.check_new_id(old_id, new_id)
        if new_id == old_id:
            return new_id
        if old_id not in self.all_lesion_ids():
            raise AssessmentError(f"No lesion {old_id!r} in the assessment to rename.")
        tps = tuple(
            dataclasses.replace(
                tp,
                lesions=tuple(
                    dataclasses.replace(les, id=new_id) if les.id == old_id else les
                    for les in tp.lesions
                ),
            )
            for tp in self._assessment.timepoints
        )
        self._commit(dataclasses.replace(self._assessment, timepoints=tps))
        return new_id

    def check_new_id(self, old_id: str, new_id: str) -> str:
        """``new_id`` stripped, if a lesion may take it (one word, not used by another lesion)."""
        new_id = new_id.strip()
        if not new_id:
            raise AssessmentError(f"{old_id}: a lesion id cannot be empty.")
        if any(ch.isspace() for ch in new_id):
            raise AssessmentError(f"{old_id}: a lesion id has no spaces (got {new_id!r}).")
        if new_id != old_id and new_id in self.all_lesion_ids():
            raise AssessmentError(
                f"Cannot rename {old_id} to {new_id}: {new_id} is already a lesion of this "
                "assessment (ids are unique, they tie a lesion's readings across timepoints)."
            )
        return new_id

    def all_lesion_ids(self) -> set[str]:
        """Ids of every lesion at any timepoint."""
        return {les.id for tp in self._assessment.timepoints for les in tp.lesions}

    def undo(self) -> bool:
        """Go back to the assessment before the last change; False if there is nothing to undo."""
        if not self._undo:
            return False
        self._commit(self._undo.pop(), undoable=False)
        return True

    @property
    def can_undo(self) -> bool:
        """Whether :meth:`undo` would change anything."""
        return bool(self._undo)

    # -- queries -------------------------------------------------------------------------------
    def next_id(self, category: Category) -> str:
        """The next free id of a category over all timepoints (T1, T2... NT1... N1...)."""
        prefix = ID_PREFIX[Category(category)]
        pattern = re.compile(rf"^{prefix}(\d+)$")
        used = [
            int(m.group(1))
            for tp in self._assessment.timepoints
            for les in tp.lesions
            if (m := pattern.match(les.id))
        ]
        return f"{prefix}{max(used, default=0) + 1}"

    def lesion_ids(self, label: str) -> list[str]:
        """Ids of the lesions known up to and including a timepoint, in first-seen order."""
        ids: list[str] = []
        for tp in self._assessment.timepoints[: self.index_of(label) + 1]:
            for les in tp.lesions:
                if les.id not in ids:
                    ids.append(les.id)
        return ids

    def earlier(self, label: str, lesion_id: str) -> EarlierValue | None:
        """The lesion's latest reading before this timepoint, or None."""
        for tp in reversed(self._assessment.timepoints[: self.index_of(label)]):
            les = tp.lesion(lesion_id)
            if les is not None:
                return EarlierValue(tp.label, les)
        return None

    def identity(self, label: str, lesion_id: str) -> Lesion | None:
        """The lesion at this timepoint, else its latest earlier reading (for its identity)."""
        here = self.timepoint(label).lesion(lesion_id)
        if here is not None:
            return here
        earlier = self.earlier(label, lesion_id)
        return earlier.lesion if earlier else None

    def up_to(self, label: str) -> Assessment:
        """The assessment truncated after a timepoint (what was known when it was read)."""
        i = self.index_of(label)
        return dataclasses.replace(
            self._assessment, timepoints=self._assessment.timepoints[: i + 1]
        )

    # -- files ---------------------------------------------------------------------------------
    def set_file(self, path: Path, *, owns_file: bool = False) -> None:
        """Save to ``path`` from now on. An existing file is overwritten only with
        ``owns_file`` (it was loaded into this session, or the reader chose to replace it)."""
        self.path = Path(path)
        self._owns_file = owns_file
        self._saved = None
        self._emit("file")

    def attach(self, folder: Path, *, resume: ReadingFile | None = None) -> Path:
        """Give the session its file in ``folder`` once the reader is known.

        With ``resume`` (a reading of this patient and reader found by
        :func:`~lesion_tool.reading.files.find_readings`) its lesions are loaded and the session
        saves back to it; timepoints open here that the file lacks are added. Without, the
        session saves to a new version's file, so an existing reading is never replaced.
        Returns the file.
        """
        if not self.reader.strip():
            raise ReadingError("Enter your reader id first: each reading is saved per reader.")
        if resume is None:
            self.set_file(new_reading_path(folder, self.patient_id, self.reader))
            return self.path  # type: ignore[return-value]
        loaded = resume.assessment
        if loaded.patient_id != self.patient_id:
            raise ReadingError(
                f"{resume.path} is a reading of {loaded.patient_id!r}, not {self.patient_id!r}."
            )
        opened = self._assessment.timepoints
        self.set_file(resume.path, owns_file=True)
        self._saved = loaded  # what the file holds: resuming alone rewrites nothing
        self._commit(dataclasses.replace(loaded, reader=self.reader), undoable=False)
        for tp in opened:
            self.ensure_timepoint(
                tp.label,
                tp.date,
                study_instance_uid=tp.study_instance_uid,
                series_instance_uid=tp.series_instance_uid,
            )
        self._undo.clear()
        return resume.path

    def save(self, path: Path | None = None) -> Path:
        """Save atomically, stamped with who and when; ``path`` becomes the session's file.

        Raises
        ------
        ValueError
            If no path was given and none is set.
        ReadingError
            If the file exists and this session did not open or write it (never overwrite a
            saved reading), or no reader is set.
        lesion_tool.errors.AssessmentError
            If the core refuses the assessment.
        """
        if path is not None and Path(path) != self.path:
            self.set_file(Path(path), owns_file=False)
        if self.path is None:
            raise ValueError("No file to save the assessment to; choose one first.")
        if not self.reader.strip():
            raise ReadingError("Enter your reader id before saving: readings are saved per reader.")
        if self.path.exists() and not self._owns_file:
            raise ReadingError(
                f"{self.path} already holds a saved reading; resume it or start a new version "
                "(it is never overwritten)."
            )
        stamped = dataclasses.replace(
            self._assessment,
            saved_by=self.reader,
            saved_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # each save appends an audit event (who, when, what changed; hash-chained)
        save_audited(stamped, self.path, by=self.reader, action="save")
        self._assessment = stamped  # same readings (stamps are not compared)
        self._saved = stamped
        self._owns_file = True
        self._emit("saved")
        return self.path

    def save_quietly(self) -> bool:
        """Autosave: like :meth:`save`, but the error becomes a ``save_failed`` event."""
        if self.path is None:
            return False
        if self._saved is not None and self._saved == self._assessment and self.path.exists():
            self.last_save_error = None  # the file already holds it: keep it (and its stamp)
            self._emit("saved")
            return True
        try:
            self.save()
        except (OSError, ValueError) as err:  # LesionToolError subclasses ValueError
            self.last_save_error = err
            self._emit("save_failed", err)
            return False
        self.last_save_error = None
        return True
