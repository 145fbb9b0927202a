"""Adapters between lesion-tool's core types and napari layers.

The core speaks :class:`~lesion_tool.io.volume.CTVolume` (array ``(z, y, x)`` with its LPS
geometry) and :class:`~lesion_tool.model.Line` (voxel ``(z, y, x)`` end points). napari shows
layers. This module is the only place that converts between the two, and it does so through
the volume's own geometry (``direction``, ``spacing_mm``, ``origin_mm``), never a re-derived one.

Display convention (as radiologists read axial CT):

- display axis 0 (the slider) runs along the patient's S axis (increasing towards the head),
- display axis 1 (screen rows, downwards) runs along P, so anterior is at the top,
- display axis 2 (screen columns, rightwards) runs along L, so the patient's right is on the
  screen's left.

The image array is shown through a transposed / flipped *view* (no copy) so that these hold for
any axis-aligned acquisition, and the layer's ``scale`` (mm per display voxel) and ``translate``
(mm) make napari's world coordinates equal the patient's ``(S, P, L)`` millimetres. Layers of
different timepoints are therefore shown at the same anatomical position when they share a
frame of reference, and a lesion found on one is found at the same world point on the other.
Oblique acquisitions are shown along their nearest patient axes (the world coordinates are then
approximate; measurements are not affected because they always go back to voxel indices).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from lesion_tool.io.volume import CTVolume
from lesion_tool.model import Line
from lesion_tool.viewing.windows import DEFAULT_WINDOW as CORE_DEFAULT_WINDOW
from lesion_tool.viewing.windows import PRESETS

WINDOWS: dict[str, tuple[float, float]] = {
    name: (window.level, window.width) for name, window in PRESETS.items()
}
"""Window presets as ``(level, width)`` in HU: the core's :data:`lesion_tool.viewing.PRESETS`
(abdomen W 400 / L 40 by default; the former liver L 60 / W 150 washed a real liver out)."""

DEFAULT_WINDOW = CORE_DEFAULT_WINDOW

META_KEY = "lesion_tool"
"""Key of the header dictionary in a layer's ``metadata``."""
VOLUME_KEY = "lesion_tool_volume"
"""Key of the :class:`CTVolume` in an image layer's ``metadata``."""

# LPS component shown along each display axis: S (2), P (1), L (0).
_DISPLAY_COMPONENTS = (2, 1, 0)


def window_limits(name: str) -> tuple[float, float]:
    """Contrast limits ``(low, high)`` in HU of a named window preset.

    Raises
    ------
    KeyError
        If ``name`` is not one of :data:`WINDOWS`.
    """
    level, width = WINDOWS[name]
    return (level - width / 2.0, level + width / 2.0)


