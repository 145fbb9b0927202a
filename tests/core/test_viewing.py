"""GUI-free display logic: PACS slice numbers, window presets and drags, ROI statistics, and the
slice a study opens at (analytic cases and the real HCC_006 / IRCADb series)."""

from __future__ import annotations

import math
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest

from lesion_tool.io import load_series
from lesion_tool.io.slices import SeriesDisplayInfo, series_display_info
from lesion_tool.io.volume import CTVolume
from lesion_tool.viewing import (
    DEFAULT_WINDOW,
    PRESETS,
    Window,
    drag_window,
    find_liver_slice,
    roi_mask,
    roi_stats,
    series_window,
)

HCC_006 = "hcc-tace-seg/HCC_006/08-06-1999-NA-ABDPEL LIVER-65146/103.000000-LIVER 3 PHASE AP-45033"
IRCADB = "ircadb/3Dircadb1.1"


def _load(path: Path) -> CTVolume:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_series(path)


@pytest.fixture(scope="module")
def hcc_006(shared_data: Path) -> CTVolume:
    return _load(shared_data / HCC_006)


# ------------------------------------------------------------------------- slice numbers
def test_hcc_006_slice_numbers_are_the_headers_instance_numbers(hcc_006: CTVolume) -> None:
    info = series_display_info(hcc_006)
    assert info.n_slices == hcc_006.shape[0] == 109
    for k, path in enumerate(hcc_006.metadata["files"]):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        assert info.numbers(k) == (int(ds.SeriesNumber), int(ds.InstanceNumber))
    # the example: slider (array) index 72 is the image PACS calls Se 103 / Im 37
    assert info.label(72) == "Se 103 · Im 37"
    assert info.window == (40.0, 400.0)
    assert info.title() == "HCC_006 · 1999-08-06 · Se 103 LIVER 3 PHASE (AP)"
    with pytest.raises(IndexError):
        info.numbers(109)


def test_multiframe_slices_name_their_frame(shared_data: Path) -> None:
    volume = _load(shared_data / "sr-seg/pydicom-data/eCT_Supplemental.dcm")
    info = series_display_info(volume)
    frames = {info.label(k) for k in range(volume.shape[0])}
    assert frames == {"Se 3 · Im 1 · Fr 1", "Se 3 · Im 1 · Fr 2"}
    assert info.window == (49.0, 102.0)  # from the functional groups, not the top level


def test_volume_without_files_is_named_by_position(make_volume_2) -> None:
    info = series_display_info(make_volume_2)
    assert info.label(0) == "slice 1 / 4"
    assert info.window is None
    manual = SeriesDisplayInfo("P", None, 7, "ART", (5, 6, 7, 8))
    assert manual.label(2) == "Se 7 · Im 7"
    assert manual.title() == "P · no date · Se 7 ART"


def test_a_file_gone_since_loading_leaves_its_slice_unnumbered(hcc_006: CTVolume, tmp_path) -> None:
    files = list(hcc_006.metadata["files"])
    files[3] = str(tmp_path / "gone.dcm")
    volume = CTVolume(
        hcc_006.array,
        hcc_006.spacing_mm,
        hcc_006.origin_mm,
        hcc_006.direction,
        metadata={**hcc_006.metadata, "files": files},
    )
    info = series_display_info(volume)
    assert info.label(3) == "slice 4 / 109"
    assert info.label(4) == "Se 103 · Im 105"


@pytest.fixture
def make_volume_2() -> CTVolume:
    return CTVolume(np.zeros((4, 8, 8), np.int16), (2.5, 1.0, 1.0), (0.0, 0.0, 0.0))


# ------------------------------------------------------------------------------ windows
def test_window_limits_round_trip_and_presets() -> None:
    assert Window(40, 400).limits == (-160.0, 240.0)
    assert Window.from_limits(-160, 240) == Window(40.0, 400.0)
    assert DEFAULT_WINDOW == "abdomen"
    # a 105 HU enhanced liver must sit mid-grey in the default and the liver window
    for name in ("abdomen", "liver"):
        low, high = PRESETS[name].limits
        assert 0.4 < (105 - low) / (high - low) < 0.7
    assert Window(40, 400).label() == "W 400 L 40"


def test_drag_right_widens_and_down_raises_level() -> None:
    start = Window(40, 400)
    assert drag_window(start, 50, 0) == Window(40, 500)
    assert drag_window(start, 0, -20) == Window(0, 400)
    assert drag_window(start, -1000, 0).width == 1.0  # never below 1 HU


def test_series_window_ignores_zero_width() -> None:
    assert series_window(40, 400) == Window(40, 400)
    assert series_window(0, 0) is None  # IRCADb stores 0 / 0
    assert series_window(None, 400) is None


# ---------------------------------------------------------------------------------- ROI
def test_rectangle_roi_counts_pixel_centres_and_its_stats() -> None:
    image = np.arange(100, dtype=float).reshape(10, 10)
    corners = [(1.5, 2.5), (1.5, 5.5), (4.5, 5.5), (4.5, 2.5)]  # rows 2-4, columns 3-5
    mask = roi_mask(image.shape, corners, "rectangle")
    assert mask.sum() == 9 and mask[2:5, 3:6].all()
    stats = roi_stats(image, mask, pixel_area_mm2=0.5)
    assert stats.mean == pytest.approx(34.0)  # centre pixel of a linear ramp
    assert (stats.minimum, stats.maximum) == (23.0, 45.0)
    values = image[2:5, 3:6]
    assert stats.sd == pytest.approx(values.std())
    assert stats.area_mm2 == pytest.approx(4.5)
    assert "mean 34.0 HU" in stats.label()


