"""Adjudication: which patients two readers disagree on, the adjudicator's decisions, and the
reading each patient's endpoints come from.

Blinded independent central review reads every patient twice; an adjudicator settles the
patients on whom the readers disagree, and the trial's endpoints come from the adjudicated
result. :class:`AdjudicationSettings` holds the usual triggers (best overall response differs;
one reader records progression and the other not; progression dates more than N days apart)
under one named response preset. A decision (which reader's reading stands, why, who, when) is a
small JSON document of its own, checked against ``schema/adjudication-v1.schema.json``, and
carries a hash-chained audit trail (:mod:`lesion_tool.storage.audit`): recording or replacing a
decision appends an event (who, when, which reading stands, why, the decision replaced), and
``lesion-tool audit`` detects a decision edited by hand.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from lesion_tool.corelab.readings import Cohort, PatientReadings, Reading
from lesion_tool.errors import AssessmentError, LesionToolError
from lesion_tool.response import PRESETS, PatientResult, ResponseSettings, score_assessment
from lesion_tool.storage.atomic import atomic_write
from lesion_tool.storage.audit import (
    AUDIT_KEY,
    DECISION_FORMAT,
    append_event,
    is_recorded_state,
    read_document,
    verify_document,
)

__all__ = [
    "DECISION_FORMAT",
    "AdjudicationSettings",
    "Decision",
    "DecisionExistsError",
    "ResultSet",
    "Scored",
    "Selection",
    "WorklistItem",
    "adjudication_reasons",
    "decision_file_name",
    "decision_problems",
    "load_decision",
    "load_decisions",
    "make_decision",
    "result_sets",
    "save_decision",
    "score_cohort_readings",
    "select_readings",
    "worklist",
]

_SCHEMA = "adjudication-v1.schema.json"

Scored = Mapping[tuple[str, str, str], Mapping[str, PatientResult]]
"""(patient id, reader, role) -> preset -> result of that reading."""


@dataclass(frozen=True, slots=True)
class AdjudicationSettings:
    """When two readers' readings of a patient go to the adjudicator (the usual BICR charter).

    The readings are compared under ``preset`` (the trial's primary criteria).
    """

    preset: str = "mrecist"
    on_bor: bool = True
    """Adjudicate when the best overall responses differ."""
    on_progression: bool = True
    """Adjudicate when one reader records progression and the other does not."""
    progression_days: int | None = 28
    """Adjudicate when both record progression on dates more than this many days apart
    (None: dates are not compared)."""

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise LesionToolError(
                f"Unknown adjudication preset {self.preset!r}; choose one of {', '.join(PRESETS)}."
            )
        if self.progression_days is not None and self.progression_days < 0:
            raise ValueError('Setting "progression_days" must be >= 0 or None.')

    def describe(self) -> str:
        """One line for reports: what triggers adjudication, under which preset."""
        parts = []
        if self.on_bor:
            parts.append("best overall response differs")
        if self.on_progression:
            parts.append("progression recorded by one reader only")
        if self.progression_days is not None:
            parts.append(f"progression dates more than {self.progression_days} days apart")
        return f"under {self.preset}: " + ("; ".join(parts) or "never")


def adjudication_reasons(
    first: PatientResult, second: PatientResult, settings: AdjudicationSettings
) -> list[str]:
    """Why two readers' results of one patient need adjudication (empty: they do not)."""
    a, b = first.reader or "(unnamed)", second.reader or "(unnamed)"
    reasons = []
    if settings.on_bor and first.best_overall_response != second.best_overall_response:
        reasons.append(
            f"best overall response differs: {a} {first.best_overall_response}, "
            f"{b} {second.best_overall_response}"
        )
    p1, p2 = first.progression_date, second.progression_date
    if settings.on_progression and (p1 is None) != (p2 is None):
        who, when = (a, p1) if p1 is not None else (b, p2)
        reasons.append(f"progression recorded by {who} only ({when.isoformat()})")  # type: ignore[union-attr]
    if (
        settings.progression_days is not None
        and p1 is not None
        and p2 is not None
        and abs((p1 - p2).days) > settings.progression_days
    ):
        reasons.append(
            f"progression dates {abs((p1 - p2).days)} days apart ({a} {p1.isoformat()}, "
            f"{b} {p2.isoformat()}; more than {settings.progression_days})"
        )
    return reasons


def score_cohort_readings(
    cohort: Cohort, settings: Sequence[ResponseSettings]
) -> tuple[dict[tuple[str, str, str], dict[str, PatientResult]], list[tuple[str, str]]]:
    """Score every reading of the cohort under every preset; a reading that cannot be scored
    is reported (file, reason) and left out."""
    scored: dict[tuple[str, str, str], dict[str, PatientResult]] = {}
    problems: list[tuple[str, str]] = []
    for patient in cohort.patients:
        readings = [*patient.readings, *([patient.adjudicator] if patient.adjudicator else [])]
        for reading in readings:
            try:
                results = {s.criteria: score_assessment(reading.assessment, s) for s in settings}
            except LesionToolError as err:
                problems.append((reading.where, str(err)))
                continue
            scored[(reading.patient_id, reading.reader, reading.role)] = results
    return scored, problems


@dataclass(frozen=True, slots=True)
class WorklistItem:
    """One patient and reader pair, and why the pair needs adjudication (empty: it does not)."""

    patient_id: str
    readers: tuple[str, str]
    reasons: tuple[str, ...]


def _pairs(patient: PatientReadings, scored: Scored, preset: str) -> list[tuple[Reading, Reading]]:
    usable = [
        r for r in patient.readings if preset in scored.get((r.patient_id, r.reader, r.role), {})
    ]
    return list(itertools.combinations(usable, 2))


def worklist(cohort: Cohort, scored: Scored, settings: AdjudicationSettings) -> list[WorklistItem]:
    """Every reader pair of every patient read more than once, with its adjudication reasons."""
    items = []
    for patient in cohort.patients:
        for x, y in _pairs(patient, scored, settings.preset):
            rx = scored[(x.patient_id, x.reader, x.role)][settings.preset]
            ry = scored[(y.patient_id, y.reader, y.role)][settings.preset]
            items.append(
                WorklistItem(
                    patient.patient_id,
                    (x.reader, y.reader),
                    tuple(adjudication_reasons(rx, ry, settings)),
                )
            )
    return items


# ----------------------------------------------------------------------------- decisions
@dataclass(frozen=True, slots=True)
class Decision:
    """The adjudicator's decision for one patient: whose reading stands, why, who and when."""

    patient_id: str
    preset: str
    readers: tuple[str, ...]
    chosen_reader: str
    reason: str
    adjudicator: str
    decided_at: dt.datetime
    triggers: tuple[str, ...] = ()
    source: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        """The stored document (format ``lesion-tool.adjudication`` v1)."""
        return {
            "format": DECISION_FORMAT,
            "version": 1,
            "patient_id": self.patient_id,
            "preset": self.preset,
            "readers": list(self.readers),
            "chosen_reader": self.chosen_reader,
            "reason": self.reason,
            "adjudicator": self.adjudicator,
            "decided_at": self.decided_at.isoformat(),
            "triggers": list(self.triggers),
        }


def make_decision(
    items: Iterable[WorklistItem],
    patient_id: str,
    *,
    preset: str,
    chosen_reader: str,
    reason: str,
    adjudicator: str,
    decided_at: dt.datetime | None = None,
) -> Decision:
    """The adjudicator's decision for one patient, its readers and triggers from the worklist.

    The one place a :class:`Decision` is assembled (``lesion-tool adjudicate --decide`` and the
    plugin's adjudication view both call it): the readers are every reader paired for the
    patient on the worklist, in worklist order, and the triggers every reason listed for those
    pairs, once each (with three readers "progression recorded by R2 only" comes from two
    pairs). ``decided_at`` defaults to now (UTC, whole seconds).

    Raises
    ------
    LesionToolError
        The patient has no pair of usable readings, the chosen reader did not read the
        patient, or the reason or the adjudicator is blank.
    """
    pairs = [item for item in items if item.patient_id == patient_id]
    if not pairs:
        raise LesionToolError(
            f"patient {patient_id!r} has no two usable readings: nothing to adjudicate"
        )
    readers = tuple(dict.fromkeys(r for item in pairs for r in item.readers))
    if chosen_reader not in readers:
        raise LesionToolError(
            f"patient {patient_id}: reader {chosen_reader!r} did not read this patient "
            f"(readers: {', '.join(readers)})"
        )
    missing = [name for name, text in (("a reason", reason), ("the adjudicator", adjudicator))
               if not text.strip()]  # fmt: skip
    if missing:
        raise LesionToolError(f"patient {patient_id}: the decision needs {' and '.join(missing)}")
    return Decision(
        patient_id=patient_id,
        preset=preset,
        readers=readers,
        chosen_reader=chosen_reader,
        reason=reason.strip(),
        adjudicator=adjudicator.strip(),
        decided_at=decided_at or dt.datetime.now(dt.UTC).replace(microsecond=0),
        triggers=tuple(dict.fromkeys(r for item in pairs for r in item.reasons)),
    )


class DecisionExistsError(AssessmentError):
    """A decision is stored for the patient and replacing it was not asked for."""


@lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema

    text = resources.files("lesion_tool").joinpath("schema", _SCHEMA).read_text("utf-8")
    schema = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def decision_problems(data: object) -> list[str]:
    """Every problem of a parsed decision document (schema, then chosen reader among readers)."""
    problems = [f"{e.json_path}: {e.message}" for e in _validator().iter_errors(data)]
    if not problems and isinstance(data, Mapping) and data["chosen_reader"] not in data["readers"]:
        problems.append(
            f"$.chosen_reader: {data['chosen_reader']!r} is not one of the readers "
            f"{', '.join(data['readers'])}"
        )
    return problems


def load_decision(path: str | os.PathLike[str]) -> Decision:
    """Read and check one decision file.

    Raises
    ------
    AssessmentError
        Unreadable, not JSON, or not a valid decision; the message names the file.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AssessmentError(f"{path}: no such adjudication file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise AssessmentError(f"{path}: cannot read: {err}") from None
    except json.JSONDecodeError as err:
        raise AssessmentError(
            f"{path}: line {err.lineno} column {err.colno}: not valid JSON: {err.msg}"
        ) from None
    problems = decision_problems(data)
    if problems:
        raise AssessmentError("\n".join(f"{path}: {p}" for p in problems))
    # A decision edited outside lesion-tool since it was recorded is not used. (One written before
    # auditing has no audit list and is accepted; an old break in the history followed by a new
    # recording is reported by lesion-tool audit but does not block the decision now recorded.)
    if AUDIT_KEY in data and not is_recorded_state(data):
        raise AssessmentError(
            "\n".join(verify_document(data, path).problems)
            + f"\n{path}: this decision is not used; see lesion-tool audit {path}, and "
            "record the decision again (adjudicate --decide ... --replace)"
        )
    return Decision(
        patient_id=data["patient_id"],
        preset=data["preset"],
        readers=tuple(data["readers"]),
        chosen_reader=data["chosen_reader"],
        reason=data["reason"],
        adjudicator=data["adjudicator"],
        decided_at=dt.datetime.fromisoformat(data["decided_at"].replace("Z", "+00:00")),
        triggers=tuple(data.get("triggers", ())),
        source=path,
    )


def decision_file_name(patient_id: str) -> str:
    """The file a patient's decision is stored in (safe characters only)."""
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in patient_id)
    return f"{safe}.adjudication.json"


