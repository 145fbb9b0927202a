"""Geometry of the synthetic studies: the slice grid, ellipsoids, and exact lesion truth.

Conventions follow :mod:`lesion_tool.io.volume`: arrays are ``(z, y, x)``; patient coordinates
are DICOM LPS millimetres; slice ``k`` of a grid is the ``k``-th plane in increasing position
along the slice normal ``row_dir x col_dir`` (the order :func:`lesion_tool.io.load_series` gives).

Two renderings of a shape exist, on purpose:

- anatomy (body, organs, vessels) uses a first-order signed-distance approximation of the
  partial-volume fraction, cheap over whole slices; nothing is measured on it;
- lesions are supersampled inside their bounding box (default 3 x 3 x 3 samples per voxel over
  the voxel's in-plane pixel and the slice thickness), so their edges are realistic and a
  sub-pixel measurement is meaningful.

Ground-truth diameters are computed from the exact shapes (the ellipses where each slice plane
cuts the lesion and its viable nodule), not from the rendering.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


def rotation_matrix(
    yaw_deg: float = 0.0, pitch_deg: float = 0.0, roll_deg: float = 0.0
) -> np.ndarray:
    """3 x 3 rotation (columns = rotated LPS axes): about S by ``yaw``, then L by ``pitch``, then
    P by ``roll`` (degrees)."""
    a, b, c = (math.radians(v) for v in (yaw_deg, pitch_deg, roll_deg))
    rz = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
    ry = np.array([[math.cos(c), 0, math.sin(c)], [0, 1, 0], [-math.sin(c), 0, math.cos(c)]])
    return ry @ rx @ rz


@dataclass(frozen=True, eq=False)
class SliceGrid:
    """Where the voxel centres of one series are, in LPS millimetres.

    Voxel ``(k, y, x)`` is at ``positions[k] + y * pixel_spacing_mm[0] * col_dir +
    x * pixel_spacing_mm[1] * row_dir``: ``positions`` are the ImagePositionPatient values,
    ``row_dir`` / ``col_dir`` the two ImageOrientationPatient vectors, ``pixel_spacing_mm`` the
    DICOM PixelSpacing (between rows, between columns).
    """

    rows: int
    cols: int
    pixel_spacing_mm: tuple[float, float]
    row_dir: np.ndarray
    col_dir: np.ndarray
    positions: np.ndarray
    slice_thickness_mm: float

    @property
    def normal(self) -> np.ndarray:
        """Unit slice normal (LPS), ``row_dir x col_dir``."""
        n = np.cross(self.row_dir, self.col_dir)
        return n / np.linalg.norm(n)

    @property
    def n_slices(self) -> int:
        """Number of slice planes."""
        return int(self.positions.shape[0])

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(z, y, x)`` array shape."""
        return (self.n_slices, self.rows, self.cols)

    @property
    def slice_spacing_mm(self) -> float:
        """Distance between the first two slice planes along the normal (mm)."""
        if self.n_slices < 2:
            return self.slice_thickness_mm
        return float((self.positions[1] - self.positions[0]) @ self.normal)

    @property
    def direction(self) -> np.ndarray:
        """3 x 3; columns are the LPS unit vectors of the array axes ``(z, y, x)``."""
        return np.column_stack([self.normal, self.col_dir, self.row_dir])

    @property
    def spacing_mm(self) -> tuple[float, float, float]:
        """``(z, y, x)`` spacing in mm."""
        return (self.slice_spacing_mm, *self.pixel_spacing_mm)

    @property
    def origin_mm(self) -> tuple[float, float, float]:
        """LPS centre of voxel ``(0, 0, 0)``."""
        return tuple(float(v) for v in self.positions[0])  # type: ignore[return-value]


