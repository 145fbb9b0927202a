"""A reader's edit of a semi-automatic contour drives the numbers (analytic shapes)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from lesion_tool.errors import MeasurementError
from lesion_tool.io.volume import CTVolume
from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement.edit import outline_polygon, remeasure_edited

SPACING = (2.5, 0.8, 0.8)
RADIUS_MM = 12.0


def _sphere_volume() -> CTVolume:
    """A 200 HU sphere (radius 12 mm) in 100 HU liver-like tissue, noise-free."""
    shape = (12, 80, 80)
    z, y, x = np.indices(shape, dtype=float)
    c = (np.asarray(shape) - 1) / 2.0
    d = np.sqrt(sum(((a - ca) * s) ** 2 for a, ca, s in zip((z, y, x), c, SPACING, strict=True)))
    return CTVolume(
        array=np.where(d <= RADIUS_MM, 200, 100).astype(np.int16),
        spacing_mm=SPACING,
        origin_mm=(0.0, 0.0, 0.0),
        direction=np.eye(3),
        series_instance_uid="1.2.3.1.1",
        study_instance_uid="1.2.3.1",
        frame_of_reference_uid="1.2.3.9",
        study_date=dt.date(2026, 1, 2),
        patient_id="P",
    )


def test_erasing_half_a_sphere_halves_its_diameter_across_the_cut():
    volume = _sphere_volume()
    m = measure_lesion(volume, LesionPrompt(seed=(6, 40, 40)), phase="arterial")
    mask = m.mask.copy()
    # erase every column right of the centre (x > 39.5): the cut runs through the centre
    cols = np.arange(mask.shape[2]) + m.offset[2]
    mask[:, :, cols >= 40] = False
    edited = remeasure_edited(volume, m, mask, m.offset)
    # a half disk of the pixel mask: its longest chord is the cut's (the diameter, ~2 r), so
    # the longest axial diameter stays; its perpendicular drops to about the radius
    assert edited.whole.length_mm == pytest.approx(m.whole.length_mm, abs=1.0)
    assert edited.whole_perpendicular.length_mm == pytest.approx(
        m.whole_perpendicular.length_mm / 2, abs=1.0
    )
    # erase the top half too: a quarter disk, whose longest chord is r * sqrt(2)
    rows = np.arange(mask.shape[1]) + m.offset[1]
    mask[:, rows < 40, :] = False
    quarter = remeasure_edited(volume, m, mask, m.offset)
    assert quarter.whole.length_mm == pytest.approx(m.whole.length_mm / 2 * np.sqrt(2), abs=1.0)
    assert quarter.viable is not None and quarter.viable.length_mm <= quarter.whole.length_mm + 1
    assert quarter.volume_ml == pytest.approx(m.volume_ml / 4, rel=0.15)
    with pytest.raises(MeasurementError, match="empty"):
        remeasure_edited(volume, m, np.zeros_like(mask), m.offset)


def test_an_edit_cannot_measure_the_viable_part_off_the_arterial_phase():
    volume = _sphere_volume()
    m = measure_lesion(volume, LesionPrompt(seed=(6, 40, 40)), phase="portal_venous")
    edited = remeasure_edited(volume, m, m.mask, m.offset, viable_mask=m.mask)
    assert edited.viable is None and "portal-venous" in edited.viable_reason


def test_two_pieces_are_flagged_and_the_outline_is_the_pixel_edge():
    volume = _sphere_volume()
    m = measure_lesion(volume, LesionPrompt(seed=(6, 40, 40)), phase="arterial")
    # two squares, neither at the click (6, 40, 40) nor within PROMPT_NEAR_MM of it (the
    # nearer is 12 px diagonally, 13.6 mm, away): which is the lesion is unclear, both are kept
    mask = np.zeros((1, 30, 30), dtype=bool)
    mask[0, 2:8, 2:8] = mask[0, 20:26, 20:26] = True
    edited = remeasure_edited(volume, m, mask, (6, 50, 50))
    assert any("2 separate pieces" in f for f in edited.flags)
    assert edited.volume_ml == pytest.approx(72 * 2.5 * 0.64 / 1000)
    poly = outline_polygon(mask, (6, 50, 50), 6)
    assert poly.min(axis=0).tolist() == [51.5, 51.5] and poly.max(axis=0).tolist() == [57.5, 57.5]
    assert outline_polygon(mask, (6, 50, 50), 7).shape == (0, 2)


def _cut_by_a_plane(m, x_from: int, x_to: int) -> np.ndarray:
    """The measurement's mask with the columns ``x_from <= x < x_to`` of the volume erased
    on every slice (an erase stroke dragged from top to bottom, through every slice)."""
    mask = m.mask.copy()
    cols = np.arange(mask.shape[2]) + m.offset[2]
    mask[:, :, (cols >= x_from) & (cols < x_to)] = False
    return mask


def test_an_erase_stroke_across_the_lesion_keeps_the_piece_at_the_click():
    volume = _sphere_volume()
    m = measure_lesion(volume, LesionPrompt(seed=(6, 40, 36)), phase="arterial")
    # a 2-px stroke through x = 45-46 (voxel centres 4.4-5.2 mm right of the centre, 39.5):
    # the cap right of it (x >= 47) is cut off, the click's side (x = 36) kept
    edited = remeasure_edited(volume, m, _cut_by_a_plane(m, 45, 47), m.offset)
    assert not any("separate pieces" in f for f in edited.flags)
    cut = [f for f in edited.flags if f.startswith("kept the piece at the click")]
    assert len(cut) == 1 and "cut off 1 piece " in cut[0]
    cols = np.arange(edited.mask.shape[2]) + edited.offset[2]
    assert edited.mask.any() and cols[edited.mask.any(axis=(0, 1))].max() == 44
    # what was cut off is the automatic contour right of the stroke, all of it, and the kept
    # piece is the rest less the stroke
    cut_ml = float(cut[0].split("(")[1].split(" mL")[0])
    assert cut_ml == pytest.approx(_band_ml(m, 47, 80), abs=0.05)
    assert edited.volume_ml == pytest.approx(m.volume_ml - _band_ml(m, 45, 80))
    # the kept piece is a disk less a cap 4.4 mm from the centre: its longest chord is still
    # the diameter (the cut does not reach the centre); the viable part follows the whole
    assert edited.whole.length_mm == pytest.approx(m.whole.length_mm, abs=1.0)
    assert edited.viable is not None and edited.viable.length_mm <= edited.whole.length_mm + 0.1
    assert edited.viable_mask is not None and not (edited.viable_mask & ~edited.mask).any()


def _band_ml(m, x_from: int, x_to: int) -> float:
    """Volume (mL) of the measurement's mask in columns ``x_from <= x < x_to``."""
    cols = np.arange(m.mask.shape[2]) + m.offset[2]
    return float(m.mask[:, :, (cols >= x_from) & (cols < x_to)].sum()) * 2.5 * 0.64 / 1000


