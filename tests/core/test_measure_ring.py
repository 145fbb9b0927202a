"""The darker-rim (capsule) delineation on an analytic phantom: an iso-attenuating nodule."""

from __future__ import annotations

import numpy as np
import pytest

from lesion_tool.errors import MeasurementError
from lesion_tool.io.volume import CTVolume
from lesion_tool.measurement import LesionPrompt, measure_lesion

SPACING = (2.5, 0.78, 0.78)
SHAPE = (20, 160, 160)
LIVER_HU = 100.0


def _capsule_phantom(noise: float, rim_hu: float, seed: int = 0) -> CTVolume:
    """Liver (a disk of 100 HU in fat) holding a 28 mm sphere as dense as the liver inside a
    2.5 mm capsule ``rim_hu`` darker, with white noise of ``noise`` HU."""
    z, y, x = np.meshgrid(
        *(np.arange(n) * s for n, s in zip(SHAPE, SPACING, strict=True)), indexing="ij"
    )
    c = SHAPE[1] * SPACING[1] / 2.0
    img = np.where((y - c) ** 2 + (x - c) ** 2 <= 55.0**2, LIVER_HU, -100.0)
    d = np.sqrt((z - 25.0) ** 2 + (y - c) ** 2 + (x - c) ** 2)
    img = np.where((d > 11.5) & (d <= 14.0), LIVER_HU - rim_hu, img)
    img = img + np.random.default_rng(seed).normal(0.0, noise, img.shape)
    return CTVolume(img.astype(np.float32), SPACING, (0.0, 0.0, 0.0))


CLICKS = [(10, 80, 80), (10, 85, 78), (10, 76, 84)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nodule_as_dense_as_the_liver_is_delineated_by_its_darker_rim(seed: int) -> None:
    # Rim 15 HU darker than the liver in a voxel noise of 25 HU (the contrast and noise of the
    # real HCC_006 nodule): the click's value is the liver's, the closed rim gives the boundary
    # (its outer edge, 28 mm; the edge is put where the smoothed dip is half-way back to the
    # liver: the rim's centre, 12.75 mm, plus 1.18 sigma of the 2.5 mm rim blurred by the 1.5 mm
    # smoothing, i.e. 14.7 mm, 29.4 mm across), within max(3 mm, 10 %).
    expected = 2.0 * (12.75 + 1.1774 * np.hypot(1.5, 2.5 / np.sqrt(12.0)))
    vol = _capsule_phantom(noise=25.0, rim_hu=15.0, seed=seed)
    for click in CLICKS:
        r = measure_lesion(vol, LesionPrompt(seed=click), phase="portal-venous")
        assert r.whole.length_mm == pytest.approx(expected, abs=3.0), (click, expected)
        assert any("darker rim" in f for f in r.flags), (click, r.flags)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_plain_liver_with_the_same_noise_shows_no_rim(seed: int) -> None:
    # The darkest closed path through noise is dark on its own slice; on the slices next to it
    # (independent noise) it is not, and no rim is claimed.
    vol = _capsule_phantom(noise=25.0, rim_hu=0.0, seed=seed)
    for click in CLICKS:
        try:
            r = measure_lesion(vol, LesionPrompt(seed=click), phase="portal-venous")
        except MeasurementError as err:
            # Refused with what to do: "Click inside ...", or, when a larger region lies under
            # the click's end slice (notwhole.py), "click in its middle ...".
            assert "lick in" in str(err), str(err)
            continue
        # A noise speck the value delineation keeps is small and flagged, never a rim.
        assert not any("darker rim" in f for f in r.flags), (click, r.flags)
        assert r.flags and r.whole.length_mm < 15.0, (click, r.whole.length_mm)


def test_rim_is_carried_through_the_nodules_slices() -> None:
    # The sphere's rim crosses slices 5-15 (2.5 mm apart, centre on slice 10). From a click on
    # the centre slice or 5 mm off it, the ring is followed through the slices where it stays
    # confirmed: the whole wall (|dz| <= 7.5 mm, slices 7-13) at least, never past the sphere;
    # the diameter is taken on the widest slice (10), and the mask holds the sphere's volume
    # less its caps (the caps beyond slices 7-13 hold 9 % of it).
    expected = 2.0 * (12.75 + 1.1774 * np.hypot(1.5, 2.5 / np.sqrt(12.0)))
    sphere_ml = 4.0 / 3.0 * np.pi * 14.0**3 / 1000.0
    vol = _capsule_phantom(noise=25.0, rim_hu=15.0, seed=0)
    for click in [(10, 80, 80), (12, 80, 80), (8, 84, 77)]:
        r = measure_lesion(vol, LesionPrompt(seed=click), phase="portal-venous")
        slices = [r.offset[0] + k for k in range(r.mask.shape[0]) if r.mask[k].any()]
        assert slices[0] <= 7 and slices[-1] >= 13, (click, slices)
        assert slices[0] >= 5 and slices[-1] <= 15, (click, slices)
        assert r.whole.slice_index in (9, 10, 11), (click, r.whole.slice_index)
        assert r.whole.length_mm == pytest.approx(expected, abs=3.0), click
        assert 0.75 * sphere_ml <= r.volume_ml <= 1.15 * sphere_ml, (click, r.volume_ml)
        assert any("outlined on" in f and "slices" in f for f in r.flags), r.flags


LINES = [((10, 62, 80), (10, 99, 80)), ((10, 68, 66), (10, 93, 95)), ((11, 80, 60), (11, 82, 98))]
"""Rough lines across the phantom's nodule: its height, an oblique one, one 3 mm low on the
slice next to the centre (29-31 mm long; the nodule's outer edge is 28 mm across)."""


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_line_across_the_nodule_is_measured_by_its_rim(seed: int) -> None:
    # By value the line's middle is the liver's (10 HU contrast at most): the rim is sought with
    # its path held near the line's ends and measured as from a click.
    expected = 2.0 * (12.75 + 1.1774 * np.hypot(1.5, 2.5 / np.sqrt(12.0)))
    vol = _capsule_phantom(noise=25.0, rim_hu=15.0, seed=seed)
    for line in LINES:
        r = measure_lesion(vol, LesionPrompt(line=line), phase="portal-venous")
        assert r.whole.length_mm == pytest.approx(expected, abs=3.0), line
        assert any("darker rim" in f for f in r.flags), (line, r.flags)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_line_across_plain_liver_claims_no_rim(seed: int) -> None:
    vol = _capsule_phantom(noise=25.0, rim_hu=0.0, seed=seed)
    for line in LINES[:2]:
        try:
            r = measure_lesion(vol, LesionPrompt(line=line), phase="portal-venous")
        except MeasurementError:
            continue
        assert not any("darker rim" in f for f in r.flags), (line, r.flags)
        assert r.flags, (line, r.whole.length_mm)
