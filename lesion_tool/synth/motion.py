"""Known between-visit motion: patient shift and roll, liver breathing, volume change, smooth warp.

A follow-up is simulated as ``I_fu(x) = I_base(M(x))`` where ``M`` (a SimpleITK displacement
field transform) maps a follow-up LPS point (mm) to the baseline point imaged there. The truth a
registration must recover is ``M^-1``: baseline point -> follow-up point, computed here for any
point by fixed-point iteration (:func:`to_follow_up`). Arrays ``(z, y, x)``; points LPS mm.

Components (all smooth, invertible at the amplitudes drawn by :func:`random_motion`):

- rigid patient shift (a few mm) and roll about the cranio-caudal axis (a few degrees);
- breathing: the liver displaced 10-20 mm cranio-caudally, fading out over a few cm outside it
  (the spine and body wall stay put);
- liver volume change (+-12 %) about the liver's centre;
- a smooth random field (control points 60 mm apart, a few mm).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

from lesion_tool.io.sitk import from_sitk, to_sitk
from lesion_tool.io.volume import CTVolume

__all__ = ["VisitMotion", "motion_transform", "random_motion", "to_follow_up", "warp_volume"]

FIELD_SPACING_MM = 4.0
"""Grid spacing of the displacement field (mm): fine enough for fields this smooth."""


@dataclass(frozen=True)
class VisitMotion:
    """Parameters of one visit's motion (see the module docstring)."""

    shift_mm: tuple[float, float, float]
    """Patient shift, LPS mm."""
    roll_deg: float
    """Rotation about the cranio-caudal (S) axis, degrees."""
    breathing_mm: float
    """Cranio-caudal displacement of the liver (+ = the liver lies further superior), mm."""
    liver_scale: float
    """Linear scale of the liver (1.05 = 5 % larger in each direction)."""
    smooth_mm: float
    """Largest displacement of the smooth random field, mm."""
    seed: int

    def to_dict(self) -> dict[str, object]:
        """JSON-able parameters."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}


def random_motion(rng: np.random.Generator) -> VisitMotion:
    """A plausible visit-to-visit motion drawn from ``rng``."""
    shift = rng.uniform(-6.0, 6.0, size=3)
    return VisitMotion(
        shift_mm=(round(float(shift[0]), 2), round(float(shift[1]), 2), round(float(shift[2]), 2)),
        roll_deg=round(float(rng.uniform(-4.0, 4.0)), 2),
        breathing_mm=round(float(rng.choice([-1, 1]) * rng.uniform(10.0, 20.0)), 2),
        liver_scale=round(float(rng.uniform(0.88, 1.12)), 3),
        smooth_mm=round(float(rng.uniform(2.0, 5.0)), 2),
        seed=int(rng.integers(0, 2**31 - 1)),
    )


def _field_grid(reference: sitk.Image) -> sitk.Image:
    """An empty image covering ``reference`` with :data:`FIELD_SPACING_MM` voxels."""
    extent = [n * s for n, s in zip(reference.GetSize(), reference.GetSpacing(), strict=True)]
    size = [max(2, math.ceil(e / FIELD_SPACING_MM) + 1) for e in extent]
    grid = sitk.Image(size, sitk.sitkUInt8)
    grid.SetSpacing([FIELD_SPACING_MM] * 3)
    grid.SetOrigin(reference.GetOrigin())
    grid.SetDirection(reference.GetDirection())
    return grid


def _grid_points(grid: sitk.Image) -> np.ndarray:
    """LPS mm of every voxel of ``grid``, ``(z, y, x, 3)``."""
    nx, ny, nz = grid.GetSize()
    idx = np.stack(np.meshgrid(np.arange(nx), np.arange(ny), np.arange(nz), indexing="ij"), -1)
    idx = idx.transpose(2, 1, 0, 3).astype(float)  # (z, y, x, 3) holding (i, j, k)
    m = np.asarray(grid.GetDirection()).reshape(3, 3) * np.asarray(grid.GetSpacing())
    return idx @ m.T + np.asarray(grid.GetOrigin())


def motion_transform(
    motion: VisitMotion,
    reference: CTVolume,
    liver_weight: np.ndarray,
) -> sitk.Transform:
    """The transform ``M``: follow-up LPS mm -> baseline LPS mm, for a follow-up on the grid of
    ``reference``.

    ``liver_weight`` is a callable-free description of where the liver is: a boolean or 0..1
    array on the ``reference`` grid ``(z, y, x)``; it is smoothed (sigma 15 mm) so the
    breathing and volume change fade out smoothly around the liver.
    """
    ref_img = sitk.Image([int(v) for v in reference.shape[::-1]], sitk.sitkUInt8)
    ref_img.SetSpacing(tuple(float(s) for s in reference.spacing_mm[::-1]))
    ref_img.SetOrigin(reference.origin_mm)
    ref_img.SetDirection(tuple(float(v) for v in reference.direction[:, ::-1].ravel()))
    grid = _field_grid(ref_img)
    pts = _grid_points(grid)

    w_img = sitk.GetImageFromArray(np.asarray(liver_weight, dtype=np.float32))
    w_img.CopyInformation(ref_img)
    w_img = sitk.SmoothingRecursiveGaussian(
        sitk.Resample(w_img, grid, sitk.Transform(), sitk.sitkLinear, 0.0, sitk.sitkFloat32), 15.0
    )
    w = sitk.GetArrayFromImage(w_img).astype(float)
    w /= max(float(w.max()), 1e-6)
    wmask = np.asarray(liver_weight) > 0.5
    if wmask.any():
        centre = reference.index_to_patient(np.argwhere(wmask).mean(axis=0))
    else:
        centre = pts.reshape(-1, 3).mean(axis=0)

    # rigid: rotate about the S axis through the liver centre, then shift
    a = math.radians(motion.roll_deg)
    rot = np.array([[math.cos(a), -math.sin(a), 0.0], [math.sin(a), math.cos(a), 0.0], [0, 0, 1]])
    disp = (pts - centre) @ rot.T + centre + np.asarray(motion.shift_mm) - pts
    # breathing along S and liver volume change, weighted by the smoothed liver
    disp[..., 2] -= motion.breathing_mm * w
    disp += (1.0 / motion.liver_scale - 1.0) * w[..., None] * (pts - centre)
    # smooth random field: Gaussian noise on a 60 mm lattice, cubic-upsampled
    rng = np.random.default_rng(motion.seed)
    lattice = [max(2, math.ceil(n * FIELD_SPACING_MM / 60.0) + 1) for n in pts.shape[:3]]
    smooth = np.zeros_like(disp)
    for k in range(3):
        coarse = rng.standard_normal(lattice)
        zoom = [n / c for n, c in zip(pts.shape[:3], lattice, strict=True)]
        smooth[..., k] = ndimage.zoom(coarse, zoom, order=3, mode="nearest")[
            : pts.shape[0], : pts.shape[1], : pts.shape[2]
        ]
    peak = float(np.abs(smooth).max())
    if peak > 0:
        disp += smooth * (motion.smooth_mm / peak)

    field = sitk.GetImageFromArray(disp, isVector=True)
    field.CopyInformation(grid)
    return sitk.DisplacementFieldTransform(sitk.Cast(field, sitk.sitkVectorFloat64))


def warp_volume(
    volume: CTVolume,
    transform: sitk.Transform,
    *,
    nearest: bool = False,
    default: float = -1000.0,
    reference: CTVolume | None = None,
) -> CTVolume:
    """The follow-up ``I(M(x))`` of ``volume`` (linear, or nearest for labels) on the grid of
    ``reference`` (its shape, spacing, origin, direction; ``volume``'s own grid when None).

    Points ``M(x)`` outside ``volume`` get ``default``: give a ``volume`` larger than the
    follow-up's grid for a follow-up without such voxels."""
    image = to_sitk(volume)
    target = image if reference is None else to_sitk(reference)
    interp = sitk.sitkNearestNeighbor if nearest else sitk.sitkLinear
    out = sitk.Resample(image, target, transform, interp, default, image.GetPixelID())
    return from_sitk(out, series_instance_uid=volume.series_instance_uid)


def to_follow_up(
    transform: sitk.Transform, points_lps: np.ndarray, iterations: int = 30
) -> np.ndarray:
    """Follow-up LPS mm of baseline LPS mm points ``(n, 3)``: solves ``M(y) = p`` for ``y``."""
    pts = np.asarray(points_lps, dtype=float).reshape(-1, 3)
    out = pts.copy()
    for i, p in enumerate(pts):
        y = p.copy()
        for _ in range(iterations):
            y = y - (np.asarray(transform.TransformPoint(tuple(y))) - p)
        out[i] = y
    return out
