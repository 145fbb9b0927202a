"""DICOM input: series discovery, contrast-phase detection and geometry-exact volumes.

Public API
----------
- :func:`load_series` (a series folder, a list of files or one multi-frame file -> CTVolume)
- :class:`CTVolume`, :func:`index_to_patient`, :func:`patient_to_index` (geometry helpers)
"""

from __future__ import annotations

from lesion_tool.io.series import load_series
from lesion_tool.io.volume import CTVolume, index_to_patient, patient_to_index

__all__ = ["CTVolume", "index_to_patient", "load_series", "patient_to_index"]
