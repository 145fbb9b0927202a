"""Readings grouped by patient and reader: the cohort is patients, not files.

One stored assessment is one reader's reading of one patient. Its reader id is the format's
``reader`` field; its role the optional top-level ``reader_role`` (``reader``, the default, or
``adjudicator``: an adjudicator's own reading of the patient). Two readings of one patient by
the same reader in the same role cannot both stand: that is an error naming both files, and
neither is used until one is removed (picking one silently could score the wrong reading).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from lesion_tool.model import Assessment

__all__ = [
    "ROLES",
    "Cohort",
    "PatientReadings",
    "Reading",
    "group_readings",
    "reader_role",
]

ROLES: tuple[str, ...] = ("reader", "adjudicator")
"""Reader roles of the format's ``reader_role`` field (the SR's CID 7453 names)."""


def reader_role(assessment: Assessment) -> str:
    """The role of an assessment's reader: ``reader`` unless the file says ``adjudicator``."""
    role = assessment.extra.get("reader_role")
    return role if isinstance(role, str) and role in ROLES else "reader"


@dataclass(frozen=True, slots=True)
class Reading:
    """One stored reading and where it came from (None: built in memory)."""

    assessment: Assessment
    source: Path | None = None

    @property
    def patient_id(self) -> str:
        """The patient read."""
        return self.assessment.patient_id

    @property
    def reader(self) -> str:
        """The reader id (``""`` when the file names none)."""
        return self.assessment.reader

    @property
    def role(self) -> str:
        """``reader`` or ``adjudicator``."""
        return reader_role(self.assessment)

    @property
    def where(self) -> str:
        """The file, or the patient and reader when the reading has no file."""
        if self.source is not None:
            return str(self.source)
        return f"patient {self.patient_id} reader {self.reader or '(unnamed)'}"


@dataclass(frozen=True, slots=True)
class PatientReadings:
    """Every usable reading of one patient: readers' readings (by reader id) and an
    adjudicator's own reading, if any."""

    patient_id: str
    readings: tuple[Reading, ...]
    """Role ``reader``, sorted by reader id."""
    adjudicator: Reading | None = None

    @property
    def readers(self) -> tuple[str, ...]:
        """The reader ids of :attr:`readings`, sorted."""
        return tuple(r.reader for r in self.readings)

    def reading(self, reader: str) -> Reading | None:
        """This reader's reading of the patient, or None."""
        return next((r for r in self.readings if r.reader == reader), None)


@dataclass(frozen=True, slots=True)
class Cohort:
    """Patients with their readings, and the readings that could not be used (with why)."""

    patients: tuple[PatientReadings, ...]
    problems: tuple[tuple[str, str], ...] = ()

    @property
    def readers(self) -> tuple[str, ...]:
        """Every reader id (role ``reader``) in the cohort, sorted."""
        return tuple(sorted({r for p in self.patients for r in p.readers}))

    @property
    def multi_reader(self) -> bool:
        """True when any patient has more than one reading (a reader study)."""
        return any(len(p.readings) > 1 or p.adjudicator is not None for p in self.patients)

    def patient(self, patient_id: str) -> PatientReadings | None:
        """One patient's readings, or None."""
        return next((p for p in self.patients if p.patient_id == patient_id), None)


def group_readings(readings: Iterable[Reading]) -> Cohort:
    """Group readings by patient, then by (reader, role); duplicates become problems.

    Patients come out sorted by id. A (patient, reader, role) read twice yields one problem
    naming both files, and both readings are left out (the patient's other readers stay).
    """
    slots: dict[tuple[str, str, str], list[Reading]] = {}
    for reading in readings:
        slots.setdefault((reading.patient_id, reading.reader, reading.role), []).append(reading)
    problems: list[tuple[str, str]] = []
    by_patient: dict[str, list[Reading]] = {}
    for (patient_id, reader, role), found in slots.items():
        if len(found) > 1:
            files = " and ".join(r.where for r in found)
            who = f"reader {reader!r}" if reader else "an unnamed reader"
            problems.append(
                (
                    files,
                    (
                        f"patient {patient_id}: {who} ({role}) has {len(found)} readings, {files}; "
                        "neither is used until one is removed (one reading per patient and reader)"
                    ),
                )
            )
            by_patient.setdefault(patient_id, [])
            continue
        by_patient.setdefault(patient_id, []).append(found[0])
    patients = []
    for patient_id in sorted(by_patient):
        found = by_patient[patient_id]
        readers = tuple(sorted((r for r in found if r.role == "reader"), key=lambda r: r.reader))
        adjudicator = next((r for r in found if r.role == "adjudicator"), None)
        if readers or adjudicator is not None:
            patients.append(PatientReadings(patient_id, readers, adjudicator))
    return Cohort(tuple(patients), tuple(problems))