def axial_grid(
    shape_zyx: tuple[int, int, int],
    spacing_zyx_mm: tuple[float, float, float],
    *,
    centre_lps: npt.ArrayLike = (0.0, 0.0, 0.0),
    rotation: np.ndarray | None = None,
    slice_thickness_mm: float | None = None,
) -> SliceGrid:
    """A regular grid centred on ``centre_lps``; axial unless ``rotation`` (3 x 3) tilts it.

    Parameters
    ----------
    shape_zyx
        Slices, rows, columns.
    spacing_zyx_mm
        Slice spacing, row spacing, column spacing (mm).
    centre_lps
        LPS position (mm) of the volume's centre.
    rotation
        Rotation applied to the axial axes (row = +L, column = +P) for an oblique acquisition.
    slice_thickness_mm
        Reconstructed slice thickness; the slice spacing when None.
    """
    nz, ny, nx = shape_zyx
    sz, sy, sx = spacing_zyx_mm
    rot = np.eye(3) if rotation is None else np.asarray(rotation, dtype=float)
    row_dir = rot @ np.array([1.0, 0.0, 0.0])
    col_dir = rot @ np.array([0.0, 1.0, 0.0])
    normal = np.cross(row_dir, col_dir)
    first = (
        np.asarray(centre_lps, dtype=float)
        - (nx - 1) / 2 * sx * row_dir
        - (ny - 1) / 2 * sy * col_dir
        - (nz - 1) / 2 * sz * normal
    )
    positions = first + np.arange(nz)[:, None] * sz * normal
    return SliceGrid(
        rows=ny,
        cols=nx,
        pixel_spacing_mm=(float(sy), float(sx)),
        row_dir=row_dir,
        col_dir=col_dir,
        positions=positions,
        slice_thickness_mm=float(sz if slice_thickness_mm is None else slice_thickness_mm),
    )


@dataclass(frozen=True, eq=False)
class Ellipsoid:
    """``{p : |diag(1/semi) rot^T (p - centre)| <= 1}``; columns of ``rot`` are its LPS axes."""

    centre: np.ndarray
    semi_mm: np.ndarray
    rot: np.ndarray

    @classmethod
    def make(
        cls,
        centre: npt.ArrayLike,
        semi_mm: npt.ArrayLike,
        yaw_deg: float = 0.0,
        pitch_deg: float = 0.0,
    ) -> Ellipsoid:
        """An ellipsoid from its centre, semi-axes (mm) and rotation angles (degrees)."""
        return cls(
            np.asarray(centre, dtype=float),
            np.asarray(semi_mm, dtype=float),
            rotation_matrix(yaw_deg, pitch_deg),
        )

    def scaled(self, factor: float) -> Ellipsoid:
        """The same ellipsoid with semi-axes multiplied by ``factor``."""
        return Ellipsoid(self.centre, self.semi_mm * factor, self.rot)

    def support_mm(self, u: npt.ArrayLike) -> float:
        """Half-extent along the unit LPS vector ``u`` (mm)."""
        v = (self.rot.T @ np.asarray(u, dtype=float)) * self.semi_mm
        return float(np.linalg.norm(v))

    def quadric(self) -> np.ndarray:
        """The 3 x 3 matrix ``A`` with ``(p - c)^T A (p - c) <= 1`` inside."""
        return self.rot @ np.diag(1.0 / self.semi_mm**2) @ self.rot.T

    def contains(self, points: npt.ArrayLike, margin_mm: float = 0.0) -> np.ndarray:
        """Whether LPS points ``(..., 3)`` are inside the ellipsoid grown by ``margin_mm``."""
        q = (np.asarray(points, dtype=float) - self.centre) @ self.rot
        return np.sum((q / (self.semi_mm + margin_mm)) ** 2, axis=-1) <= 1.0

    @property
    def volume_mm3(self) -> float:
        """Volume in mm^3."""
        return float(4.0 / 3.0 * math.pi * np.prod(self.semi_mm))


def bounding_box(
    grid: SliceGrid, shape: Ellipsoid, pad: int = 1
) -> tuple[slice, slice, slice] | None:
    """``(z, y, x)`` index slices covering ``shape`` on ``grid`` (None when it misses the grid)."""
    normal = grid.normal
    rel = shape.centre - grid.positions  # (nz, 3)
    dist = rel @ normal
    reach = shape.support_mm(normal) + grid.slice_thickness_mm / 2
    ks = np.nonzero(np.abs(dist) <= reach)[0]
    if ks.size == 0:
        return None
    sy, sx = grid.pixel_spacing_mm
    ey = shape.support_mm(grid.col_dir) / sy + pad
    ex = shape.support_mm(grid.row_dir) / sx + pad
    vy = rel[ks] @ grid.col_dir / sy
    vx = rel[ks] @ grid.row_dir / sx
    y0 = max(math.floor(vy.min() - ey), 0)
    y1 = min(math.ceil(vy.max() + ey) + 1, grid.rows)
    x0 = max(math.floor(vx.min() - ex), 0)
    x1 = min(math.ceil(vx.max() + ex) + 1, grid.cols)
    if y0 >= y1 or x0 >= x1:
        return None
    return slice(int(ks.min()), int(ks.max()) + 1), slice(y0, y1), slice(x0, x1)


