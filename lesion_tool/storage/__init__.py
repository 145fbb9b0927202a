"""Stored assessments: JSON format v1 (read, validate, write atomically) and file discovery."""

from __future__ import annotations

from lesion_tool.storage.assessment_json import (
    assessment_from_dict,
    assessment_to_dict,
    find_assessment_files,
    load_assessment,
    round_diameter_mm,
    save_assessment,
    validate_assessment_dict,
)

__all__ = [
    "assessment_from_dict",
    "assessment_to_dict",
    "find_assessment_files",
    "load_assessment",
    "round_diameter_mm",
    "save_assessment",
    "validate_assessment_dict",
]