def test_ellipse_roi_area_and_two_valued_sd() -> None:
    shape = (400, 400)
    r_row, r_col = 60.0, 120.0
    centre = (200.0, 200.0)
    corners = [
        (centre[0] - r_row, centre[1] - r_col),
        (centre[0] - r_row, centre[1] + r_col),
        (centre[0] + r_row, centre[1] + r_col),
        (centre[0] + r_row, centre[1] - r_col),
    ]
    mask = roi_mask(shape, corners, "ellipse")
    assert mask.sum() == pytest.approx(math.pi * r_row * r_col, rel=0.01)
    # left half 0 HU, right half 100 HU, split through the centre column: mean 50, SD 50
    image = np.where(np.arange(400)[None, :] < 200, 0.0, 100.0) * np.ones(shape)
    image[:, 200] = 50.0
    stats = roi_stats(image, mask, 1.0)
    assert stats.mean == pytest.approx(50.0, abs=0.01)
    assert stats.sd == pytest.approx(50.0, abs=0.5)


def test_rotated_ellipse_is_the_same_set_as_axis_aligned() -> None:
    # a circle of radius 20.5 (no pixel centre on it) given by a box rotated by 45 degrees
    c, r = np.array([50.0, 50.0]), 20.5
    u, v = np.array([1, 1]) / np.sqrt(2) * r, np.array([1, -1]) / np.sqrt(2) * r
    corners = [c - u - v, c - u + v, c + u + v, c + u - v]
    rows, cols = np.indices((100, 100))
    expected = (rows - 50) ** 2 + (cols - 50) ** 2 <= r**2
    assert np.array_equal(roi_mask((100, 100), corners, "ellipse"), expected)


def test_roi_errors_are_explicit() -> None:
    with pytest.raises(ValueError, match="kind"):
        roi_mask((4, 4), np.zeros((4, 2)), "polygon")
    with pytest.raises(ValueError, match="no area"):
        roi_mask((4, 4), np.zeros((4, 2)), "ellipse")
    far = [(50, 50), (50, 52), (52, 52), (52, 50)]
    with pytest.raises(ValueError, match="no pixel"):
        roi_stats(np.zeros((4, 4)), roi_mask((4, 4), far, "rectangle"), 1.0)


# --------------------------------------------------------------------- slice to open at
def test_hcc_006_opens_at_the_liver(hcc_006: CTVolume) -> None:
    chosen = find_liver_slice(hcc_006)
    # HCC_006 has no liver mask here: its readers measured the nodule on Im 37 (index 72)
    # and the liver spans the upper half of this abdomen-pelvis scan (index 0 is caudal)
    info = series_display_info(hcc_006)
    assert abs(chosen.index - 72) <= 8, info.label(chosen.index)
    assert chosen.area_mm2 > 10000


def test_ircadb_opens_inside_the_expert_liver_near_its_largest_slice(shared_data: Path) -> None:
    ct = _load(shared_data / IRCADB / "PATIENT_DICOM")
    mask_files = sorted((shared_data / IRCADB / "MASKS_DICOM" / "liver").iterdir())
    # pair mask slices with the CT by ImagePositionPatient (the masks have their own UIDs)
    z_of_index = {
        round(float(pydicom.dcmread(p, stop_before_pixels=True).ImagePositionPatient[2]), 2): k
        for k, p in enumerate(ct.metadata["files"])
    }
    area = np.zeros(ct.shape[0])
    for path in mask_files:
        ds = pydicom.dcmread(path)
        k = z_of_index[round(float(ds.ImagePositionPatient[2]), 2)]
        area[k] = (ds.pixel_array > 0).sum()
    inside = np.nonzero(area)[0]
    chosen = find_liver_slice(ct)
    assert inside[0] <= chosen.index <= inside[-1]
    assert area[chosen.index] >= 0.9 * area.max()


def test_non_axial_or_empty_volume_falls_back_to_the_middle() -> None:
    empty = CTVolume(np.full((9, 32, 32), -1000, np.int16), (2.5, 1.0, 1.0), (0.0, 0.0, 0.0))
    assert find_liver_slice(empty).index == 4
    sagittal = CTVolume(
        np.zeros((9, 32, 32), np.int16), (2.5, 1.0, 1.0), (0.0, 0.0, 0.0), direction=np.eye(3)
    )
    assert "not an axial" in find_liver_slice(sagittal).reason


def test_synthetic_liver_on_the_patients_right_is_found() -> None:
    # body disc of fat (-100 HU) with a 100 HU "liver" disc on the patient's right (low L,
    # i.e. low column with the default direction) on slices 10-14 only, largest on 12
    shape = (20, 120, 120)
    array = np.full(shape, -1000, np.int16)
    rows, cols = np.indices(shape[1:])
    array[:, (rows - 60) ** 2 + (cols - 60) ** 2 < 55**2] = -100
    for k, radius in zip(range(10, 15), (10, 18, 25, 18, 10), strict=True):
        array[k][(rows - 60) ** 2 + (cols - 35) ** 2 < radius**2] = 100
    # a bigger soft-tissue disc on the patient's left must not win
    array[3][(rows - 60) ** 2 + (cols - 85) ** 2 < 22**2] = 100
    volume = CTVolume(array, (2.5, 1.0, 1.0), (0.0, 0.0, 0.0))
    assert find_liver_slice(volume).index == 12


def test_viewing_core_imports_no_gui() -> None:
    code = (
        "import sys, lesion_tool.viewing, lesion_tool.io.slices;"
        "bad = [m for m in sys.modules if m.split('.')[0] in {'napari', 'qtpy', 'PyQt5', "
        "'PySide2', 'PyQt6', 'PySide6', 'vispy'}];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
