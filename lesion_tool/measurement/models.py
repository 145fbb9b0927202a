"""Result types of the measurement layer: lines, diameters, label and viable-tumour measurements.

All results are frozen dataclasses. Voxel coordinates are fractional indices ``(z, y, x)`` of
the volume the measurement was made on; patient coordinates are DICOM LPS millimetres
``(L, P, S)``, both obtained through :mod:`lesion_tool.io.volume`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lesion_tool.errors import MeasurementError

Point3 = tuple[float, float, float]


def _point(values: Any) -> Point3:
    x, y, z = (float(v) for v in values)
    return (x, y, z)


def _check_length(name: str, value_mm: float) -> None:
    if not (math.isfinite(value_mm) and value_mm >= 0):
        raise MeasurementError(f"{name}: {value_mm!r} mm is not a finite non-negative length.")


@dataclass(frozen=True, slots=True)
class LineMeasurement:
    """Length of a line between two points, with its in-plane (axial) part.

    Attributes
    ----------
    length_mm
        3-D Euclidean length in millimetres.
    in_plane_length_mm
        Length of the line's projection onto the slice plane (what mRECIST and RECIST measure).
    tilt_deg
        Angle between the line and the slice plane in degrees (0 for a line on one slice).
    same_slice
        True when both ends lie on the same slice (voxel z within 1e-3).
    start_voxel, end_voxel
        Fractional voxel indices ``(z, y, x)``.
    start_patient, end_patient
        LPS millimetres.
    """

    length_mm: float
    in_plane_length_mm: float
    tilt_deg: float
    same_slice: bool
    start_voxel: Point3
    end_voxel: Point3
    start_patient: Point3
    end_patient: Point3

    def __post_init__(self) -> None:
        _check_length("Line length", self.length_mm)
        _check_length("In-plane line length", self.in_plane_length_mm)
        for name in ("start_voxel", "end_voxel", "start_patient", "end_patient"):
            object.__setattr__(self, name, _point(getattr(self, name)))


@dataclass(frozen=True, slots=True)
class Diameter:
    """A diameter measured in one axial slice, with its end points.

    Attributes
    ----------
    length_mm
        Length in millimetres (0 when there is nothing to measure, then the end points are None).
    slice_index
        Index ``z`` of the slice it was measured on (None when ``length_mm`` is 0).
    start_voxel, end_voxel
        End points as fractional voxel indices ``(z, y, x)``.
    start_patient, end_patient
        End points in LPS millimetres.
    """

    length_mm: float
    slice_index: int | None = None
    start_voxel: Point3 | None = None
    end_voxel: Point3 | None = None
    start_patient: Point3 | None = None
    end_patient: Point3 | None = None

    def __post_init__(self) -> None:
        _check_length("Diameter", self.length_mm)
        for name in ("start_voxel", "end_voxel", "start_patient", "end_patient"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _point(value))

    @classmethod
    def empty(cls) -> Diameter:
        """A zero diameter (nothing to measure)."""
        return cls(0.0)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary (lists for points)."""
        return {
            "length_mm": self.length_mm,
            "slice_index": self.slice_index,
            "start_voxel": None if self.start_voxel is None else list(self.start_voxel),
            "end_voxel": None if self.end_voxel is None else list(self.end_voxel),
            "start_patient": None if self.start_patient is None else list(self.start_patient),
            "end_patient": None if self.end_patient is None else list(self.end_patient),
        }


