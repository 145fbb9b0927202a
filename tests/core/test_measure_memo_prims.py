"""w18-speed: the faster paths of the ray casts give the old paths' results exactly (issue 11:
time per click, results unchanged; the slowest stress prompts before and after are timed by
benchmarks/bench_memo_slowest.py, whose workers also compare the results).

Each new path is compared with the code it replaced (or the library call that code was) on
awkward inputs: polygons whose vertices and crossings fall on pixel centres, tiny and huge
boxes; masks one pixel wide or empty; fat patches at exactly the distance bound; disks centred
off the plane. The specks of a patchy hypo-attenuating lesion are found once per plane and
levels within a prompt, with the same result as without the prompt's memo."""

from __future__ import annotations

import math
from contextlib import nullcontext

import numpy as np
import pytest
from scipy import ndimage
from skimage.draw import polygon2mask

from lesion_tool.io.volume import CTVolume
from lesion_tool.measurement import LesionPrompt, measure_lesion, raster
from lesion_tool.measurement import segment as sg
from lesion_tool.measurement.enclosed import ENCLOSED_FAT_MM, ENCLOSED_MAX_MM2, enclosed_patches
from lesion_tool.measurement.evaluation import tolerance_mm


def _outlines(rng: np.random.Generator, n: int):
    """Ray-fan outlines like segment._outline's, and worse: vertices on pixel centres and half
    pixels, crossings a hair from a pixel centre, centres off the box, 3-vertex fans."""
    for k in range(n):
        shape = (int(rng.integers(3, 160)), int(rng.integers(3, 160)))
        rays = int(rng.choice([3, 4, 7, 72, 72]))
        cy, cx = rng.uniform(-10, shape[0] + 10), rng.uniform(-10, shape[1] + 10)
        radii = rng.uniform(0.0, 50.0, rays) * rng.uniform(0.2, 1.0)
        ang = np.arange(rays) * (2.0 * math.pi / rays)
        sy, sx = rng.choice([0.57, 0.7, 0.78, 1.0]), rng.choice([0.57, 0.7, 0.78, 1.0])
        out = np.column_stack([cy + np.sin(ang) * radii / sy, cx + np.cos(ang) * radii / sx])
        if k % 5 == 0:
            out = np.round(out)
        elif k % 5 == 1:
            out = np.round(out * 2.0) / 2.0
        elif k % 5 == 2:
            out = np.round(out) + rng.choice([0.0, 1e-12, -1e-12, 1e-7, 9e-4, 1.1e-3], out.shape)
        yield shape, out


def test_crossings_by_row_are_the_per_pixel_test() -> None:
    """The per-row count gives every pixel's crossing test (w17's per-pixel code, itself
    scikit-image's polygon2mask), small boxes included (which polygon_mask tests per pixel)."""
    rng = np.random.default_rng(181)
    for k, (shape, out) in enumerate(_outlines(rng, 1500)):
        yp, xp = np.ascontiguousarray(out[:, 0]), np.ascontiguousarray(out[:, 1])
        minr, maxr = int(max(0, yp.min())), min(shape[0] - 1, math.ceil(yp.max()))
        minc, maxc = int(max(0, xp.min())), min(shape[1] - 1, math.ceil(xp.max()))
        if maxr < minr or maxc < minc:
            continue
        by_row = raster._crossings_by_row(yp, xp, minr, maxr, minc, maxc)
        per_pixel = raster._crossings_per_pixel(yp, xp, minr, maxr, minc, maxc)
        assert np.array_equal(by_row, per_pixel), k
        assert np.array_equal(raster.polygon_mask(shape, out), polygon2mask(shape, out)), k


def test_row_windows_are_the_1d_filters() -> None:
    """Windows built a pixel at a time are scipy's maximum / minimum filters (constant 0)."""
    rng = np.random.default_rng(182)
    shapes = [(1, 1), (1, 7), (7, 1), (2, 2), (40, 3), (60, 90), (120, 130)]
    for k in range(60):
        shape = shapes[k % len(shapes)]
        m = rng.random(shape) < rng.uniform(0.05, 0.95)
        if k % 3 == 0:
            m = ndimage.gaussian_filter(rng.normal(size=shape), 2) > 0
        widths = {int(w) for w in rng.integers(0, 25, int(rng.integers(1, 8)))}
        for union in (True, False):
            got = raster._row_windows(m, widths, union)
            f = ndimage.maximum_filter1d if union else ndimage.minimum_filter1d
            for w in widths:
                want = f(m.view(np.uint8), 2 * w + 1, axis=1, mode="constant", cval=0) > 0
                assert np.array_equal(got[w], want), (k, w, union)
    assert raster._row_windows(np.zeros((0, 5), bool), {3}, True)[3].shape == (0, 5)


@pytest.mark.parametrize("mm", [0.5, 1.5, 5.0, 10.0, math.nextafter(5.0, -math.inf)])
def test_within_beyond_open_still_the_distance_transform(mm: float) -> None:
    rng = np.random.default_rng(int(mm * 10))
    for k in range(20):
        shape = (int(rng.integers(5, 150)), int(rng.integers(5, 150)))
        m = ndimage.gaussian_filter(rng.normal(size=shape), 3) > rng.uniform(-0.3, 0.3)
        m[0, 0] = True
        sp = (0.57, 0.57) if k % 2 else (0.78, 0.62)
        assert np.array_equal(
            raster.within_mm(m, sp, mm), ndimage.distance_transform_edt(~m, sampling=sp) <= mm
        )
        assert np.array_equal(
            raster.beyond_mm(m, sp, mm), ndimage.distance_transform_edt(m, sampling=sp) > mm
        )
        disk = raster.disk_footprint([mm / sp[0], mm / sp[1]])
        assert np.array_equal(raster.open_by(m, disk), ndimage.binary_opening(m, structure=disk))


