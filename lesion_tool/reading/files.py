"""Where a reading lives: one file per (patient, reader), new versions beside old ones.

A reading is saved as ``<patient>__<reader>.json`` in a folder (the reader id is part of the
name, so two readers on one machine never share a file); starting again keeps the old file and
writes ``<patient>__<reader>.v2.json``, ``.v3`` ... The functions here find readings and name new
files; none of them writes, and none returns the name of an existing file for a new reading.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path

from lesion_tool.errors import AssessmentError
from lesion_tool.model import Assessment
from lesion_tool.storage import load_assessment

__all__ = ["ReadingFile", "find_readings", "new_reading_path", "reading_path", "safe_name"]

_VERSION = re.compile(r"\.v(\d+)$")


def safe_name(text: str) -> str:
    """``text`` as one file-name part: letters, digits, ``-`` and ``.`` kept, the rest ``_``.

    Underscores become ``-`` too, so the ``__`` between patient and reader stays unambiguous.
    """
    cleaned = "".join(ch if ch.isalnum() or ch in "-." else "-" for ch in text.strip())
    return cleaned.strip(".") or "x"


def reading_path(
    folder: str | os.PathLike[str], patient_id: str, reader: str, version: int = 1
) -> Path:
    """The file of one version of a reader's reading of a patient (version 1 has no suffix)."""
    if not reader.strip():
        raise AssessmentError("A reading file needs a reader id (who is reading?).")
    suffix = "" if version == 1 else f".v{version}"
    return Path(folder) / f"{safe_name(patient_id)}__{safe_name(reader)}{suffix}.json"


@dataclass(frozen=True)
class ReadingFile:
    """A saved reading found on disk, with what a reader needs to choose it."""

    path: Path
    version: int
    assessment: Assessment

    @property
    def reader(self) -> str:
        """Who read it."""
        return self.assessment.reader

    @property
    def saved_at(self) -> dt.datetime | None:
        """When it was last saved (None in files written before the stamp existed)."""
        return self.assessment.saved_at

    @property
    def lesion_count(self) -> int:
        """Lesion readings over all timepoints."""
        return sum(len(tp.lesions) for tp in self.assessment.timepoints)

    def describe(self) -> str:
        """One line for a chooser: file, reader, lesions, last save."""
        when = self.saved_at.strftime("%Y-%m-%d %H:%M UTC") if self.saved_at else "unknown"
        return (
            f"{self.path.name}: reader {self.reader or '?'}, {self.lesion_count} lesion "
            f"reading(s) over {len(self.assessment.timepoints)} timepoint(s), saved {when}"
        )


def find_readings(
    folder: str | os.PathLike[str], patient_id: str, reader: str | None = None
) -> list[ReadingFile]:
    """The saved readings of a patient in ``folder`` (of one reader if given), oldest version
    first. Files that do not load (or belong to another patient) are skipped."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    prefix = f"{safe_name(patient_id)}__"
    if reader is not None:
        prefix += f"{safe_name(reader)}"
    found: list[ReadingFile] = []
    for path in sorted(folder.glob(f"{prefix}*.json")):
        stem = path.name[: -len(".json")]
        match = _VERSION.search(stem)
        version = int(match.group(1)) if match else 1
        base = stem[: match.start()] if match else stem
        if reader is not None and base != prefix:
            continue  # R1 must not find R10's readings
        try:
            assessment = load_assessment(path)
        except AssessmentError:
            continue
        if assessment.patient_id != patient_id:
            continue
        found.append(ReadingFile(path, version, assessment))
    return sorted(found, key=lambda f: (f.reader, f.version))


def new_reading_path(folder: str | os.PathLike[str], patient_id: str, reader: str) -> Path:
    """The file for a new reading: the first version whose file does not exist yet."""
    version = 1
    while (path := reading_path(folder, patient_id, reader, version)).exists():
        version += 1
    return path
