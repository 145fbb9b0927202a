"""Generate one synthetic HCC patient: multiphase CT studies over several timepoints, with truth.

Layout written (the contract of :mod:`lesion_tool.synth`)::

    out_dir/<patient_id>/<timepoint_label>/<phase>/<NNNN>.dcm
    out_dir/<patient_id>/truth.json
    out_dir/<patient_id>/assessment_truth.json
    out_dir/<patient_id>/masks/<timepoint_label>_{lesions,viable}.nii.gz   (write_masks=True)

Voxel indices in the truth files are ``(z, y, x)`` of the series sorted by increasing position
along the slice normal (what :func:`lesion_tool.io.load_series` returns); slice 0 is the most
inferior for an axial series. Instance numbers count the other way (1 = most superior), as
scanners number them, so a reader that sorts by InstanceNumber gets the order wrong.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydicom.uid import UID, ExplicitVRLittleEndian
from scipy import ndimage

from lesion_tool.errors import LesionToolError
from lesion_tool.storage import assessment_from_dict, save_assessment
from lesion_tool.synth.anatomy import ENHANCEMENTS, PHASES, build_anatomy, hu
from lesion_tool.synth.lesions import (
    LesionSpec,
    baseline_ellipsoid,
    course_growth,
    lesion_at,
    place,
    random_lesions,
)
from lesion_tool.synth.names import BROKEN_CASES, TRAJECTORIES
from lesion_tool.synth.shapes import (
    Diameter,
    Ellipsoid,
    LesionShape,
    SliceGrid,
    axial_grid,
    lesion_diameters,
    rotation_matrix,
)
from lesion_tool.synth.writer import (
    TRANSFER_SYNTAXES,
    PatientInfo,
    SeriesInfo,
    SeriesWriter,
    StudyInfo,
    instance_numbers,
    pixel_element,
    save_dataset,
    slice_dataset,
    slice_position,
    to_stored,
    uid,
)

SERIES_NUMBERS = {"non_contrast": 2, "arterial": 3, "portal_venous": 4, "delayed": 5}
NAMED_DESCRIPTIONS = {
    "non_contrast": "LIVER PRE CONTRAST {t}mm",
    "arterial": "LIVER LATE ARTERIAL {t}mm",
    "early_arterial": "LIVER EARLY ARTERIAL {t}mm",
    "portal_venous": "LIVER PORTAL VENOUS {t}mm",
    "delayed": "LIVER DELAYED 3MIN {t}mm",
}
# Seconds from the start of the contrast injection to each acquisition (late arterial protocol).
PHASE_DELAY_S = {
    "non_contrast": -240,
    "early_arterial": 20,
    "arterial": 35,
    "portal_venous": 70,
    "delayed": 180,
}
CONTRAST_AGENT = "Iohexol 350 mgI/mL"
SLAB_CENTRE_S_MM = -140.0
CHUNK_VOXELS = 4_000_000
"""Voxels rendered at a time (a few slices of a large series): bounds memory to ~100 MB."""


@dataclass(frozen=True)
class TimepointPlan:
    """What one timepoint holds: its label, date and the lesions' shapes."""

    index: int
    label: str
    date: dt.date
    study_uid: str
    shapes: tuple[tuple[str, LesionSpec, LesionShape | None], ...]