def _local_terms(
    grid: SliceGrid,
    shape: Ellipsoid,
    box: tuple[slice, slice, slice],
    dz: float = 0.0,
    dy: float = 0.0,
    dx: float = 0.0,
    dtype: type = np.float64,
) -> list[np.ndarray]:
    """Ellipsoid-frame coordinates ``q_j`` (mm) of the (offset) voxel centres in ``box``,
    as three broadcastable arrays ``(bz,1,1) + (1,by,1) + (1,1,bx)`` summed per axis ``j``.

    ``dz`` is in units of slice thickness, ``dy`` / ``dx`` in pixels.
    """
    kz, ky, kx = box
    sy, sx = grid.pixel_spacing_mm
    pz = grid.positions[kz] + dz * grid.slice_thickness_mm * grid.normal - shape.centre
    a = pz @ shape.rot  # (bz, 3)
    b = (np.arange(ky.start, ky.stop) + dy)[:, None] * sy * (grid.col_dir @ shape.rot)  # (by, 3)
    c = (np.arange(kx.start, kx.stop) + dx)[:, None] * sx * (grid.row_dir @ shape.rot)  # (bx, 3)
    return [
        (a[:, j, None, None] + b[None, :, j, None] + c[None, None, :, j]).astype(dtype, copy=False)
        for j in range(3)
    ]


def approx_fraction(
    grid: SliceGrid, shape: Ellipsoid
) -> tuple[tuple[slice, slice, slice], np.ndarray] | None:
    """Partial-volume fraction of ``shape`` in its bounding box, from a first-order signed
    distance and the voxel's extent along the surface normal (cheap; for anatomy).

    Returns ``(box, fraction)`` with ``fraction`` float32 ``(z, y, x)`` over ``box``.
    """
    box = bounding_box(grid, shape)
    if box is None:
        return None
    q = _local_terms(grid, shape, box, dtype=np.float32)
    a2 = (shape.semi_mm**2).astype(np.float32)
    g = [q[j] / a2[j] for j in range(3)]
    rho2 = q[0] * g[0] + q[1] * g[1] + q[2] * g[2]
    gnorm = np.sqrt(g[0] ** 2 + g[1] ** 2 + g[2] ** 2) + np.float32(1e-12)
    rho = np.sqrt(rho2)
    dist = (rho - 1.0) * rho / gnorm  # mm, > 0 outside
    sy, sx = grid.pixel_spacing_mm
    r_loc = shape.rot.T @ grid.row_dir
    c_loc = shape.rot.T @ grid.col_dir
    n_loc = shape.rot.T @ grid.normal
    h = np.zeros_like(dist)
    for axis_loc, extent in ((r_loc, sx), (c_loc, sy), (n_loc, grid.slice_thickness_mm)):
        proj = (g[0] * axis_loc[0] + g[1] * axis_loc[1] + g[2] * axis_loc[2]) / gnorm
        h += np.abs(proj) * np.float32(extent)
    frac = np.clip(0.5 - dist / np.maximum(h, 1e-3), 0.0, 1.0).astype(np.float32)
    return box, frac


