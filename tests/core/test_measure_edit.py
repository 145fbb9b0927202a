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
    mask = np.zeros((1, 30, 30), dtype=bool)
    mask[0, 2:8, 2:8] = mask[0, 20:26, 20:26] = True
    edited = remeasure_edited(volume, m, mask, (6, 30, 30))
    assert any("2 separate pieces" in f for f in edited.flags)
    poly = outline_polygon(mask, (6, 30, 30), 6)
    assert poly.min(axis=0).tolist() == [31.5, 31.5] and poly.max(axis=0).tolist() == [37.5, 37.5]
    assert outline_polygon(mask, (6, 30, 30), 7).shape == (0, 2)