@dataclass(frozen=True)
class DisplayGeometry:
    """How a volume's voxel grid maps onto napari's display axes and world coordinates.

    Attributes
    ----------
    perm
        ``perm[d]`` is the volume axis (0 = z, 1 = y, 2 = x) shown along display axis ``d``.
    flip
        Whether display axis ``d`` runs against the volume axis ``perm[d]``.
    shape
        Volume shape ``(z, y, x)``.
    scale
        Millimetres per display voxel along each display axis (always positive).
    translate
        World position (mm, ``(S, P, L)``) of display index ``(0, 0, 0)``.
    """

    perm: tuple[int, int, int]
    flip: tuple[bool, bool, bool]
    shape: tuple[int, int, int]
    scale: tuple[float, float, float]
    translate: tuple[float, float, float]

    @classmethod
    def from_volume(cls, volume: CTVolume) -> DisplayGeometry:
        """The display geometry of ``volume`` (see the module docstring for the convention)."""
        weights = np.abs(np.asarray(volume.direction, dtype=float))  # [LPS component, axis]
        perm: list[int] = []
        for component in _DISPLAY_COMPONENTS:
            order = np.argsort(-weights[component])
            axis = next(int(a) for a in order if int(a) not in perm)
            perm.append(axis)
        flip = tuple(
            bool(volume.direction[component, axis] < 0)
            for component, axis in zip(_DISPLAY_COMPONENTS, perm, strict=True)
        )
        shape = volume.shape
        corner = [0.0, 0.0, 0.0]
        for d, axis in enumerate(perm):
            corner[axis] = float(shape[axis] - 1) if flip[d] else 0.0
        corner_lps = volume.index_to_patient(np.asarray(corner))
        translate = tuple(float(corner_lps[c]) for c in _DISPLAY_COMPONENTS)
        scale = tuple(float(volume.spacing_mm[axis]) for axis in perm)
        return cls(tuple(perm), flip, shape, scale, translate)  # type: ignore[arg-type]

    @property
    def display_shape(self) -> tuple[int, int, int]:
        """Shape of the displayed array."""
        return tuple(self.shape[axis] for axis in self.perm)  # type: ignore[return-value]

    def display_array(self, array: np.ndarray) -> np.ndarray:
        """A view of a ``(z, y, x)`` array (same shape as the volume) in display orientation."""
        view = np.transpose(array, self.perm)
        slices = tuple(slice(None, None, -1) if f else slice(None) for f in self.flip)
        return view[slices]

    def display_to_voxel(self, points: np.ndarray) -> np.ndarray:
        """Volume voxel indices ``(..., 3)`` ``(z, y, x)`` of display indices ``(..., 3)``."""
        pts = np.asarray(points, dtype=float)
        out = np.empty_like(pts)
        for d, axis in enumerate(self.perm):
            col = pts[..., d]
            out[..., axis] = (self.shape[axis] - 1 - col) if self.flip[d] else col
        return out

    def voxel_to_display(self, points: np.ndarray) -> np.ndarray:
        """Display indices ``(..., 3)`` of volume voxel indices ``(..., 3)`` ``(z, y, x)``."""
        pts = np.asarray(points, dtype=float)
        out = np.empty_like(pts)
        for d, axis in enumerate(self.perm):
            col = pts[..., axis]
            out[..., d] = (self.shape[axis] - 1 - col) if self.flip[d] else col
        return out

    def display_to_world(self, points: np.ndarray) -> np.ndarray:
        """World millimetres ``(S, P, L)`` of display indices ``(..., 3)``."""
        return np.asarray(points, dtype=float) * np.asarray(self.scale) + np.asarray(self.translate)

    def world_to_display(self, points: np.ndarray) -> np.ndarray:
        """Display indices ``(..., 3)`` of world millimetres ``(S, P, L)``."""
        return (np.asarray(points, dtype=float) - np.asarray(self.translate)) / np.asarray(
            self.scale
        )

    def voxel_to_world(self, points: np.ndarray) -> np.ndarray:
        """World millimetres ``(S, P, L)`` of volume voxel indices ``(..., 3)`` ``(z, y, x)``."""
        return self.display_to_world(self.voxel_to_display(points))

    def world_to_voxel(self, points: np.ndarray) -> np.ndarray:
        """Volume voxel indices ``(z, y, x)`` of world millimetres ``(..., 3)`` ``(S, P, L)``."""
        return self.display_to_voxel(self.world_to_display(points))

    def mask_display_offset(self, offset_zyx: tuple[int, int, int], mask_shape: tuple) -> tuple:
        """Display index of the first voxel of a sub-array placed at ``offset_zyx`` in the volume.

        Used to show a cropped mask (e.g. a lesion mask with its offset) with the same
        transform as its image.
        """
        out = []
        for d, axis in enumerate(self.perm):
            if self.flip[d]:
                out.append(self.shape[axis] - (int(offset_zyx[axis]) + int(mask_shape[axis])))
            else:
                out.append(int(offset_zyx[axis]))
        return tuple(out)

    def layer_kwargs(self) -> dict[str, Any]:
        """``scale``, ``translate`` and ``units`` (mm) for any layer drawn over this volume.

        Every layer says mm from its creation: napari's scale bar reads the unit from the
        layers, and one layer left in its default pixels makes it unitless (with a warning).
        """
        return {"scale": self.scale, "translate": self.translate, "units": ("mm",) * 3}


