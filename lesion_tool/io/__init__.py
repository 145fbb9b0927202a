"""DICOM input: series discovery, contrast-phase detection and geometry-exact volumes.

Public API
----------
- :func:`scan_folders` -> :class:`ScanResult` (patients -> studies -> series stacks, phase of each
  stack, the series each study would measure on, unusable files in ``problems``)
- :func:`load_series` (a series folder, a list of files or one multi-frame file -> CTVolume)
- :func:`to_sitk` / :func:`from_sitk` (SimpleITK conversion keeping geometry)
- :class:`CTVolume`, :func:`index_to_patient`, :func:`patient_to_index` (geometry helpers)
- :class:`Phase`, :class:`PhaseCall`, :class:`Enhancement`, :func:`phase_from_text`,
  :func:`estimate_enhancement`
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lesion_tool._lazy import lazy_exports

if TYPE_CHECKING:
    from lesion_tool.io.phase import (
        Enhancement,
        Phase,
        PhaseCall,
        estimate_enhancement,
        phase_from_enhancement,
        phase_from_text,
    )
    from lesion_tool.io.scan import Patient, Problem, ScanResult, SeriesStack, Study, scan_folders
    from lesion_tool.io.series import load_series
    from lesion_tool.io.sitk import from_sitk, to_sitk
    from lesion_tool.io.volume import CTVolume, index_to_patient, patient_to_index

_LAZY: dict[str, str] = {
    "CTVolume": "lesion_tool.io.volume",
    "Enhancement": "lesion_tool.io.phase",
    "Patient": "lesion_tool.io.scan",
    "Phase": "lesion_tool.io.phase",
    "PhaseCall": "lesion_tool.io.phase",
    "Problem": "lesion_tool.io.scan",
    "ScanResult": "lesion_tool.io.scan",
    "SeriesStack": "lesion_tool.io.scan",
    "Study": "lesion_tool.io.scan",
    "estimate_enhancement": "lesion_tool.io.phase",
    "from_sitk": "lesion_tool.io.sitk",
    "index_to_patient": "lesion_tool.io.volume",
    "load_series": "lesion_tool.io.series",
    "patient_to_index": "lesion_tool.io.volume",
    "phase_from_enhancement": "lesion_tool.io.phase",
    "phase_from_text": "lesion_tool.io.phase",
    "scan_folders": "lesion_tool.io.scan",
    "to_sitk": "lesion_tool.io.sitk",
}
"""Public name -> defining module, imported on first access (PEP 562) so that importing this
package costs nothing until a name is used."""


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())


__all__ = [
    "CTVolume",
    "Enhancement",
    "Patient",
    "Phase",
    "PhaseCall",
    "Problem",
    "ScanResult",
    "SeriesStack",
    "Study",
    "estimate_enhancement",
    "from_sitk",
    "index_to_patient",
    "load_series",
    "patient_to_index",
    "phase_from_enhancement",
    "phase_from_text",
    "scan_folders",
    "to_sitk",
]
