"""lesion-tool: measure HCC on CT and score tumour response by mRECIST and RECIST 1.1.

The package root re-exports the model and the errors only, so that ``import lesion_tool`` stays
cheap (the CLI imports it on every call). The parts are imported from their subpackages:
:mod:`lesion_tool.io` (DICOM), :mod:`lesion_tool.measurement`, :mod:`lesion_tool.response`,
:mod:`lesion_tool.storage` (JSON, DICOM SR), :mod:`lesion_tool.report`, :mod:`lesion_tool.synth`.
"""

from __future__ import annotations

from typing import Any

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


def __getattr__(name: str) -> Any:
    """``__version__`` on first use: importlib.metadata costs ~35 ms that every command paid."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("lesion-tool")
    except PackageNotFoundError:  # running from a source tree that was never installed
        value = "0+unknown"
    globals()["__version__"] = value
    return value


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
