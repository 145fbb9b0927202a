"""Plant the defects real PACS exports have into one written series, one file per check.

Each case changes the series folder the way the defect arises in practice:

- ``missing_slice``: the file of the middle slice is deleted (a gap of twice the spacing).
- ``duplicate_position``: an extra file repeats the position of the slice 3 below the middle
  (a new SOP instance with the same pixels).
- ``gantry_tilt``: the series is re-acquired with the gantry tilted 12 degrees about the
  patient's left-right axis: ImageOrientationPatient tilts, slice origins still advance along
  the table (+S), so the slices are sheared relative to their normal; GantryDetectorTilt says so.
- ``non_dicom_file``: a text file sits among the slices.
- ``truncated_file``: slice 3's file is cut short inside its pixel data (an interrupted copy);
  its header still parses.
- ``coronal_reformat``: three coronal images with the same SeriesInstanceUID join the series.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from pydicom.uid import UID

from lesion_tool.synth.anatomy import build_anatomy
from lesion_tool.synth.shapes import LesionShape, SliceGrid, rotation_matrix
from lesion_tool.synth.writer import (
    PatientInfo,
    SeriesInfo,
    StudyInfo,
    instance_numbers,
    save_dataset,
    slice_dataset,
    uid,
)

GANTRY_TILT_DEG = 12.0
TRUNCATED_SLICE = 3
CORONAL_IMAGES = 3


def plant(
    folder: Path,
    cases: Sequence[str],
    *,
    grid: SliceGrid,
    anatomy_centre: np.ndarray,
    shapes: Sequence[LesionShape | None],
    patient: PatientInfo,
    study: StudyInfo,
    series: SeriesInfo,
    seed: int,
    noise_hu: float,
    enhancement: str,
    transfer_syntax: UID,
    supersample: tuple[int, int, int],
) -> None:
    """Apply ``cases`` (see the module docstring) to the series written in ``folder``."""
    n = grid.n_slices
    numbers = instance_numbers(n)
    label = folder.parent.name
    phase = folder.name

    def render(g: SliceGrid) -> np.ndarray:
        from lesion_tool.synth.generator import paint_lesions

        image = build_anatomy(g, anatomy_centre).paint(enhancement)
        paint_lesions(
            image,
            enhancement,
            [s.render(g, supersample) if s is not None else None for s in shapes],
        )
        if noise_hu > 0:
            rng = np.random.default_rng([seed, 3, g.n_slices, g.rows])
            image += rng.standard_normal(image.shape, dtype=np.float32) * np.float32(noise_hu)
        return image

    def write(g: SliceGrid, image: np.ndarray, k: int, number: int, tag: str, **kw: object) -> Path:
        ds = slice_dataset(
            image[k],
            g,
            k,
            number,
            uid(seed, patient.patient_id, label, phase, tag, number),
            patient,
            study,
            series,
            transfer_syntax=transfer_syntax,
            **kw,  # type: ignore[arg-type]
        )
        path = folder / f"{number:04d}.dcm"
        save_dataset(ds, path)
        return path

    if "gantry_tilt" in cases:
        tilted = _tilted(grid)
        image = render(tilted)
        for k in range(n):
            write(tilted, image, k, numbers[k], "instance", gantry_tilt_deg=GANTRY_TILT_DEG)
    mid = n // 2
    if "duplicate_position" in cases:
        g = _tilted(grid) if "gantry_tilt" in cases else grid
        image = render(g)
        write(g, image, mid - 3, n + 1, "duplicate")
    if "coronal_reformat" in cases:
        coronal = _coronal(grid)
        image = render(coronal)
        from dataclasses import replace

        reformat = replace(series, image_type=("DERIVED", "SECONDARY", "REFORMATTED"))
        for k in range(coronal.n_slices):
            ds = slice_dataset(
                image[k],
                coronal,
                k,
                n + 2 + k,
                uid(seed, patient.patient_id, label, phase, "coronal", k),
                patient,
                study,
                reformat,
                transfer_syntax=transfer_syntax,
            )
            save_dataset(ds, folder / f"{n + 2 + k:04d}.dcm")
    if "missing_slice" in cases:
        (folder / f"{numbers[mid]:04d}.dcm").unlink()
    if "truncated_file" in cases:
        path = folder / f"{numbers[TRUNCATED_SLICE]:04d}.dcm"
        data = path.read_bytes()
        path.write_bytes(data[: len(data) - grid.rows * grid.cols])
    if "non_dicom_file" in cases:
        (folder / "notes.txt").write_text(
            "Exported by a PACS workstation. This file is not DICOM.\n", encoding="utf-8"
        )


def _tilted(grid: SliceGrid) -> SliceGrid:
    """The same slab acquired with the gantry tilted: planes rotated about L, origins along S."""
    rot = rotation_matrix(0.0, GANTRY_TILT_DEG)
    row_dir = rot @ grid.row_dir
    col_dir = rot @ grid.col_dir
    spacing = grid.slice_spacing_mm / math.cos(math.radians(GANTRY_TILT_DEG))
    centre = grid.positions.mean(axis=0) + (
        (grid.cols - 1) / 2 * grid.pixel_spacing_mm[1] * grid.row_dir
        + (grid.rows - 1) / 2 * grid.pixel_spacing_mm[0] * grid.col_dir
    )
    first = (
        centre
        - (grid.cols - 1) / 2 * grid.pixel_spacing_mm[1] * row_dir
        - (grid.rows - 1) / 2 * grid.pixel_spacing_mm[0] * col_dir
        - (grid.n_slices - 1) / 2 * spacing * np.array([0.0, 0.0, 1.0])
    )
    positions = first + np.arange(grid.n_slices)[:, None] * spacing * np.array([0.0, 0.0, 1.0])
    return SliceGrid(
        grid.rows,
        grid.cols,
        grid.pixel_spacing_mm,
        row_dir,
        col_dir,
        positions,
        grid.slice_thickness_mm,
    )


def _coronal(grid: SliceGrid) -> SliceGrid:
    """A few coronal planes through the slab's centre (rows run inferiorly)."""
    sx = grid.pixel_spacing_mm[1]
    height = grid.n_slices * grid.slice_spacing_mm
    rows = max(int(height // sx), 2)
    row_dir = np.array([1.0, 0.0, 0.0])
    col_dir = np.array([0.0, 0.0, -1.0])
    centre = grid.positions.mean(axis=0) + (
        (grid.cols - 1) / 2 * sx * grid.row_dir
        + (grid.rows - 1) / 2 * grid.pixel_spacing_mm[0] * grid.col_dir
    )
    first = centre - (grid.cols - 1) / 2 * sx * row_dir - (rows - 1) / 2 * sx * col_dir
    offsets = (np.arange(CORONAL_IMAGES) - (CORONAL_IMAGES - 1) / 2) * 10.0
    positions = first + offsets[:, None] * np.cross(row_dir, col_dir)
    return SliceGrid(rows, grid.cols, (sx, sx), row_dir, col_dir, positions, sx)
