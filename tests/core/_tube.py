"""The vessel tests' phantom, in one place (three test modules each kept a copy): liver with
one bright oblique tube through the slices, or a ball of the same calibre, at the centre."""

from __future__ import annotations

import numpy as np

from lesion_tool.io.volume import CTVolume

SPACING = (1.6, 0.8, 0.8)


def tube_or_ball(shape: str) -> tuple[CTVolume, tuple[int, int, int]]:
    """Liver at 100 HU (noise 10) with one 180 HU structure 12 mm across: an oblique tube
    through the slices (``shape == "tube"``), or a ball; and the centre voxel."""
    rng = np.random.default_rng(0)
    nz, ny, nx = 60, 120, 120
    z, y, x = np.meshgrid(
        *(np.arange(n) * s for n, s in zip((nz, ny, nx), SPACING, strict=True)), indexing="ij"
    )
    c = np.array([nz, ny, nx]) * np.asarray(SPACING) / 2.0
    p = np.stack([z - c[0], y - c[1], x - c[2]], axis=-1)
    if shape == "tube":
        axis = np.array([1.0, 0.5, 0.3]) / np.linalg.norm([1.0, 0.5, 0.3])
        d = np.linalg.norm(p - (p @ axis)[..., None] * axis, axis=-1)
    else:
        d = np.linalg.norm(p, axis=-1)
    arr = 100.0 + 80.0 * (d <= 6.0) + rng.normal(0.0, 10.0, d.shape)
    return CTVolume(arr.astype(np.float32), SPACING, (0.0, 0.0, 0.0)), (nz // 2, ny // 2, nx // 2)