def _summary(document: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not document:
        return None
    keys = ("chosen_reader", "reason", "adjudicator", "decided_at")
    return {k: document.get(k) for k in keys}


def save_decision(
    decision: Decision, path: str | os.PathLike[str], *, replace: bool = False
) -> Path:
    """Check and write a decision atomically, appending an audit event; returns the path.

    The event records who (the adjudicator), when, which reading stands and why, and the
    decision it replaces (None for the first); the history of a replaced decision is kept, so
    ``lesion-tool audit`` shows every decision taken for the patient.

    Raises
    ------
    DecisionExistsError
        ``path`` holds a decision and ``replace`` is false (nothing is written).
    AssessmentError
        The decision is not valid (nothing is written) or cannot be written.
    """
    path = Path(path)
    data = decision.to_dict()
    problems = decision_problems(data)
    if problems:
        raise AssessmentError("\n".join(f"{path} (not saved): {p}" for p in problems))
    previous = read_document(path)
    if path.exists() and not replace:
        old = _summary(previous) or {}
        raise DecisionExistsError(
            f"{path}: a decision exists for {decision.patient_id} "
            f"({old.get('chosen_reader')}'s reading stands, by {old.get('adjudicator')} at "
            f"{old.get('decided_at')})"
        )
    details = {
        "decision": {
            "patient_id": decision.patient_id,
            "chosen_reader": decision.chosen_reader,
            "reason": decision.reason,
            "replaces": _summary(previous),
        }
    }
    appended = append_event(
        previous,
        data,
        by=decision.adjudicator,
        action="adjudication replaced" if path.exists() else "adjudication",
        details=details,
        note=None if previous is not None or not path.exists() else "replaces an unreadable file",
    )
    if appended is None:  # the very same decision is stored already
        return path
    data[AUDIT_KEY] = appended[0]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path) as handle:
            json.dump(data, handle, indent=2, ensure_ascii=False)
            handle.write("\n")
    except OSError as err:
        raise AssessmentError(f"{path}: cannot save: {err}") from err
    return path


