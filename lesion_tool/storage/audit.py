"""Audit trail of an assessment or adjudication decision: every change appends an event,
hash-chained.

The events live in the assessment itself, in the optional top-level ``audit`` list (format v1
keeps unknown top-level fields; the schema describes this one). Each event records who, when,
the action (``save``, ``import``, ...), the tool version, what changed (timepoint, lesion,
field, old -> new), the SHA-256 of the document before and after the change (the document
without its ``audit`` list, canonical JSON), and the SHA-256 of the previous event, so that
editing the readings or the history outside lesion-tool breaks the chain and is detected by
:func:`verify_audit`. Saving goes through :func:`~lesion_tool.storage.save_assessment`, so it
stays atomic. An adjudication decision (:func:`lesion_tool.corelab.adjudication.save_decision`)
carries the same ``audit`` list, built by :func:`append_event`; its events also say which
reading stands, why, and the decision it replaced.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lesion_tool.errors import AssessmentError
from lesion_tool.model import Assessment
from lesion_tool.storage.assessment_json import assessment_to_dict, save_assessment

__all__ = [
    "AUDIT_KEY",
    "AuditReport",
    "append_event",
    "changes_between",
    "is_recorded_state",
    "read_document",
    "save_audited",
    "verify_audit",
    "verify_document",
]

AUDIT_KEY = "audit"
DECISION_FORMAT = "lesion-tool.adjudication"
"""The ``format`` of an adjudication decision (:mod:`lesion_tool.corelab.adjudication`)."""


def _canonical(data: object) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _sha256(data: object) -> str:
    return hashlib.sha256(_canonical(data)).hexdigest()


def _state(document: Mapping[str, Any]) -> dict[str, Any]:
    """The audited state: the document without its audit list."""
    return {k: v for k, v in document.items() if k != AUDIT_KEY}


def _event_hash(event: Mapping[str, Any]) -> str:
    return _sha256({k: v for k, v in event.items() if k != "event_sha256"})


def changes_between(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What changed between two documents: one entry per (timepoint, lesion, field)."""
    changes: list[dict[str, Any]] = []
    old = old or {}

    def add(timepoint: str | None, lesion: str | None, name: str, a: object, b: object) -> None:
        changes.append(
            {"timepoint": timepoint, "lesion": lesion, "field": name, "old": a, "new": b}
        )

    for key in sorted(set(old) | set(new)):
        if key in ("timepoints", AUDIT_KEY, "saved_at", "saved_by"):
            continue
        if old.get(key) != new.get(key):
            add(None, None, key, old.get(key), new.get(key))
    old_tps = {t["label"]: t for t in old.get("timepoints", []) if isinstance(t, Mapping)}
    new_tps = {t["label"]: t for t in new.get("timepoints", []) if isinstance(t, Mapping)}
    for label in [*new_tps, *(x for x in old_tps if x not in new_tps)]:
        a, b = old_tps.get(label), new_tps.get(label)
        if a is None or b is None:
            add(label, None, "timepoint", "present" if a else None, "present" if b else None)
            continue
        for key in sorted((set(a) | set(b)) - {"lesions", "label"}):
            if a.get(key) != b.get(key):
                add(label, None, key, a.get(key), b.get(key))
        old_l = {x["id"]: x for x in a.get("lesions", [])}
        new_l = {x["id"]: x for x in b.get("lesions", [])}
        for lesion_id in [*new_l, *(x for x in old_l if x not in new_l)]:
            la, lb = old_l.get(lesion_id), new_l.get(lesion_id)
            if la is None or lb is None:
                add(
                    label, lesion_id, "lesion", "present" if la else None, "present" if lb else None
                )
                continue
            for key in sorted(set(la) | set(lb)):
                if la.get(key) != lb.get(key):
                    add(label, lesion_id, key, la.get(key), lb.get(key))
    return changes


def _read_raw(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def append_event(
    previous: Mapping[str, Any] | None,
    state: Mapping[str, Any],
    *,
    by: str,
    action: str,
    note: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]] | None:
    """The audit list a document gets when it changes from ``previous`` to ``state``.

    ``previous`` is the document on disk (with its ``audit`` list) or None for a new file;
    ``state`` the new document without one. Returns (history with the new event appended, the
    event), or None when nothing changed and the file on disk is its last recorded state (only
    changes are events). ``details`` are extra fields of the event (e.g. an adjudication
    decision's summary); they are covered by the event's hash. Any JSON document can be audited
    so: assessments (:func:`save_audited`) and adjudication decisions.
    """
    from lesion_tool import __version__

    history = list(previous.get(AUDIT_KEY, [])) if previous else []
    if not all(isinstance(e, dict) for e in history):
        history = []
    event: dict[str, Any] = {
        "n": len(history) + 1,
        "at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "by": by,
        "action": action,
        "tool_version": __version__,
        "changes": changes_between(_state(previous) if previous else None, state),
        "previous_state_sha256": _sha256(_state(previous)) if previous else None,
        "state_sha256": _sha256(state),
        "previous_event_sha256": history[-1].get("event_sha256") if history else None,
    }
    if details:
        event.update({k: v for k, v in details.items() if k not in event})
    intact = history and event["previous_state_sha256"] == history[-1].get("state_sha256")
    if intact and not event["changes"]:
        return None
    if history and not intact:
        event["note"] = "the file had been changed outside lesion-tool since event " + str(
            history[-1].get("n")
        )
    elif previous and not history:
        event["note"] = "the file had no audit trail before this event"
    if note:
        event["note"] = f"{event.get('note', '')}; {note}".lstrip("; ")
    event["event_sha256"] = _event_hash(event)
    return [*history, event], event


