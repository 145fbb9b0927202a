"""Tumour response by mRECIST, mRECIST-1.1 and RECIST 1.1 (``shared/spec/response-rules.md``).

Pure functions over the :mod:`lesion_tool.model` types. Diameters are handled as integer tenths
of a millimetre so that inclusive thresholds hold exactly. ``score_assessment`` scores one
reading under one preset; ``cohort_endpoints`` summarises many.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lesion_tool._lazy import lazy_exports

if TYPE_CHECKING:
    from lesion_tool.response.baseline import check_baseline, target_problems
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

_LAZY: dict[str, str] = {
    "FINDING_COLUMNS": "lesion_tool.response.export",
    "PATIENT_COLUMNS": "lesion_tool.response.export",
    "PRESETS": "lesion_tool.response.settings",
    "TIMEPOINT_COLUMNS": "lesion_tool.response.export",
    "CohortEndpoints": "lesion_tool.response.models",
    "Finding": "lesion_tool.response.models",
    "NewLesions": "lesion_tool.response.models",
    "PatientResult": "lesion_tool.response.models",
    "Response": "lesion_tool.response.models",
    "ResponseSettings": "lesion_tool.response.settings",
    "TimepointResult": "lesion_tool.response.models",
    "check_baseline": "lesion_tool.response.baseline",
    "clopper_pearson": "lesion_tool.response.endpoints",
    "cohort_endpoints": "lesion_tool.response.endpoints",
    "score_assessment": "lesion_tool.response.scoring",
    "settings_for": "lesion_tool.response.settings",
    "target_problems": "lesion_tool.response.baseline",
    "write_findings_csv": "lesion_tool.response.export",
    "write_patients_csv": "lesion_tool.response.export",
    "write_timepoints_csv": "lesion_tool.response.export",
}
"""Public name -> defining module, imported on first access (PEP 562): ``lesion-tool --help``
and commands that only need the presets' names do not import the scoring engine."""

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())

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
    "target_problems",
    "write_findings_csv",
    "write_patients_csv",
    "write_timepoints_csv",
]
