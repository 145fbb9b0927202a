"""A click on the seam between an arterial HCC's enhancing nodule and its necrosis (w12-synth).

The lesion is ``benchmarks/bench_measure.py``'s 52 mm one, rendered analytically (a 52 x 34 x 26
mm ellipsoid, its viable nodule a 0.55 copy touching its edge: 145 HU, necrosis 22 HU, liver
75 HU, noise 10 HU, 1 mm slices of 0.7 mm pixels). Its exact longest axial diameters (whole
52.0 mm, viable 28.6 mm) come from the ellipsoids' sections. Clicked on the nodule's edge
against the necrosis, the region grown from the click's half-way value was the necrosis with a
rim of liver and no viable part (43.1 mm, viable 0.0 mm, unflagged: a complete response claimed
under an enhancing nodule); :func:`lesion_tool.measurement.nodule_seam.follow_seam` clicks
again inside it. A click in the nodule's middle is untouched.
"""

from __future__ import annotations

import numpy as np
import pytest

from lesion_tool.io.volume import CTVolume
from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement.nodule_seam import SEAM_FLAG
from lesion_tool.synth.shapes import Ellipsoid, LesionShape, axial_grid, lesion_diameters

SHAPE = (64, 176, 176)
SPACING = (1.0, 0.7, 0.7)


@pytest.fixture(scope="module")
def phantom() -> tuple[CTVolume, LesionShape, float, float, tuple[int, int, int], np.ndarray]:
    """The volume, the lesion, its exact whole and viable diameters (mm), the click on the seam
    and the matrix taking a voxel index ``(z, y, x)`` to LPS mm (with the first voxel's
    position as its last row)."""
    grid = axial_grid(SHAPE, SPACING)
    e = Ellipsoid.make((0.0, 0.0, 0.0), (26.0, 17.0, 13.0), yaw_deg=75.0)
    lesion = LesionShape(e, e.rot[:, 1], 0.55)
    box, whole, viable = lesion.render(grid, supersample=(2, 2, 2))
    image = np.full(SHAPE, 75.0, dtype=np.float32)
    image[box] = 75 * (1 - whole) + 22 * (whole - viable) + 145 * viable
    image += np.random.default_rng(7).normal(0.0, 10.0, SHAPE).astype(np.float32)
    viable_d, whole_d = lesion_diameters(grid, lesion)
    assert viable_d is not None and whole_d is not None
    # The bench's click before w12: the first nodule voxel of its middle slice (z-major order),
    # on the nodule's edge where it meets the necrosis.
    inside = np.argwhere(viable >= 0.9 * viable.max())
    seam = tuple(int(v) for v in inside[len(inside) // 2] + [s.start for s in box])
    to_lps = np.column_stack(
        [grid.normal * SPACING[0], grid.col_dir * SPACING[1], grid.row_dir * SPACING[2]]
    )
    volume = CTVolume(image, grid.spacing_mm, grid.origin_mm, grid.direction)
    return (
        volume,
        lesion,
        whole_d.length_mm,
        viable_d.length_mm,
        seam,  # type: ignore[return-value]
        np.vstack([to_lps, grid.positions[0]]),
    )


def test_a_click_on_the_seam_measures_the_whole_lesion_and_its_viable_part(phantom) -> None:
    volume, lesion, whole_mm, viable_mm, seed, m = phantom
    nodule = lesion.viable
    assert nodule is not None
    # The click is in the nodule, within 0.5 mm of its edge, and a voxel beside it is necrosis.
    p = m[:3] @ seed + m[3]
    assert nodule.contains(p) and not nodule.contains(p, margin_mm=-0.5)
    assert lesion.ellipsoid.contains(p - m[:3, 1]) and not nodule.contains(p - m[:3, 1])
    r = measure_lesion(volume, LesionPrompt(seed=seed), phase="arterial")
    assert r.viable_diameter_mm is not None
    # Before w12: 44.6 mm and viable 0.0 mm (for 52.0 and 28.5), unflagged.
    assert abs(r.whole.length_mm - whole_mm) <= 0.1 * whole_mm
    assert abs(r.viable_diameter_mm - viable_mm) <= 0.1 * viable_mm
    assert any(f.startswith(SEAM_FLAG) for f in r.flags)
    assert r.seed_voxel == seed


def _voxel(m: np.ndarray, p: np.ndarray) -> tuple[int, int, int]:
    """The voxel ``(z, y, x)`` nearest the LPS point ``p``."""
    return tuple(round(v) for v in np.linalg.solve(m[:3], p - m[3]))  # type: ignore[return-value]


def test_a_click_in_the_nodules_middle_is_untouched(phantom) -> None:
    volume, lesion, _whole_mm, viable_mm, _seam, m = phantom
    nodule = lesion.viable
    assert nodule is not None
    r = measure_lesion(volume, LesionPrompt(seed=_voxel(m, nodule.centre)), phase="arterial")
    assert r.viable_diameter_mm is not None
    assert abs(r.viable_diameter_mm - viable_mm) <= 0.1 * viable_mm
    assert not any(f.startswith(SEAM_FLAG) for f in r.flags)
