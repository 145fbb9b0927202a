"""Entering a reading: the GUI-free session a user interface drives, its rules and its files.

:class:`ReadingSession` (checked edits, undo, atomic stamped saves, change events),
:mod:`~lesion_tool.reading.rules` (which diameter a lesion sums, lines and measurements into
lesions, follow-up templates, rounding) and :mod:`~lesion_tool.reading.files` (one file per
patient and reader, versions, finding existing readings).
"""

from __future__ import annotations

from lesion_tool.reading.files import (
    ReadingFile,
    find_readings,
    new_reading_path,
    reading_path,
    safe_name,
)
from lesion_tool.reading.session import (
    ID_PREFIX,
    Action,
    EarlierValue,
    ReadingError,
    ReadingSession,
    SessionEvent,
)

__all__ = [
    "ID_PREFIX",
    "Action",
    "EarlierValue",
    "ReadingError",
    "ReadingFile",
    "ReadingSession",
    "SessionEvent",
    "find_readings",
    "new_reading_path",
    "reading_path",
    "safe_name",
]