@dataclass(frozen=True, slots=True)
class LabelMeasurement:
    """Measurements of one label (or one connected component of it) of a mask.

    Attributes
    ----------
    label
        The label value (or DICOM SEG segment number).
    component
        1-based connected-component number when components are measured separately; None when
        the label was measured as a whole.
    name
        Segment or label name where the mask file has one.
    longest
        Longest axial diameter (largest in-plane Feret diameter over all slices).
    perpendicular
        Longest diameter perpendicular to ``longest`` on the same slice.
    volume_ml
        Volume in millilitres (sum of voxel fractions times the voxel volume).
    centroid_voxel, centroid_patient
        Centre of mass, ``(z, y, x)`` voxel indices and LPS millimetres.
    voxel_count
        Number of voxels in the label (fractional masks: voxels with fraction >= 0.5).
    component_count
        Separate pieces (3-D connected components) of the label, specks not counted; with
        ``component`` it says "component 2 of 2". None when not computed.
    specks
        Components of the label too small to be a lesion (see
        :data:`lesion_tool.measurement.diameter.SPECK_MM3`), not measured on their own.
    """

    label: int
    component: int | None
    longest: Diameter
    perpendicular: Diameter
    volume_ml: float
    centroid_voxel: Point3
    centroid_patient: Point3
    voxel_count: int
    name: str = ""
    component_count: int | None = None
    specks: int = 0

    @property
    def longest_diameter_mm(self) -> float:
        """Longest axial diameter in millimetres."""
        return self.longest.length_mm

    @property
    def perpendicular_diameter_mm(self) -> float:
        """Longest perpendicular diameter in millimetres."""
        return self.perpendicular.length_mm

    @property
    def slice_index(self) -> int | None:
        """Slice ``z`` of the longest diameter."""
        return self.longest.slice_index

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary."""
        return {
            "label": self.label,
            "component": self.component,
            "name": self.name,
            "longest_diameter_mm": self.longest.length_mm,
            "perpendicular_diameter_mm": self.perpendicular.length_mm,
            "slice_index": self.longest.slice_index,
            "longest": self.longest.to_dict(),
            "perpendicular": self.perpendicular.to_dict(),
            "volume_ml": self.volume_ml,
            "centroid_voxel": list(self.centroid_voxel),
            "centroid_patient": list(self.centroid_patient),
            "voxel_count": self.voxel_count,
            "component_count": self.component_count,
            "specks": self.specks,
        }


@dataclass(frozen=True, slots=True)
class ViableWholeMeasurement:
    """Viable and whole-lesion diameters of a lesion mask with viable and necrotic labels.

    ``viable`` is None when the mask holds no viable voxel (its diameter is then 0 by mRECIST).
    """

    viable: LabelMeasurement | None
    whole: LabelMeasurement

    @property
    def viable_diameter_mm(self) -> float:
        """mRECIST viable diameter in millimetres (0 when nothing is viable)."""
        return 0.0 if self.viable is None else self.viable.longest.length_mm

    @property
    def longest_diameter_mm(self) -> float:
        """RECIST 1.1 whole-lesion longest diameter in millimetres."""
        return self.whole.longest.length_mm


@dataclass(frozen=True, slots=True)
class ViableSettings:
    """Settings of the semi-automatic viable-tumour measurement (:func:`measure_viable`).

    Attributes
    ----------
    box_mm
        Side of the cubic region around the click that is analysed, in millimetres. Lesions
        reaching its border trigger one retry with a box twice as large.
    min_enhancement_hu
        Smallest enhancement above parenchyma (HU) counted as viable, and the smallest
        hypo-attenuation below it counted as necrosis.
    noise_k
        The threshold is ``parenchyma + max(min_enhancement_hu, noise_k * noise_sd)`` where
        ``noise_sd`` is the noise standard deviation of the smoothed image.
    smoothing_sigma_px
        In-plane Gaussian smoothing (pixels) before thresholding and contouring; suppresses noise
        without moving the half-way contour of a straight edge.
    necrosis_min_hu
        Darker voxels are not necrosis (fat, air, outside the liver).
    viable_max_hu
        Brighter voxels are not tumour (arteries, bone, contrast).
    seed_search_mm
        When the clicked voxel is not lesion, the nearest lesion voxel within this distance is
        used instead.
    min_viable_ml
        Viable islands smaller than this (millilitres) are discarded as noise.
    """

    box_mm: float = 90.0
    min_enhancement_hu: float = 20.0
    noise_k: float = 3.0
    smoothing_sigma_px: float = 0.7
    necrosis_min_hu: float = -30.0
    viable_max_hu: float = 400.0
    seed_search_mm: float = 3.0
    min_viable_ml: float = 0.01

    def __post_init__(self) -> None:
        for name in ("box_mm", "min_enhancement_hu", "noise_k", "seed_search_mm"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f'Setting "{name}" must be a positive number, got {value!r}.')
        if not (math.isfinite(self.smoothing_sigma_px) and self.smoothing_sigma_px >= 0):
            raise ValueError('Setting "smoothing_sigma_px" must be >= 0.')


@dataclass(frozen=True, slots=True)
class ViableEvidence:
    """What the semi-automatic measurement based itself on, for the reader to judge (HU)."""

    parenchyma_hu: float
    """Median of the smoothed image in a shell 2-6 mm outside the lesion."""
    noise_sd_hu: float
    """Noise standard deviation of the unsmoothed image (robust, from neighbour differences)."""
    threshold_hu: float
    """Smoothed voxels above this are viable."""
    necrosis_threshold_hu: float
    """Smoothed voxels below this (and above ``necrosis_min_hu``) are necrosis."""
    lesion_hu: float
    """Median of the whole lesion."""
    viable_hu: float | None
    """Median of the viable part (None when nothing is viable)."""
    necrotic_hu: float | None
    """Median of the non-viable part of the lesion (None when all of it is viable)."""
    seed_hu: float
    """Smoothed value at the click."""
    box_mm: float
    """Side of the analysed region actually used."""
    notes: tuple[str, ...] = ()
    """Warnings for the reader (e.g. the lesion reaches the analysed region's border)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary."""
        return {
            "parenchyma_hu": self.parenchyma_hu,
            "noise_sd_hu": self.noise_sd_hu,
            "threshold_hu": self.threshold_hu,
            "necrosis_threshold_hu": self.necrosis_threshold_hu,
            "lesion_hu": self.lesion_hu,
            "viable_hu": self.viable_hu,
            "necrotic_hu": self.necrotic_hu,
            "seed_hu": self.seed_hu,
            "box_mm": self.box_mm,
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True)
class ViableMeasurement:
    """Result of :func:`lesion_tool.measurement.measure_viable`.

    Attributes
    ----------
    viable_mask, whole_mask
        Boolean masks ``(z, y, x)`` of the analysed region; voxel ``(i, j, k)`` of a mask is voxel
        ``offset + (i, j, k)`` of the volume.
    offset
        ``(z, y, x)`` index in the volume of the masks' first voxel.
    viable, whole
        Longest axial diameters of the viable part (0 when nothing enhances) and of the whole
        lesion, in volume coordinates.
    viable_perpendicular, whole_perpendicular
        Longest diameters perpendicular to those, on the same slice.
    viable_volume_ml, whole_volume_ml
        Mask volumes in millilitres.
    seed_voxel
        The voxel the lesion was grown from ``(z, y, x)`` (the click, or the nearest lesion voxel).
    evidence
        The HU values the decision rests on.
    """

    viable_mask: np.ndarray
    whole_mask: np.ndarray
    offset: tuple[int, int, int]
    viable: Diameter
    whole: Diameter
    viable_perpendicular: Diameter
    whole_perpendicular: Diameter
    viable_volume_ml: float
    whole_volume_ml: float
    seed_voxel: tuple[int, int, int]
    evidence: ViableEvidence
    settings: ViableSettings = field(default_factory=ViableSettings)

    @property
    def viable_diameter_mm(self) -> float:
        """mRECIST viable diameter in millimetres (0 when nothing enhances)."""
        return self.viable.length_mm

    @property
    def longest_diameter_mm(self) -> float:
        """RECIST 1.1 whole-lesion longest axial diameter in millimetres."""
        return self.whole.length_mm

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without the masks)."""
        return {
            "seed_voxel": list(self.seed_voxel),
            "viable_diameter_mm": self.viable.length_mm,
            "longest_diameter_mm": self.whole.length_mm,
            "viable": self.viable.to_dict(),
            "viable_perpendicular": self.viable_perpendicular.to_dict(),
            "whole": self.whole.to_dict(),
            "whole_perpendicular": self.whole_perpendicular.to_dict(),
            "viable_volume_ml": self.viable_volume_ml,
            "whole_volume_ml": self.whole_volume_ml,
            "offset": list(self.offset),
            "evidence": self.evidence.to_dict(),
        }
