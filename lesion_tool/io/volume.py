"""The image volume with its full geometry, and the voxel <-> patient coordinate helpers.

These helpers are the single source of truth for geometry in lesion-tool: measurement, exports
and the napari plugin all convert between voxel indices and patient millimetres through them.

Conventions
-----------
- Arrays are indexed ``(z, y, x)``: slice, row, column.
- Patient coordinates are DICOM LPS millimetres, given as ``(L, P, S)`` = ``(x, y, z)`` of the
  patient coordinate system.
- ``spacing_mm`` is ``(z, y, x)``: distance between slice centres along the slice normal, between
  rows, between columns.
- ``direction`` is a 3 x 3 matrix whose column ``k`` is the LPS unit vector of array axis ``k``
  (in ``(z, y, x)`` order). SimpleITK's direction and spacing are in ``(x, y, z)`` order; convert
  only in :mod:`lesion_tool.io.sitk`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, eq=False)
class CTVolume:
    """Voxels in HU (rescale applied) with the geometry and identity of their series.

    Parameters
    ----------
    array
        Voxel values ``(z, y, x)`` in HU (or the modality's units for MR).
    spacing_mm
        ``(z, y, x)`` spacing in millimetres.
    origin_mm
        LPS position in millimetres of the centre of voxel ``(0, 0, 0)``.
    direction
        3 x 3; column ``k`` is the LPS unit vector of array axis ``k`` (``z, y, x`` order).
    """

    array: np.ndarray
    spacing_mm: tuple[float, float, float]
    origin_mm: tuple[float, float, float]
    direction: np.ndarray = field(default_factory=lambda: np.eye(3)[:, ::-1].copy())
    series_instance_uid: str = ""
    study_instance_uid: str = ""
    frame_of_reference_uid: str = ""
    study_date: dt.date | None = None
    patient_id: str = ""
    series_description: str = ""
    modality: str = "CT"
    slice_thickness_mm: float | None = None
    sop_instance_uids: tuple[str, ...] = ()
    """SOPInstanceUID of each slice, in array order (one entry per z for single-frame series)."""
    sop_class_uid: str = ""
    warnings: tuple[str, ...] = ()
    """Header findings that change no millimetre (reported, not fatal)."""
    metadata: dict[str, Any] = field(default_factory=dict)
    """Free-form extra header information (e.g. phase classification, source paths)."""

    def __post_init__(self) -> None:
        if self.array.ndim != 3:
            raise ValueError(
                f'Argument "array" must be 3-D (z, y, x), got shape {self.array.shape}.'
            )
        direction = np.asarray(self.direction, dtype=float)
        if direction.shape != (3, 3):
            raise ValueError('Argument "direction" must be a 3 x 3 matrix.')
        object.__setattr__(self, "direction", direction)
        object.__setattr__(self, "spacing_mm", tuple(float(s) for s in self.spacing_mm))
        object.__setattr__(self, "origin_mm", tuple(float(o) for o in self.origin_mm))

    @property
    def shape(self) -> tuple[int, int, int]:
        """Array shape ``(z, y, x)``."""
        return tuple(self.array.shape)  # type: ignore[return-value]

    @property
    def affine(self) -> np.ndarray:
        """4 x 4 matrix mapping voxel indices ``(z, y, x, 1)`` to LPS ``(L, P, S, 1)``."""
        return index_to_patient_affine(self.spacing_mm, self.origin_mm, self.direction)

    def index_to_patient(self, index_zyx: npt.ArrayLike) -> np.ndarray:
        """LPS millimetres of (fractional) voxel indices ``(..., 3)`` given as ``(z, y, x)``."""
        return index_to_patient(index_zyx, self.spacing_mm, self.origin_mm, self.direction)

    def patient_to_index(self, lps_mm: npt.ArrayLike) -> np.ndarray:
        """Fractional voxel indices ``(z, y, x)`` of LPS millimetre points ``(..., 3)``."""
        return patient_to_index(lps_mm, self.spacing_mm, self.origin_mm, self.direction)

    @property
    def slice_normal(self) -> np.ndarray:
        """LPS unit vector of increasing slice index."""
        return self.direction[:, 0].copy()


def index_to_patient_affine(
    spacing_mm: npt.ArrayLike, origin_mm: npt.ArrayLike, direction: npt.ArrayLike
) -> np.ndarray:
    """4 x 4 affine from voxel ``(z, y, x)`` to LPS, from ``(z, y, x)`` spacing and a direction
    whose columns are the axes in ``(z, y, x)`` order."""
    affine = np.eye(4)
    affine[:3, :3] = np.asarray(direction, dtype=float) * np.asarray(spacing_mm, dtype=float)
    affine[:3, 3] = np.asarray(origin_mm, dtype=float)
    return affine


def index_to_patient(
    index_zyx: npt.ArrayLike,
    spacing_mm: npt.ArrayLike,
    origin_mm: npt.ArrayLike,
    direction: npt.ArrayLike,
) -> np.ndarray:
    """LPS millimetres of voxel indices ``(..., 3)`` in ``(z, y, x)`` order."""
    idx = np.asarray(index_zyx, dtype=float)
    m = np.asarray(direction, dtype=float) * np.asarray(spacing_mm, dtype=float)
    return idx @ m.T + np.asarray(origin_mm, dtype=float)


def patient_to_index(
    lps_mm: npt.ArrayLike,
    spacing_mm: npt.ArrayLike,
    origin_mm: npt.ArrayLike,
    direction: npt.ArrayLike,
) -> np.ndarray:
    """Fractional voxel indices ``(..., 3)`` in ``(z, y, x)`` order of LPS millimetre points."""
    pts = np.asarray(lps_mm, dtype=float) - np.asarray(origin_mm, dtype=float)
    m = np.asarray(direction, dtype=float) * np.asarray(spacing_mm, dtype=float)
    return np.linalg.solve(m, pts.reshape(-1, 3).T).T.reshape(pts.shape)