def generate_patient(
    out_dir: str | os.PathLike[str],
    *,
    patient_id: str,
    seed: int,
    shape: tuple[int, int, int] = (32, 160, 160),
    spacing_mm: tuple[float, float, float] = (2.5, 1.6, 1.6),
    slice_thickness_mm: float | None = None,
    oblique_deg: tuple[float, float] = (0.0, 0.0),
    n_timepoints: int = 3,
    phases: Sequence[str] = PHASES,
    phases_by_timepoint: Sequence[Sequence[str]] | None = None,
    noise_hu: float = 10.0,
    trajectory: str | None = None,
    n_lesions: int | None = None,
    lesions: Sequence[LesionSpec] | None = None,
    contrast_tags: bool | Literal["empty"] = True,
    acquisition_times: bool = True,
    named_descriptions: bool = True,
    series_descriptions: Mapping[str, str] | None = None,
    arterial_timing: Literal["late", "early"] = "late",
    write_masks: bool = False,
    transfer_syntax: str = "explicit",
    broken: Sequence[str] = (),
    broken_series: tuple[int, str] = (0, "arterial"),
    supersample: tuple[int, int, int] = (3, 3, 3),
    visit_motion: bool = False,
) -> Path:
    """Write one synthetic patient's multiphase CT studies and their ground truth.

    Parameters
    ----------
    out_dir
        Folder that receives ``<patient_id>/``; a patient folder written by an earlier run
        (it has a ``truth.json``) is replaced, any other non-empty one is refused.
    patient_id
        PatientID and folder name.
    seed
        Everything (anatomy placement, lesions, dates, noise, UIDs) follows from it: the same
        arguments give byte-identical files.
    shape
        ``(slices, rows, columns)`` of each series.
    spacing_mm
        ``(slice spacing, row spacing, column spacing)`` in mm (anisotropic allowed).
    slice_thickness_mm
        Reconstructed thickness (mm); the slice spacing when None.
    oblique_deg
        ``(yaw about S, tilt about L)`` in degrees: rotates ImageOrientationPatient (a proper
        oblique acquisition: slices still stacked along their normal).
    n_timepoints
        Baseline plus follow-ups, ~6-9 weeks apart.
    phases
        Phases written at every timepoint (subset of :data:`PHASES`).
    phases_by_timepoint
        Per-timepoint phases, overriding ``phases``.
    noise_hu
        Standard deviation of the Gaussian noise (HU); 0 for none.
    trajectory
        Course under treatment (one of :data:`TRAJECTORIES`); drawn from the seed when None.
    n_lesions
        Baseline lesions (1-3; the third is a non-target); drawn from the seed when None.
    lesions
        Explicit lesion specifications, overriding ``n_lesions``.
    contrast_tags
        True: the Contrast/Bolus module on enhanced phases as scanners write it (agent, route,
        volume, start time before each acquisition), none on the unenhanced phase. False: no
        module at all. ``"empty"``: ContrastBolusAgent present but empty on every series (both
        are common in anonymised exports).
    acquisition_times
        Write AcquisitionTime / ContentTime (False: only StudyTime / SeriesTime, all equal).
    named_descriptions
        Phase names in SeriesDescription; False writes the same neutral description for every
        phase so that only pixels (and contrast tags) tell the phases apart.
    series_descriptions
        SeriesDescription per phase, overriding the generated ones (e.g. describe the portal
        venous series as arterial to test a reader's check of pixels against the label).
    arterial_timing
        ``"late"`` (~35 s: portal vein already enhancing, the usual HCC protocol) or
        ``"early"`` (~20 s: aorta brightest, portal vein, liver and tumour less enhanced).
    write_masks
        Also write ground-truth label masks per timepoint, NIfTI on the series' grid:
        ``masks/<timepoint>_lesions.nii.gz`` (whole lesions) and ``masks/<timepoint>_viable.nii.gz``
        (viable parts); a voxel belongs to a lesion when at least half of it does (from the
        supersampled rendering); each lesion's label value is its ``mask_label`` in truth.json.
    transfer_syntax
        One of :data:`lesion_tool.synth.writer.TRANSFER_SYNTAXES` (all lossless).
    broken
        Defects from :data:`BROKEN_CASES` planted in ``broken_series``.
    broken_series
        ``(timepoint index, phase)`` of the series that receives the defects.
    supersample
        Samples per voxel ``(z, y, x)`` for the lesions' partial-volume rendering.
    visit_motion
        Move the patient between visits (:mod:`lesion_tool.synth.motion`): every follow-up is
        the scene warped by a known transform (patient shift and roll, liver breathing 10-20 mm
        cranio-caudal, smooth deformation, liver volume change; the same for all phases of a
        visit). Lesion centres, seeds, lines and masks in truth.json follow the motion; the
        diameters are those of the unwarped lesion (the warp changes them by its local scale,
        a few %). Each follow-up's truth holds its ``motion``. False (default) leaves the output
        byte-identical to earlier versions.

    Returns
    -------
    Path
        The patient folder.

    Raises
    ------
    ValueError
        For arguments out of range (unknown phase, trajectory, broken case, ...).
    """
    _check_args(
        phases,
        phases_by_timepoint,
        n_timepoints,
        trajectory,
        broken,
        transfer_syntax,
        n_lesions,
        contrast_tags,
        arterial_timing,
    )
    if broken:
        t_broken, phase_broken = broken_series
        written = phases_by_timepoint[t_broken] if phases_by_timepoint is not None else phases
        if not 0 <= t_broken < n_timepoints or phase_broken not in written:
            raise ValueError(
                f'Argument "broken_series" {tuple(broken_series)!r} names no series that is '
                "written; give (timepoint index, phase) of one."
            )
    meta_rng = np.random.default_rng([seed, 1])
    if trajectory is None:
        trajectory = str(meta_rng.choice(TRAJECTORIES))
    else:
        meta_rng.integers(len(TRAJECTORIES))  # keep the stream aligned with the drawn case
    nz, ny, nx = shape
    slab_centre = np.array([0.0, 0.0, SLAB_CENTRE_S_MM])
    rotation = rotation_matrix(*oblique_deg) if any(oblique_deg) else None
    grid = axial_grid(
        shape,
        spacing_mm,
        centre_lps=slab_centre,
        rotation=rotation,
        slice_thickness_mm=slice_thickness_mm,
    )
    slab_half = nz * spacing_mm[0] / 2.0 * math.cos(math.radians(oblique_deg[1]))
    slab_half -= spacing_mm[0]
    specs = _place_lesions(lesions, n_lesions, trajectory, n_timepoints, slab_half, meta_rng)

    patient = _patient_info(patient_id, meta_rng)
    dates = _dates(meta_rng, n_timepoints)
    treatment_start = dates[0] + dt.timedelta(days=int(meta_rng.integers(3, 9)))
    ids = _lesion_ids(specs)

    patient_dir = Path(out_dir) / patient_id
    if patient_dir.exists():
        # Replace only what the generator wrote before; never delete someone's folder.
        if any(patient_dir.iterdir()) and not (patient_dir / "truth.json").is_file():
            raise ValueError(
                f"{patient_dir} exists and holds no truth.json (it was not written by the "
                "generator); choose another output folder or patient id."
            )
        shutil.rmtree(patient_dir)
    patient_dir.mkdir(parents=True)

    for_uid = uid(seed, patient_id, "frame-of-reference")
    syntax = TRANSFER_SYNTAXES[transfer_syntax]
    enhancements = {phase: phase for phase in PHASES}
    if arterial_timing == "early":
        enhancements["arterial"] = "early_arterial"
    plans = []
    for t in range(n_timepoints):
        label = "baseline" if t == 0 else f"fu{t}"
        study = StudyInfo(
            study_instance_uid=uid(seed, patient_id, label, "study"),
            date=dates[t],
            time=dt.datetime.combine(dates[t], dt.time(8, 0))
            + dt.timedelta(minutes=int(meta_rng.integers(0, 600))),
            accession=f"SYN{seed % 100000:05d}{t:02d}",
            study_id=str(t + 1),
        )
        shapes = [lesion_at(spec, trajectory, t, slab_half, slab_centre) for spec in specs]
        rendered = [s.render(grid, supersample) if s is not None else None for s in shapes]
        tp_phases = phases_by_timepoint[t] if phases_by_timepoint is not None else phases
        series = {
            phase: _series_info(
                seed,
                patient_id,
                label,
                phase,
                study,
                for_uid,
                grid,
                contrast_tags,
                acquisition_times,
                named_descriptions,
                enhancements[phase],
                (series_descriptions or {}).get(phase),
            )
            for phase in PHASES
            if phase in tp_phases
        }
        plans.append((t, label, study, shapes, rendered, series))
    motions = _visit_motions(seed, n_timepoints, grid, slab_centre) if visit_motion else {}
    # A moved follow-up images scene points beyond the slab: render the scene on a grid grown by
    # the largest displacement so no follow-up voxel falls outside it (no padding in the body).
    scene = _Scene(grid, motions, plans, slab_centre, supersample) if motions else None

    # Work through the slab a few slices at a time so memory stays bounded for large series
    # (anatomy rasterised once per chunk and painted once per phase for every timepoint).
    writers: dict[tuple[int, str], SeriesWriter] = {}
    chunk = max(1, CHUNK_VOXELS // (ny * nx)) if not motions else nz  # a warp needs it all
    for z0 in range(0, nz, chunk):
        z1 = min(z0 + chunk, nz)
        part = SliceGrid(
            ny,
            nx,
            grid.pixel_spacing_mm,
            grid.row_dir,
            grid.col_dir,
            grid.positions[z0:z1],
            grid.slice_thickness_mm,
        )
        anatomy = build_anatomy(part, slab_centre)
        for phase in PHASES:
            wanted = [plan for plan in plans if phase in plan[5]]
            if not wanted:
                continue
            base = anatomy.paint(enhancements[phase])
            for t, label, study, _, rendered, series in wanted:
                if scene is not None and t in motions:
                    image = scene.follow_up(t, enhancements[phase], motions[t][1])
                else:
                    image = base.copy()
                    paint_lesions(image, enhancements[phase], rendered, z_offset=z0)
                _add_noise(image, noise_hu, seed, t, phase, z0)
                _write_slices(
                    writers,
                    (t, phase),
                    patient_dir / label / phase,
                    image,
                    z0,
                    grid,
                    patient,
                    study,
                    series[phase],
                    seed,
                    label,
                    syntax,
                )

    truth_tps = []
    for t, label, study, shapes, rendered, series in plans:
        for phase, info in series.items():
            if broken and (t, phase) == tuple(broken_series):
                from lesion_tool.synth.broken import plant

                plant(
                    patient_dir / label / phase,
                    broken,
                    grid=grid,
                    anatomy_centre=slab_centre,
                    shapes=shapes,
                    patient=patient,
                    study=study,
                    series=info,
                    seed=seed,
                    noise_hu=noise_hu,
                    enhancement=enhancements[phase],
                    transfer_syntax=syntax,
                    supersample=supersample,
                )
        lesion_truth = [
            _lesion_truth(ids[i], spec, shape_, rendered[i], grid)
            for i, (spec, shape_) in enumerate(zip(specs, shapes, strict=True))
            if shape_ is not None
        ]
        if t in motions:
            for entry in lesion_truth:
                _move_truth(entry, grid, motions[t][1])
        masks = None
        if write_masks:
            if scene is not None and t in motions:
                masks = _write_masks(
                    patient_dir, label, grid, scene.rendered[t], motions[t][1], scene.grid
                )
            else:
                masks = _write_masks(patient_dir, label, grid, rendered)
            for entry, i in zip(
                lesion_truth, [i + 1 for i, s_ in enumerate(shapes) if s_ is not None], strict=True
            ):
                entry["mask_label"] = i
        truth_tps.append(
            {
                "label": label,
                "date": dates[t].isoformat(),
                "study_instance_uid": study.study_instance_uid,
                "series": {
                    phase: {
                        "series_instance_uid": info.series_instance_uid,
                        "dir": f"{label}/{phase}",
                        "description": info.description,
                    }
                    for phase, info in series.items()
                },
                "lesions": lesion_truth,
                **({"masks": masks} if masks is not None else {}),
                **({"motion": motions[t][0].to_dict()} if t in motions else {}),
            }
        )

    truth = {
        "patient_id": patient_id,
        "treatment_start": treatment_start.isoformat(),
        "seed": seed,
        "trajectory": trajectory,
        "generator": "lesion_tool.synth",
        "geometry": {
            "shape_zyx": list(grid.shape),
            "spacing_mm_zyx": [round(v, 6) for v in grid.spacing_mm],
            "origin_lps_mm": [round(v, 6) for v in grid.origin_mm],
            "direction": np.round(grid.direction, 9).tolist(),
            "slice_thickness_mm": grid.slice_thickness_mm,
        },
        "noise_hu": noise_hu,
        "arterial_timing": arterial_timing,
        "hu": {
            tissue: dict(zip(ENHANCEMENTS, values, strict=True))
            for tissue, values in _hu_table().items()
        },
        "broken": {"timepoint": broken_series[0], "phase": broken_series[1], "cases": list(broken)}
        if broken
        else None,
        "timepoints": truth_tps,
    }
    _write_json(patient_dir / "truth.json", truth)
    # Through the storage module: the file is validated against the v1 schema and written the
    # way every assessment is (atomic, diameters rounded to 0.1 mm).
    assessment_path = patient_dir / "assessment_truth.json"
    save_assessment(
        assessment_from_dict(assessment_from_truth(truth), source=str(assessment_path)),
        assessment_path,
    )
    return patient_dir


def generate_cohort(
    out_dir: str | os.PathLike[str],
    *,
    n_patients: int,
    seed: int = 0,
    prefix: str = "SYN",
    start: int = 1,
    **options: Any,
) -> list[Path]:
    """Generate ``n_patients`` patients ``<prefix>-<NNN>`` (numbered from ``start``) with
    :func:`generate_patient`; patient ``i`` uses seed ``seed * 100000 + i``, so each patient is
    reproducible on its own. ``options`` are passed through (e.g. ``trajectory``, ``shape``)."""
    if n_patients < 1:
        raise ValueError(f'Argument "n_patients" must be >= 1, got {n_patients!r}.')
    return [
        generate_patient(out_dir, patient_id=f"{prefix}-{i:03d}", seed=seed * 100000 + i, **options)
        for i in range(start, start + n_patients)
    ]


def assessment_from_truth(truth: Mapping[str, object]) -> dict[str, object]:
    """The ground truth as a format-v1 assessment (``shared/spec/assessment-format.md``): what a
    perfect reader would store, measuring on the arterial series of each timepoint."""
    tps = []
    for tp in truth["timepoints"]:  # type: ignore[attr-defined]
        lesions = []
        for les in tp["lesions"]:
            entry: dict[str, object] = {
                "id": les["id"],
                "category": les["category"],
                "organ": les["organ"],
                "location": les["location"],
            }
            if les["category"] == "target":
                entry["kind"] = "viable"
                entry["state"] = les["state"]
                entry["viable_diameter_mm"] = round(les["viable_diameter_mm"], 1)
                entry["longest_diameter_mm"] = round(les["longest_diameter_mm"], 1)
                if les["viable_line"] is not None:
                    entry["line"] = _voxel_line(les["viable_line"])
                entry["longest_line"] = _voxel_line(les["longest_line"])
                entry["seed"] = les["seed_voxel"]
            elif les["category"] == "non_target":
                entry["state"] = les["state"]
            else:
                entry["state"] = les["state"]
                entry["longest_diameter_mm"] = round(les["longest_diameter_mm"], 1)
                entry["typical_hcc_pattern"] = True
                entry["seed"] = les["seed_voxel"]
            lesions.append(entry)
        arterial = tp["series"].get("arterial")
        tps.append(
            {
                "label": tp["label"],
                "date": tp["date"],
                "study_instance_uid": tp["study_instance_uid"],
                "series_instance_uid": arterial["series_instance_uid"] if arterial else None,
                "lesions": lesions,
            }
        )
    return {
        "format": "lesion-tool.assessment",
        "version": 1,
        "patient_id": truth["patient_id"],
        "reader": "ground-truth",
        "treatment_start": truth["treatment_start"],
        "death_date": None,
        # the last scan, when it follows the start of treatment
        "last_known_alive": tps[-1]["date"] if len(tps) > 1 else None,
        "timepoints": tps,
    }


# -- helpers ---------------------------------------------------------------------------------


def _write_masks(
    patient_dir: Path,
    label: str,
    grid: SliceGrid,
    rendered: Sequence[tuple[tuple[slice, slice, slice], np.ndarray, np.ndarray] | None],
    motion: Any = None,
    scene_grid: SliceGrid | None = None,
) -> dict[str, str]:
    """Write the whole-lesion and viable label masks of one timepoint (NIfTI, series grid),
    warped by ``motion`` (a SimpleITK transform, follow-up -> scene) when given; ``rendered``
    then lies on ``scene_grid`` (the grown scene grid, ``grid`` when None)."""
    from lesion_tool.io import CTVolume, to_sitk

    source = scene_grid if scene_grid is not None else grid
    paths = {}
    for kind, index in (("lesions", 1), ("viable", 2)):
        labels = np.zeros(source.shape, dtype=np.uint8)
        for value, item in enumerate(rendered, start=1):
            if item is None:
                continue
            box, frac = item[0], item[index]
            labels[box][frac >= 0.5] = value
        volume = CTVolume(labels, source.spacing_mm, source.origin_mm, source.direction)
        if motion is not None:
            from lesion_tool.synth.motion import warp_volume

            onto = _grid_volume(grid, np.zeros(grid.shape, np.uint8)) if scene_grid else None
            volume = warp_volume(volume, motion, nearest=True, default=0, reference=onto)
        rel = f"masks/{label}_{kind}.nii.gz"
        (patient_dir / "masks").mkdir(exist_ok=True)
        target = patient_dir / rel
        _write_mask_file(to_sitk(volume), volume.array, target)
        paths[kind] = rel
    return paths


def _write_mask_file(image: Any, labels: np.ndarray, target: Path) -> None:
    """Write a label image as NIfTI to ``target``: complete, or not at all and a clear error.

    SimpleITK reports a failed write as a RuntimeError holding C++ source paths, and its NIfTI
    writer says nothing when the disk fills up mid-file (the file is silently cut short). So the
    file goes to a temporary name, is read back and compared with ``labels`` before it is renamed
    into place; any failure removes it and raises :class:`LesionToolError` naming ``target``.
    """
    import SimpleITK as sitk

    tmp = target.with_name(f".{os.getpid()}.{target.name}")  # keeps the .nii.gz ending
    try:
        try:
            sitk.WriteImage(image, str(tmp), useCompression=True)
        except RuntimeError as err:
            raise LesionToolError(
                f"{target}: cannot write the truth mask ({_sitk_reason(err)}); is the disk full "
                "or the folder read-only?"
            ) from None
        try:
            written = sitk.GetArrayFromImage(sitk.ReadImage(str(tmp)))
            complete = written.shape == labels.shape and bool(np.array_equal(written, labels))
        except RuntimeError:  # not even readable: cut short
            complete = False
        if not complete:
            raise LesionToolError(
                f"{target}: the truth mask was not written completely; is the disk full?"
            )
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _sitk_reason(err: RuntimeError) -> str:
    """The useful part of a SimpleITK exception: its last non-empty line, without C++ paths."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    last = lines[-1] if lines else "SimpleITK failed"
    return last.split("): ", 1)[-1] if last.startswith("ITK ERROR") else last


def _grid_volume(grid: SliceGrid, array: np.ndarray) -> Any:
    from lesion_tool.io import CTVolume

    return CTVolume(array, grid.spacing_mm, grid.origin_mm, grid.direction)


def _visit_motions(
    seed: int, n_timepoints: int, grid: SliceGrid, slab_centre: np.ndarray
) -> dict[int, tuple[Any, Any]]:
    """Per follow-up ``t``: (VisitMotion, transform follow-up -> scene), from its own seed
    stream (the default output's random draws are untouched)."""
    from lesion_tool.synth.anatomy import in_liver
    from lesion_tool.synth.motion import motion_transform, random_motion

    ref = _grid_volume(grid, np.zeros(grid.shape, dtype=np.uint8))
    idx = np.stack(np.indices(grid.shape), axis=-1).reshape(-1, 3)
    liver = in_liver(ref.index_to_patient(idx) - slab_centre).reshape(grid.shape)
    out = {}
    for t in range(1, n_timepoints):
        motion = random_motion(np.random.default_rng([seed, 3, t]))
        out[t] = (motion, motion_transform(motion, ref, liver))
    return out


class _Scene:
    """The noise-free scene of moved follow-ups, rendered on the series grid grown on every
    side by the largest displacement of any visit's motion.

    A follow-up voxel ``x`` shows the scene at ``M(x)``, which for a rolled, shifted or breathing
    patient lies up to a few centimetres outside the series' own slab and field of view. Warping
    a scene rendered only on the series grid filled those voxels with air: edge slices partly
    empty where the body continues, which no scanner produces. Anatomy and lesions here are the
    same analytic shapes rasterised on the larger grid, so the truth stays exact: the lesion
    masks are warped from this same rendering.
    """

    def __init__(
        self,
        grid: SliceGrid,
        motions: Mapping[int, tuple[Any, Any]],
        plans: Sequence[tuple[Any, ...]],
        slab_centre: np.ndarray,
        supersample: tuple[int, int, int],
    ) -> None:
        reach = max(_max_displacement_mm(transform) for _, transform in motions.values())
        margin = tuple(math.ceil(reach / s) + 2 for s in grid.spacing_mm)
        self.grid = _grown_grid(grid, margin)
        self.series = grid
        self.anatomy = build_anatomy(self.grid, slab_centre)
        self.rendered = {
            plan[0]: [s.render(self.grid, supersample) if s is not None else None for s in plan[3]]
            for plan in plans
            if plan[0] in motions
        }
        self._painted: dict[str, np.ndarray] = {}

    def follow_up(self, t: int, enhancement: str, transform: Any) -> np.ndarray:
        """Follow-up ``t``'s noise-free image in ``enhancement`` on the series grid."""
        from lesion_tool.synth.motion import warp_volume

        if enhancement not in self._painted:
            self._painted[enhancement] = self.anatomy.paint(enhancement)
        image = self._painted[enhancement].copy()
        paint_lesions(image, enhancement, self.rendered[t])
        onto = _grid_volume(self.series, np.zeros(self.series.shape, dtype=np.uint8))
        moved = warp_volume(
            _grid_volume(self.grid, image),
            transform,
            default=hu("air", enhancement),
            reference=onto,
        )
        return np.ascontiguousarray(moved.array, dtype=np.float32)


def _max_displacement_mm(transform: Any) -> float:
    """Largest displacement (mm) of a SimpleITK displacement-field transform."""
    import SimpleITK as sitk

    field = sitk.GetArrayFromImage(transform.GetDisplacementField())
    return float(np.sqrt((field**2).sum(axis=-1)).max()) if field.size else 0.0


def _grown_grid(grid: SliceGrid, margin: tuple[int, int, int]) -> SliceGrid:
    """``grid`` with ``margin`` ``(z, y, x)`` more voxels on each side (same axes, spacing)."""
    mz, my, mx = margin
    sz, sy, sx = grid.spacing_mm
    first = grid.positions[0] - mz * sz * grid.normal - my * sy * grid.col_dir
    first = first - mx * sx * grid.row_dir
    nz = grid.n_slices + 2 * mz
    return SliceGrid(
        grid.rows + 2 * my,
        grid.cols + 2 * mx,
        grid.pixel_spacing_mm,
        grid.row_dir,
        grid.col_dir,
        first + np.arange(nz)[:, None] * sz * grid.normal,
        grid.slice_thickness_mm,
    )


def _move_truth(entry: dict[str, Any], grid: SliceGrid, transform: Any) -> None:
    """Carry one lesion's truth positions (centre, seed, line ends) to the moved follow-up."""
    from lesion_tool.synth.motion import to_follow_up

    ref = _grid_volume(grid, np.zeros((1, 1, 1), dtype=np.uint8))

    def move_idx(v: Sequence[float]) -> np.ndarray:
        return ref.patient_to_index(to_follow_up(transform, ref.index_to_patient(v))[0])

    centre = to_follow_up(transform, np.asarray(entry["centre_lps"], dtype=float))[0]
    entry["centre_lps"] = [round(float(v), 4) for v in centre]
    entry["centre_voxel"] = [round(float(v), 4) for v in ref.patient_to_index(centre)]
    if entry["seed_voxel"] is not None:
        entry["seed_voxel"] = [round(float(v)) for v in move_idx(entry["seed_voxel"])]
    for name in ("viable_line", "longest_line"):
        line = entry.get(name)
        if line is None:
            continue
        start = move_idx(line["start"])
        end = move_idx(line["end"])
        line["start"] = [round(float(v), 4) for v in start]
        line["end"] = [round(float(v), 4) for v in end]
        line["slice"] = round(float(start[0] + end[0]) / 2.0)


def _voxel_line(line: Mapping[str, object]) -> dict[str, object]:
    return {"start": line["start"], "end": line["end"], "space": "voxel"}


def _check_args(
    phases: Sequence[str],
    phases_by_timepoint: Sequence[Sequence[str]] | None,
    n_timepoints: int,
    trajectory: str | None,
    broken: Sequence[str],
    transfer_syntax: str,
    n_lesions: int | None,
    contrast_tags: object,
    arterial_timing: str,
) -> None:
    if n_timepoints < 1:
        raise ValueError(f'Argument "n_timepoints" must be >= 1, got {n_timepoints!r}.')
    all_phases = [*phases] + [p for tp in (phases_by_timepoint or ()) for p in tp]
    for phase in all_phases:
        if phase not in PHASES:
            raise ValueError(f"Unknown phase {phase!r}; choose from {', '.join(PHASES)}.")
    if phases_by_timepoint is not None and len(phases_by_timepoint) != n_timepoints:
        raise ValueError(
            f'Argument "phases_by_timepoint" must have {n_timepoints} entries, '
            f"got {len(phases_by_timepoint)}."
        )
    if trajectory is not None and trajectory not in TRAJECTORIES:
        raise ValueError(
            f"Unknown trajectory {trajectory!r}; choose from {', '.join(TRAJECTORIES)}."
        )
    for case in broken:
        if case not in BROKEN_CASES:
            raise ValueError(
                f"Unknown broken case {case!r}; choose from {', '.join(BROKEN_CASES)}."
            )
    if transfer_syntax not in TRANSFER_SYNTAXES:
        raise ValueError(
            f"Unknown transfer syntax {transfer_syntax!r}; "
            f"choose from {', '.join(TRANSFER_SYNTAXES)}."
        )
    if arterial_timing not in ("late", "early"):
        raise ValueError(
            f'Argument "arterial_timing" must be "late" or "early", got {arterial_timing!r}.'
        )
    if contrast_tags not in (True, False, "empty"):
        raise ValueError(
            f'Argument "contrast_tags" must be True, False or "empty", got {contrast_tags!r}.'
        )
    if n_lesions is not None and not 1 <= n_lesions <= 3:
        raise ValueError(f'Argument "n_lesions" must be 1-3, got {n_lesions!r}.')


def _place_lesions(
    lesions: Sequence[LesionSpec] | None,
    n_lesions: int | None,
    trajectory: str,
    n_timepoints: int,
    slab_half: float,
    rng: np.random.Generator,
) -> list[LesionSpec]:
    if lesions is None:
        n = int(rng.integers(1, 4)) if n_lesions is None else n_lesions
        wanted = random_lesions(rng, n, trajectory, n_timepoints)
    else:
        rng.integers(1, 4)
        wanted = list(lesions)
    placed: list[LesionSpec] = []
    others: list[Ellipsoid] = []
    for spec in wanted:
        grow = course_growth(spec, trajectory, n_timepoints)
        fitted = place(spec, slab_half, rng, grow=grow, others=tuple(others))
        placed.append(fitted)
        base = baseline_ellipsoid(fitted, slab_half)
        others.append(base.scaled(grow))
    return placed


def _lesion_ids(specs: Sequence[LesionSpec]) -> list[str]:
    counters = {"target": 0, "non_target": 0, "new": 0}
    prefix = {"target": "T", "non_target": "NT", "new": "N"}
    ids = []
    for spec in specs:
        counters[spec.category] += 1
        ids.append(f"{prefix[spec.category]}{counters[spec.category]}")
    return ids


def _patient_info(patient_id: str, rng: np.random.Generator) -> PatientInfo:
    sex = "M" if rng.random() < 0.8 else "F"
    birth = dt.date(1945, 1, 1) + dt.timedelta(days=int(rng.integers(0, 365 * 25)))
    return PatientInfo(
        patient_id=patient_id, name=f"SYNTHETIC^{patient_id}", birth_date=birth, sex=sex
    )


def _dates(rng: np.random.Generator, n: int) -> list[dt.date]:
    first = dt.date(2025, 1, 6) + dt.timedelta(days=int(rng.integers(0, 540)))
    dates = [first]
    for _ in range(n - 1):
        dates.append(dates[-1] + dt.timedelta(days=int(rng.integers(42, 64))))
    return dates


def _series_info(
    seed: int,
    patient_id: str,
    label: str,
    phase: str,
    study: StudyInfo,
    for_uid: str,
    grid: SliceGrid,
    contrast_tags: bool | str,
    acquisition_times: bool,
    named: bool,
    enhancement: str,
    description: str | None,
) -> SeriesInfo:
    thickness = f"{grid.slice_thickness_mm:g}"
    if description is None:
        template = NAMED_DESCRIPTIONS[enhancement] if named else "LIVER {t}mm"
        description = template.format(t=thickness)
    injection = study.time + dt.timedelta(minutes=4)
    acq = injection + dt.timedelta(seconds=PHASE_DELAY_S[enhancement])
    enhanced = phase != "non_contrast"
    scanner = contrast_tags is True and enhanced
    agent = "" if contrast_tags == "empty" else (CONTRAST_AGENT if scanner else None)
    return SeriesInfo(
        series_instance_uid=uid(seed, patient_id, label, phase, "series"),
        frame_of_reference_uid=for_uid,
        number=SERIES_NUMBERS[phase],
        description=description,
        acquisition_time=acq if acquisition_times else None,
        contrast_agent=agent,
        contrast_start=injection if scanner else None,
    )


def paint_lesions(
    image: np.ndarray,
    phase: str,
    rendered: Sequence[tuple[tuple[slice, slice, slice], np.ndarray, np.ndarray] | None],
    z_offset: int = 0,
) -> None:
    """Paint supersampled lesions (``(box, whole, viable)`` fractions) into ``image`` in place.

    ``image`` holds slices ``z_offset ...`` of the grid the lesions were rendered on.
    """
    hv = np.float32(hu("viable", phase))
    hn = np.float32(hu("necrosis", phase))
    for item in rendered:
        if item is None:
            continue
        box, whole, viable = item
        lo = max(box[0].start, z_offset)
        hi = min(box[0].stop, z_offset + image.shape[0])
        if lo >= hi:
            continue
        src = slice(lo - box[0].start, hi - box[0].start)
        w, v = whole[src], viable[src]
        sub = image[lo - z_offset : hi - z_offset, box[1], box[2]]
        sub *= 1.0 - w
        sub += v * hv + (w - v) * hn


def _add_noise(image: np.ndarray, noise_hu: float, seed: int, t: int, phase: str, z0: int) -> None:
    """Add Gaussian noise in place, seeded per slice (independent of how slices are chunked)."""
    if noise_hu <= 0:
        return
    for i in range(image.shape[0]):
        rng = np.random.default_rng([seed, 2, t, PHASES.index(phase), z0 + i])
        image[i] += rng.standard_normal(image.shape[1:], dtype=np.float32) * np.float32(noise_hu)


def _write_slices(
    writers: dict[tuple[int, str], SeriesWriter],
    key: tuple[int, str],
    folder: Path,
    image: np.ndarray,
    z0: int,
    grid: SliceGrid,
    patient: PatientInfo,
    study: StudyInfo,
    series: SeriesInfo,
    seed: int,
    label: str,
    transfer_syntax: UID,
) -> None:
    """Write slices ``z0 ...`` of one series; its first slice is written in full by pydicom and
    sets up the fast :class:`SeriesWriter` for the rest."""
    phase = key[1]
    numbers = instance_numbers(grid.n_slices)
    stored = to_stored(image)
    for i in range(image.shape[0]):
        k = z0 + i
        sop_uid = uid(seed, patient.patient_id, label, phase, "instance", numbers[k])
        path = folder / f"{numbers[k]:04d}.dcm"
        writer = writers.get(key)
        if writer is None:
            folder.mkdir(parents=True, exist_ok=True)
            ds = slice_dataset(
                image[i],
                grid,
                k,
                numbers[k],
                sop_uid,
                patient,
                study,
                series,
                transfer_syntax=transfer_syntax,
                spacing_between_slices=grid.slice_spacing_mm,
            )
            save_dataset(ds, path)
            writers[key] = SeriesWriter(ds)
            continue
        position, location = slice_position(grid, k)
        writer.write(
            path,
            sop_instance_uid=sop_uid,
            instance_number=numbers[k],
            position=position,
            slice_location=location,
            pixel_element=(
                stored[i].tobytes()
                if transfer_syntax == ExplicitVRLittleEndian
                else pixel_element(stored[i], transfer_syntax)
            ),
        )


def _lesion_truth(
    lesion_id: str,
    spec: LesionSpec,
    shape: LesionShape,
    rendered: tuple[tuple[slice, slice, slice], np.ndarray, np.ndarray] | None,
    grid: SliceGrid,
) -> dict[str, object]:
    viable, whole = lesion_diameters(grid, shape)
    viable_mm = viable.length_mm if viable is not None else 0.0
    whole_mm = whole.length_mm if whole is not None else 0.0
    centre_idx = _to_index(grid, shape.ellipsoid.centre)
    seed = _seed_voxel(rendered, viable, whole, grid)
    if spec.category == "target":
        state = "measured"
    elif spec.category == "non_target":
        # mRECIST assesses non-targets by their enhancement: none left reads as absent.
        state = "absent" if viable_mm == 0.0 else "present"
    else:
        state = "unequivocal"
    return {
        "id": lesion_id,
        "category": spec.category,
        "kind": "viable" if spec.category == "target" else None,
        "organ": "liver",
        "location": spec.segment,
        "state": state,
        "centre_voxel": [round(float(v), 4) for v in centre_idx],
        "centre_lps": [round(float(v), 4) for v in shape.ellipsoid.centre],
        "seed_voxel": seed,
        "viable_diameter_mm": round(viable_mm, 4),
        "longest_diameter_mm": round(whole_mm, 4),
        "viable_volume_ml": round(shape.viable_volume_ml, 4),
        "volume_ml": round(shape.volume_ml, 4),
        "viable_line": _line(viable) if viable is not None and viable_mm > 0 else None,
        "longest_line": _line(whole),
        "viable_scale": round(shape.viable_scale, 4),
    }


def _line(d: Diameter | None) -> dict[str, object] | None:
    if d is None:
        return None
    return {
        "start": [round(v, 4) for v in d.start_zyx],
        "end": [round(v, 4) for v in d.end_zyx],
        "slice": d.slice_index,
    }


def _to_index(grid: SliceGrid, lps: np.ndarray) -> np.ndarray:
    m = grid.direction * np.asarray(grid.spacing_mm)
    return np.linalg.solve(m, np.asarray(lps, dtype=float) - grid.positions[0])


def _seed_voxel(
    rendered: tuple[tuple[slice, slice, slice], np.ndarray, np.ndarray] | None,
    viable: Diameter | None,
    whole: Diameter | None,
    grid: SliceGrid,
) -> list[int] | None:
    """The voxel a reader would click: fully inside the viable part on its largest slice and
    as far from its edge as possible (inside the lesion when nothing is viable)."""
    if rendered is None:
        return None
    box, whole_frac, viable_frac = rendered
    candidates = []
    if viable is not None and viable.length_mm > 0:
        candidates.append((viable.slice_index, viable_frac))
    if whole is not None:
        candidates.append((whole.slice_index, whole_frac))
    for k, frac in candidates:
        kk = k - box[0].start
        if not 0 <= kk < frac.shape[0] or frac[kk].max() <= 0.0:
            continue
        # Prefer voxels wholly inside; for a thin viable rim take the most viable voxels.
        inside = frac[kk] >= min(0.999, float(frac[kk].max()))
        depth = ndimage.distance_transform_edt(inside, sampling=grid.pixel_spacing_mm)
        y, x = np.unravel_index(int(np.argmax(depth)), depth.shape)
        return [int(k), int(y + box[1].start), int(x + box[2].start)]
    return None


def _hu_table() -> dict[str, tuple[float, ...]]:
    from lesion_tool.synth.anatomy import HU

    return HU


def _write_json(path: Path, data: object) -> None:
    from lesion_tool.synth.writer import write_whole

    write_whole(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))
