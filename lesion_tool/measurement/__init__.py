"""Measurement: calibrated lines, diameters from masks and semi-automatic viable tumour."""

from __future__ import annotations

from lesion_tool.measurement.diameter import (
    Geometry,
    boundary_points,
    contour_points,
    fill_holes_per_slice,
    longest_axial_diameter,
    measure_fraction,
    measure_labels,
    measure_line,
    measure_viable_and_whole,
    perpendicular_diameter,
)
from lesion_tool.measurement.enhancement import measure_viable
from lesion_tool.measurement.masks import (
    MaskSegment,
    MaskVolume,
    load_mask,
    load_mask_series,
    mask_from_array,
    measure_mask,
)
from lesion_tool.measurement.models import (
    Diameter,
    LabelMeasurement,
    LineMeasurement,
    ViableEvidence,
    ViableMeasurement,
    ViableSettings,
    ViableWholeMeasurement,
)
from lesion_tool.measurement.segment import (
    LesionEvidence,
    LesionMeasurement,
    LesionPrompt,
    measure_lesion,
)

__all__ = [
    "Diameter",
    "Geometry",
    "LabelMeasurement",
    "LesionEvidence",
    "LesionMeasurement",
    "LesionPrompt",
    "LineMeasurement",
    "MaskSegment",
    "MaskVolume",
    "ViableEvidence",
    "ViableMeasurement",
    "ViableSettings",
    "ViableWholeMeasurement",
    "boundary_points",
    "contour_points",
    "fill_holes_per_slice",
    "load_mask",
    "load_mask_series",
    "longest_axial_diameter",
    "mask_from_array",
    "measure_fraction",
    "measure_labels",
    "measure_lesion",
    "measure_line",
    "measure_mask",
    "measure_viable",
    "measure_viable_and_whole",
    "perpendicular_diameter",
]
