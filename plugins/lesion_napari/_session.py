"""The plugin's editing session: one reader's assessment of one patient, with undo and autosave.

GUI-free on purpose (no Qt, no napari): the widget turns gestures into calls on a
:class:`ReadingSession`, and tests can drive it directly. The session edits the core's frozen
:class:`~lesion_tool.model.Assessment` by replacement, saves it with the core's atomic
:func:`~lesion_tool.storage.save_assessment`, and scores it with the core's response engine. It
holds no rules of its own.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from lesion_tool.errors import AssessmentError
from lesion_tool.model import Assessment, Category, Lesion, Timepoint

ID_PREFIX = {Category.TARGET: "T", Category.NON_TARGET: "NT", Category.NEW: "N"}
"""Lesion ids are the category prefix and a number: T1, NT1, N1."""

UNDO_DEPTH = 50


@dataclass(frozen=True)
class EarlierValue:
    """A lesion's reading at an earlier timepoint (shown at follow-up)."""

    label: str
    lesion: Lesion


class ReadingSession:
    """One reader's assessment being edited, with an undo stack and autosave.

    Parameters
    ----------
    assessment
        The starting assessment (may have no timepoints yet).
    path
        Where to save; autosave writes there after each change. None disables autosave
        until a path is set.
    """

    def __init__(self, assessment: Assessment, path: Path | None = None) -> None:
        self._assessment = assessment
        self.path = Path(path) if path is not None else None
        self.autosave = True
        self._undo: list[Assessment] = []
        self.last_save_error: Exception | None = None

    # -- state -------------------------------------------------------------------------------
    @property
    def assessment(self) -> Assessment:
        """The current assessment (frozen; replaced by every edit)."""
        return self._assessment

    @property
    def labels(self) -> list[str]:
        """Timepoint labels in order (baseline first)."""
        return [tp.label for tp in self._assessment.timepoints]

    def timepoint(self, label: str) -> Timepoint:
        """The timepoint with this label.

        Raises
        ------
        KeyError
            If there is none.
        """
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

    # -- edits ---------------------------------------------------------------------------------
    def _commit(self, new: Assessment, *, undoable: bool = True) -> None:
        if undoable:
            self._undo.append(self._assessment)
            del self._undo[:-UNDO_DEPTH]
        self._assessment = new
        if self.autosave:
            self.save_quietly()

    def replace(self, assessment: Assessment, *, undoable: bool = True) -> None:
        """Replace the whole assessment (e.g. one loaded from a file)."""
        self._commit(assessment, undoable=undoable)

    def update(self, **fields: object) -> None:
        """Change top-level fields (reader, treatment_start, ...)."""
        self._commit(dataclasses.replace(self._assessment, **fields))

    def ensure_timepoint(
        self,
        label: str,
        date: dt.date,
        *,
        study_instance_uid: str | None = None,
        series_instance_uid: str | None = None,
    ) -> None:
        """Add a timepoint if no timepoint has this label (or this study); keep date order.

        A timepoint already present (same label, or same study UID) keeps its lesions; its
        missing UIDs are filled in. Not undoable: opening images is not a measurement change.
        """
        tps = list(self._assessment.timepoints)
        for i, tp in enumerate(tps):
            same_study = study_instance_uid and tp.study_instance_uid == study_instance_uid
            if tp.label == label or same_study:
                tps[i] = dataclasses.replace(
                    tp,
                    study_instance_uid=tp.study_instance_uid or study_instance_uid,
                    series_instance_uid=tp.series_instance_uid or series_instance_uid,
                )
                break
        else:
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

    def set_lesion(self, label: str, lesion: Lesion) -> None:
        """Add or replace (same id) a lesion at a timepoint. Undoable; autosaves."""
        tps = list(self._assessment.timepoints)
        i = self.index_of(label)
        lesions = list(tps[i].lesions)
        for j, old in enumerate(lesions):
            if old.id == lesion.id:
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

        The id is how a lesion is followed from baseline to each follow-up, so it is renamed
        everywhere at once and must stay unique in the assessment.

        Returns
        -------
        str
            The new id, stripped of surrounding spaces (unchanged when it equals ``old_id``).

        Raises
        ------
        AssessmentError
            If ``new_id`` is empty, holds spaces or is already used by another lesion, or no
            lesion is called ``old_id``.
        """
        new_id = new_id.strip()
        if not new_id:
            raise AssessmentError(f"{old_id}: a lesion id cannot be empty.")
        if any(ch.isspace() for ch in new_id):
            raise AssessmentError(f"{old_id}: a lesion id has no spaces (got {new_id!r}).")
        if new_id == old_id:
            return new_id
        ids = {les.id for tp in self._assessment.timepoints for les in tp.lesions}
        if old_id not in ids:
            raise AssessmentError(f"No lesion {old_id!r} in the assessment to rename.")
        if new_id in ids:
            raise AssessmentError(
                f"Cannot rename {old_id} to {new_id}: {new_id} is already a lesion of this "
                "assessment (ids are unique, they tie a lesion's readings across timepoints)."
            )
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

    def all_lesion_ids(self) -> set[str]:
        """Ids of every lesion at any timepoint."""
        return {les.id for tp in self._assessment.timepoints for les in tp.lesions}

    def undo(self) -> bool:
        """Go back to the assessment before the last change; False if there is nothing to undo."""
        if not self._undo:
            return False
        self._assessment = self._undo.pop()
        if self.autosave:
            self.save_quietly()
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

    # -- saving --------------------------------------------------------------------------------
    def save(self, path: Path | None = None) -> Path:
        """Save atomically with the core's writer; remembers ``path`` for autosave.

        Raises
        ------
        ValueError
            If no path was given and none is set.
        lesion_tool.errors.LesionToolError
            If the core refuses the assessment.
        """
        from lesion_tool.storage import save_assessment

        if path is not None:
            self.path = Path(path)
        if self.path is None:
            raise ValueError("No file to save the assessment to; choose one first.")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        save_assessment(self._assessment, self.path)
        return self.path

    def save_quietly(self) -> bool:
        """Autosave: like :meth:`save`, but remembers the error instead of raising it."""
        if self.path is None:
            return False
        try:
            self.save()
        except (OSError, ValueError) as err:  # LesionToolError subclasses ValueError
            self.last_save_error = err
            return False
        self.last_save_error = None
        return True
