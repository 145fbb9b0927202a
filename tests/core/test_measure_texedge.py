"""A texture outline loses lobes as wide as one texture source's spread (texedge.py, issue 11):
an analytic outline with a lobe 8 mm wide, and IRCADb tumour 04 (as dense as the liver,
delineated by texture) from clicks whose texture outline ran out in such lobes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _ircadb import variant
from _star import SPACING

from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement.evaluation import tolerance_mm
from lesion_tool.measurement.texedge import TEXTURE_TRIM_MM
from lesion_tool.measurement.texturetrim import trimmed_radii


def _lobed(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """A 9 mm radius disk (centre (50, 50)) with a disk of 4 mm radius (one texture source's
    spread) centred 11 mm out on the +x axis, as the rays from the centre see them."""
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    mask = ((yy - 50) * 0.6) ** 2 + ((xx - 50) * 0.6) ** 2 <= 9.0**2
    mask |= ((yy - 50) * 0.6) ** 2 + ((xx - 50 - 11.0 / 0.6) * 0.6) ** 2 <= 4.0**2
    a = np.arange(72) * (2.0 * math.pi / 72)
    radii = np.full(72, 9.0)
    for i, ang in enumerate(a):
        r = np.arange(0.0, 20.0, 0.1)
        py = np.rint(50 + np.sin(ang) * r / 0.6).astype(int)
        px = np.rint(50 + np.cos(ang) * r / 0.6).astype(int)
        inside = mask[py, px]
        radii[i] = r[np.argmin(inside) - 1] if not inside.all() else r[-1]
    return radii, mask


def test_a_lobe_as_wide_as_the_texture_window_is_cut_the_disk_kept() -> None:
    shape = (100, 100)
    radii, mask = _lobed(shape)
    assert radii.max() >= 14.5  # the lobe reaches 15 mm along +x
    r = trimmed_radii(radii, 50.0, 50.0, mask, SPACING, TEXTURE_TRIM_MM, keep_centre=True)
    assert r is not None
    assert r.max() <= 10.5, r.max()  # back to the disk's 9 mm (+ the opening's corner)
    assert np.median(r) >= 9.0 - 0.8
    # The narrower opening of texturetrim's tongues leaves that lobe.
    r35 = trimmed_radii(radii, 50.0, 50.0, mask, SPACING, 3.5)
    assert r35 is not None and r35.max() >= 13.0, r35.max()


def test_a_click_near_the_edge_keeps_the_trim() -> None:
    # The same outline with a bump of 2 mm radius on its -x border (its mottled edge), clicked
    # in that bump: the opening takes the bump off, so without keep_centre the click is not in
    # the opened outline and the slice is left untrimmed (None); with it the lobe on +x is cut
    # and the disk kept.
    shape = (100, 100)
    _, mask = _lobed(shape)
    cy, cx = 50.0, 50.0 - 9.5 / 0.6
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    mask = mask | (((yy - cy) * 0.6) ** 2 + ((xx - cx) * 0.6) ** 2 <= 2.0**2)
    a = np.arange(72) * (2.0 * math.pi / 72)
    radii = np.zeros(72)
    for i, ang in enumerate(a):
        r = np.arange(0.0, 40.0, 0.1)
        py = np.clip(np.rint(cy + np.sin(ang) * r / 0.6).astype(int), 0, 99)
        px = np.clip(np.rint(cx + np.cos(ang) * r / 0.6).astype(int), 0, 99)
        inside = mask[py, px]
        radii[i] = r[np.argmin(inside) - 1]
    assert radii[0] >= 9.5 + 14.5  # along +x the rays reach the lobe's end (24.5 mm)
    assert trimmed_radii(radii, cy, cx, mask, SPACING, TEXTURE_TRIM_MM) is None
    r = trimmed_radii(radii, cy, cx, mask, SPACING, TEXTURE_TRIM_MM, keep_centre=True)
    assert r is not None
    assert r[0] <= 9.5 + 9.0 + 1.5, r[0]  # the disk's far border (18.5 mm), not the lobe's
    assert r[36] >= 2.0 - 0.8  # along -x: the click's own bump is kept


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("degrade_kw", "click"),
    [
        # 25 HU noise, a random click of seed 0: 23.3 mm for 18.5 before (a lobe of 4-5 mm
        # up and left on Im 98-99), 18.8 after.
        ({"noise_sd_hu": 25.0, "seed": 0}, (98, 242, 206)),
        # 2.5 mm slabs (no noise), a random click of seed 1: 21.4 mm for 17.3 before (lobes
        # below the tumour, towards the vessel's end), 20.3 after.
        ({"thickness_mm": 2.5}, (62, 237, 204)),
    ],
)
def test_tumour_04_by_texture_stops_at_its_own_texture(ircadb, degrade_kw, click) -> None:
    v = variant(ircadb, **degrade_kw)
    t = next(t for t in v.experts if t.name == "livertumor04")
    r = measure_lesion(v.volume, LesionPrompt(seed=click), phase="portal-venous")
    assert any("delineated by texture" in f for f in r.flags), r.flags
    assert abs(r.whole.length_mm - t.diameter_mm) <= tolerance_mm(t.diameter_mm), (
        r.whole.length_mm,
        t.diameter_mm,
    )
    full = r.full_mask(v.volume.shape)
    assert (full & v.masks[3]).sum() >= 0.7 * full.sum()