def load_decisions(
    paths: Iterable[str | os.PathLike[str]],
) -> tuple[dict[str, Decision], list[tuple[str, str]]]:
    """Every decision under ``paths`` (files, or folders searched for ``*.adjudication.json``).

    Returns (patient id -> decision, problems). A bad file is a problem, never fatal; two
    decisions for one patient are a problem naming both files, and neither is used.
    """
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        files.extend(sorted(path.rglob("*.adjudication.json")) if path.is_dir() else [path])
    decisions: dict[str, Decision] = {}
    problems: list[tuple[str, str]] = []
    doubled: set[str] = set()
    for path in files:
        try:
            decision = load_decision(path)
        except LesionToolError as err:
            # the error already names the file: say it once
            problems.append((str(path), str(err).removeprefix(f"{path}: ")))
            continue
        earlier = decisions.get(decision.patient_id)
        if earlier is not None or decision.patient_id in doubled:
            problems.append(
                (
                    str(path),
                    (
                        f"patient {decision.patient_id}: two adjudication decisions, "
                        f"{earlier.source if earlier else 'another'} and {path}; neither is used"
                    ),
                )
            )
            decisions.pop(decision.patient_id, None)
            doubled.add(decision.patient_id)
            continue
        decisions[decision.patient_id] = decision
    return decisions, problems


