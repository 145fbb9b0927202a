"""Calibrated lines and longest axial (Feret) diameters from masks, exact on anisotropic pixels.

Conventions
-----------
- Voxel coordinates are fractional indices ``(z, y, x)``; patient coordinates are LPS mm. All
  conversions go through :func:`lesion_tool.io.volume.index_to_patient` and
  :func:`~lesion_tool.io.volume.patient_to_index`.
- mRECIST and RECIST 1.1 measure in the axial (slice) plane, so a diameter lives on one slice.
  Within a slice a pixel offset ``(dy, dx)`` has the physical length
  ``|dy * spacing_y * d_y + dx * spacing_x * d_x|`` (``d_y, d_x`` the direction columns); we map
  in-plane pixel coordinates to an orthonormal 2-D millimetre frame with the QR factor of
  ``[spacing_y * d_y, spacing_x * d_x]``, which is exact for any pixel aspect ratio and any
  (even sheared) in-plane direction.
- **Where a diameter ends.** A binary mask is measured on its pixel-edge boundary: the 0.5
  iso-contour of the mask, which passes through the middle of every edge between an inside and an
  outside pixel (``skimage.measure.find_contours(mask, 0.5)`` gives exactly these points). For a
  shape rasterised by pixel centres this boundary is unbiased to within half a pixel at each end
  (pixel centres would under-measure by about one pixel; pixel corners over-measure). A
  fractional mask or a partial-volume image is measured on its sub-pixel 0.5 (or given-level)
  contour instead. ``boundary="centres"`` measures between pixel centres where a caller wants that.
- The longest diameter is the largest Feret diameter over all slices: the boundary points of each
  slice are reduced to their convex hull (``scipy.spatial.ConvexHull``) in millimetres and the
  largest distance between hull vertices is taken (exact, as rotating calipers would give).
- The perpendicular diameter is the longest chord of that convex hull perpendicular to the long
  axis on the same slice (what a reader draws with calipers; for a concave region it may cross
  outside it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError
from skimage.measure import find_contours

from lesion_tool.errors import MeasurementError
from lesion_tool.io.volume import index_to_patient, patient_to_index
from lesion_tool.measurement.models import (
    Diameter,
    LabelMeasurement,
    LineMeasurement,
    ViableWholeMeasurement,
)
from lesion_tool.measurement.raster import padded_box, padded_mask

__all__ = [
    "SPECK_MM3",
    "Geometry",
    "HasGeometry",
    "boundary_points",
    "contour_points",
    "fill_holes_per_slice",
    "longest_axial_diameter",
    "measure_fraction",
    "measure_labels",
    "measure_line",
    "measure_viable_and_whole",
    "perpendicular_diameter",
]

Boundary = Literal["edges", "centres"]


class HasGeometry(Protocol):
    """Anything with the geometry attributes of :class:`~lesion_tool.io.volume.CTVolume`."""

    spacing_mm: tuple[float, float, float]
    origin_mm: tuple[float, float, float]
    direction: np.ndarray


@dataclass(frozen=True, eq=False)
class Geometry:
    """Voxel grid geometry without pixels (same conventions as ``CTVolume``).

    Parameters
    ----------
    spacing_mm
        ``(z, y, x)`` spacing in millimetres.
    origin_mm
        LPS position of the centre of voxel ``(0, 0, 0)``.
    direction
        3 x 3; column ``k`` is the LPS unit vector of array axis ``k`` (``z, y, x`` order).
    """

    spacing_mm: tuple[float, float, float]
    origin_mm: tuple[float, float, float] = (0.0, 0.0, 0.0)
    direction: np.ndarray = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        direction = np.eye(3)[:, ::-1] if self.direction is None else self.direction
        direction = np.asarray(direction, dtype=float)
        if direction.shape != (3, 3):
            raise ValueError('Argument "direction" must be a 3 x 3 matrix.')
        spacing = tuple(float(s) for s in self.spacing_mm)
        if len(spacing) != 3 or not all(math.isfinite(s) and s > 0 for s in spacing):
            raise ValueError(f'Argument "spacing_mm" must be 3 positive numbers, got {spacing}.')
        object.__setattr__(self, "direction", direction)
        object.__setattr__(self, "spacing_mm", spacing)
        object.__setattr__(self, "origin_mm", tuple(float(o) for o in self.origin_mm))

    @classmethod
    def of(cls, obj: HasGeometry) -> Geometry:
        """The geometry of a ``CTVolume`` (or anything with the same three attributes)."""
        if isinstance(obj, Geometry):
            return obj
        try:
            return cls(obj.spacing_mm, obj.origin_mm, obj.direction)
        except AttributeError as err:
            raise TypeError(
                'Argument "volume_or_geometry" must be a CTVolume or Geometry, '
                f"got {type(obj).__name__}."
            ) from err

    def index_to_patient(self, index_zyx: npt.ArrayLike) -> np.ndarray:
        """LPS millimetres of fractional voxel indices ``(..., 3)`` in ``(z, y, x)`` order."""
        return index_to_patient(index_zyx, self.spacing_mm, self.origin_mm, self.direction)

    def patient_to_index(self, lps_mm: npt.ArrayLike) -> np.ndarray:
        """Fractional voxel indices ``(z, y, x)`` of LPS millimetre points ``(..., 3)``."""
        return patient_to_index(lps_mm, self.spacing_mm, self.origin_mm, self.direction)

    @property
    def voxel_volume_ml(self) -> float:
        """Volume of one voxel in millilitres (1 mL = 1000 mm^3), exact for sheared grids."""
        m = self.direction * np.asarray(self.spacing_mm)
        return abs(float(np.linalg.det(m))) / 1000.0

    @property
    def plane_matrix(self) -> np.ndarray:
        """2 x 2 ``R`` with ``|R @ (dy, dx)|`` the millimetre length of an in-plane pixel offset."""
        a = np.column_stack(
            [self.direction[:, 1] * self.spacing_mm[1], self.direction[:, 2] * self.spacing_mm[2]]
        )
        _, r = np.linalg.qr(a)
        return r

    @property
    def plane_normal(self) -> np.ndarray:
        """LPS unit normal of the slice plane (the row and column directions' cross product)."""
        n = np.cross(self.direction[:, 2], self.direction[:, 1])
        return n / np.linalg.norm(n)


# --------------------------------------------------------------------------------------------
# Lines


def _as_point(value: npt.ArrayLike, name: str) -> np.ndarray:
    p = np.asarray(value, dtype=float)
    if p.shape != (3,) or not np.all(np.isfinite(p)):
        raise MeasurementError(f"Line {name} {value!r} is not three finite coordinates.")
    return p


def measure_line(
    volume: HasGeometry,
    start: npt.ArrayLike,
    end: npt.ArrayLike,
    space: Literal["voxel", "patient"] = "voxel",
) -> LineMeasurement:
    """Length of a line in millimetres using the volume's full geometry.

    Parameters
    ----------
    volume
        A ``CTVolume`` or :class:`Geometry` (spacing, origin, direction).
    start, end
        End points: fractional voxel indices ``(z, y, x)`` when ``space == "voxel"``, LPS
        millimetres when ``space == "patient"``.
    space
        ``"voxel"`` or ``"patient"``.

    Returns
    -------
    LineMeasurement
        3-D length, the length of its projection on the slice plane (mRECIST measures in-plane),
        the tilt out of the plane in degrees, whether both ends are on one slice, and the end
        points in both spaces.

    Raises
    ------
    MeasurementError
        When an end point is not three finite numbers.
    """
    if space not in ("voxel", "patient"):
        raise ValueError(f'Argument "space" must be "voxel" or "patient", got {space!r}.')
    geometry = Geometry.of(volume)
    a = _as_point(start, "start")
    b = _as_point(end, "end")
    if space == "voxel":
        va, vb = a, b
        pa, pb = geometry.index_to_patient(a), geometry.index_to_patient(b)
    else:
        pa, pb = a, b
        va, vb = geometry.patient_to_index(a), geometry.patient_to_index(b)
    v = pb - pa
    length = float(np.linalg.norm(v))
    normal_part = float(abs(v @ geometry.plane_normal))
    in_plane = math.sqrt(max(length**2 - normal_part**2, 0.0))
    tilt = math.degrees(math.atan2(normal_part, in_plane)) if length > 0 else 0.0
    return LineMeasurement(
        length_mm=length,
        in_plane_length_mm=in_plane,
        tilt_deg=tilt,
        same_slice=bool(abs(va[0] - vb[0]) < 1e-3),
        start_voxel=tuple(va),
        end_voxel=tuple(vb),
        start_patient=tuple(pa),
        end_patient=tuple(pb),
    )


# --------------------------------------------------------------------------------------------
# Boundary points


def boundary_points(
    mask: np.ndarray,
    offset: Sequence[int] = (0, 0, 0),
    boundary: Boundary = "edges",
) -> np.ndarray:
    """The points of a binary mask that can be on its in-plane convex hull, per slice.

    For every row the first and last inside pixel, for every column the first and last, taken
    at the pixel-edge midpoint (``boundary="edges"``, the 0.5 iso-contour of the mask) or at the
    pixel centre (``"centres"``). Every other boundary point of a slice lies between two of these
    on a row or a column, so the convex hull of each slice is unchanged; this is vectorised over
    the whole 3-D mask.

    Parameters
    ----------
    mask
        Boolean ``(z, y, x)``.
    offset
        ``(z, y, x)`` index of ``mask[0, 0, 0]`` in the volume, added to the points.
    boundary
        ``"edges"`` or ``"centres"``.

    Returns
    -------
    numpy.ndarray
        ``(n, 3)`` fractional voxel indices ``(z, y, x)``.
    """
    if boundary not in ("edges", "centres"):
        raise ValueError(f'Argument "boundary" must be "edges" or "centres", got {boundary!r}.')
    m = np.asarray(mask, dtype=bool)
    if m.ndim != 3:
        raise ValueError(f'Argument "mask" must be 3-D (z, y, x), got shape {m.shape}.')
    half = 0.5 if boundary == "edges" else 0.0
    _nz, ny, nx = m.shape
    row_any = m.any(axis=2)
    zr, yr = np.nonzero(row_any)
    first_x = m.argmax(axis=2)[zr, yr]
    last_x = nx - 1 - m[:, :, ::-1].argmax(axis=2)[zr, yr]
    col_any = m.any(axis=1)
    zc, xc = np.nonzero(col_any)
    first_y = m.argmax(axis=1)[zc, xc]
    last_y = ny - 1 - m[:, ::-1, :].argmax(axis=1)[zc, xc]
    pts = np.concatenate(
        [
            np.column_stack([zr, yr, first_x - half]),
            np.column_stack([zr, yr, last_x + half]),
            np.column_stack([zc, first_y - half, xc]),
            np.column_stack([zc, last_y + half, xc]),
        ]
    ).astype(float)
    return pts + np.asarray(offset, dtype=float)


def contour_points(
    image: np.ndarray,
    level: float,
    offset: Sequence[int] = (0, 0, 0),
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """Sub-pixel iso-contour points of every slice of an image (marching squares).

    Parameters
    ----------
    image
        ``(z, y, x)`` fractions or intensities; the region of interest is above ``level``.
    level
        Iso-value of the boundary (0.5 for a fractional mask).
    offset
        ``(z, y, x)`` index of ``image[0, 0, 0]`` in the volume, added to the points.
    mask
        Optional boolean ``(z, y, x)``: only slices with a True voxel are contoured.

    Returns
    -------
    numpy.ndarray
        ``(n, 3)`` fractional voxel indices ``(z, y, x)``.
    """
    img = np.asarray(image, dtype=float)
    if img.ndim != 3:
        raise ValueError(f'Argument "image" must be 3-D (z, y, x), got shape {img.shape}.')
    # A frame below the level closes contours that touch the border of the region.
    padded_value = min(float(np.nanmin(img)), level) - 1.0
    slices = np.nonzero(mask.any(axis=(1, 2)))[0] if mask is not None else range(img.shape[0])
    out = []
    for z in slices:
        plane = np.pad(img[z], 1, constant_values=padded_value)
        if not (plane > level).any():
            continue
        for c in find_contours(plane, level):
            out.append(np.column_stack([np.full(len(c), z, dtype=float), c - 1.0]))
    if not out:
        return np.empty((0, 3))
    return np.concatenate(out) + np.asarray(offset, dtype=float)


# --------------------------------------------------------------------------------------------
# Feret diameters


_DIRECTIONS = np.array(
    [[math.cos(a), math.sin(a)] for a in np.arange(8) * math.pi / 8]
)  # 8 directions over 180 degrees, for the Feret bounds


def _hull_polygon(phys: np.ndarray) -> np.ndarray:
    """Convex hull vertices (counter-clockwise) of 2-D points, or the unique points if flat."""
    if len(phys) <= 3:
        return np.unique(phys, axis=0)
    uniq = phys
    try:
        hull = ConvexHull(uniq)
    except QhullError:
        uniq = np.unique(phys, axis=0)
        if len(uniq) <= 3:
            return uniq
        # Collinear points: the two extremes along the principal direction form the hull.
        centred = uniq - uniq.mean(axis=0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        t = centred @ vt[0]
        return uniq[[int(np.argmin(t)), int(np.argmax(t))]]
    return uniq[hull.vertices]


def _farthest_pair(poly: np.ndarray) -> tuple[float, int, int]:
    if len(poly) < 2:
        return 0.0, 0, 0
    d2 = ((poly[:, None, :] - poly[None, :, :]) ** 2).sum(axis=-1)
    i, j = np.unravel_index(int(np.argmax(d2)), d2.shape)
    return math.sqrt(float(d2[i, j])), int(i), int(j)


def _perpendicular_chord(
    poly: np.ndarray, u: np.ndarray
) -> tuple[float, np.ndarray | None, np.ndarray | None]:
    """Longest chord of a convex polygon perpendicular to unit vector ``u`` (2-D millimetres).

    The chord length is concave along ``u``, so it is largest at one of the vertices'
    positions along ``u``: evaluate the polygon's extent there.
    """
    if len(poly) < 3:
        return 0.0, None, None
    w = np.array([-u[1], u[0]])
    t = poly @ u
    s = poly @ w
    t0, t1 = t, np.roll(t, -1)
    s0, s1 = s, np.roll(s, -1)
    c = t[:, None]  # candidates x edges
    lo, hi = np.minimum(t0, t1)[None, :], np.maximum(t0, t1)[None, :]
    eps = 1e-9 * max(1.0, float(np.ptp(t)))
    on_edge = (c >= lo - eps) & (c <= hi + eps)
    dt = t1 - t0
    steep = np.abs(dt) <= eps
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(steep[None, :], 0.0, (c - t0[None, :]) / np.where(steep, 1.0, dt)[None, :])
    frac = np.clip(frac, 0.0, 1.0)
    s_at = s0[None, :] + frac * (s1 - s0)[None, :]
    # A segment parallel to w contributes both of its ends.
    s_hi = np.where(steep[None, :], np.maximum(s0, s1)[None, :], s_at)
    s_lo = np.where(steep[None, :], np.minimum(s0, s1)[None, :], s_at)
    top = np.where(on_edge, s_hi, -np.inf).max(axis=1)
    bottom = np.where(on_edge, s_lo, np.inf).min(axis=1)
    width = top - bottom
    k = int(np.argmax(width))
    if not np.isfinite(width[k]) or width[k] <= 0:
        return 0.0, None, None
    a = c[k, 0] * u + bottom[k] * w
    b = c[k, 0] * u + top[k] * w
    return float(width[k]), a, b


def _diameter_from_2d(
    geometry: Geometry, z: int, a_phys: np.ndarray, b_phys: np.ndarray, length: float
) -> Diameter:
    rinv = np.linalg.inv(geometry.plane_matrix)
    ends = np.array([a_phys, b_phys]) @ rinv.T  # (y, x) pixel coordinates
    voxels = np.column_stack([np.full(2, float(z)), ends])
    patient = geometry.index_to_patient(voxels)
    return Diameter(
        length_mm=float(length),
        slice_index=int(z),
        start_voxel=tuple(voxels[0]),
        end_voxel=tuple(voxels[1]),
        start_patient=tuple(patient[0]),
        end_patient=tuple(patient[1]),
    )


def longest_axial_diameter(
    points_zyx: np.ndarray, volume_or_geometry: HasGeometry
) -> tuple[Diameter, Diameter]:
    """Largest in-plane Feret diameter over slices of boundary points, and its perpendicular.

    Parameters
    ----------
    points_zyx
        ``(n, 3)`` boundary points as fractional voxel indices ``(z, y, x)``; ``z`` must be whole
        slice numbers (points of one slice share it).
    volume_or_geometry
        The grid the points are on.

    Returns
    -------
    (Diameter, Diameter)
        The longest axial diameter and the longest diameter perpendicular to it on its slice
        (both zero when there are no points).
    """
    geometry = Geometry.of(volume_or_geometry)
    pts = np.asarray(points_zyx, dtype=float)
    if len(pts) == 0:
        return Diameter.empty(), Diameter.empty()
    r = geometry.plane_matrix
    order = np.argsort(pts[:, 0], kind="stable")
    pts = pts[order]
    zs, starts = np.unique(pts[:, 0], return_index=True)
    bounds = [*starts.tolist(), len(pts)]
    phys_all = pts[:, 1:] @ r.T
    # Prune slices: the widths along 8 directions bound each slice's Feret diameter from below
    # (their maximum) and from above (that maximum / cos(pi/16)), all slices at once; hulls are
    # built only for slices whose upper bound can still beat the best length found.
    proj = phys_all @ _DIRECTIONS.T
    widths = np.maximum.reduceat(proj, starts, axis=0) - np.minimum.reduceat(proj, starts, axis=0)
    upper = widths.max(axis=1) / math.cos(math.pi / len(_DIRECTIONS) / 2) + 1e-9
    best: tuple[float, int, np.ndarray, int, int] | None = None
    for k in sorted(range(len(zs)), key=lambda k: (-upper[k], zs[k])):
        if best is not None and upper[k] < best[0] - 1e-9:
            break
        poly = _hull_polygon(phys_all[bounds[k] : bounds[k + 1]])
        length, i, j = _farthest_pair(poly)
        z = round(zs[k])
        if (
            best is None
            or length > best[0] + 1e-9
            or (abs(length - best[0]) <= 1e-9 and z < best[1])
        ):
            best = (length, z, poly, i, j)
    assert best is not None
    length, z, poly, i, j = best
    if length <= 0:
        # A single point (one pixel measured between centres): a zero-length diameter on it.
        return _diameter_from_2d(geometry, z, poly[0], poly[0], 0.0), Diameter.empty()
    longest = _diameter_from_2d(geometry, z, poly[i], poly[j], length)
    u = (poly[j] - poly[i]) / length
    width, a, b = _perpendicular_chord(poly, u)
    if a is None or b is None:
        return longest, Diameter.empty()
    return longest, _diameter_from_2d(geometry, z, a, b, width)


# --------------------------------------------------------------------------------------------
# Perpendicular to a given long axis


def _line_ends_voxel(line: Any, geometry: Geometry) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(line, LineMeasurement | Diameter):
        if line.start_voxel is None or line.end_voxel is None:
            raise MeasurementError("The long axis has no end points (a zero diameter).")
        return np.asarray(line.start_voxel, float), np.asarray(line.end_voxel, float)
    space = getattr(line, "space", "voxel")
    start, end = (line.start, line.end) if hasattr(line, "start") else line
    a = _as_point(start, "start")
    b = _as_point(end, "end")
    if space == "patient":
        return geometry.patient_to_index(a), geometry.patient_to_index(b)
    return a, b


def perpendicular_diameter(
    volume_or_geometry: HasGeometry,
    long_axis: Any,
    *,
    mask: np.ndarray | None = None,
    second: Any = None,
    boundary: Boundary = "edges",
) -> Diameter:
    """The longest diameter perpendicular to a long axis, in the long axis' slice plane.

    Parameters
    ----------
    volume_or_geometry
        The grid (``CTVolume`` or :class:`Geometry`).
    long_axis
        A :class:`Diameter`, :class:`LineMeasurement`, :class:`lesion_tool.model.Line` or a pair
        of voxel points ``(z, y, x)``. Its slice is that of its start point (rounded).
    mask
        Boolean ``(z, y, x)`` on the whole grid: the result is the longest chord of the mask's
        slice (convex hull of its pixel-edge boundary) perpendicular to the long axis.
    second
        Instead of a mask, a second line (same forms as ``long_axis``): the result is the part
        of it perpendicular to the long axis, i.e. its projection onto the in-plane direction
        perpendicular to the long axis (its full in-plane length when it is exactly
        perpendicular).
    boundary
        ``"edges"`` (default) or ``"centres"``, see the module notes.

    Returns
    -------
    Diameter
        Zero when the mask is empty on that slice.

    Raises
    ------
    MeasurementError
        When neither or both of ``mask`` and ``second`` are given, or the long axis has no
        in-plane length.
    """
    if (mask is None) == (second is None):
        raise MeasurementError('Give exactly one of "mask" and "second" for a perpendicular.')
    geometry = Geometry.of(volume_or_geometry)
    a, b = _line_ends_voxel(long_axis, geometry)
    z = round(float(a[0]))
    r = geometry.plane_matrix
    d = (b[1:] - a[1:]) @ r.T
    norm = float(np.linalg.norm(d))
    if norm <= 0:
        raise MeasurementError("The long axis has no in-plane length.")
    u = d / norm
    w = np.array([-u[1], u[0]])
    if second is not None:
        c, e = _line_ends_voxel(second, geometry)
        pc, pe = c[1:] @ r.T, e[1:] @ r.T
        width = abs(float((pe - pc) @ w))
        mid = 0.5 * (pc + pe)
        half = 0.5 * width
        return _diameter_from_2d(geometry, z, mid - half * w, mid + half * w, width)
    m = np.asarray(mask, dtype=bool)
    if m.ndim != 3:
        raise ValueError(f'Argument "mask" must be 3-D (z, y, x), got shape {m.shape}.')
    if not 0 <= z < m.shape[0] or not m[z].any():
        return Diameter.empty()
    pts = boundary_points(m[z : z + 1], (z, 0, 0), boundary)
    poly = _hull_polygon(pts[:, 1:] @ r.T)
    width, pa, pb = _perpendicular_chord(poly, u)
    if pa is None or pb is None:
        return Diameter.empty()
    return _diameter_from_2d(geometry, z, pa, pb, width)


# --------------------------------------------------------------------------------------------
# Masks


_FULL = np.ones((3, 3, 3), dtype=bool)

SPECK_MM3 = 14.0
"""Volume of a 3 mm sphere: a connected piece of a mask label smaller than this is a speck
(a stray click of the annotator), not a lesion, and is not measured on its own."""


def _components(
    region: np.ndarray, voxel_mm3: float, min_component_mm3: float
) -> tuple[np.ndarray, list[int], int]:
    """3-D components of ``region`` (touching by face, edge or corner), those kept, specks.

    Kept components are listed largest first (component 1 is the main tumour); those smaller
    than ``min_component_mm3`` are specks, unless every component is.
    """
    comps, n = ndimage.label(region, structure=_FULL)
    sizes = np.bincount(comps.ravel(), minlength=n + 1)[1:] * voxel_mm3
    order = [int(i) + 1 for i in np.argsort(-sizes, kind="stable")]
    kept = [c for c in order if sizes[c - 1] >= min_component_mm3] or order
    return comps, kept, n - len(kept)


def fill_holes_per_slice(mask: np.ndarray) -> np.ndarray:
    """Fill the holes of every axial slice of a boolean ``(z, y, x)`` mask (in-plane holes)."""
    m = np.asarray(mask, dtype=bool)
    # Pad in z so a hole in the first or last slice is not taken for the array's border.
    padded = np.pad(m, ((1, 1), (0, 0), (0, 0)))
    filled = ndimage.binary_fill_holes(padded, structure=np.ones((1, 3, 3), dtype=bool))
    return filled[1:-1]


def _measure_region(
    region: np.ndarray,
    offset: np.ndarray,
    geometry: Geometry,
    label: int,
    component: int | None,
    name: str,
    boundary: Boundary,
    fraction: np.ndarray | None = None,
    level: float = 0.5,
) -> LabelMeasurement:
    if fraction is None:
        pts = boundary_points(region, offset, boundary)
        weights = region.astype(float)
    else:
        pts = contour_points(fraction, level, offset, mask=region)
        weights = np.clip(fraction, 0.0, 1.0)
    longest, perp = longest_axial_diameter(pts, geometry)
    total = float(weights.sum())
    centroid = np.asarray(ndimage.center_of_mass(weights), dtype=float) + offset
    return LabelMeasurement(
        label=int(label),
        component=component,
        longest=longest,
        perpendicular=perp,
        volume_ml=total * geometry.voxel_volume_ml,
        centroid_voxel=tuple(centroid),
        centroid_patient=tuple(geometry.index_to_patient(centroid)),
        voxel_count=int(region.sum()),
        name=name,
    )


def _square(mask: np.ndarray, pixels: int, grow: bool) -> np.ndarray:
    size = (1, 2 * pixels + 1, 2 * pixels + 1)
    f = ndimage.maximum_filter if grow else ndimage.minimum_filter
    return f(mask.astype(np.uint8), size=size, mode="constant").astype(bool)


def _image_membership(
    image: np.ndarray, region: np.ndarray, sigma_px: float = 0.7
) -> np.ndarray | None:
    """Partial-volume membership ``(z, y, x)`` in ``[0, 1]`` of a labelled region from the
    intensity image it was drawn on: 0 at the median of a ring 1-3 pixels outside it, 1 at the
    median of its interior, linear between (the half-way contour is the sub-pixel edge). None
    when inside and outside differ by less than 10 units (no usable edge)."""
    img = np.asarray(image, dtype=np.float32)
    if sigma_px > 0:
        img = ndimage.gaussian_filter(img, (0, sigma_px, sigma_px), mode="nearest")
    inner = _square(region, 1, grow=False)
    if not inner.any():
        inner = region
    ring = _square(region, 3, grow=True) & ~_square(region, 1, grow=True)
    if not ring.any():
        return None
    v_in = float(np.median(img[inner]))
    v_out = float(np.median(img[ring]))
    if abs(v_in - v_out) < 10.0:
        return None
    m = np.clip((img - v_out) / (v_in - v_out), 0.0, 1.0)
    m[~_square(region, 2, grow=True)] = 0.0
    m[_square(region, 2, grow=False)] = 1.0
    # Only the part connected to the region: a neighbouring structure of similar value must
    # not extend the outline.
    above = m >= 0.5
    lab, _ = ndimage.label(above)
    ids = np.unique(lab[above & region])
    keep = np.isin(lab, ids[ids > 0])
    m[above & ~keep] = 0.0
    return m


def _union_boxes(
    first: list[tuple[slice, ...] | None], second: list[tuple[slice, ...] | None], n: int
) -> list[tuple[slice, ...] | None]:
    out: list[tuple[slice, ...] | None] = []
    for i in range(n):
        a = first[i] if i < len(first) else None
        b = second[i] if i < len(second) else None
        if a is None or b is None:
            out.append(a if b is None else b)
        else:
            out.append(
                tuple(
                    slice(min(p.start, q.start), max(p.stop, q.stop))
                    for p, q in zip(a, b, strict=True)
                )
            )
    return out


def _label_boxes(arr: np.ndarray) -> list[tuple[slice, ...] | None]:
    """Bounding boxes of labels 1..max, as ``ndimage.find_objects`` gives them, but faster.

    ``find_objects`` visits every voxel in a generic loop. Max- and min-projections (``(y, x)``
    over z and ``(z, x)`` over y) are vectorised; a label shadowed by a larger label in the
    max-projection shows in the min-projection (and vice versa), so their union gives each
    label's box. The boxes are accepted only if they hold every labelled voxel (a count check);
    otherwise ``find_objects`` decides.
    """
    if arr.ndim != 3 or arr.size < 1_000_000 or arr.dtype not in (np.uint8, np.uint16):
        return ndimage.find_objects(arr)
    top = int(arr.max(initial=0))
    if top == 0:
        return []
    # (arr - 1) wraps background to the dtype's maximum, so its min is the smallest label.
    shifted = arr - arr.dtype.type(1)
    n = top
    yx = _union_boxes(
        ndimage.find_objects(arr.max(axis=0)),
        ndimage.find_objects(shifted.min(axis=0) + arr.dtype.type(1)),
        n,
    )
    zx = _union_boxes(
        ndimage.find_objects(arr.max(axis=1)),
        ndimage.find_objects(shifted.min(axis=1) + arr.dtype.type(1)),
        n,
    )
    boxes: list[tuple[slice, ...] | None] = []
    counted = 0
    for i in range(n):
        a, b = yx[i], zx[i]
        if a is None or b is None:
            if a is None and b is None:
                boxes.append(None)
                continue
            return ndimage.find_objects(arr)
        box = (b[0], a[0], slice(min(a[1].start, b[1].start), max(a[1].stop, b[1].stop)))
        count = int(np.count_nonzero(arr[box] == i + 1))
        if count == 0:
            return ndimage.find_objects(arr)
        counted += count
        boxes.append(box)
    if counted != int(np.count_nonzero(arr)):
        return ndimage.find_objects(arr)
    return boxes


def measure_labels(
    mask: np.ndarray,
    volume_or_geometry: HasGeometry,
    *,
    separate_components: bool = False,
    labels: Sequence[int] | None = None,
    names: Mapping[int, str] | None = None,
    boundary: Boundary = "edges",
    image: np.ndarray | None = None,
    min_component_mm3: float = 0.0,
) -> list[LabelMeasurement]:
    """Longest axial diameter, perpendicular, volume and centroid of every label of a mask.

    Parameters
    ----------
    mask
        Integer labels ``(z, y, x)`` (0 = background) or a boolean mask (label 1).
    volume_or_geometry
        The grid of the mask (``CTVolume`` or :class:`Geometry`).
    separate_components
        Measure each connected component of a label on its own (3-D, voxels touching by a face,
        edge or corner are connected); otherwise a label is measured as one object (its longest
        diameter may then span two separate pieces).
    labels
        Only these labels (default: every non-zero label present).
    names
        Optional names per label, copied into the results.
    boundary
        ``"edges"`` (default) or ``"centres"``, see the module notes.
    image
        Optional intensity image ``(z, y, x)`` on the same grid (e.g. the CT the mask was drawn
        on). Each label is then measured on the sub-pixel edge the image shows near the mask's
        boundary (half-way between the label's interior and a ring just outside it), and its
        volume from that partial-volume membership; labels without a usable edge (inside and
        outside within 10 HU) keep the mask's pixel-edge boundary.
    min_component_mm3
        Components smaller than this are specks (e.g. :data:`SPECK_MM3`): counted in
        ``LabelMeasurement.specks``, not measured on their own, still part of a label measured
        as one object.

    Returns
    -------
    list[LabelMeasurement]
        Sorted by label, then component (numbered 1..``component_count`` over the components
        kept, largest first). ``component_count`` is set in both modes, so a label measured as
        one object says how many separate pieces its diameter may span.

    Raises
    ------
    MeasurementError
        When the mask is not 3-D or holds non-integer values.
    """
    geometry = Geometry.of(volume_or_geometry)
    arr = np.asarray(mask)
    if arr.ndim != 3:
        raise MeasurementError(f"A label mask must be 3-D (z, y, x), got shape {arr.shape}.")
    if arr.dtype == bool:
        arr = arr.astype(np.uint8)
    elif not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise MeasurementError(
                "A label mask must hold whole numbers; use measure_fraction for fractions."
            )
        arr = arr.astype(np.int64)
    if arr.size and arr.min() < 0:
        raise MeasurementError("A label mask must not hold negative labels.")
    names = dict(names or {})
    if image is not None:
        image = np.asarray(image)
        if image.shape != arr.shape:
            raise MeasurementError(
                f"The image {image.shape} and the mask {arr.shape} are not on the same grid."
            )
    objects = _label_boxes(arr)
    voxel_mm3 = geometry.voxel_volume_ml * 1000.0
    wanted = set(labels) if labels is not None else None
    results: list[LabelMeasurement] = []
    for index, box in enumerate(objects):
        value = index + 1
        if box is None or (wanted is not None and value not in wanted):
            continue
        region = arr[box] == value
        name = names.get(value, "")
        comps, kept, specks = _components(region, voxel_mm3, min_component_mm3)
        if not separate_components:
            whole = _measure_with_image(
                arr, box, region, image, geometry, value, None, name, boundary
            )
            results.append(replace(whole, component_count=len(kept), specks=specks))
            continue
        cboxes = ndimage.find_objects(comps)
        for rank, ci in enumerate(kept, start=1):
            cbox = cboxes[ci - 1]
            sub = comps[cbox] == ci
            full = tuple(
                slice(b.start + c.start, b.start + c.stop) for b, c in zip(box, cbox, strict=True)
            )
            part = _measure_with_image(arr, full, sub, image, geometry, value, rank, name, boundary)
            results.append(replace(part, component_count=len(kept), specks=specks))
    return results


def _measure_with_image(
    arr: np.ndarray,
    box: tuple[slice, ...],
    region: np.ndarray,
    image: np.ndarray | None,
    geometry: Geometry,
    label: int,
    component: int | None,
    name: str,
    boundary: Boundary,
) -> LabelMeasurement:
    offset = np.array([s.start for s in box], dtype=float)
    if image is None:
        return _measure_region(region, offset, geometry, label, component, name, boundary)
    # Room around the region (in-plane) for its partial-volume edge and the outside ring.
    pad, grown = padded_mask(region, [s.start for s in box], (0, 4, 4), arr.shape)
    membership = _image_membership(image[pad], grown)
    if membership is None:
        return _measure_region(region, offset, geometry, label, component, name, boundary)
    pad_offset = np.array([s.start for s in pad], dtype=float)
    return _measure_region(
        grown, pad_offset, geometry, label, component, name, boundary, membership, 0.5
    )


def measure_fraction(
    fraction: np.ndarray,
    volume_or_geometry: HasGeometry,
    *,
    label: int = 1,
    level: float = 0.5,
    name: str = "",
    separate_components: bool = False,
    min_component_mm3: float = 0.0,
) -> list[LabelMeasurement]:
    """Measure a fractional mask (e.g. a fractional DICOM SEG segment) on its sub-pixel contour.

    Parameters
    ----------
    fraction
        ``(z, y, x)`` values in ``[0, 1]`` (the fraction of each voxel inside the object).
    volume_or_geometry
        The grid of the mask.
    label
        Label number to report.
    level
        Boundary iso-value (0.5: the object's edge under partial volume).
    name
        Name to report.
    separate_components
        Measure the connected components of ``fraction >= level`` separately.
    min_component_mm3
        Components smaller than this are specks, as in :func:`measure_labels`.

    Returns
    -------
    list[LabelMeasurement]
        One result (or one per component), empty when no voxel reaches ``level``. Volume is the
        sum of fractions; ``voxel_count`` counts voxels at or above ``level``.
    """
    geometry = Geometry.of(volume_or_geometry)
    frac = np.asarray(fraction, dtype=float)
    if frac.ndim != 3:
        raise MeasurementError(f"A fractional mask must be 3-D (z, y, x), got {frac.shape}.")
    inside = frac >= level
    if not inside.any():
        return []
    comps, kept, specks = _components(inside, geometry.voxel_volume_ml * 1000.0, min_component_mm3)
    if not separate_components:
        box = ndimage.find_objects(inside.astype(np.uint8))[0]
        box = padded_box(box, 1, inside.shape)
        offset = np.array([s.start for s in box], dtype=float)
        whole = _measure_region(
            inside[box], offset, geometry, label, None, name, "edges", frac[box], level
        )
        return [replace(whole, component_count=len(kept), specks=specks)]
    cboxes = ndimage.find_objects(comps)
    results = []
    for rank, ci in enumerate(kept, start=1):
        box = padded_box(cboxes[ci - 1], 1, comps.shape)
        sub = comps[box] == ci
        # Only this component's partial-volume rim: zero fractions beyond one voxel of it.
        near = ndimage.binary_dilation(sub, structure=_FULL)
        offset = np.array([s.start for s in box], dtype=float)
        part = _measure_region(
            sub, offset, geometry, label, rank, name, "edges", np.where(near, frac[box], 0.0)
        )
        results.append(replace(part, component_count=len(kept), specks=specks))
    return results


def measure_viable_and_whole(
    mask: np.ndarray,
    volume_or_geometry: HasGeometry,
    *,
    viable_labels: Sequence[int] = (1,),
    necrotic_labels: Sequence[int] = (2,),
    boundary: Boundary = "edges",
) -> ViableWholeMeasurement:
    """Viable (mRECIST) and whole-lesion (RECIST 1.1) diameters of one lesion's label mask.

    Parameters
    ----------
    mask
        Integer labels ``(z, y, x)`` of one lesion: viable tissue and necrosis with their own
        labels.
    volume_or_geometry
        The grid of the mask.
    viable_labels, necrotic_labels
        Which labels are viable tissue and which necrosis.
    boundary
        ``"edges"`` (default) or ``"centres"``.

    Returns
    -------
    ViableWholeMeasurement
        ``viable`` measured on the viable labels (None when there are none: a 0 mm viable
        diameter), ``whole`` on viable + necrotic with holes filled slice by slice.

    Raises
    ------
    MeasurementError
        When the mask holds neither viable nor necrotic voxels.
    """
    arr = np.asarray(mask)
    viable = np.isin(arr, list(viable_labels))
    whole = viable | np.isin(arr, list(necrotic_labels))
    if not whole.any():
        raise MeasurementError(
            f"The lesion mask holds no voxel of labels {list(viable_labels)} (viable) or "
            f"{list(necrotic_labels)} (necrotic)."
        )
    whole = fill_holes_per_slice(whole)
    v = measure_labels(viable, volume_or_geometry, boundary=boundary, names={1: "viable"})
    w = measure_labels(whole, volume_or_geometry, boundary=boundary, names={1: "whole lesion"})
    return ViableWholeMeasurement(viable=v[0] if v else None, whole=w[0])
