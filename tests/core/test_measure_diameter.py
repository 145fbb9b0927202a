"""Measurement on analytic shapes with exact answers: lines, Feret diameters, perpendiculars."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import SimpleITK as sitk

from lesion_tool.cli import main
from lesion_tool.errors import MeasurementError
from lesion_tool.io.volume import CTVolume
from lesion_tool.measurement import (
    Geometry,
    load_mask,
    mask_from_array,
    measure_fraction,
    measure_labels,
    measure_line,
    measure_mask,
    measure_viable_and_whole,
    perpendicular_diameter,
)
from lesion_tool.model import Line


def oblique_direction(yaw_deg: float, pitch_deg: float) -> np.ndarray:
    """A rotated (non-identity) direction: columns (z, y, x) axes, orthonormal."""
    a, b = math.radians(yaw_deg), math.radians(pitch_deg)
    rz = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
    return rz @ rx @ np.eye(3)[:, ::-1]


def ellipse_mask(
    shape: tuple[int, int],
    spacing_yx: tuple[float, float],
    centre_px: tuple[float, float],
    semi_mm: tuple[float, float],
    angle_deg: float,
) -> np.ndarray:
    """Pixels whose centre lies inside an ellipse given in millimetres (major axis rotated by
    ``angle_deg`` from the x axis)."""
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    dy = (yy - centre_px[0]) * spacing_yx[0]
    dx = (xx - centre_px[1]) * spacing_yx[1]
    t = math.radians(angle_deg)
    u = dx * math.cos(t) + dy * math.sin(t)
    v = -dx * math.sin(t) + dy * math.cos(t)
    return (u / semi_mm[0]) ** 2 + (v / semi_mm[1]) ** 2 <= 1.0


# ------------------------------------------------------------------------------------- lines


def test_line_length_uses_anisotropic_spacing_and_direction() -> None:
    g = Geometry((2.5, 0.7, 0.9), (10.0, -20.0, 30.0), oblique_direction(30, 10))
    line = measure_line(g, (3, 10, 20), (3, 14, 23))
    assert line.same_slice
    assert line.length_mm == pytest.approx(math.hypot(4 * 0.7, 3 * 0.9))
    assert line.in_plane_length_mm == pytest.approx(line.length_mm)
    assert line.tilt_deg == pytest.approx(0.0, abs=1e-9)
    # Patient-space input gives the same line.
    again = measure_line(g, line.start_patient, line.end_patient, space="patient")
    assert again.length_mm == pytest.approx(line.length_mm)
    assert again.start_voxel == pytest.approx((3, 10, 20))


def test_line_across_slices_reports_in_plane_length_and_tilt() -> None:
    g = Geometry((5.0, 1.0, 1.0))
    line = measure_line(g, (0, 0, 0), (1, 0, 5))
    assert not line.same_slice
    assert line.length_mm == pytest.approx(math.hypot(5, 5))
    assert line.in_plane_length_mm == pytest.approx(5.0)
    assert line.tilt_deg == pytest.approx(45.0)


def test_line_rejects_non_finite_points() -> None:
    with pytest.raises(MeasurementError, match="not three finite"):
        measure_line(Geometry((1, 1, 1)), (0, 0, float("nan")), (0, 1, 1))


def test_perpendicular_of_second_line() -> None:
    g = Geometry((2.0, 0.5, 0.5))
    long_axis = measure_line(g, (4, 10, 10), (4, 10, 50))  # along x, 20 mm
    short = perpendicular_diameter(g, long_axis, second=((4, 0, 30), (4, 16, 30)))
    assert short.length_mm == pytest.approx(8.0)
    # A tilted second line contributes only its perpendicular part.
    tilted = perpendicular_diameter(g, long_axis, second=((4, 0, 30), (4, 16, 46)))
    assert tilted.length_mm == pytest.approx(8.0)
    with pytest.raises(MeasurementError, match="exactly one"):
        perpendicular_diameter(g, long_axis)


# -------------------------------------------------------------------------------- masks


@pytest.mark.parametrize("angle", [0.0, 17.0, 45.0, 73.0, 90.0, 131.0])
@pytest.mark.parametrize("spacing", [(0.7, 0.7), (0.6, 1.1)])
def test_ellipse_longest_and_perpendicular_within_a_pixel_diagonal(
    angle: float, spacing: tuple[float, float]
) -> None:
    semi = (21.3, 9.7)
    mask = np.zeros((3, 140, 120), dtype=np.uint8)
    mask[1] = ellipse_mask((140, 120), spacing, (70.3, 59.6), semi, angle)
    g = Geometry((3.0, *spacing), (5.0, 6.0, 7.0), oblique_direction(25.0, 15.0))
    [m] = measure_labels(mask, g)
    diag = math.hypot(*spacing)
    assert m.slice_index == 1
    assert abs(m.longest_diameter_mm - 2 * semi[0]) <= diag
    assert abs(m.perpendicular_diameter_mm - 2 * semi[1]) <= diag
    # End points agree in both spaces and with the length.
    a = np.asarray(m.longest.start_patient)
    b = np.asarray(m.longest.end_patient)
    assert np.linalg.norm(a - b) == pytest.approx(m.longest_diameter_mm)
    assert g.index_to_patient(m.longest.start_voxel) == pytest.approx(a)
    # The perpendicular is perpendicular (in millimetres) to the long axis.
    d = np.subtract(m.longest.end_voxel, m.longest.start_voxel)[1:] * spacing
    p = np.subtract(m.perpendicular.end_voxel, m.perpendicular.start_voxel)[1:] * spacing
    assert abs(float(np.dot(d, p))) / (np.linalg.norm(d) * np.linalg.norm(p)) < 1e-9
    # Volume: pixel count times voxel volume.
    assert m.volume_ml == pytest.approx(mask.sum() * 3.0 * spacing[0] * spacing[1] / 1000)


@pytest.mark.parametrize("diameter_mm", [4.0, 10.0, 33.3])
def test_disc_on_anisotropic_pixels(diameter_mm: float) -> None:
    spacing = (0.5, 0.9)
    mask = ellipse_mask((100, 60), spacing, (50.2, 29.9), (diameter_mm / 2, diameter_mm / 2), 0)
    [m] = measure_labels(mask[None], Geometry((1.0, *spacing)))
    diag = math.hypot(*spacing)
    assert abs(m.longest_diameter_mm - diameter_mm) <= diag
    assert abs(m.perpendicular_diameter_mm - diameter_mm) <= diag


def test_rectangle_edges_and_centres_are_exact() -> None:
    mask = np.zeros((1, 20, 30), dtype=bool)
    mask[0, 5:9, 3:13] = True  # 4 x 10 pixels
    g = Geometry((1.0, 2.0, 1.0))
    [edges] = measure_labels(mask, g)
    [centres] = measure_labels(mask, g, boundary="centres")
    # Edge-midpoint boundary (the marching-squares outline, an octagon with cut corners): its
    # farthest vertices are the top edge midpoint of the first column and the bottom edge
    # midpoint of the last: 9 columns (9 mm) across and 4 rows (8 mm) down.
    assert edges.longest_diameter_mm == pytest.approx(math.hypot(9.0, 8.0), abs=1e-9)
    # Pixel centres: the rectangle's diagonal, 9 mm x 3 rows (6 mm).
    assert centres.longest_diameter_mm == pytest.approx(math.hypot(9.0, 6.0), abs=1e-9)


def test_single_pixel_and_empty_labels() -> None:
    mask = np.zeros((2, 5, 5), dtype=np.uint8)
    mask[1, 2, 2] = 3
    [m] = measure_labels(mask, Geometry((1.0, 1.0, 1.0)))
    assert m.label == 3
    assert m.longest_diameter_mm == pytest.approx(1.0)  # edge midpoints: one pixel across
    [c] = measure_labels(mask, Geometry((1.0, 1.0, 1.0)), boundary="centres")
    assert c.longest_diameter_mm == 0.0
    assert measure_labels(np.zeros((1, 3, 3), dtype=np.uint8), Geometry((1, 1, 1))) == []


def test_components_separately_or_together() -> None:
    mask = np.zeros((1, 40, 80), dtype=np.uint8)
    mask[0, 10:20, 5:15] = 1
    mask[0, 10:20, 60:70] = 1
    g = Geometry((1.0, 1.0, 1.0))
    [together] = measure_labels(mask, g)
    parts = measure_labels(mask, g, separate_components=True)
    assert together.component is None
    assert together.longest_diameter_mm > 60
    assert [p.component for p in parts] == [1, 2]
    assert all(p.longest_diameter_mm < 15 for p in parts)
    assert sum(p.volume_ml for p in parts) == pytest.approx(together.volume_ml)


def test_longest_slice_is_chosen_over_all_slices() -> None:
    mask = np.zeros((5, 60, 60), dtype=np.uint8)
    for z, r in enumerate([5, 12, 20, 9, 3]):
        mask[z] = ellipse_mask((60, 60), (1.0, 1.0), (30, 30), (r, r), 0)
    [m] = measure_labels(mask, Geometry((2.0, 1.0, 1.0)))
    assert m.slice_index == 2
    assert abs(m.longest_diameter_mm - 40.0) <= math.sqrt(2)
    assert m.centroid_voxel[1:] == pytest.approx((30.0, 30.0), abs=1e-6)


def test_fractional_mask_measures_its_sub_pixel_contour() -> None:
    # Supersampled disc of 12.6 mm on 1 mm pixels: the 0.5 contour is within ~0.1 mm.
    n = 8
    yy, xx = np.mgrid[0 : 40 * n, 0 : 40 * n]
    fine = ((yy + 0.5) / n - 20.3) ** 2 + ((xx + 0.5) / n - 19.6) ** 2 <= 6.3**2
    frac = fine.reshape(40, n, 40, n).mean(axis=(1, 3))[None]
    [m] = measure_fraction(frac, Geometry((1.0, 1.0, 1.0)))
    assert m.longest_diameter_mm == pytest.approx(12.6, abs=0.25)
    assert m.volume_ml == pytest.approx(math.pi * 6.3**2 / 1000, rel=0.01)


def test_viable_and_whole_from_labels() -> None:
    spacing = (0.8, 0.8)
    whole = ellipse_mask((100, 100), spacing, (50, 50), (30, 20), 0)
    necrotic = ellipse_mask((100, 100), spacing, (50, 68), (12, 12), 0) & whole
    mask = np.zeros((1, 100, 100), dtype=np.uint8)
    mask[0][whole] = 1
    mask[0][necrotic] = 2
    g = Geometry((2.0, *spacing))
    result = measure_viable_and_whole(mask, g)
    assert abs(result.longest_diameter_mm - 60.0) <= math.hypot(*spacing)
    assert result.viable is not None
    assert result.viable_diameter_mm <= result.longest_diameter_mm
    only_necrotic = np.where(mask > 0, 2, 0).astype(np.uint8)
    none_viable = measure_viable_and_whole(only_necrotic, g)
    assert none_viable.viable is None
    assert none_viable.viable_diameter_mm == 0.0
    assert none_viable.longest_diameter_mm == pytest.approx(result.longest_diameter_mm)
    with pytest.raises(MeasurementError, match="no voxel"):
        measure_viable_and_whole(np.zeros_like(mask), g)


def test_label_mask_rejects_fractions_and_negatives() -> None:
    g = Geometry((1.0, 1.0, 1.0))
    with pytest.raises(MeasurementError, match="whole numbers"):
        measure_labels(np.full((1, 2, 2), 0.5), g)
    with pytest.raises(MeasurementError, match="negative"):
        mask_from_array(np.full((1, 2, 2), -1), g)


# ----------------------------------------------------------------------- files and the CLI


def _write_nifti(path, labels: np.ndarray, spacing_zyx, origin, direction_zyx) -> None:
    img = sitk.GetImageFromArray(labels)
    img.SetSpacing(tuple(float(s) for s in reversed(spacing_zyx)))
    img.SetOrigin(tuple(float(o) for o in origin))
    img.SetDirection(tuple(np.asarray(direction_zyx)[:, ::-1].ravel()))
    sitk.WriteImage(img, str(path))


def test_nifti_geometry_comes_from_the_file(tmp_path) -> None:
    spacing = (3.0, 0.6, 0.8)
    direction = oblique_direction(20.0, 0.0)
    labels = np.zeros((4, 80, 70), dtype=np.uint8)
    labels[2] = ellipse_mask((80, 70), spacing[1:], (40, 35), (15, 8), 30) * 2
    path = tmp_path / "lesion.nii.gz"
    _write_nifti(path, labels, spacing, (1.0, 2.0, 3.0), direction)
    mask = load_mask(path)
    assert mask.geometry.spacing_mm == pytest.approx(spacing)
    assert mask.geometry.direction == pytest.approx(direction)
    [m] = measure_mask(mask)
    [expected] = measure_labels(labels, Geometry(spacing, (1.0, 2.0, 3.0), direction))
    assert m.label == 2
    assert m.longest_diameter_mm == pytest.approx(expected.longest_diameter_mm)
    assert m.longest.start_patient == pytest.approx(expected.longest.start_patient)


def test_cli_measures_good_files_and_reports_bad_ones(tmp_path, capsys) -> None:
    labels = np.zeros((3, 50, 50), dtype=np.uint8)
    labels[1] = ellipse_mask((50, 50), (1.0, 1.0), (25, 25), (10, 10), 0)
    _write_nifti(tmp_path / "good.nii", labels, (2.0, 1.0, 1.0), (0, 0, 0), np.eye(3)[:, ::-1])
    (tmp_path / "bad.nii").write_bytes(b"not an image")
    good_path, bad_path = str(tmp_path / "good.nii"), str(tmp_path / "bad.nii")
    code = main(["measure", "--mask", good_path, "--mask", bad_path, "--json"])
    captured = capsys.readouterr()
    assert code == 1

    out = json.loads(captured.out)
    [good] = out["measured"]
    assert abs(good["labels"][0]["longest_diameter_mm"] - 20.0) <= math.sqrt(2)
    assert good["labels"][0]["slice_index"] == 1
    assert [p["file"] for p in out["problems"]] == [str(tmp_path / "bad.nii")]
    assert "bad.nii" in captured.err
    # Plain text, folder input, components.
    code = main(["measure", "--mask", str(tmp_path / "good.nii"), "--components"])
    assert code == 0
    assert "label 1 component 1 of 1: longest" in capsys.readouterr().out


def test_cli_npy_mask_needs_an_image(tmp_path, capsys) -> None:
    np.save(tmp_path / "m.npy", np.ones((1, 4, 4), dtype=np.uint8))
    assert main(["measure", "--mask", str(tmp_path / "m.npy")]) == 1
    assert "has no geometry" in capsys.readouterr().err


def test_ctvolume_is_accepted_as_geometry() -> None:
    vol = CTVolume(np.zeros((2, 30, 30), np.int16), (2.0, 0.5, 0.5), (0, 0, 0))
    mask = np.zeros((2, 30, 30), dtype=np.uint8)
    mask[0, 10:20, 10:12] = 1
    [m] = measure_labels(mask, vol)
    # Top edge midpoint of the first column to the bottom one of the second: 5 mm x 0.5 mm.
    assert m.longest_diameter_mm == pytest.approx(math.hypot(5.0, 0.5), abs=1e-9)


def test_perpendicular_to_a_drawn_long_axis_on_a_mask() -> None:
    spacing = (0.5, 0.5)
    mask = np.zeros((3, 120, 120), dtype=bool)
    mask[1] = ellipse_mask((120, 120), spacing, (60, 60), (20.0, 8.0), 30.0)
    g = Geometry((2.0, *spacing))
    # A reader's long axis along the major axis (30 degrees from x), given as a model Line.
    t = math.radians(30.0)
    half = 20.0 / 0.5
    line = Line(
        (1, 60 - half * math.sin(t), 60 - half * math.cos(t)),
        (1, 60 + half * math.sin(t), 60 + half * math.cos(t)),
    )
    short = perpendicular_diameter(g, line, mask=mask)
    assert short.slice_index == 1
    assert abs(short.length_mm - 16.0) <= math.hypot(*spacing)
    d = np.subtract(short.end_voxel, short.start_voxel)[1:]
    assert abs(d[0] * math.sin(t) + d[1] * math.cos(t)) < 1e-6  # perpendicular
    # Patient-space line: the same answer.
    patient_line = Line(
        tuple(g.index_to_patient(line.start)), tuple(g.index_to_patient(line.end)), "patient"
    )
    again = perpendicular_diameter(g, patient_line, mask=mask)
    assert again.length_mm == pytest.approx(short.length_mm)
    # An empty slice has no perpendicular.
    empty = Line((0, 10, 10), (0, 10, 50))
    assert perpendicular_diameter(g, empty, mask=mask).length_mm == 0.0


@pytest.mark.parametrize("angle", [0.0, 30.0, 60.0])
def test_image_gives_sub_pixel_edges(angle: float) -> None:
    """With the partial-volume image the mask was drawn on, diameters and volume follow the
    image's half-way edge, closer to the true shape than the pixel mask can be."""
    n, size = 8, 60
    t = math.radians(angle)
    yy, xx = np.mgrid[0 : size * n, 0 : size * n]
    y, x = (yy + 0.5) / n - 30.2, (xx + 0.5) / n - 29.7
    u, v = x * math.cos(t) + y * math.sin(t), -x * math.sin(t) + y * math.cos(t)
    fraction = ((u / 20.3) ** 2 + (v / 11.4) ** 2 <= 1).reshape(size, n, size, n).mean(axis=(1, 3))
    noise = np.random.default_rng(1).normal(0, 10, (1, size, size))
    image = (75 + 70 * fraction)[None] + noise
    mask = (fraction >= 0.5)[None].astype(np.uint8)
    g = Geometry((1.0, 1.0, 1.0))
    [pixel] = measure_labels(mask, g)
    [sub] = measure_labels(mask, g, image=image)
    assert abs(sub.longest_diameter_mm - 40.6) <= 0.3
    assert abs(sub.longest_diameter_mm - 40.6) <= abs(pixel.longest_diameter_mm - 40.6) + 0.05
    assert abs(sub.perpendicular_diameter_mm - 22.8) <= 0.5
    assert sub.volume_ml == pytest.approx(math.pi * 20.3 * 11.4 / 1000, rel=0.01)
    # No usable edge in the image (flat): the mask's own boundary is kept.
    [flat] = measure_labels(mask, g, image=np.full(mask.shape, 60.0))
    assert flat.longest_diameter_mm == pixel.longest_diameter_mm
    with pytest.raises(MeasurementError, match="same grid"):
        measure_labels(mask, g, image=image[:, :10])
