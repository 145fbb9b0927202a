"""Measurement: calibrated lines, diameters from masks and semi-automatic viable tumour."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lesion_tool._lazy import lazy_exports

if TYPE_CHECKING:
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

_LAZY: dict[str, str] = {
    "Diameter": "lesion_tool.measurement.models",
    "Geometry": "lesion_tool.measurement.diameter",
    "LabelMeasurement": "lesion_tool.measurement.models",
    "LesionEvidence": "lesion_tool.measurement.segment",
    "LesionMeasurement": "lesion_tool.measurement.segment",
    "LesionPrompt": "lesion_tool.measurement.segment",
    "LineMeasurement": "lesion_tool.measurement.models",
    "MaskSegment": "lesion_tool.measurement.masks",
    "MaskVolume": "lesion_tool.measurement.masks",
    "ViableEvidence": "lesion_tool.measurement.models",
    "ViableMeasurement": "lesion_tool.measurement.models",
    "ViableSettings": "lesion_tool.measurement.models",
    "ViableWholeMeasurement": "lesion_tool.measurement.models",
    "boundary_points": "lesion_tool.measurement.diameter",
    "contour_points": "lesion_tool.measurement.diameter",
    "fill_holes_per_slice": "lesion_tool.measurement.diameter",
    "load_mask": "lesion_tool.measurement.masks",
    "load_mask_series": "lesion_tool.measurement.masks",
    "longest_axial_diameter": "lesion_tool.measurement.diameter",
    "mask_from_array": "lesion_tool.measurement.masks",
    "measure_fraction": "lesion_tool.measurement.diameter",
    "measure_labels": "lesion_tool.measurement.diameter",
    "measure_lesion": "lesion_tool.measurement.segment",
    "measure_line": "lesion_tool.measurement.diameter",
    "measure_mask": "lesion_tool.measurement.masks",
    "measure_viable": "lesion_tool.measurement.enhancement",
    "measure_viable_and_whole": "lesion_tool.measurement.diameter",
    "perpendicular_diameter": "lesion_tool.measurement.diameter",
}
"""Public name -> defining module, imported on first access (PEP 562) so that importing this
package costs nothing until a name is used."""


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())


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
