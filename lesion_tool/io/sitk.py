"""Conversion between :class:`~lesion_tool.io.volume.CTVolume` and ``SimpleITK.Image``.

The only place where lesion-tool's ``(z, y, x)`` conventions meet SimpleITK's ``(x, y, z)`` ones:

- SimpleITK's array view (``GetArrayFromImage``) is already ``(z, y, x)``;
- its spacing is ``(x, y, z)``: the reverse of ``CTVolume.spacing_mm``;
- its direction is a row-major 3 x 3 whose column ``j`` is the LPS unit vector of image index
  axis ``j`` in ``(x, y, z)`` order: ``CTVolume.direction`` with its columns reversed;
- its origin is the LPS position of voxel ``(0, 0, 0)``, as ``CTVolume.origin_mm``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import SimpleITK as sitk

from lesion_tool.io.volume import CTVolume

__all__ = ["from_sitk", "to_sitk"]


def to_sitk(volume: CTVolume) -> sitk.Image:
    """A SimpleITK image with the volume's voxels and exact geometry.

    Parameters
    ----------
    volume
        Voxels ``(z, y, x)`` with spacing ``(z, y, x)`` mm, origin (LPS mm) and direction.

    Returns
    -------
    SimpleITK.Image
        Spacing ``(x, y, z)``, the same origin, direction with columns in ``(x, y, z)`` order.
    """
    image = sitk.GetImageFromArray(np.ascontiguousarray(volume.array))
    image.SetSpacing(tuple(float(s) for s in volume.spacing_mm[::-1]))
    image.SetOrigin(tuple(float(o) for o in volume.origin_mm))
    image.SetDirection(tuple(float(v) for v in volume.direction[:, ::-1].ravel()))
    return image


def from_sitk(image: sitk.Image, **identity: Any) -> CTVolume:
    """A :class:`CTVolume` from a 3-D SimpleITK image, keeping its geometry.

    Parameters
    ----------
    image
        A 3-D scalar image (spacing, origin and direction in SimpleITK's ``(x, y, z)`` order).
    identity
        Further :class:`CTVolume` fields (``series_instance_uid``, ``study_date`` ...).

    Returns
    -------
    CTVolume
        ``array`` ``(z, y, x)``, spacing ``(z, y, x)`` mm, origin and direction in
        lesion-tool's convention.

    Raises
    ------
    ValueError
        The image is not 3-D or not scalar.
    """
    if image.GetDimension() != 3 or image.GetNumberOfComponentsPerPixel() != 1:
        raise ValueError(
            'Argument "image" must be a 3-D scalar SimpleITK image, got dimension '
            f"{image.GetDimension()} with {image.GetNumberOfComponentsPerPixel()} components."
        )
    direction_xyz = np.asarray(image.GetDirection(), dtype=float).reshape(3, 3)
    return CTVolume(
        array=sitk.GetArrayFromImage(image),
        spacing_mm=tuple(image.GetSpacing()[::-1]),  # type: ignore[arg-type]
        origin_mm=tuple(image.GetOrigin()),  # type: ignore[arg-type]
        direction=direction_xyz[:, ::-1].copy(),
        **identity,
    )