@dataclass(frozen=True, eq=False)
class LesionShape:
    """A lesion: an ellipsoid whose viable (arterially enhancing) part is a smaller copy of it,
    scaled by ``viable_scale`` about a point on its surface (the ``tip``), the rest necrotic.

    A homothety about a boundary point maps a convex body into itself, so the viable part is a
    convex nodule inside the lesion, touching its edge at the tip: its longest diameter never
    crosses necrosis (mRECIST measures "not across major areas of necrosis"), its sections are
    ellipses (exact diameters), and it has no thin wedge whose partial volume would fool a
    measurement.
    """

    ellipsoid: Ellipsoid
    tip_dir: np.ndarray
    """Unit LPS vector from the centre towards the tip (the side where tumour stays viable)."""
    viable_scale: float
    """0 (no viable tumour) to 1 (all viable)."""

    @property
    def tip(self) -> np.ndarray:
        """LPS point (mm) of the surface where the viable nodule touches the lesion's edge."""
        return self.ellipsoid.centre + self.tip_dir * self._ray_length()

    def _ray_length(self) -> float:
        q = (self.ellipsoid.rot.T @ self.tip_dir) / self.ellipsoid.semi_mm
        return float(1.0 / np.linalg.norm(q))

    @property
    def viable(self) -> Ellipsoid | None:
        """The viable nodule, or None when nothing is viable."""
        if self.viable_scale <= 0.0:
            return None
        k = min(self.viable_scale, 1.0)
        tip = self.tip
        return Ellipsoid(
            tip + k * (self.ellipsoid.centre - tip), self.ellipsoid.semi_mm * k, self.ellipsoid.rot
        )

    @property
    def volume_ml(self) -> float:
        """Whole-lesion volume (mL)."""
        return self.ellipsoid.volume_mm3 / 1000.0

    @property
    def viable_volume_ml(self) -> float:
        """Viable volume (mL)."""
        viable = self.viable
        return 0.0 if viable is None else viable.volume_mm3 / 1000.0

    def render(
        self, grid: SliceGrid, supersample: tuple[int, int, int] = (3, 3, 3)
    ) -> tuple[tuple[slice, slice, slice], np.ndarray, np.ndarray] | None:
        """Supersampled whole-lesion and viable fractions over the lesion's bounding box.

        Returns ``(box, whole, viable)``, both float32 ``(z, y, x)`` in ``[0, 1]`` over ``box``
        (None when the lesion misses the grid). Samples are spread over the pixel in-plane and
        over the slice thickness through-plane.
        """
        box = bounding_box(grid, self.ellipsoid)
        if box is None:
            return None
        offs = [(np.arange(n) + 0.5) / n - 0.5 for n in supersample]
        semi = self.ellipsoid.semi_mm
        viable_shape = self.viable
        whole = np.zeros(tuple(s.stop - s.start for s in box), dtype=np.float32)
        viable = np.zeros_like(whole)
        for dz in offs[0]:
            for dy in offs[1]:
                for dx in offs[2]:
                    q = _local_terms(grid, self.ellipsoid, box, dz, dy, dx)
                    inside = (q[0] / semi[0]) ** 2 + (q[1] / semi[1]) ** 2 + (
                        q[2] / semi[2]
                    ) ** 2 <= 1.0
                    whole += inside
                    if viable_shape is not None:
                        v = _local_terms(grid, viable_shape, box, dz, dy, dx)
                        vs = viable_shape.semi_mm
                        viable += inside & (
                            (v[0] / vs[0]) ** 2 + (v[1] / vs[1]) ** 2 + (v[2] / vs[2]) ** 2 <= 1.0
                        )
        count = np.float32(np.prod(supersample))
        return box, whole / count, viable / count


@dataclass(frozen=True)
class Diameter:
    """A longest in-plane diameter on one slice: length (mm), slice index and end points as
    fractional voxel indices ``(z, y, x)``."""

    length_mm: float
    slice_index: int
    start_zyx: tuple[float, float, float]
    end_zyx: tuple[float, float, float]


def _section(
    grid: SliceGrid, shape: Ellipsoid, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The ellipse where slice plane ``k`` cuts ``shape``, in plane coordinates ``(u, v)`` mm
    along ``(row_dir, col_dir)`` from ``positions[k]``: ``(centre (2,), axes (2x2 columns),
    semi-axes (2,))``, or None."""
    e = np.column_stack([grid.row_dir, grid.col_dir])
    a = shape.quadric()
    d = grid.positions[k] - shape.centre
    m = e.T @ a @ e
    b = e.T @ a @ d
    k0 = d @ a @ d
    w0 = -np.linalg.solve(m, b)
    rhs = 1.0 - k0 + w0 @ m @ w0
    if rhs <= 0.0:
        return None
    lam, q = np.linalg.eigh(m)
    return w0, q, np.sqrt(rhs / lam)


def ellipsoid_diameter(grid: SliceGrid, shape: Ellipsoid | None) -> Diameter | None:
    """Exact longest axial diameter of ``shape`` over ``grid``'s slice planes (what a reader can
    measure on that scan): the largest section's major axis. None when no plane cuts it."""
    if shape is None:
        return None
    sy, sx = grid.pixel_spacing_mm
    best: Diameter | None = None
    for k in range(grid.n_slices):
        sec = _section(grid, shape, k)
        if sec is None:
            continue
        centre, axes, semi = sec
        i = int(np.argmax(semi))
        length = 2.0 * float(semi[i])
        if best is None or length > best.length_mm:
            p1 = centre + axes[:, i] * semi[i]
            p2 = centre - axes[:, i] * semi[i]
            best = Diameter(
                length, k, (float(k), p1[1] / sy, p1[0] / sx), (float(k), p2[1] / sy, p2[0] / sx)
            )
    return best


def lesion_diameters(
    grid: SliceGrid, lesion: LesionShape
) -> tuple[Diameter | None, Diameter | None]:
    """Exact longest axial diameters ``(viable, whole)`` of ``lesion`` on ``grid``."""
    return ellipsoid_diameter(grid, lesion.viable), ellipsoid_diameter(grid, lesion.ellipsoid)