def read_document(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The JSON object stored at ``path``; None when absent, unreadable or not an object."""
    path = Path(path)
    return _read_raw(path) if path.exists() else None


def save_audited(
    assessment: Assessment,
    path: str | os.PathLike[str],
    *,
    by: str,
    action: str,
    note: str | None = None,
) -> dict[str, Any] | None:
    """Save an assessment atomically with one more audit event; returns the event.

    A save that changes nothing (the readings on disk are the last recorded state and equal
    the new ones, stamps aside) writes nothing and returns None: only changes are events. The
    history is taken from the file on disk (not from ``assessment.extra``), so an
    in-memory copy can never drop or rewrite earlier events. If the file on disk differs from
    its last recorded state (edited outside lesion-tool), the event says so.
    """
    path = Path(path)
    previous = read_document(path)
    extra = {k: v for k, v in assessment.extra.items() if k != AUDIT_KEY}
    clean = dataclasses.replace(assessment, extra=extra)
    appended = append_event(previous, assessment_to_dict(clean), by=by, action=action, note=note)
    if appended is None:
        return None
    history, event = appended
    audited = dataclasses.replace(assessment, extra={**extra, AUDIT_KEY: history})
    save_assessment(audited, path)
    return event


def is_recorded_state(data: Mapping[str, Any]) -> bool:
    """Whether a document is the state its last audit event recorded, that event unaltered.

    True means lesion-tool wrote the content as it is now (an earlier break in the history, which
    :func:`verify_document` still reports, was followed by a recording); False that the content
    or the last event was edited outside lesion-tool, or that there is no audit trail.
    """
    events = data.get(AUDIT_KEY)
    if not isinstance(events, list) or not events or not isinstance(events[-1], dict):
        return False
    last = events[-1]
    return last.get("event_sha256") == _event_hash(last) and last.get("state_sha256") == _sha256(
        _state(data)
    )


@dataclass(frozen=True, slots=True)
class AuditReport:
    """The history of one file and every problem found verifying it (empty: intact)."""

    path: Path
    events: tuple[dict[str, Any], ...]
    problems: tuple[str, ...]

    @property
    def intact(self) -> bool:
        """True when the chain verifies and the file is the last recorded state."""
        return not self.problems


def verify_audit(path: str | os.PathLike[str]) -> AuditReport:
    """Check a file's audit chain: every event's hash, the links between events and states,
    and that the file's content is the last recorded state. Problems name the file.

    Works on any audited document: an assessment (its readings) or an adjudication decision
    (format ``lesion-tool.adjudication``: which reading stands, why, who).

    Raises
    ------
    AssessmentError
        The file cannot be read as JSON.
    """
    path = Path(path)
    data = _read_raw(path)
    if data is None:
        raise AssessmentError(f"{path}: cannot be read as a JSON assessment or decision")
    return verify_document(data, path)


def verify_document(data: Mapping[str, Any], path: str | os.PathLike[str]) -> AuditReport:
    """:func:`verify_audit` of a document already read from ``path`` (named in problems)."""
    path = Path(path)
    what = (
        "the decision differs" if data.get("format") == DECISION_FORMAT else "the readings differ"
    )
    events = data.get(AUDIT_KEY)
    if not isinstance(events, list) or not events:
        return AuditReport(path, (), (f"{path}: no audit trail (written before auditing?)",))
    problems = []
    previous: dict[str, Any] | None = None
    for index, event in enumerate(events, start=1):
        if not isinstance(event, dict):
            problems.append(f"{path}: audit event {index} is not an object")
            continue
        if event.get("event_sha256") != _event_hash(event):
            problems.append(f"{path}: audit event {index} was altered (its hash does not match)")
        if previous is not None:
            if event.get("previous_event_sha256") != previous.get("event_sha256"):
                problems.append(f"{path}: audit event {index} does not follow event {index - 1}")
            if event.get("previous_state_sha256") != previous.get("state_sha256"):
                problems.append(
                    f"{path}: before event {index} the file had been edited outside lesion-tool "
                    f"(after event {index - 1})"
                )
        elif event.get("previous_event_sha256") is not None:
            problems.append(f"{path}: audit event 1 refers to an earlier event that is missing")
        previous = event
    if previous is not None and _sha256(_state(data)) != previous.get("state_sha256"):
        problems.append(
            f"{path}: hand-edited: {what} from the last recorded state "
            f"(event {previous.get('n')}, {previous.get('action')} by {previous.get('by')} at "
            f"{previous.get('at')})"
        )
    return AuditReport(path, tuple(e for e in events if isinstance(e, dict)), tuple(problems))
