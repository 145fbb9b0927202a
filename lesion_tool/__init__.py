"""lesion-tool: measure HCC on CT and score tumour response by mRECIST and RECIST 1.1.

The package root re-exports the model and the errors only, so that ``import lesion_tool`` stays
cheap (the CLI imports it on every call). The parts are imported from their subpackages:
:mod:`lesion_tool.io` (DICOM), :mod:`lesion_tool.measurement`, :mod:`lesion_tool.response`,
:mod:`lesion_tool.storage` (JSON, DICOM SR), :mod:`lesion_tool.report`, :mod:`lesion_tool.synth`.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from lesion_tool.errors import (
    AssessmentError,
    AssessmentWarning,
    CriteriaError,
    ExportError,
    GeometryError,
    HeaderWarning,
    LesionToolError,
    MeasurementError,
    SeriesError,
)
from lesion_tool.model import Assessment, Category, Kind, Lesion, LesionState, Line, Timepoint

try:
    __version__ = version("lesion-tool")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "Assessment",
    "AssessmentError",
    "AssessmentWarning",
    "Category",
    "CriteriaError",
    "ExportError",
    "GeometryError",
    "HeaderWarning",
    "Kind",
    "Lesion",
    "LesionState",
    "LesionToolError",
    "Line",
    "MeasurementError",
    "SeriesError",
    "Timepoint",
    "__version__",
]