def volume_header(volume: CTVolume, **extra: Any) -> dict[str, Any]:
    """The identity of a volume as plain data for a layer's ``metadata[META_KEY]``."""
    header: dict[str, Any] = {
        "patient_id": volume.patient_id,
        "study_instance_uid": volume.study_instance_uid,
        "series_instance_uid": volume.series_instance_uid,
        "frame_of_reference_uid": volume.frame_of_reference_uid,
        "study_date": volume.study_date.isoformat() if volume.study_date else None,
        "series_description": volume.series_description,
        "modality": volume.modality,
        "shape_zyx": list(volume.shape),
        "spacing_mm_zyx": list(volume.spacing_mm),
        "origin_mm_lps": list(volume.origin_mm),
        "warnings": list(volume.warnings),
    }
    header.update(extra)
    return header


def image_layer_name(volume: CTVolume, phase: str, label: str | None = None) -> str:
    """Layer name with the study date, timepoint label, phase and series description."""
    date = volume.study_date.isoformat() if volume.study_date else "no date"
    series = volume.series_description or volume.series_instance_uid[-12:] or "series"
    prefix = f"{date} {label}" if label else date
    return f"{prefix} · {phase} · {series}"


def image_layer_data(
    volume: CTVolume,
    *,
    phase: str,
    label: str | None = None,
    visible: bool = True,
    window: str = DEFAULT_WINDOW,
    extra: dict[str, Any] | None = None,
) -> tuple[np.ndarray, dict[str, Any], str]:
    """A napari layer-data tuple showing ``volume`` with its physical geometry.

    Parameters
    ----------
    volume
        The series; its array is ``(z, y, x)`` in HU.
    phase
        Contrast phase name shown in the layer name (e.g. ``"arterial"``).
    label
        Timepoint label (``"baseline"``, ``"FU1"``...), or None.
    visible
        Hidden layers stay available in the layer list.
    window
        A :data:`WINDOWS` preset name.
    extra
        More header fields for ``metadata[META_KEY]``.
    """
    geometry = DisplayGeometry.from_volume(volume)
    header = volume_header(volume, phase=phase, timepoint=label, role="image", **(extra or {}))
    kwargs: dict[str, Any] = {
        "name": image_layer_name(volume, phase, label),
        "colormap": "gray",
        "contrast_limits": window_limits(window),
        "visible": visible,
        "metadata": {META_KEY: header, VOLUME_KEY: volume},
        **geometry.layer_kwargs(),
    }
    return geometry.display_array(volume.array), kwargs, "image"


def volume_from_layer(layer: Any) -> CTVolume:
    """The :class:`CTVolume` behind an image layer made by lesion-tool.

    Raises
    ------
    ValueError
        If the layer was not made by lesion-tool (it has no volume in its metadata).
    """
    volume = getattr(layer, "metadata", {}).get(VOLUME_KEY)
    if not isinstance(volume, CTVolume):
        raise ValueError(f"Layer {getattr(layer, 'name', layer)!r} was not opened by lesion-tool.")
    return volume


def is_lazy(volume: CTVolume) -> bool:
    """Whether ``volume``'s pixels are a lazy (dask) array not yet read into memory."""
    return not isinstance(volume.array, np.ndarray)


def materialised(volume: CTVolume) -> CTVolume:
    """``volume`` with its pixels in memory (a lazy array is computed once; else itself).

    Whole-volume work (the semi-automatic measurement) runs on this rather than on a lazy
    array that would be read again on every call. Slow for a lazy volume (it reads the series):
    call it in a worker thread.
    """
    if not is_lazy(volume):
        return volume
    metadata = {**volume.metadata, "lazy": False}
    return dataclasses.replace(volume, array=np.asarray(volume.array), metadata=metadata)


def line_to_shape(line: Line, volume: CTVolume, geometry: DisplayGeometry) -> np.ndarray:
    """Display-index vertices ``(2, 3)`` of a stored line (voxel or patient space)."""
    pts = np.array([line.start, line.end], dtype=float)
    if line.space == "patient":
        pts = volume.patient_to_index(pts)
    return geometry.voxel_to_display(pts)


