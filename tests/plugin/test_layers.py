"""Layer <-> core adapters: display orientation and coordinate round trips (no viewer needed)."""

from __future__ import annotations

import numpy as np
import pytest
from lesion_napari._layers import (
    WINDOWS,
    DisplayGeometry,
    image_layer_data,
    line_to_shape,
    shape_to_voxels,
    volume_from_layer,
    voxels_inside,
    window_limits,
)

from lesion_tool.model import Line


def test_standard_axial_is_shown_as_is_with_world_in_patient_mm(make_volume):
    volume = make_volume()
    geometry = DisplayGeometry.from_volume(volume)
    assert geometry.perm == (0, 1, 2)
    assert geometry.flip == (False, False, False)
    assert geometry.scale == (2.5, 0.8, 0.8)
    # world (S, P, L) of voxel (z, y, x) equals the volume's own LPS position
    voxel = np.array([3.0, 10.0, 20.0])
    lps = volume.index_to_patient(voxel)
    np.testing.assert_allclose(geometry.voxel_to_world(voxel), lps[::-1])


def test_feet_first_and_mirrored_series_are_flipped_to_radiological_view(make_volume):
    # slices run towards the feet and columns towards the patient's right
    direction = np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])
    volume = make_volume(direction=direction)
    geometry = DisplayGeometry.from_volume(volume)
    assert geometry.flip == (True, False, True)
    shown = geometry.display_array(volume.array)
    assert shown.shape == volume.shape
    # display index 0 along x is the patient's right (smallest L)
    voxel = np.array([[2.0, 5.0, 7.0], [6.0, 40.0, 60.0]])
    display = geometry.voxel_to_display(voxel)
    np.testing.assert_allclose(geometry.display_to_voxel(display), voxel)
    np.testing.assert_allclose(
        geometry.voxel_to_world(voxel), volume.index_to_patient(voxel)[:, ::-1]
    )
    assert shown[tuple(display[0].astype(int))] == volume.array[2, 5, 7]


def test_coronal_acquisition_is_resliced_axially(make_volume):
    # array axes (z, y, x) run along P, S (downwards: -S) and L
    direction = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
    volume = make_volume(direction=direction, shape=(10, 20, 30))
    geometry = DisplayGeometry.from_volume(volume)
    assert geometry.perm == (1, 0, 2)
    assert geometry.display_shape == (20, 10, 30)
    voxel = np.array([4.0, 7.0, 9.0])
    np.testing.assert_allclose(geometry.voxel_to_world(voxel), volume.index_to_patient(voxel)[::-1])


def test_image_layer_data_carries_geometry_window_and_identity(make_volume):
    volume = make_volume()
    data, kwargs, kind = image_layer_data(volume, phase="arterial", label="baseline")
    assert kind == "image"
    assert data.shape == volume.shape
    assert kwargs["scale"] == (2.5, 0.8, 0.8)
    assert kwargs["contrast_limits"] == window_limits("abdomen")  # the default
    assert "2026-01-02" in kwargs["name"]
    assert "arterial" in kwargs["name"]
    assert "ART test" in kwargs["name"]
    header = kwargs["metadata"]["lesion_tool"]
    assert header["study_date"] == "2026-01-02"
    assert header["series_instance_uid"] == volume.series_instance_uid

    class FakeLayer:
        metadata = kwargs["metadata"]

    assert volume_from_layer(FakeLayer()) is volume


def test_window_presets():
    assert set(WINDOWS) == {"abdomen", "liver", "bone", "lung"}
    assert window_limits("abdomen") == (-160.0, 240.0)
    assert window_limits("liver") == (0.0, 200.0)  # centred on enhanced liver, not washed out
    with pytest.raises(KeyError):
        window_limits("brain")


def test_line_round_trip_voxel_and_patient_space(make_volume):
    direction = np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])
    volume = make_volume(direction=direction)
    geometry = DisplayGeometry.from_volume(volume)
    line = Line((3.0, 10.0, 12.0), (3.0, 30.0, 40.0))
    shape = line_to_shape(line, volume, geometry)
    np.testing.assert_allclose(shape_to_voxels(shape, geometry), [line.start, line.end])
    lps = volume.index_to_patient(np.array([line.start, line.end]))
    patient_line = Line(tuple(lps[0]), tuple(lps[1]), "patient")
    np.testing.assert_allclose(line_to_shape(patient_line, volume, geometry), shape, atol=1e-9)


def test_voxels_inside(make_volume):
    assert voxels_inside(np.array([[0, 0, 0], [7.4, 63.4, 63.4]]), (8, 64, 64))
    assert not voxels_inside(np.array([[0, 0, 0], [7, 70, 10]]), (8, 64, 64))
