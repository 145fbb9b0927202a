"""SimpleITK conversion keeps geometry; load_series agrees with SimpleITK's GDCM series reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from _dicom_factory import write_series

from lesion_tool.io import CTVolume, from_sitk, load_series, to_sitk


def _oblique_direction() -> np.ndarray:
    """A proper rotation (det +1) far from identity, columns in (z, y, x) order."""
    a, b, c = np.radians([25.0, -40.0, 70.0])
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rz = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
    return rz @ ry @ rx


def test_round_trip_keeps_geometry_and_voxels() -> None:
    rng = np.random.default_rng(1)
    array = rng.integers(-1000, 2000, size=(4, 5, 6)).astype(np.int16)
    vol = CTVolume(array, (3.0, 0.7, 0.9), (-12.5, 40.0, 7.25), _oblique_direction())
    image = to_sitk(vol)
    assert image.GetSize() == (6, 5, 4)
    assert image.GetSpacing() == pytest.approx((0.9, 0.7, 3.0))
    back = from_sitk(image, series_instance_uid="1.2.3")
    np.testing.assert_array_equal(back.array, array)
    assert back.spacing_mm == pytest.approx(vol.spacing_mm)
    assert back.origin_mm == pytest.approx(vol.origin_mm)
    np.testing.assert_allclose(back.direction, vol.direction, atol=1e-12)
    assert back.series_instance_uid == "1.2.3"


def test_index_to_patient_matches_sitk_physical_points() -> None:
    vol = CTVolume(np.zeros((4, 5, 6), np.int16), (3.0, 0.7, 0.9), (1, 2, 3), _oblique_direction())
    image = to_sitk(vol)
    for z, y, x in [(0, 0, 0), (3, 4, 5), (1, 2, 3), (2, 0, 5)]:
        expected = image.TransformIndexToPhysicalPoint((x, y, z))
        np.testing.assert_allclose(vol.index_to_patient([z, y, x]), expected, atol=1e-9)
        np.testing.assert_allclose(vol.patient_to_index(expected), [z, y, x], atol=1e-9)


def test_from_sitk_rejects_2d() -> None:
    with pytest.raises(ValueError, match="3-D scalar"):
        from_sitk(sitk.Image(4, 4, sitk.sitkInt16))


def gdcm_read(folder: Path) -> sitk.Image:
    """SimpleITK's GDCM series reader on the one series in ``folder``."""
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    return reader.Execute()


def assert_same_as_gdcm(vol: CTVolume, image: sitk.Image) -> None:
    """Geometry and voxel values of ``vol`` equal those of SimpleITK's image."""
    ref = from_sitk(image)
    assert vol.shape == ref.shape
    np.testing.assert_allclose(vol.spacing_mm, ref.spacing_mm, atol=1e-5)
    np.testing.assert_allclose(vol.origin_mm, ref.origin_mm, atol=1e-4)
    np.testing.assert_allclose(vol.direction, ref.direction, atol=1e-5)
    np.testing.assert_array_equal(vol.array, ref.array)


def test_synthetic_oblique_series_equals_gdcm_reader(tmp_path: Path) -> None:
    a = np.radians(30)
    row = (np.cos(a), np.sin(a), 0.0)
    col = (-np.sin(a) * np.cos(0.2), np.cos(a) * np.cos(0.2), -np.sin(0.2))
    write_series(
        tmp_path, n=5, orientation=(*row, *col), spacing_mm=(1.5, 0.6, 0.75), origin_mm=(3, 4, 5)
    )
    assert_same_as_gdcm(load_series(tmp_path), gdcm_read(tmp_path))


@pytest.mark.parametrize("syntax", ["explicit", "rle", "jpeg-ls", "jpeg2000"])
def test_generated_oblique_series_equals_gdcm(tmp_path: Path, syntax: str) -> None:
    """Engineer C's generator: oblique, anisotropic, compressed; same volume as GDCM's reader."""
    synth = pytest.importorskip("lesion_tool.synth")
    synth.generate_patient(
        tmp_path,
        patient_id="OBL",
        seed=9,
        n_timepoints=1,
        shape=(8, 48, 40),
        spacing_mm=(3.0, 1.1, 0.9),
        oblique_deg=(12.0, 8.0),
        phases=("arterial",),
        transfer_syntax=syntax,
        supersample=(1, 1, 1),
    )
    folder = next(tmp_path.glob("OBL/*/arterial"))
    vol = load_series(folder)
    assert abs(vol.direction[2, 0]) < 0.999  # really oblique
    assert_same_as_gdcm(vol, gdcm_read(folder))
