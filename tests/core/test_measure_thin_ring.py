"""A small nodule with a faint enhancing rim on 5 mm slabs (IRCADb tumour 04's kind, as arterial
HCC studies are often reconstructed): its rim is confirmed on the one neighbouring slab that
still cuts it, the slab on the far side lying past its cap (ring.THICK_SLAB_MM), on an analytic
sphere made into slabs and on the real tumour against its expert mask; plain liver with the same
noise gives no rim."""

from __future__ import annotations

import numpy as np
import pytest
from _ircadb import variant

from lesion_tool.errors import MeasurementError
from lesion_tool.io.volume import CTVolume
from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement.evaluation import tolerance_mm

SLAB_MM = 5.0
SUB = 10
"""Thin sections (0.5 mm) averaged into each slab, as a scanner's thick reconstruction does."""
SLABS, NY, NX = 8, 128, 128
DXY = 0.7
LIVER_HU = 100.0
OUTER_MM = 8.5
RIM_MM = 2.0
CENTRE_MM = 3.9 * SLAB_MM
"""The sphere's centre in slab 3 near its upper face: slab 4 cuts it 3 mm from its equator,
slab 2 (7 mm below) only its cap."""
CLICKS = [(3, 64, 64), (3, 67, 62), (3, 61, 66)]


def _slab_phantom(noise: float, rim_hu: float, seed: int) -> CTVolume:
    """Liver (a disk of 100 HU in fat) holding a 17 mm sphere: a core as dense as the liver in a
    2 mm rim ``rim_hu`` brighter, averaged into 5 mm slabs, with white noise of ``noise`` HU."""
    zf = (np.arange(SLABS * SUB) + 0.5) * SLAB_MM / SUB
    yx = np.arange(NY) * DXY
    z, y, x = np.meshgrid(zf, yx, yx, indexing="ij")
    c = NY * DXY / 2.0
    img = np.where((y - c) ** 2 + (x - c) ** 2 <= 40.0**2, LIVER_HU, -100.0)
    d = np.sqrt((z - CENTRE_MM) ** 2 + (y - c) ** 2 + (x - c) ** 2)
    img = np.where((d > OUTER_MM - RIM_MM) & (d <= OUTER_MM), LIVER_HU + rim_hu, img)
    slabs = img.reshape(SLABS, SUB, NY, NX).mean(axis=1)
    slabs = slabs + np.random.default_rng(seed).normal(0.0, noise, slabs.shape)
    return CTVolume(slabs.astype(np.float32), (SLAB_MM, DXY, DXY), (0.0, 0.0, 0.0))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_faint_rim_of_a_small_sphere_on_5mm_slabs_is_confirmed_on_the_nearer_slab(
    seed: int,
) -> None:
    # A rim 16 HU brighter than the liver in 28 HU of noise. On the mean of the two
    # neighbouring slabs the rim had half its contrast (the lower one is past the cap) and 5
    # of these 9 clicks were refused or measured 10.9 mm; each is now within max(3 mm, 10 %)
    # of the sphere's 17 mm, flagged as found by its enhancing rim.
    vol = _slab_phantom(noise=28.0, rim_hu=16.0, seed=seed)
    truth = 2.0 * OUTER_MM
    for click in CLICKS:
        r = measure_lesion(vol, LesionPrompt(seed=click), phase="portal-venous")
        assert abs(r.whole.length_mm - truth) <= tolerance_mm(truth), (click, r.whole.length_mm)
        assert any("enhancing rim" in f for f in r.flags), (click, r.flags)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_plain_liver_on_5mm_slabs_with_the_same_noise_shows_no_rim(seed: int) -> None:
    # One neighbouring slab alone may confirm a rim; the brightest (darkest) path through noise
    # must still not pass for one (SLAB_MIN_RIM_HU on its own slab, RING_Z_SCORE on the other).
    vol = _slab_phantom(noise=28.0, rim_hu=0.0, seed=seed)
    for click in CLICKS:
        try:
            r = measure_lesion(vol, LesionPrompt(seed=click), phase="portal-venous")
        except MeasurementError:
            continue
        assert not any(" rim: its inside" in f for f in r.flags), (click, r.flags)
        assert r.flags, click


def test_deepest_click_in_tumour_04_on_5mm_slabs_measures_its_enhancing_rim(ircadb) -> None:
    # IRCADb tumour 04 on 5 mm slabs (portal venous): the click at the deepest point lands in
    # its dark core, which by value came out alone (8.6 mm for 17.1, flagged as a possible
    # core); its faint ring was found but confirmed at 2.3-3.5 standard errors on the mean of
    # the slabs next to it. On slab 32 alone it is confirmed (3.0, its own slab showing
    # it 10 HU above both sides): 18.2 mm, flagged.
    v = variant(ircadb, thickness_mm=SLAB_MM)
    t = next(t for t in v.experts if t.name == "livertumor04")
    r = measure_lesion(v.volume, LesionPrompt(seed=(31, 241, 197)), phase="portal-venous")
    assert abs(r.whole.length_mm - t.diameter_mm) <= tolerance_mm(t.diameter_mm), (
        r.whole.length_mm,
        t.diameter_mm,
    )
    assert any("enhancing rim" in f for f in r.flags), r.flags