# ----------------------------------------------------------------------------- selection
@dataclass(frozen=True, slots=True)
class Selection:
    """The reading a patient's endpoints come from, and on what basis.

    ``status``: ``single`` (one reader), ``adjudicator`` (the adjudicator's own reading),
    ``adjudicated`` (a decision chose the reader), ``concordant`` (the readers agree under the
    adjudication settings: the first reader's reading), ``pending`` (adjudication needed but no
    decision yet: the first reader's reading is used and the report says so).
    """

    patient_id: str
    reading: Reading
    status: str
    basis: str
    reasons: tuple[str, ...] = ()


def select_readings(
    cohort: Cohort,
    scored: Scored,
    decisions: Mapping[str, Decision],
    settings: AdjudicationSettings,
) -> tuple[list[Selection], list[tuple[str, str]]]:
    """One reading per patient for the cohort's endpoints; problems with decisions listed.

    A decision naming a reader without a usable reading of the patient is a problem, and the
    patient stays pending.
    """
    selections: list[Selection] = []
    problems: list[tuple[str, str]] = []
    pending_reasons = {
        item.patient_id: item.reasons for item in worklist(cohort, scored, settings) if item.reasons
    }
    for patient in cohort.patients:
        usable = [r for r in patient.readings if (r.patient_id, r.reader, r.role) in scored]
        adj = patient.adjudicator
        if adj is not None and (adj.patient_id, adj.reader, adj.role) in scored:
            selections.append(
                Selection(
                    patient.patient_id, adj, "adjudicator", f"adjudicator {adj.reader}'s reading"
                )
            )
            continue
        if not usable:
            continue
        if len(usable) == 1:
            only = usable[0]
            selections.append(
                Selection(patient.patient_id, only, "single", f"single reader {only.reader}")
            )
            continue
        decision = decisions.get(patient.patient_id)
        if decision is not None:
            chosen = next((r for r in usable if r.reader == decision.chosen_reader), None)
            if chosen is not None:
                selections.append(
                    Selection(
                        patient.patient_id,
                        chosen,
                        "adjudicated",
                        f"adjudicated: {chosen.reader}'s reading stands (decided by "
                        f"{decision.adjudicator} on {decision.decided_at.date().isoformat()}: "
                        f"{decision.reason})",
                        pending_reasons.get(patient.patient_id, ()),
                    )
                )
                continue
            problems.append(
                (
                    str(decision.source or patient.patient_id),
                    (
                        f"patient {patient.patient_id}: the decision chooses reader "
                        f"{decision.chosen_reader!r}, who has no usable reading of this patient "
                        f"(readers: {', '.join(r.reader for r in usable)}); the patient is pending"
                    ),
                )
            )
        first = usable[0]
        reasons = pending_reasons.get(patient.patient_id, ())
        if reasons:
            selections.append(
                Selection(
                    patient.patient_id,
                    first,
                    "pending",
                    f"awaiting adjudication: {first.reader}'s reading used for now",
                    reasons,
                )
            )
        else:
            selections.append(
                Selection(
                    patient.patient_id,
                    first,
                    "concordant",
                    f"readers concordant: {first.reader}'s reading",
                )
            )
    return selections, problems


