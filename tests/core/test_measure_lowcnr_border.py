"""A diameter whose ends lie in a band within the noise of the threshold is flagged with its
uncertainty (lowcnr_border.py, issue 11, w18-line06): an analytic disk beside a band of tissue
neither lesion nor liver, and IRCADb 06 (10 mm, beside the lung base) with 25 HU of noise,
against its expert mask."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from _ircadb import variant
from scipy import ndimage

from lesion_tool.io.volume import CTVolume
from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement.evaluation import tolerance_mm
from lesion_tool.measurement.lowcnr_border import (
    UNCERTAIN_FLAG,
    UNCERTAIN_SHARE,
    border_uncertainty_mm,
)

SP = 0.5  # mm per pixel in-plane
LIVER, LESION = 110.0, 80.0


def _disk(band_hu: float | None) -> CTVolume:
    """A 10 mm disk of LESION HU in LIVER HU (blurred as a scanner does), with, when
    ``band_hu`` is given, a ring of that value around it out to 13 mm from its centre."""
    n = 121
    yy, xx = np.mgrid[:n, :n]
    c = n // 2
    r = np.hypot(yy - c, xx - c) * SP
    img = np.full((n, n), LIVER)
    if band_hu is not None:
        img[r <= 13.0] = band_hu
    img[r <= 5.0] = LESION
    img = ndimage.gaussian_filter(img, 0.7 / SP)
    arr = np.stack([img] * 3).astype(np.float32)
    return CTVolume(arr, (1.6, SP, SP), (0.0, 0.0, 0.0))


def _result(end_mm: float, noise: float = 3.0) -> SimpleNamespace:
    """A result on the disk's middle slice, its diameter from ``end_mm`` left of the centre to
    ``end_mm`` right of it, at the half-way threshold and a smoothed noise of ``noise``."""
    c = 60.0
    whole = SimpleNamespace(
        slice_index=1,
        start_voxel=(1.0, c, c - end_mm / SP),
        end_voxel=(1.0, c, c + end_mm / SP),
        length_mm=2.0 * end_mm,
    )
    ev = SimpleNamespace(texture_sd_hu=None, noise_sd_hu=noise, threshold_hu=(LIVER + LESION) / 2.0)
    return SimpleNamespace(whole=whole, evidence=ev)


def test_a_sharp_border_is_placed_within_the_blur() -> None:
    vol = _disk(None)
    u = border_uncertainty_mm(vol, _result(5.0))
    assert u is not None
    # A step blurred by 1.2 mm (scanner and smoothing) crosses +-3 HU of the half-way value
    # within about 0.4 mm: each end is known to well under a millimetre.
    assert max(u) < 0.5
    assert sum(u) <= UNCERTAIN_SHARE * 10.0


def test_ends_in_a_band_within_the_noise_are_uncertain() -> None:
    # Around the disk the tissue reads 94 HU out to 13 mm (threshold 95, noise 3): an end
    # placed in that band could lie anywhere along it, and so could one at the disk's step into
    # it (the threshold does not tell them apart). A diameter of 16 mm for the disk's 10 is
    # flagged: its ends may each be 2.5 mm or more from the border.
    vol = _disk(94.0)
    for end in (5.0, 8.0):
        u = border_uncertainty_mm(vol, _result(end))
        assert u is not None
        assert min(u) >= 2.5
    assert sum(border_uncertainty_mm(vol, _result(8.0))) > UNCERTAIN_SHARE * 16.0
    # Without the band, the same 16 mm diameter's ends lie in the liver, far past the step: no
    # band is beside them (the over-long result is then the outline's, not the border's doubt).
    assert border_uncertainty_mm(_disk(None), _result(8.0)) == (0.0, 0.0)


def test_texture_results_are_not_judged() -> None:
    m = _result(5.0)
    m.evidence.texture_sd_hu = (20.0, 10.0)
    assert border_uncertainty_mm(_disk(None), m) is None


# IRCADb 06 (10.0 mm, slices 107-111, 1-2 mm from the lung base) with 25 HU of noise, seed 3:
# its rough line measured 13.8 mm, unflagged (Dice 0.73) - the only unflagged result more than
# 30 % off on that seed. Both ends of its diameter lie in a band of 88-98 HU (threshold 97,
# smoothed noise 7.8 HU) running 5-6 mm past them: the liver between the lesion and the lung,
# averaged with the lung through the slice. The ends of the within results beside it (02, 03,
# 07, 29.4 / 23.2 / 21.4 mm) leave the band within the blur.
LINE_06 = (
    (109.0, 174.0968741147625, 95.40029030527387),
    (109.0, 166.96279136672425, 115.3293372055049),
)


@pytest.mark.realdata
def test_06_on_noise_its_line_over_30_percent_is_flagged_uncertain(ircadb) -> None:
    v = variant(ircadb, noise_sd_hu=25.0, seed=3)
    t06 = v.experts[5]
    assert t06.name.endswith("06") and np.isclose(t06.diameter_mm, 10.0, atol=0.3)
    m = measure_lesion(v.volume, LesionPrompt(line=LINE_06), phase="portal-venous")
    err = abs(m.whole.length_mm - t06.diameter_mm)
    uncertain = [f for f in m.flags if UNCERTAIN_FLAG in f]
    if err > 0.3 * t06.diameter_mm:
        # Never more than 30 % off without a flag; here the flag says by how much it may be.
        assert uncertain, (m.whole.length_mm, m.flags)
    else:
        assert err <= tolerance_mm(t06.diameter_mm)
    # The within results of the same image, from their deepest points, are not flagged so.
    for i in (1, 2, 6):
        t = v.experts[i]
        r = measure_lesion(v.volume, LesionPrompt(seed=t.deepest), phase="portal-venous")
        assert abs(r.whole.length_mm - t.diameter_mm) <= tolerance_mm(t.diameter_mm)
        assert not any(UNCERTAIN_FLAG in f for f in r.flags), (t.name, r.flags)
