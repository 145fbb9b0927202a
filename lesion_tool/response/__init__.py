"""Tumour response by mRECIST, mRECIST-1.1 and RECIST 1.1 (``shared/spec/response-rules.md``).

Pure functions over the :mod:`lesion_tool.model` types. Diameters are handled as integer tenths
of a millimetre so that inclusive thresholds hold exactly. ``score_assessment`` scores one
reading under one preset; ``cohort_endpoints`` summarises many.
"""

from __future__ import annotations

from lesion_tool.response.baseline import check_baseline
from lesion_tool.response.endpoints import clopper_pearson, cohort_endpoints
from lesion_tool.response.export import (
    FINDING_COLUMNS,
    PATIENT_COLUMNS,
    TIMEPOINT_COLUMNS,
    write_findings_csv,
    write_patients_csv,
    write_timepoints_csv,
)
from lesion_tool.response.models import (
    CohortEndpoints,
    Finding,
    NewLesions,
    PatientResult,
    Response,
    TimepointResult,
)
from lesion_tool.response.scoring import score_assessment
from lesion_tool.response.settings import PRESETS, ResponseSettings, settings_for

__all__ = [
    "FINDING_COLUMNS",
    "PATIENT_COLUMNS",
    "PRESETS",
    "TIMEPOINT_COLUMNS",
    "CohortEndpoints",
    "Finding",
    "NewLesions",
    "PatientResult",
    "Response",
    "ResponseSettings",
    "TimepointResult",
    "check_baseline",
    "clopper_pearson",
    "cohort_endpoints",
    "score_assessment",
    "settings_for",
    "write_findings_csv",
    "write_patients_csv",
    "write_timepoints_csv",
]