@dataclass(frozen=True, slots=True)
class ResultSet:
    """The results one set of endpoints is computed on: one per patient.

    ``label`` is ``final`` (each patient's selected reading: single reader, concordant,
    adjudicated or pending) or ``reader <id>`` (that reader's readings only).
    """

    label: str
    note: str
    results: tuple[PatientResult, ...]


def result_sets(
    cohort: Cohort, scored: Scored, selections: Sequence[Selection], preset: str
) -> list[ResultSet]:
    """The final result set, then one per reader when the cohort has several readings."""

    def result(key: tuple[str, str, str]) -> PatientResult | None:
        return scored.get(key, {}).get(preset)

    final = tuple(
        r
        for s in selections
        if (r := result((s.reading.patient_id, s.reading.reader, s.reading.role))) is not None
    )
    counts: dict[str, int] = {}
    for s in selections:
        counts[s.status] = counts.get(s.status, 0) + 1
    words = {
        "single": "single reader",
        "concordant": "readers concordant (first reader's reading)",
        "adjudicated": "adjudicated",
        "pending": "awaiting adjudication (first reader's reading)",
        "adjudicator": "adjudicator's own reading",
    }
    note = ", ".join(f"{counts[k]} {words[k]}" for k in words if k in counts)
    sets = [ResultSet("final", note, final)]
    if cohort.multi_reader:
        for reader in cohort.readers:
            results = tuple(
                r
                for p in cohort.patients
                if (r := result((p.patient_id, reader, "reader"))) is not None
            )
            sets.append(
                ResultSet(f"reader {reader or '(unnamed)'}", "that reader's readings", results)
            )
    return sets
