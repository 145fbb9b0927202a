"""Where HCC_006's nodule is: the one place that knows it (tests and benchmarks import it).

The readers' baseline nodule of HCC_006 has no mask in the release; it was found on the images
(see tests/core/test_measure_tcia.py's docstring). Its location, the prompts tried on it and the
readers' range live here so that every test and benchmark asks the same questions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume

HCC_006_AP = (
    "hcc-tace-seg/HCC_006/08-06-1999-NA-ABDPEL LIVER-65146/103.000000-LIVER 3 PHASE AP-45033"
)
"""The arterial series, relative to ../shared/data."""
READERS_MM = (28.9, 34.0)
"""The three readers' baseline diameters of the HCC_006 nodule span this range (mm)."""
NODULE_CENTRE = (72, 330, 172)
"""Se 103 · Im 37: the centre of the ring on its widest slice."""
INTERIOR_CLICKS = [
    (72, 340, 165),
    (72, 340, 178),
    (73, 328, 168),
    (72, 318, 165),
    (72, 338, 160),
    (72, 320, 170),
    (71, 330, 170),
    (73, 332, 170),
]
"""Clicks in the nodule's rim and body on Im 36-38 (the centre is tried apart)."""
LINES = [
    ((72, 342, 156), (72, 315, 188)),
    ((72, 313, 170), (72, 346, 172)),
    ((73, 342, 156), (73, 315, 188)),
    ((71, 330, 150), (71, 330, 190)),
]
"""Rough lines across the nodule (its oblique long axis, its height, on Im 36-38)."""

PLAIN_LIVER_HU = (90.0, 112.0)
"""HCC_006's parenchyma on this series, smoothed (2 mm in-plane): about 105 HU (92-108 by
voxel, the nodule's capsule 83-88 HU, vessels 140-160 HU)."""
PLAIN_LIVER_AWAY_MM = 30.0
"""Plain-liver clicks lie this far from the nodule's centre at least (it is 26-33 mm wide)."""


def plain_liver_clicks(volume: CTVolume, n: int = 40, seed: int = 0) -> list[tuple[int, int, int]]:
    """Seeded clicks in HCC_006's liver away from the nodule, where there is no lesion.

    No mask ships with the series, so the liver is estimated from the image: voxels whose
    smoothed value is the parenchyma's (PLAIN_LIVER_HU), opened by a 7 mm square in-plane
    (vessels and thin structures out), the largest connected region (checked by eye on Im 21, 32,
    45 and 57: the liver), eroded by 3 pixels (2.3 mm) in-plane; clicks at least
    PLAIN_LIVER_AWAY_MM from the nodule's centre, on voxels within 40 HU of the parenchyma."""
    import numpy as np
    from scipy import ndimage

    a = np.asarray(volume.array, dtype=np.float32)
    sp = volume.spacing_mm
    sm = ndimage.gaussian_filter(a, (0.5, 2.0 / sp[1], 2.0 / sp[2]))
    par = (sm > PLAIN_LIVER_HU[0]) & (sm < PLAIN_LIVER_HU[1])
    par = ndimage.binary_opening(par, np.ones((1, 9, 9), dtype=bool))
    lab, count = ndimage.label(par)
    sizes = ndimage.sum(par, lab, range(1, count + 1))
    liver = lab == 1 + int(np.argmax(sizes))
    inner = ndimage.binary_erosion(liver, np.ones((1, 7, 7), dtype=bool))
    zz, yy, xx = np.indices(a.shape, sparse=True)
    c = NODULE_CENTRE
    dist = np.sqrt(
        ((zz - c[0]) * sp[0]) ** 2 + ((yy - c[1]) * sp[1]) ** 2 + ((xx - c[2]) * sp[2]) ** 2
    )
    ok = inner & (dist >= PLAIN_LIVER_AWAY_MM) & (np.abs(a - 100.0) < 40.0)
    pts = np.argwhere(ok)
    pick = np.sort(np.random.default_rng(seed).choice(len(pts), n, replace=False))
    return [tuple(int(v) for v in pts[i]) for i in pick]
