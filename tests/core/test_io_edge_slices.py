"""Issue 12: the neighbour-slice corruption check on a series' first and last slices.

An edge slice has one neighbour only. The check used to compare it with that neighbour against
the next pair's disagreement, so a patient who moved a millimetre or two between the last two
slices, or a synthetic follow-up whose moved body left air padding in its first slice, was named
as a corrupted image. Now an edge slice may match its neighbour shifted by a few pixels, block by
block, and is measured against the larger of the next two pairs' disagreements; corrupted values
(random, a constant, -1024 where the body is) match no shift and are still named.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from scipy import ndimage

from lesion_tool.errors import PixelDataWarning
from lesion_tool.io import load_series
from lesion_tool.io.plausibility import EDGE_SHIFT_PX, find_inconsistent_slices

HCC_006 = "hcc-tace-seg/HCC_006/08-06-1999-NA-ABDPEL LIVER-65146/103.000000-LIVER 3 PHASE AP-45033"


@pytest.fixture(scope="module")
def moved_patient(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The follow-up that was named as corrupted: bench_propagate's first patient."""
    from lesion_tool.synth import generate_patient

    return generate_patient(
        tmp_path_factory.mktemp("moved"),
        patient_id="B00",
        seed=1000,
        shape=(48, 160, 160),
        n_timepoints=2,
        phases=("arterial",),
        visit_motion=True,
        write_masks=True,
    )


@pytest.fixture(scope="module")
def hcc006(shared_data: Path) -> np.ndarray:
    return load_series(shared_data / HCC_006).array.astype(np.float32)


def test_a_moved_synthetic_follow_up_loads_without_a_corruption_warning(moved_patient) -> None:
    for label in ("baseline", "fu1"):
        with warnings.catch_warnings():
            warnings.simplefilter("error", PixelDataWarning)
            volume = load_series(moved_patient / label / "arterial")
        assert volume.metadata["suspect_slices"] == [], label


def test_a_moved_follow_up_has_body_not_air_padding_in_its_edge_slices(moved_patient) -> None:
    # The rolled, shifted, breathing body used to leave air (the warp's fill) where the body
    # continues beyond the slab: ~10 % of the first slice was air against ~6 % (outside the
    # body) at baseline. The scene is now rendered beyond the slab, so every slice of the
    # follow-up has the baseline's amount of air within a few tenths of a percent.
    base = load_series(moved_patient / "baseline" / "arterial").array
    fu = load_series(moved_patient / "fu1" / "arterial").array
    air_base = (base < -900).mean(axis=(1, 2))
    air_fu = (fu < -900).mean(axis=(1, 2))
    assert np.abs(air_fu - np.median(air_base)).max() < 0.015, air_fu[[0, 1, -2, -1]]


def test_moved_follow_up_masks_match_the_lesions_in_its_pixels(moved_patient) -> None:
    # The truth stays exact: the masks are warped from the same grown-scene rendering as the
    # image, so the lesion voxels of the mask are where the image shows lesion attenuation.
    truth = json.loads((moved_patient / "truth.json").read_text())
    fu_truth = truth["timepoints"][1]
    mask = sitk.GetArrayFromImage(sitk.ReadImage(str(moved_patient / fu_truth["masks"]["lesions"])))
    image = load_series(moved_patient / "fu1" / "arterial").array
    for lesion in fu_truth["lesions"]:
        inside = ndimage.binary_erosion(mask == lesion["mask_label"], iterations=1)
        assert inside.sum() > 20, lesion["id"]
        centre = tuple(np.round(lesion["centre_voxel"]).astype(int))
        assert mask[centre] == lesion["mask_label"]
        # arterial viable tumour ~145 HU, necrosis ~22 HU, liver ~75 HU: the lesion's interior
        # differs from the surrounding liver ring by tens of HU on average
        ring = ndimage.binary_dilation(mask == lesion["mask_label"], iterations=3) & (mask == 0)
        assert abs(float(image[inside].mean()) - float(image[ring].mean())) > 15, lesion["id"]