def shape_to_voxels(vertices: np.ndarray, geometry: DisplayGeometry) -> np.ndarray:
    """Voxel end points ``(2, 3)`` ``(z, y, x)`` of a line shape given in display indices."""
    pts = np.asarray(vertices, dtype=float)
    if pts.shape != (2, 3):
        raise ValueError(f"A diameter line has two 3-D end points, got shape {pts.shape}.")
    return geometry.display_to_voxel(pts)


def voxels_inside(points_zyx: np.ndarray, shape: tuple[int, int, int]) -> bool:
    """Whether all voxel points ``(..., 3)`` lie inside a volume of ``shape`` (+- 0.5 voxel)."""
    pts = np.asarray(points_zyx, dtype=float).reshape(-1, 3)
    upper = np.asarray(shape, dtype=float) - 0.5
    return bool(np.all(pts >= -0.5) and np.all(pts <= upper))


VIABLE_LABEL = 1
"""Label value of the viable (enhancing) part in a proposal labels layer."""
NON_VIABLE_LABEL = 2
"""Label value of the rest of the lesion (necrosis, or all of it off the arterial phase)."""
PROPOSAL_COLOURS = {VIABLE_LABEL: "#ff6d00", NON_VIABLE_LABEL: "#00e676"}
"""Contour colours of a proposal (viable part orange, the rest green): outlines, unlike the
cyan / magenta / yellow lines."""
PROPOSAL_COLOURS_FLAGGED = {VIABLE_LABEL: "#ffd600", NON_VIABLE_LABEL: "#ff1744"}
"""Contour colours of a proposal the core (or the phase check) doubts: the lesion red, its
viable part yellow, so that a flagged result does not look like a sound one on the image."""


def proposal_colours(flagged: bool) -> dict[int, str]:
    """The proposal contour's colours: :data:`PROPOSAL_COLOURS_FLAGGED` for a flagged one."""
    return PROPOSAL_COLOURS_FLAGGED if flagged else PROPOSAL_COLOURS


PROPOSAL_PAD = (1, 12, 12)
"""Voxels ``(z, y, x)`` of room around a proposal's mask in its labels layer, for painting."""


def diameter_ends(diameter: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """Voxel end points ``(z, y, x)`` of a core ``Diameter``, or None when it is 0 mm."""
    if diameter is None or diameter.length_mm <= 0 or diameter.start_voxel is None:
        return None
    return (np.asarray(diameter.start_voxel, float), np.asarray(diameter.end_voxel, float))


def proposal_labels(
    result: Any, volume_shape: tuple[int, int, int], pad: tuple[int, int, int] = PROPOSAL_PAD
) -> tuple[np.ndarray, tuple[int, int, int]]:
    """A labels box ``(z, y, x)`` uint8 and its offset for a core ``LesionMeasurement``.

    The lesion is :data:`NON_VIABLE_LABEL`, its viable part (arterial images)
    :data:`VIABLE_LABEL`; the box is the mask's grown by ``pad`` (within the volume) so that the
    reader can paint beyond the automatic contour.
    """
    offset = np.asarray(result.offset, dtype=int)
    shape = np.asarray(result.mask.shape, dtype=int)
    lo = np.maximum(offset - np.asarray(pad), 0)
    hi = np.minimum(offset + shape + np.asarray(pad), np.asarray(volume_shape))
    labels = np.zeros(tuple(hi - lo), dtype=np.uint8)
    inner = tuple(slice(o - a, o - a + n) for o, a, n in zip(offset, lo, shape, strict=True))
    labels[inner][np.asarray(result.mask, dtype=bool)] = NON_VIABLE_LABEL
    if result.viable_mask is not None:
        labels[inner][np.asarray(result.viable_mask, dtype=bool)] = VIABLE_LABEL
    return labels, tuple(int(v) for v in lo)  # type: ignore[return-value]


def volume_order(geometry: DisplayGeometry, display: np.ndarray) -> np.ndarray:
    """The ``(z, y, x)`` array of an array in display orientation (inverse of
    :meth:`DisplayGeometry.display_array`; a painted labels layer read back)."""
    slices = tuple(slice(None, None, -1) if f else slice(None) for f in geometry.flip)
    return np.transpose(np.asarray(display)[slices], np.argsort(geometry.perm))
