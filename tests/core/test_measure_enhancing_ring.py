"""The faint enhancing-rim delineation (IRCADb tumour 04's kind of lesion): a thin ring a little
brighter than the liver around a core as dense as the liver or darker, on an analytic phantom
and on the real tumour against its expert mask."""

from __future__ import annotations

import numpy as np
import pytest
from _ircadb import variant

from lesion_tool.errors import MeasurementError
from lesion_tool.io.volume import CTVolume
from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement.evaluation import tolerance_mm

SPACING = (2.5, 0.78, 0.78)
SHAPE = (20, 160, 160)
LIVER_HU = 100.0
OUTER_MM = 10.0
RIM_MM = 2.0


def _ring_phantom(noise: float, rim_hu: float, core_hu: float, seed: int = 0) -> CTVolume:
    """Liver (a disk of 100 HU in fat) holding a 20 mm sphere: a core ``core_hu`` from the liver
    inside a 2 mm rim ``rim_hu`` brighter, with white noise of ``noise`` HU."""
    z, y, x = np.meshgrid(
        *(np.arange(n) * s for n, s in zip(SHAPE, SPACING, strict=True)), indexing="ij"
    )
    c = SHAPE[1] * SPACING[1] / 2.0
    img = np.where((y - c) ** 2 + (x - c) ** 2 <= 55.0**2, LIVER_HU, -100.0)
    d = np.sqrt((z - 25.0) ** 2 + (y - c) ** 2 + (x - c) ** 2)
    img = np.where(d <= OUTER_MM - RIM_MM, LIVER_HU + core_hu, img)
    img = np.where((d > OUTER_MM - RIM_MM) & (d <= OUTER_MM), LIVER_HU + rim_hu, img)
    img = img + np.random.default_rng(seed).normal(0.0, noise, img.shape)
    return CTVolume(img.astype(np.float32), SPACING, (0.0, 0.0, 0.0))


CLICKS = [(10, 80, 80), (10, 84, 78), (10, 77, 83)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_faint_enhancing_rim_around_an_iso_dense_core_gives_the_outer_edge(seed: int) -> None:
    # A rim 15 HU brighter than the liver in a voxel noise of 20 HU, the core as dense as the
    # liver (04 on slabs): the click's value is the liver's; the ring's outer edge (20 mm
    # across) is measured within max(3 mm, 10 %), flagged as found by its enhancing rim.
    vol = _ring_phantom(noise=20.0, rim_hu=15.0, core_hu=0.0, seed=seed)
    for click in CLICKS:
        r = measure_lesion(vol, LesionPrompt(seed=click), phase="portal-venous")
        truth = 2.0 * OUTER_MM
        assert abs(r.whole.length_mm - truth) <= tolerance_mm(truth), (click, r.whole.length_mm)
        assert any("enhancing rim" in f for f in r.flags), (click, r.flags)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_plain_liver_with_the_same_noise_shows_no_enhancing_rim(seed: int) -> None:
    # The brightest closed path through noise is bright on its own slice only; the slices next
    # to it (independent noise) do not confirm it, and no rim is claimed.
    vol = _ring_phantom(noise=20.0, rim_hu=0.0, core_hu=0.0, seed=seed)
    for click in CLICKS:
        try:
            r = measure_lesion(vol, LesionPrompt(seed=click), phase="portal-venous")
        except MeasurementError:
            continue
        assert not any("enhancing rim" in f for f in r.flags), (click, r.flags)
        assert r.flags, click


def _slice_dice(result, truth: np.ndarray) -> list[float]:
    """Dice of a result's outline against the expert mask on each slice the result covers."""
    pred = np.zeros_like(truth)
    sl = tuple(slice(o, o + n) for o, n in zip(result.offset, result.mask.shape, strict=True))
    pred[sl] = result.mask
    zs = np.flatnonzero(pred.any(axis=(1, 2)))
    return [
        2.0 * float((pred[z] & truth[z]).sum()) / float(pred[z].sum() + truth[z].sum()) for z in zs
    ]


def test_click_in_tumour_04s_core_on_slabs_measures_its_enhancing_rim(ircadb) -> None:
    # IRCADb tumour 04 on 2.5 mm slabs: a core darker than the liver (-31 HU where the click
    # is) inside a faint enhancing ring (+10-15 HU). By value the core came out alone (9.4 mm
    # for 17.3, flagged as a possible core); the ring, confirmed on the slices next to it,
    # closes around the core and its outer edge is the expert's border: 19.5 mm, in-plane
    # Dice 0.92 and 0.86 on the two slices where the rim is confirmed (the ring is not carried
    # further: the rim fades into the slabs' partial volume there).
    v = variant(ircadb, thickness_mm=2.5)
    t = next(t for t in v.experts if t.name == "livertumor04")
    r = measure_lesion(v.volume, LesionPrompt(seed=(64, 239, 198)), phase="portal-venous")
    assert abs(r.whole.length_mm - t.diameter_mm) <= tolerance_mm(t.diameter_mm), (
        r.whole.length_mm,
        t.diameter_mm,
    )
    assert any("enhancing rim" in f for f in r.flags), r.flags
    assert any("lies inside a brighter rim" in f for f in r.flags), r.flags
    dice = _slice_dice(r, v.masks[3])
    assert dice and min(dice) >= 0.8, dice
