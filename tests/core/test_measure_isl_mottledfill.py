"""A large mottled enhancing lesion's final region cast again across the liver-valued islets it
encloses (:mod:`lesion_tool.measurement.isl_mottledfill`; issue 11, w28-islets).

IRCADb 01 (79.8 mm) made hyper-enhancing on 2.5 mm slabs with 30 HU of noise encloses islets at
the liver's value; its rays stopped at them and random clicks came back short (seed 9: 68.1 mm,
seed 7: 71.7 mm, both outside max(3 mm, 10 %)). The other tumours (< 40 mm), other phases and a
lesion without islets are never touched.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from _ircadb import variant
from scipy import ndimage

import lesion_tool.measurement.isl_mottledfill as isl
from lesion_tool.io.volume import CTVolume
from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement.enclosed import enclosed_patches
from lesion_tool.measurement.evaluation import _dice, tolerance_mm

SP = (2.5, 0.6, 0.6)


def _volume(islets: bool, radius_mm: float) -> CTVolume:
    """A 180 HU cylinder of ``radius_mm`` on slices 2-8 of a 110 HU liver (8 HU of noise), with
    ``islets``: 3 mm liver-valued disks on two rings inside it."""
    n = 320
    y, x = np.mgrid[:n, :n]
    r = np.hypot(y - 160.0, x - 160.0) * SP[1]
    plane = np.full((n, n), 110.0)
    plane[r <= radius_mm] = 180.0
    if islets:
        for ring, count in ((0.45, 8), (0.75, 12)):
            for k in range(count):
                a = 2.0 * np.pi * k / count
                cy = 160.0 + ring * radius_mm * np.sin(a) / SP[1]
                cx = 160.0 + ring * radius_mm * np.cos(a) / SP[2]
                plane[np.hypot(y - cy, x - cx) * SP[1] <= 1.5] = 112.0
    vol = np.full((11, n, n), 110.0)
    vol[2:9] = plane
    vol += np.random.default_rng(0).normal(0.0, 8.0, vol.shape)
    return CTVolume(vol.astype(np.float32), SP, (0.0, 0.0, 0.0))


def _stub(length_mm: float, contrast_hu: float = 60.0, texture: bool = False) -> SimpleNamespace:
    ev = SimpleNamespace(
        texture_sd_hu=(9.0, 4.0) if texture else None,
        contrast_hu=contrast_hu,
        liver_hu=110.0,
        lesion_hu=110.0 + contrast_hu,
        noise_sd_hu=4.0,
    )
    return SimpleNamespace(evidence=ev, whole=SimpleNamespace(length_mm=length_mm))


def test_only_a_large_enhancing_result_by_value_on_an_arterial_image_is_read() -> None:
    # Returned as given before the image is read: a portal-venous image, a dark lesion, a
    # result by texture, one shorter than MIN_LENGTH_MM (IRCADb's tumours but 01).
    vol = SimpleNamespace(spacing_mm=SP)
    p = LesionPrompt(seed=(5, 160, 160))
    for m, ph in (
        (_stub(60.0), "portal-venous"),
        (_stub(60.0, contrast_hu=-40.0), "arterial"),
        (_stub(60.0, texture=True), "arterial"),
        (_stub(isl.MIN_LENGTH_MM - 0.1), "arterial"),
    ):
        assert isl.fill_islets(vol, m, p, ph) is m  # type: ignore[arg-type]


@pytest.mark.parametrize("islets", [False, True], ids=["plain", "mottled"])
def test_a_lesion_measured_whole_is_left_as_it_is(islets: bool, monkeypatch) -> None:
    # A 50 mm enhancing lesion whose region is already whole (no islet stops its rays, or they
    # are few and small): the recast adds nothing, the result is the very same object.
    vol = _volume(islets, 25.0)
    p = LesionPrompt(seed=(5, 160, 160))
    m = measure_lesion(vol, p, phase="arterial")
    assert abs(m.whole.length_mm - 50.0) <= 3.0, m.whole.length_mm
    monkeypatch.setattr(isl, "ENABLED", False)
    off = measure_lesion(vol, p, phase="arterial")
    assert m.whole.length_mm == off.whole.length_mm
    assert (m.mask == off.mask).all() and m.flags == off.flags


# Random clicks on 01 on "hyper 2.5 mm 30 HU" (bench_stress.py): seed, click, before (mm).
CLICKS_01 = {9: ((47, 154, 173), 68.1), 7: ((49, 143, 179), 71.7)}


@pytest.mark.realdata
@pytest.mark.parametrize("seed", sorted(CLICKS_01), ids=lambda s: f"seed{s}")
def test_ircadb_01_click_crosses_its_islets(ircadb, monkeypatch, seed: int) -> None:
    v = variant(ircadb, enhance="hyper", thickness_mm=2.5, noise_sd_hu=30.0, seed=seed)
    t01 = next(t for t in v.experts if t.name == "livertumor01")
    click, before = CLICKS_01[seed]
    prompt = LesionPrompt(seed=click)
    tol = tolerance_mm(t01.diameter_mm)
    got = measure_lesion(v.volume, prompt, phase="arterial")
    assert abs(got.whole.length_mm - t01.diameter_mm) <= tol, got.whole.length_mm
    monkeypatch.setattr(isl, "ENABLED", False)
    off = measure_lesion(v.volume, prompt, phase="arterial")
    assert abs(off.whole.length_mm - before) <= 0.5, off.whole.length_mm
    assert off.whole.length_mm < t01.diameter_mm - tol
    # The added tissue is 01's: Dice against the expert's mask rises, nothing is flagged anew.
    assert _dice(got.mask, got.offset, t01.mask) > _dice(off.mask, off.offset, t01.mask)
    assert got.flags == off.flags


@pytest.mark.realdata
def test_ircadb_01_rays_window_as_narrow_as_the_rays_need(ircadb, monkeypatch) -> None:
    # The rays' window holds every ray's samples and their margins: the recast is the same,
    # voxel for voxel, as in the window REACH times the result's box wide it was cast in before
    # (seed 9's click, 68.1 -> 74.4 mm), and the window is narrower than that.
    v = variant(ircadb, enhance="hyper", thickness_mm=2.5, noise_sd_hu=30.0, seed=9)
    prompt = LesionPrompt(seed=CLICKS_01[9][0])
    got = measure_lesion(v.volume, prompt, phase="arterial")
    sy, sx = v.volume.spacing_mm[1:]
    ny, nx = got.mask.shape[1:]
    wide = isl.REACH * max(ny * sy, nx * sx) + 10.0  # + SHELL_MM[1] and 3 smoothing sigmas
    centre = (got.offset[1] + ny // 2, got.offset[2] + nx // 2)
    assert isl._rays_radius_mm(got, centre, sy, sx) < 0.8 * wide  # 71.7 mm for 96.2
    monkeypatch.setattr(isl, "_rays_radius_mm", lambda *a: np.inf)  # the REACH-wide window
    before = measure_lesion(v.volume, prompt, phase="arterial")
    assert before.whole.length_mm == got.whole.length_mm
    assert before.offset == got.offset and (before.mask == got.mask).all()


def test_maps_read_round_the_body_are_the_windows_own() -> None:
    # The body and its islets read round the body's box are those read over the whole window,
    # with a bright vessel running off to the window's edge and fat beside one islet.
    vol = _volume(True, 25.0)
    plane = np.array(vol.array[5], dtype=float)
    plane[150:170, 200:320] = 180.0  # a bright band from the lesion to the window's edge
    plane[140:146, 105:117] = -100.0  # fat beside the lesion
    plane[140:145, 122:127] = 112.0  # an islet within ENCLOSED_FAT_MM of it: not counted
    region = np.hypot(*np.mgrid[-160:160, -160:160]) * SP[1] <= 10.0
    lv = SimpleNamespace(threshold=145.0, ceiling=200.0)
    body, isles = isl._maps(plane, region, lv, SP[1:], -30.0)  # type: ignore[arg-type]
    side = (plane > 145.0) & (plane < 200.0)
    lab, _ = ndimage.label(side, structure=np.ones((3, 3), dtype=bool))
    ids = np.unique(lab[region & side])
    whole_body = np.isin(lab, ids[ids > 0])
    found = enclosed_patches(side, plane < -30.0, SP[1:])
    assert found is not None
    whole_isles = found & ndimage.binary_fill_holes(whole_body)
    assert (body == whole_body).all() and (isles == whole_isles).all()
    assert ndimage.label(isles)[1] >= 15  # the islets are there to compare
    assert not isles[140:145, 122:127].any() and body[150:170, 300:].all()