def _old_enclosed(side, never, sp):
    """enclosed_patches before w18-speed (the fat's reach by a distance transform)."""
    lab, n = ndimage.label(~side)
    if n == 0:
        return None
    area = np.bincount(lab.ravel(), minlength=n + 1) * float(sp[0] * sp[1])
    keep = area <= ENCLOSED_MAX_MM2
    keep[0] = False
    for edge in (lab[0], lab[-1], lab[:, 0], lab[:, -1]):
        keep[edge] = False
    if not keep.any():
        return None
    if never.any():
        near = ndimage.distance_transform_edt(~never, sampling=sp) < ENCLOSED_FAT_MM
        keep[np.unique(lab[near])] = False
    if not keep.any():
        return None
    return keep[lab]


def test_enclosed_patches_as_with_the_distance_transform() -> None:
    """Specks near fat are left out by raster's dilation as by the distance transform, a fat
    pixel at exactly ENCLOSED_FAT_MM (5.0 mm on 1 mm pixels: not nearer) included."""
    rng = np.random.default_rng(183)
    for k in range(120):
        shape = (int(rng.integers(20, 140)), int(rng.integers(20, 140)))
        sp = (1.0, 1.0) if k % 3 == 0 else (0.57, 0.57) if k % 3 == 1 else (0.7, 0.62)
        side = ndimage.gaussian_filter(rng.normal(size=shape), 1.5) < rng.uniform(0.0, 0.4)
        never = rng.random(shape) < rng.uniform(0.0, 0.003)
        if k % 4 == 0:
            never[:] = False
        got, want = enclosed_patches(side, never, sp), _old_enclosed(side, never, sp)
        assert (got is None) == (want is None), k
        if got is not None:
            assert np.array_equal(got, want), k
    # A 1-pixel speck in a lesion, fat exactly 5 pixels (5.0 mm) away, then 4 (4.0 mm).
    side = np.ones((30, 30), dtype=bool)
    side[15, 15] = False
    for gap, kept in ((5, True), (4, False)):
        never = np.zeros((30, 30), dtype=bool)
        never[15, 15 + gap] = True
        got = enclosed_patches(side & ~never, never, (1.0, 1.0))
        assert (got is not None and bool(got[15, 15])) is kept
        assert (_old_enclosed(side & ~never, never, (1.0, 1.0)) is not None) is kept


def test_disk_on_its_box_is_the_whole_plane_expression() -> None:
    rng = np.random.default_rng(184)
    for k in range(400):
        plane = np.zeros((int(rng.integers(1, 90)), int(rng.integers(1, 90))), np.float32)
        cy, cx = rng.uniform(-15, plane.shape[0] + 15), rng.uniform(-15, plane.shape[1] + 15)
        if k % 4 == 0:
            cy, cx = float(round(cy)), float(round(cx))
        r = float(rng.choice([0.0, 0.5, 1.0, 2.0, rng.uniform(0, 30)]))
        yy, xx = np.ogrid[: plane.shape[0], : plane.shape[1]]
        want = (yy - cy) ** 2 + (xx - cx) ** 2 <= max(r, 1.0) ** 2
        assert np.array_equal(sg._disk(plane, cy, cx, r), want), k


def _patchy_phantom() -> CTVolume:
    """A 21 mm hypo-attenuating sphere (60 HU in liver of 110) holding liver-valued specks."""
    rng = np.random.default_rng(185)
    arr = np.full((40, 64, 64), 110.0, dtype=np.float32)
    zz, yy, xx = np.ogrid[:40, :64, :64]
    r = np.sqrt(((zz - 20) * 1.0) ** 2 + ((yy - 32) * 0.7) ** 2 + ((xx - 32) * 0.7) ** 2)
    arr[r <= 10.5] = 60.0
    arr[18:23, 28:30, 30:32] = 110.0  # a liver-valued speck inside
    arr += rng.normal(0.0, 4.0, arr.shape).astype(np.float32)
    return CTVolume(arr, (1.0, 0.7, 0.7), (0.0, 0.0, 0.0), np.eye(3))


def test_specks_once_per_plane_and_levels_same_result(monkeypatch) -> None:
    vol = _patchy_phantom()
    prompt = LesionPrompt(seed=(20, 36, 36))
    calls = [0]
    fn = sg.enclosed_patches

    def counted(*a, **k):
        calls[0] += 1
        return fn(*a, **k)

    monkeypatch.setattr(sg, "enclosed_patches", counted)
    fast = measure_lesion(vol, prompt, phase="portal-venous")
    n_fast, calls[0] = calls[0], 0
    with monkeypatch.context() as m:
        m.setattr(sg, "one_prompt", lambda volume: nullcontext())  # nothing kept
        slow = measure_lesion(vol, prompt, phase="portal-venous")
    assert 0 < n_fast < calls[0]
    assert fast.whole == slow.whole and fast.offset == slow.offset
    assert np.array_equal(fast.mask, slow.mask)
    assert fast.flags == slow.flags and fast.evidence == slow.evidence
    assert fast.whole.length_mm == pytest.approx(21.0, abs=tolerance_mm(21.0))