@pytest.mark.parametrize("shift_px", [2, 3, 4])
@pytest.mark.parametrize("edge", ["first", "last"])
def test_real_edge_slice_moved_a_few_pixels_is_not_named(
    hcc006: np.ndarray, shift_px: int, edge: str
) -> None:
    """HCC_006 (512 x 512, 0.7 mm pixels): its edge slice moved 1.4-2.8 mm in-plane, as a
    patient's motion between the last two slices does. Named before in 25-26 of 26 windows."""
    flagged = []
    for k in range(0, hcc006.shape[0] - 8, 10):
        window = hcc006[k : k + 8].copy()
        i = 0 if edge == "first" else -1
        window[i] = ndimage.shift(window[i], (shift_px, -shift_px / 2), order=1, mode="nearest")
        index = 0 if edge == "first" else window.shape[0] - 1
        if any(s.index == index for s in find_inconsistent_slices(window)):
            flagged.append(k)
    assert flagged == []


def _corrupt(slice_: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    out = slice_.copy()
    ny, nx = out.shape
    box = (slice(ny // 5, ny // 5 + ny * 5 // 8), slice(nx // 5, nx // 5 + nx * 5 // 8))
    small = (slice(ny // 3, ny // 3 + ny // 3), slice(nx // 3, nx // 3 + nx // 3))
    if kind == "random values over 40 %":
        out[box] = rng.uniform(-1000, 2000, out[box].shape)
    elif kind == "random values over 11 %":
        out[small] = rng.uniform(-1000, 2000, out[small].shape)
    elif kind == "-1024 over 40 %":
        out[box] = -1024
    elif kind == "-1024 over 11 %":
        out[small] = -1024
    elif kind == "the whole slice -1024":
        out[:] = -1024
    elif kind == "the whole slice 0":
        out[:] = 0
    elif kind == "+300 HU over 30 %":
        out[box] += 300
    elif kind == "lower half shifted a third of the width":
        out[ny // 2 :] = np.roll(out[ny // 2 :], nx // 3, axis=1)
    return out


CORRUPTIONS = [
    "random values over 40 %",
    "random values over 11 %",
    "-1024 over 40 %",
    "-1024 over 11 %",
    "the whole slice -1024",
    "the whole slice 0",
    "+300 HU over 30 %",
    "lower half shifted a third of the width",
]


@pytest.mark.parametrize("kind", CORRUPTIONS)
def test_a_corrupted_edge_slice_is_still_named(hcc006: np.ndarray, kind: str) -> None:
    rng = np.random.default_rng(0)
    n = hcc006.shape[0]
    for index in (0, 1, n // 2, n - 2, n - 1):
        volume = hcc006.copy()
        volume[index] = _corrupt(volume[index], kind, rng)
        found = [s.index for s in find_inconsistent_slices(volume)]
        assert found == [index] or (index in found and len(found) <= 3), (index, found)


@pytest.mark.parametrize("kind", CORRUPTIONS)
def test_a_corrupted_edge_slice_of_a_moved_follow_up_is_named(moved_patient, kind: str) -> None:
    volume = load_series(moved_patient / "fu1" / "arterial").array.astype(np.float32)
    rng = np.random.default_rng(1)
    for index in (0, volume.shape[0] - 1):
        bad = volume.copy()
        bad[index] = _corrupt(bad[index], kind, rng)
        assert index in [s.index for s in find_inconsistent_slices(bad)], index


def test_the_shift_allowed_is_a_few_pixels_only(hcc006: np.ndarray) -> None:
    # a slice from elsewhere in the series (a wrong file in a copy) does not match by any
    # small shift and is named at the edge as in the middle
    window = hcc006[40:48].copy()
    window[0] = hcc006[90]
    assert 0 in [s.index for s in find_inconsistent_slices(window)]
    assert EDGE_SHIFT_PX <= 3
