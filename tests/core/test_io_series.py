"""load_series: ordering, HU, geometry, and every check on small DICOM series written here."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from _dicom_factory import AXIAL, CORONAL, ramp, write_enhanced_ct, write_series
from pydicom.data import get_testdata_file
from pydicom.uid import JPEG2000Lossless, JPEGLSLossless, RLELossless

from lesion_tool.errors import GeometryError, HeaderWarning, SeriesError, StrayImagesWarning
from lesion_tool.io import load_series, scan_folders
from lesion_tool.io.headers import NotDicomError, parse_dicom_time, read_header
from lesion_tool.io.series import frames_of, stack_geometry


def test_slices_are_sorted_by_position_not_instance_number(tmp_path: Path) -> None:
    # InstanceNumber runs opposite to position and file names are shuffled.
    positions = [(-10.0, -20.0, -30.0 + 2.5 * k) for k in (3, 0, 4, 1, 2)]
    values = ramp(5, 12, 10)
    write_series(tmp_path, positions=positions, values=values, instance_numbers=[1, 5, 2, 4, 3])
    vol = load_series(tmp_path)
    assert vol.shape == (5, 12, 10)
    assert vol.spacing_mm == pytest.approx((2.5, 0.7, 0.8))
    assert vol.origin_mm == pytest.approx((-10.0, -20.0, -30.0))
    np.testing.assert_allclose(vol.direction, [[0, 0, 1], [0, 1, 0], [1, 0, 0]])
    # slice at array index k is the one written at z = -30 + 2.5 k
    order = np.argsort([p[2] for p in positions])
    expected = values[order].astype(np.int32) - 1024
    assert vol.array.dtype == np.int16
    np.testing.assert_array_equal(vol.array, expected)
    sops = [
        pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID for p in vol.metadata["files"]
    ]
    assert list(vol.sop_instance_uids) == sops
    assert vol.warnings == ()


def test_identity_fields_are_carried(tmp_path: Path) -> None:
    write_series(tmp_path, description="LIVER ART", patient_id="P9")
    vol = load_series(sorted(tmp_path.iterdir()))
    ds = pydicom.dcmread(next(tmp_path.iterdir()), stop_before_pixels=True)
    assert vol.series_instance_uid == ds.SeriesInstanceUID
    assert vol.study_instance_uid == ds.StudyInstanceUID
    assert vol.frame_of_reference_uid == ds.FrameOfReferenceUID
    assert vol.study_date is not None and vol.study_date.isoformat() == "2024-01-05"
    assert vol.patient_id == "P9"
    assert vol.series_description == "LIVER ART"
    assert vol.sop_class_uid == ds.SOPClassUID


def test_oblique_geometry_maps_every_slice_to_its_position(tmp_path: Path) -> None:
    a = np.radians(20)
    row = np.array([np.cos(a), np.sin(a), 0.0])
    col = np.array([0.0, 0.0, -1.0])  # rows run feet-wards: an oblique coronal-like plane
    paths = write_series(tmp_path, orientation=(*row, *col), n=4)
    vol = load_series(tmp_path)
    assert len(paths) == vol.shape[0] == 4
    np.testing.assert_allclose(vol.direction[:, 2], row, atol=1e-6)
    np.testing.assert_allclose(vol.direction[:, 1], col, atol=1e-6)
    for p in paths:
        ds = pydicom.dcmread(p, stop_before_pixels=True)
        k = vol.metadata["files"].index(str(p))
        position = [float(v) for v in ds.ImagePositionPatient]
        np.testing.assert_allclose(vol.index_to_patient([k, 0, 0]), position, atol=1e-4)
        # one column step moves along the row cosine by the column spacing
        step = vol.index_to_patient([k, 0, 1]) - vol.index_to_patient([k, 0, 0])
        np.testing.assert_allclose(step, row * 0.8, atol=1e-5)


def test_non_integer_rescale_gives_float32(tmp_path: Path) -> None:
    values = ramp(3, 6, 5)
    write_series(tmp_path, n=3, rows=6, cols=5, values=values, slope=0.5, intercept=-1000.25)
    vol = load_series(tmp_path)
    assert vol.array.dtype == np.float32
    np.testing.assert_allclose(vol.array, values * 0.5 - 1000.25)


def test_values_beyond_int16_switch_to_float32(tmp_path: Path) -> None:
    values = ramp(3, 6, 5)
    values[2, 0, 0] = 60000
    write_series(tmp_path, n=3, rows=6, cols=5, values=values)
    vol = load_series(tmp_path)
    assert vol.array.dtype == np.float32
    np.testing.assert_array_equal(vol.array, values.astype(np.float64) - 1024)


def test_signed_pixels(tmp_path: Path) -> None:
    values = (ramp(3, 6, 5).astype(np.int32) - 2000).astype(np.int16)
    write_series(tmp_path, n=3, rows=6, cols=5, values=values, intercept=0)
    np.testing.assert_array_equal(load_series(tmp_path).array, values)


def test_missing_slice_is_an_error(tmp_path: Path) -> None:
    positions = [(0.0, 0.0, 2.5 * k) for k in (0, 1, 2, 4, 5)]
    write_series(tmp_path, positions=positions, description="ART")
    with pytest.raises(GeometryError, match=r"ART.*1 slice\(s\) missing.*5\.000 mm"):
        load_series(tmp_path)


def test_duplicate_position_is_an_error(tmp_path: Path) -> None:
    positions = [(0.0, 0.0, 2.5 * k) for k in (0, 1, 2, 2, 3)]
    write_series(tmp_path, positions=positions)
    with pytest.raises(GeometryError, match="duplicate slice position"):
        load_series(tmp_path)


def test_same_sop_instance_twice_is_an_error(tmp_path: Path) -> None:
    paths = write_series(tmp_path / "a", n=3)
    shutil.copy(paths[1], tmp_path / "a" / "copy_of_2")
    with pytest.raises(GeometryError, match="same image"):
        load_series(tmp_path / "a")


def test_irregular_spacing_is_an_error(tmp_path: Path) -> None:
    positions = [(0.0, 0.0, z) for z in (0.0, 2.5, 5.0, 8.2, 10.0)]
    write_series(tmp_path, positions=positions)
    with pytest.raises(GeometryError, match="irregular slice spacing"):
        load_series(tmp_path)


def test_gantry_tilt_is_an_error(tmp_path: Path) -> None:
    # Axial slices whose origins drift posteriorly: a sheared (tilted) stack.
    shift = np.tan(np.radians(15)) * 2.5
    positions = [(0.0, k * shift, 2.5 * k) for k in range(5)]
    write_series(tmp_path, positions=positions, extra={"GantryDetectorTilt": 15})
    with pytest.raises(GeometryError, match=r"sheared by 15\.00 deg.*GantryDetectorTilt 15"):
        load_series(tmp_path)


def test_tilt_tag_with_regular_geometry_is_a_warning(tmp_path: Path) -> None:
    write_series(tmp_path, extra={"GantryDetectorTilt": 12})
    with pytest.warns(HeaderWarning, match="GantryDetectorTilt is 12"):
        vol = load_series(tmp_path)
    assert any("GantryDetectorTilt" in w for w in vol.warnings)


def test_stray_reformat_is_left_out_with_a_warning_naming_it(tmp_path: Path) -> None:
    # Was "mixed slice orientation" (refused); now the axial stack loads and the strays are named.
    axial = write_series(tmp_path, n=4)
    write_series(tmp_path, n=2, orientation=CORONAL, origin_mm=(0, 50, 0), name="CO{:04d}")
    with pytest.warns(
        StrayImagesWarning, match=r"left out 2 coronal 12x10 image\(s\): CO0001, CO0002"
    ):
        vol = load_series(tmp_path)
    assert vol.shape == (4, 12, 10)
    assert vol.metadata["files"] == [str(p) for p in axial]
    assert sorted(Path(f).name for f in vol.metadata["left_out_files"]) == ["CO0001", "CO0002"]
    assert any("left out" in w for w in vol.warnings)
    # the stray stack itself can be chosen
    with pytest.warns(StrayImagesWarning, match="left out 4 axial"):
        assert load_series(tmp_path, stack=1).shape == (2, 12, 10)


def test_lone_slice_of_other_pixel_spacing_or_size_is_left_out(tmp_path: Path) -> None:
    # Was "pixel spacing differs" / "different sizes" (refused): one stack, one spacing, one size.
    write_series(tmp_path, n=3)
    write_series(
        tmp_path,
        positions=[(-10.0, -20.0, -30.0 + 2.5 * k) for k in (3, 4)],
        spacing_mm=(2.5, 0.9, 0.9),
        name="B{:04d}",
    )
    write_series(tmp_path, positions=[(-10.0, -20.0, -20.0)], rows=14, name="C{:04d}")
    with pytest.warns(StrayImagesWarning) as record:
        vol = load_series(tmp_path)
    assert vol.shape == (3, 12, 10)
    [message] = [str(w.message) for w in record if w.category is StrayImagesWarning]
    assert "B0001, B0002" in message and "C0001" in message and "14x10" in message


def test_of_two_equal_small_stacks_the_axial_one_is_loaded(tmp_path: Path) -> None:
    write_series(tmp_path, n=3, orientation=CORONAL, origin_mm=(0, 50, 0), name="CO{:04d}")
    write_series(tmp_path, n=3)
    with pytest.warns(StrayImagesWarning, match="left out 3 coronal"):
        vol = load_series(tmp_path)
    np.testing.assert_allclose(vol.direction[:, 0], [0, 0, 1])


def test_scout_in_the_series_is_left_out_even_when_larger(tmp_path: Path) -> None:
    write_series(tmp_path, n=3)
    write_series(
        tmp_path,
        n=4,
        orientation=CORONAL,
        image_type=("ORIGINAL", "PRIMARY", "LOCALIZER"),
        name="SC{:04d}",
    )
    with pytest.warns(StrayImagesWarning, match="4 localizer"):
        vol = load_series(tmp_path)
    assert vol.shape == (3, 12, 10)


def test_slices_of_one_grid_with_different_image_type_stay_one_volume(tmp_path: Path) -> None:
    # The split by ImageType separates reformats, never the slices of one regular stack.
    write_series(tmp_path, n=6)
    write_series(
        tmp_path,
        positions=[(-10.0, -20.0, -30.0 + 2.5 * k) for k in range(6, 12)],
        image_type=("DERIVED", "SECONDARY", "AXIAL"),
        name="D{:04d}",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        volume = load_series(tmp_path)
    assert volume.shape == (12, 12, 10)
    [study] = scan_folders(tmp_path, use_pixels=False).studies
    assert [s.slice_count for s in study.series] == [12]


def test_two_full_stacks_are_refused_with_how_to_choose(tmp_path: Path) -> None:
    write_series(tmp_path, n=12)
    write_series(tmp_path, n=10, orientation=CORONAL, origin_mm=(0, 50, 0), name="CO{:04d}")
    with pytest.raises(
        GeometryError,
        match=r"2 full stacks.*stack 0: 12 axial.*stack 1: 10 coronal.*--stack K.*series.K",
    ):
        load_series(tmp_path)
    with pytest.warns(StrayImagesWarning, match="left out 12 axial"):
        assert load_series(tmp_path, stack=1).shape == (10, 12, 10)
    with pytest.raises(GeometryError, match="no stack 2"):
        load_series(tmp_path, stack=2)


def test_stack_geometry_still_refuses_mixed_pixel_spacing(tmp_path: Path) -> None:
    # load_series now splits such files into stacks; the stack check itself keeps the rule.
    write_series(tmp_path, n=3)
    write_series(
        tmp_path,
        positions=[(-10.0, -20.0, -30.0 + 2.5 * k) for k in (3, 4)],
        spacing_mm=(2.5, 0.9, 0.9),
        name="B{:04d}",
    )
    frames = frames_of(read_header(p) for p in sorted(tmp_path.iterdir()))
    with pytest.raises(GeometryError, match="pixel spacing differs"):
        stack_geometry(frames)


def test_missing_pixel_spacing_names_series_and_fix(tmp_path: Path) -> None:
    write_series(tmp_path, pixel_spacing=False, description="LIVER AP")
    with pytest.raises(
        SeriesError, match=r"LIVER AP.*PixelSpacing \(0028,0030\) is missing.*Re-export"
    ):
        load_series(tmp_path)


def test_thickness_different_from_spacing_is_a_warning(tmp_path: Path) -> None:
    write_series(tmp_path, slice_thickness_mm=5.0)
    with pytest.warns(
        HeaderWarning, match=r"SliceThickness 5 mm differs from the slice spacing 2\.5"
    ):
        vol = load_series(tmp_path)
    assert vol.spacing_mm[0] == pytest.approx(2.5)
    assert vol.slice_thickness_mm == pytest.approx(5.0)


def test_single_slice_is_a_warning(tmp_path: Path) -> None:
    write_series(tmp_path, n=1)
    with pytest.warns(HeaderWarning, match="single slice"):
        vol = load_series(tmp_path)
    assert vol.shape == (1, 12, 10)


def test_non_dicom_files_beside_the_series_are_skipped(tmp_path: Path) -> None:
    write_series(tmp_path, n=3)
    (tmp_path / "LICENSE").write_text("CC BY 4.0\n")
    (tmp_path / "notes.txt").write_bytes(b"\x00" * 300)
    vol = load_series(tmp_path)
    assert vol.shape[0] == 3
    skipped = "\n".join(vol.metadata["skipped_files"])
    assert "LICENSE" in skipped and "notes.txt" in skipped and "not a DICOM file" in skipped


def test_truncated_pixel_data_names_the_file(tmp_path: Path) -> None:
    paths = write_series(tmp_path, n=3)
    data = paths[1].read_bytes()
    paths[1].write_bytes(data[:-50])
    with pytest.raises(SeriesError, match=rf"{paths[1].name}.*truncated"):
        load_series(tmp_path)


def test_truncated_header_is_not_dicom(tmp_path: Path) -> None:
    paths = write_series(tmp_path, n=1)
    paths[0].write_bytes(paths[0].read_bytes()[:200])
    with pytest.raises(NotDicomError):
        read_header(paths[0])
    with pytest.raises(SeriesError, match="no DICOM image found"):
        load_series(tmp_path)


def test_several_series_need_a_choice(tmp_path: Path) -> None:
    write_series(tmp_path, n=3, description="ART", series_number=3)
    write_series(tmp_path, n=4, description="PV", series_number=4, name="PV{:04d}")
    with pytest.raises(SeriesError, match=r"holds 2 series.*series_uid"):
        load_series(tmp_path)
    pv_uid = pydicom.dcmread(tmp_path / "PV0001", stop_before_pixels=True).SeriesInstanceUID
    assert load_series(tmp_path, series_uid=pv_uid).shape[0] == 4


def test_empty_or_absent_source(tmp_path: Path) -> None:
    with pytest.raises(SeriesError, match="no such file"):
        load_series(tmp_path / "absent")
    with pytest.raises(SeriesError, match="no DICOM image"):
        load_series(tmp_path)


def test_enhanced_ct_multiframe_is_sorted_by_frame_position(tmp_path: Path) -> None:
    path = tmp_path / "enhanced.dcm"
    values = write_enhanced_ct(path, frame_order=[2, 0, 4, 1, 3])
    vol = load_series(path)
    assert vol.shape == (5, 12, 10)
    np.testing.assert_array_equal(vol.array, values.astype(np.int32) - 1024)
    assert vol.spacing_mm == pytest.approx((3.0, 0.6, 0.9))
    assert vol.origin_mm == pytest.approx((5.0, 6.0, 7.0))
    assert vol.metadata["frame_indices"] == [1, 3, 0, 4, 2]
    assert len(set(vol.sop_instance_uids)) == 1


def test_compressed_enhanced_ct_decodes_frame_by_frame(tmp_path: Path) -> None:
    values = write_enhanced_ct(
        tmp_path / "rle.dcm", frame_order=[4, 2, 0, 1, 3], transfer_syntax=RLELossless
    )
    vol = load_series(tmp_path / "rle.dcm")
    np.testing.assert_array_equal(vol.array, values.astype(np.int32) - 1024)


def test_multiframe_without_frame_positions_is_an_error(tmp_path: Path) -> None:
    write_enhanced_ct(tmp_path / "nopos.dcm", positions=False)
    with pytest.raises(SeriesError, match=r"ImagePositionPatient is missing.*frame 1"):
        load_series(tmp_path / "nopos.dcm")


@pytest.mark.parametrize("syntax", [RLELossless, JPEGLSLossless, JPEG2000Lossless])
def test_compressed_series_decode_exactly(tmp_path: Path, syntax: str) -> None:
    values = ramp(3, 64, 64)  # OpenJPEG needs at least 32 x 32 pixels for its default levels
    write_series(tmp_path / "raw", n=3, rows=64, cols=64, values=values)
    write_series(tmp_path / "enc", n=3, rows=64, cols=64, values=values, transfer_syntax=syntax)
    assert pydicom.dcmread(tmp_path / "enc" / "IM0001").file_meta.TransferSyntaxUID == syntax
    raw, enc = load_series(tmp_path / "raw"), load_series(tmp_path / "enc")
    np.testing.assert_array_equal(enc.array, raw.array)
    assert enc.metadata["transfer_syntax_uid"] == syntax


@pytest.mark.parametrize(
    "name", ["MR_small_RLE.dcm", "MR_small_jpeg_ls_lossless.dcm", "MR_small_jp2klossless.dcm"]
)
def test_pydicom_compressed_test_files_match_the_uncompressed_one(name: str) -> None:
    ref = get_testdata_file("MR_small.dcm", download=False)
    enc = get_testdata_file(name, download=False)
    assert ref and enc, "pydicom's bundled test files are part of its wheel"
    np.testing.assert_array_equal(load_series(enc).array, load_series(ref).array)


def test_jpeg_extended_decodes(tmp_path: Path) -> None:
    src = get_testdata_file("JPGExtended.dcm", download=False)
    assert src
    ds = pydicom.dcmread(src)
    ds.ImagePositionPatient = [0, 0, 0]
    ds.ImageOrientationPatient = list(AXIAL)
    ds.save_as(tmp_path / "jpeg.dcm")
    vol = load_series(tmp_path / "jpeg.dcm")
    np.testing.assert_array_equal(vol.array[0], pydicom.dcmread(src).pixel_array)


def test_parse_dicom_time() -> None:
    assert parse_dicom_time("101502.5") == pytest.approx(36902.5)
    assert parse_dicom_time("10:15:02") == pytest.approx(36902)
    assert parse_dicom_time("1015") == pytest.approx(36900)
    assert parse_dicom_time("") is None
    assert parse_dicom_time("ab") is None


@pytest.mark.parametrize(
    ("slope", "intercept", "syntax"),
    [(1.0, -1024.0, None), (0.5, -1000.25, None), (1.0, -1024.0, JPEGLSLossless)],
)
def test_read_frame_equals_the_loaded_slice(tmp_path: Path, slope, intercept, syntax) -> None:
    from lesion_tool.io.headers import read_header as header_of
    from lesion_tool.io.series import frames_of, output_dtype, read_frame, stack_geometry

    values = ramp(4, 6, 5)
    write_series(tmp_path, n=4, rows=6, cols=5, values=values, slope=slope, intercept=intercept)
    files = sorted(tmp_path.iterdir())
    if syntax is not None:
        for f in files:
            ds = pydicom.dcmread(f)
            ds.compress(syntax)
            ds.save_as(f)
    vol = load_series(tmp_path)
    geometry = stack_geometry(frames_of(header_of(f) for f in files))
    dtype = output_dtype(geometry.frames)
    for k, ref in enumerate(geometry.frames):
        frame = read_frame(ref, dtype)
        assert frame.dtype == vol.array.dtype
        np.testing.assert_array_equal(frame, vol.array[k])


def test_slice_gap_median_is_numpys_to_the_last_bit() -> None:
    # stack_geometry takes the median slice gap without np.median (whose numpy.ma import a
    # headers-only scan would pay); the spacing it reports must not move by one bit.
    from lesion_tool.io.series import _median

    rng = np.random.default_rng(17)
    for n in (1, 2, 3, 4, 5, 50, 51, 300):
        for scale in (1e-3, 1.0, 1e3):
            gaps = rng.uniform(0.3, 7.0, n) * scale
            assert _median(gaps.tolist()) == float(np.median(gaps))
    assert _median([1.25, 2.5, 2.5, 5.0]) == 2.5
    assert np.isnan(_median([1.0, float("nan"), 2.0]))