def test_a_stroke_over_the_click_keeps_the_one_piece_near_it_or_every_piece():
    volume = _sphere_volume()
    m = measure_lesion(volume, LesionPrompt(seed=(6, 40, 40)), phase="arterial")
    # a 3-px stroke x = 39-41 over the click (x = 40): the pieces either side are both 1.6 mm
    # from it, the reader's intent is unclear: both kept, flagged as separate pieces
    both = remeasure_edited(volume, m, _cut_by_a_plane(m, 39, 42), m.offset)
    assert any("2 separate pieces" in f for f in both.flags)
    assert not any(f.startswith("kept the piece") for f in both.flags)
    # a 9-px stroke x = 38-46: the left piece is 2.4 mm from the click, the right 5.6 mm (over
    # PROMPT_NEAR_MM): the left one is kept
    near = remeasure_edited(volume, m, _cut_by_a_plane(m, 38, 47), m.offset)
    assert any(f.startswith("kept the piece nearest the click") for f in near.flags)
    cols = np.arange(near.mask.shape[2]) + near.offset[2]
    assert cols[near.mask.any(axis=(0, 1))].max() == 37


def test_a_piece_the_reader_painted_is_never_dropped():
    volume = _sphere_volume()
    m = measure_lesion(volume, LesionPrompt(seed=(6, 40, 36)), phase="arterial")
    mask = _cut_by_a_plane(m, 45, 47)
    # the reader also painted a square outside the lesion, far from it, on the middle slice
    mask[6 - m.offset[0], 0:3, 0:3] = True
    edited = remeasure_edited(volume, m, mask, m.offset)
    assert any("3 separate pieces" in f for f in edited.flags)
    assert edited.mask.sum() == mask.sum()
