"""The main job, end to end, on a synthetic cohort generated on the fly.

Stages, for every patient (in worker processes, one patient at a time each):

1. **generate** the patient's multiphase CT studies with exact ground truth
   (:func:`lesion_tool.synth.generate_patient`);
2. **scan** the studies and choose each one's arterial series (:func:`lesion_tool.io.scan_folders`);
3. **measure** every lesion on that series with the semi-automatic tool
   (:func:`lesion_tool.measurement.measure_viable`) from its seed voxel in ``truth.json``, as a
   reader's click; the reader's judgements that are not measurements (category, state of
   non-target and new lesions, HCC pattern) come from ``assessment_truth.json``;
4. **save** the assessment (:func:`lesion_tool.storage.save_assessment`);
5. **export** one DICOM SR per timepoint (:func:`lesion_tool.storage.sr.export_sr`);

then, for the cohort: **rescore** under the presets and write the per-timepoint and per-patient
CSVs (:mod:`lesion_tool.response`), and write the **report** (:mod:`lesion_tool.report`).
Every stage is timed; measurement errors against the truth are summarised.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lesion_tool.errors import LesionToolError
from lesion_tool.model import Assessment, Category, Kind, Lesion, LesionState, Line, Timepoint
from lesion_tool.storage.assessment_json import round_diameter_mm

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_PATIENTS",
    "LesionComparison",
    "PatientOutcome",
    "PipelineResult",
    "cohort_plan",
    "error_summary",
    "format_summary",
    "process_patient",
    "run_pipeline",
]

DEFAULT_PATIENTS = 36
"""Default cohort size: enough for the endpoints and plots to mean something, a few minutes."""
DEMO_PHASES = ("non_contrast", "arterial", "portal_venous")
"""Phases written per timepoint: enough for the arterial-phase choice to be a real choice."""
READER = "lesion-tool^semi-automatic"
"""Reader name of the demo's assessments (a DICOM person name: it becomes the SR observer)."""
SAMPLE_PATIENT = Path(__file__).resolve().parents[1] / "test_images" / "synthetic" / "SYN-001"
"""The committed sample patient, added to the cohort when present (it is not regenerated)."""


@dataclass(frozen=True, slots=True)
class PatientPlan:
    """How one synthetic patient is generated (all deterministic from ``seed``)."""

    patient_id: str
    seed: int
    trajectory: str | None
    n_timepoints: int
    named_descriptions: bool = True
    existing_dir: Path | None = None
    """A patient folder already on disk (the committed sample): scanned, not generated."""


@dataclass(frozen=True, slots=True)
class LesionComparison:
    """One measured lesion at one timepoint against the generator's exact truth (mm)."""

    patient_id: str
    timepoint: str
    lesion_id: str
    category: str
    measured_viable_mm: float | None
    true_viable_mm: float | None
    measured_whole_mm: float
    true_whole_mm: float

    @property
    def viable_error_mm(self) -> float | None:
        """Measured minus true viable diameter (None when not a viable measurement)."""
        if self.measured_viable_mm is None or self.true_viable_mm is None:
            return None
        return self.measured_viable_mm - self.true_viable_mm

    @property
    def whole_error_mm(self) -> float:
        """Measured minus true whole-lesion longest diameter."""
        return self.measured_whole_mm - self.true_whole_mm


@dataclass(slots=True)
class PatientOutcome:
    """What the per-patient stages produced (returned from a worker process)."""

    patient_id: str
    patient_dir: Path | None = None
    assessment: Assessment | None = None
    assessment_path: Path | None = None
    sr_files: list[Path] = field(default_factory=list)
    comparisons: list[LesionComparison] = field(default_factory=list)
    arterial_correct: int = 0
    """Studies whose chosen series is the generator's arterial series."""
    studies: int = 0
    manual: int = 0
    """Lesions the semi-automatic tool could not measure (drawn by hand or not evaluated)."""
    problems: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(slots=True)
class PipelineResult:
    """Everything the demo wrote and measured."""

    out_dir: Path
    images_dir: Path
    assessments_dir: Path
    sr_dir: Path
    timepoints_csv: Path | None
    patients_csv: Path | None
    report: Any
    """:class:`lesion_tool.report.ReportResult` (None when no patient could be reported)."""
    outcomes: list[PatientOutcome]
    endpoints: dict[str, Any]
    stage_seconds: dict[str, float]
    """Stage -> seconds: per-patient stages summed over workers (CPU-side time), cohort stages
    wall time; ``"parallel wall"`` is the wall time of the per-patient part, ``"total"`` all."""
    workers: int
    problems: list[str]

    @property
    def comparisons(self) -> list[LesionComparison]:
        """All lesion measurements against truth."""
        return [c for o in self.outcomes for c in o.comparisons]


def cohort_plan(
    n_patients: int = DEFAULT_PATIENTS, seed: int = 2026, include_sample: bool = True
) -> list[PatientPlan]:
    """The demo cohort: trajectories in turn (so each course is represented), 4 to 6 timepoints.

    Every fourth patient has neutral series descriptions, so its arterial phase must be found
    from the contrast tags and pixels rather than the description.
    """
    from lesion_tool.synth import TRAJECTORIES

    if n_patients < 0:
        raise ValueError(f'Argument "n_patients" must be >= 0, got {n_patients}.')
    plans = [
        PatientPlan(
            patient_id=f"DEMO-{i + 1:03d}",
            seed=seed * 1000 + i,
            trajectory=TRAJECTORIES[i % len(TRAJECTORIES)],
            n_timepoints=4 + (i % 3),
            named_descriptions=(i % 4 != 3),
        )
        for i in range(n_patients)
    ]
    if include_sample and (SAMPLE_PATIENT / "truth.json").is_file():
        plans.append(PatientPlan(SAMPLE_PATIENT.name, 0, None, 0, existing_dir=SAMPLE_PATIENT))
    return plans


# ------------------------------------------------------------------------------ per patient
def _line(diameter: Any) -> Line | None:
    if diameter is None or diameter.start_voxel is None or diameter.length_mm <= 0:
        return None
    return Line(tuple(diameter.start_voxel), tuple(diameter.end_voxel), "voxel")


def _round(value_mm: float) -> float:
    """Half-up to 0.1 mm: the core's one rounding (the response engine and saving use it too)."""
    return round_diameter_mm(float(value_mm))


def _measured_lesion(lesion: Lesion, m: Any) -> Lesion:
    """The reader's lesion with the tool's diameters and lines in place of the truth's."""
    seed = tuple(float(v) for v in m.seed_voxel)
    if lesion.category == Category.NEW:
        return dataclasses.replace(
            lesion, longest_diameter_mm=_round(m.whole.length_mm), line=_line(m.whole), seed=seed
        )
    if lesion.kind == Kind.SHORT_AXIS:
        return dataclasses.replace(
            lesion,
            short_axis_mm=_round(m.whole_perpendicular.length_mm),
            line=_line(m.whole_perpendicular),
            seed=seed,
        )
    if lesion.kind == Kind.LONGEST:
        return dataclasses.replace(
            lesion, longest_diameter_mm=_round(m.whole.length_mm), line=_line(m.whole), seed=seed
        )
    return dataclasses.replace(
        lesion,
        viable_diameter_mm=_round(m.viable.length_mm),
        longest_diameter_mm=_round(m.whole.length_mm),
        line=_line(m.viable),
        longest_line=_line(m.whole),
        seed=seed,
    )


def _manual_lesion(lesion: Lesion, truth: dict[str, Any], volume: Any) -> Lesion | None:
    """The lesion measured from hand-drawn lines (``truth``'s end points, voxel ``(z, y, x)``).

    Lengths are in-plane (axial) lengths from :func:`lesion_tool.measurement.measure_line`.
    Returns None when the truth has no line for a diameter the lesion needs.
    """
    from lesion_tool.measurement import measure_line

    def drawn(key: str) -> tuple[float, Line] | None:
        line = truth.get(key)
        if not line:
            return None
        m = measure_line(volume, line["start"], line["end"], space="voxel")
        return round(m.in_plane_length_mm, 1), Line(line["start"], line["end"], "voxel")

    whole = drawn("longest_line")
    if whole is None or lesion.kind == Kind.SHORT_AXIS:
        return None
    if lesion.category == Category.NEW or lesion.kind == Kind.LONGEST:
        return dataclasses.replace(lesion, longest_diameter_mm=whole[0], line=whole[1])
    viable = drawn("viable_line")
    return dataclasses.replace(
        lesion,
        viable_diameter_mm=viable[0] if viable else 0.0,
        longest_diameter_mm=whole[0],
        line=viable[1] if viable else None,
        longest_line=whole[1],
    )


def _needs_measurement(lesion: Lesion) -> bool:
    if lesion.category == Category.TARGET:
        return lesion.state == LesionState.MEASURED
    if lesion.category == Category.NEW:
        return lesion.longest_diameter_mm is not None
    return False


def process_patient(
    plan: PatientPlan,
    images_dir: Path,
    assessments_dir: Path,
    sr_dir: Path,
    presets: Sequence[str],
    shape: tuple[int, int, int] = (32, 160, 160),
) -> PatientOutcome:
    """Generate, scan, measure, save and export one patient; problems are recorded, not raised.

    A lesion the semi-automatic tool cannot measure (``MeasurementError``) is measured from
    hand-drawn lines instead (what the tool asks the reader to do; the lines are the truth's end
    points, their lengths measured on the series), or stored ``not_evaluated`` when there is no
    line to draw; either way it is counted in ``manual`` and reported in ``problems``, and it is
    left out of ``comparisons`` (which judge the semi-automatic tool only).

    Parameters
    ----------
    plan
        The patient to generate (or the existing folder to use).
    images_dir, assessments_dir, sr_dir
        Output folders: generated DICOM, ``<patient_id>.json``, ``<patient_id>/`` SR files.
    presets
        Criteria whose responses the SR reports (the first is the measurement method).
    shape
        ``(slices, rows, columns)`` of each generated series.
    """
    from lesion_tool.io import load_series, scan_folders
    from lesion_tool.measurement import measure_viable
    from lesion_tool.storage import load_assessment
    from lesion_tool.storage.audit import save_audited
    from lesion_tool.storage.sr import export_sr
    from lesion_tool.synth import generate_patient

    out = PatientOutcome(plan.patient_id)
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        out.seconds[stage] = out.seconds.get(stage, 0.0) + now - clock
        clock = now

    try:
        if plan.existing_dir is not None:
            patient_dir = plan.existing_dir
        else:
            patient_dir = generate_patient(
                images_dir,
                patient_id=plan.patient_id,
                seed=plan.seed,
                shape=shape,
                n_timepoints=plan.n_timepoints,
                phases=DEMO_PHASES,
                trajectory=plan.trajectory,
                named_descriptions=plan.named_descriptions,
            )
        out.patient_dir = patient_dir
        truth = json.loads((patient_dir / "truth.json").read_text("utf-8"))
        reading = load_assessment(patient_dir / "assessment_truth.json")
        lap("generate")

        # the timepoint folders: truth.json and assessment_truth.json beside them are not DICOM
        scan = scan_folders(sorted(d for d in patient_dir.iterdir() if d.is_dir()))
        for problem in scan.problems:
            out.problems.append(f"{plan.patient_id}: {problem.path}: {problem.reason}")
        studies = {s.study_instance_uid: s for s in scan.studies}
        lap("scan")

        truth_tps = {tp["study_instance_uid"]: tp for tp in truth["timepoints"]}
        measured_files: list[list[Path]] = []
        timepoints: list[Timepoint] = []
        for tp in reading.timepoints:
            where = f"{plan.patient_id} {tp.label}"
            study = studies.get(tp.study_instance_uid or "")
            truth_tp = truth_tps.get(tp.study_instance_uid or "")
            out.studies += 1
            if study is None or study.arterial_series is None or truth_tp is None:
                reason = "study not found" if study is None else study.arterial_reason
                out.problems.append(f"{where}: no arterial series to measure on ({reason})")
                lesions = tuple(
                    dataclasses.replace(
                        les,
                        state=LesionState.NOT_EVALUATED,
                        line=None,
                        longest_line=None,
                        viable_diameter_mm=None,
                        longest_diameter_mm=None,
                        short_axis_mm=None,
                    )
                    if les.category == Category.TARGET
                    else les
                    for les in tp.lesions
                )
                timepoints.append(dataclasses.replace(tp, lesions=lesions))
                continue
            chosen = study.arterial_series
            true_arterial = truth_tp["series"].get("arterial", {}).get("series_instance_uid")
            if chosen.series_instance_uid == true_arterial:
                out.arterial_correct += 1
            else:
                out.problems.append(
                    f"{where}: chose series {chosen.description!r} as arterial, the generator's "
                    f"arterial series is another ({study.arterial_reason})"
                )
            measured_files.append(list(chosen.files))
            volume = load_series(list(chosen.files))
            truth_lesions = {les["id"]: les for les in truth_tp["lesions"]}
            lesions = []
            for les in tp.lesions:
                true_lesion = truth_lesions.get(les.id)
                if not _needs_measurement(les) or true_lesion is None:
                    lesions.append(les)
                    continue
                try:
                    m = measure_viable(volume, true_lesion["seed_voxel"])
                except LesionToolError as err:
                    # What the tool tells the reader to do: draw the diameters by hand. The
                    # reader's lines are the generator's (where the exact diameters lie); their
                    # lengths are measured on this series like any hand-drawn line.
                    manual = _manual_lesion(les, true_lesion, volume)
                    how = "drawn by hand instead" if manual is not None else "not evaluated"
                    out.problems.append(f"{where} {les.id}: semi-automatic failed ({how}): {err}")
                    out.manual += 1
                    if manual is not None:
                        lesions.append(manual)
                    elif les.category == Category.TARGET:
                        lesions.append(
                            dataclasses.replace(
                                les,
                                state=LesionState.NOT_EVALUATED,
                                viable_diameter_mm=None,
                                longest_diameter_mm=None,
                                line=None,
                                longest_line=None,
                            )
                        )
                    else:
                        lesions.append(les)
                    continue
                measured = _measured_lesion(les, m)
                lesions.append(measured)
                viable = les.category == Category.TARGET and les.kind == Kind.VIABLE
                out.comparisons.append(
                    LesionComparison(
                        plan.patient_id,
                        tp.label,
                        les.id,
                        str(les.category),
                        float(m.viable.length_mm) if viable else None,
                        float(true_lesion["viable_diameter_mm"]) if viable else None,
                        float(m.whole.length_mm),
                        float(true_lesion["longest_diameter_mm"]),
                    )
                )
            timepoints.append(
                dataclasses.replace(
                    tp,
                    lesions=tuple(lesions),
                    series_instance_uid=chosen.series_instance_uid,
                    study_instance_uid=study.study_instance_uid,
                )
            )
        assessment = dataclasses.replace(reading, timepoints=tuple(timepoints), reader=READER)
        lap("measure")

        path = assessments_dir / f"{plan.patient_id}.json"
        save_audited(assessment, path, by=READER, action="demo measurement")
        out.assessment = assessment
        out.assessment_path = path
        lap("save")

        try:
            # export_sr searches its image folder for each timepoint's series, reading every
            # header below it once per timepoint; a folder holding only the measured series
            # (symbolic links) keeps that search to the files it needs.
            with tempfile.TemporaryDirectory(prefix="sr-images-") as tmp:
                for k, files in enumerate(measured_files):
                    folder = Path(tmp) / f"{k:03d}"
                    folder.mkdir()
                    for f in files:
                        (folder / f.name).symlink_to(f.resolve())
                out.sr_files = export_sr(
                    assessment, tmp, sr_dir / plan.patient_id, criteria=presets
                )
        except LesionToolError as err:
            out.problems.append(f"{plan.patient_id}: SR export failed: {err}")
        lap("export SR")
    except LesionToolError as err:
        out.problems.append(f"{plan.patient_id}: {err}")
    return out


def _process(args: tuple[Any, ...]) -> PatientOutcome:
    return process_patient(*args)


# ------------------------------------------------------------------------------ cohort
DEMO_MANIFEST = ".lesion-tool-demo.json"
"""Kept in a demo's output folder: what the demo writes there, so a re-run may replace exactly
that and nothing a user put there."""

_DEMO_OUTPUTS = ("images", "assessments", "sr", "report", "timepoints.csv", "patients.csv")
"""The demo's outputs below ``out``; an interrupted run (manifest still incomplete) may have
left any file under these, and nothing else."""


def _is_demo_output(rel: str, manifest: dict[str, Any]) -> bool:
    if manifest.get("complete"):
        return rel in set(manifest.get("files", ()))
    return rel.split("/", 1)[0] in _DEMO_OUTPUTS


def clear_earlier_demo(out: Path) -> None:
    """Make ``out`` ready for a demo run without ever deleting a file the demo did not write.

    ``out`` may be missing or empty. Otherwise it must hold an earlier run's manifest
    (:data:`DEMO_MANIFEST`) and no file beyond what that run wrote; those are removed. Anything
    else is refused with the files named, so a reader's ``assessments/my_reading.json`` is safe.
    """
    if not out.exists():
        return
    if not out.is_dir():
        raise LesionToolError(f"--out {out} is a file, not a folder.")
    try:
        present = sorted(p for p in out.rglob("*") if not p.is_dir())
    except OSError as err:
        raise LesionToolError(f"Cannot read the output folder {out}: {err}") from err
    manifest_path = out / DEMO_MANIFEST
    manifest: dict[str, Any] = {}
    if manifest_path.is_file():
        try:
            manifest = json.loads(manifest_path.read_text("utf-8"))
            if not isinstance(manifest, dict):
                raise TypeError("not an object")
        except (OSError, ValueError, TypeError) as err:
            raise LesionToolError(
                f"{manifest_path}: not a readable demo manifest ({err}); choose an empty --out "
                "folder."
            ) from err
    others = [p for p in present if p != manifest_path]
    foreign = [p for p in others if not _is_demo_output(p.relative_to(out).as_posix(), manifest)]
    if others and not manifest:
        foreign = others
    if foreign:
        listed = ", ".join(str(p) for p in foreign[:5])
        more = f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        raise LesionToolError(
            f"--out {out} already holds files the demo did not write ({listed}{more}); the demo "
            "replaces only its own earlier output. Choose a new or empty folder."
        )
    for p in others:
        p.unlink()
    for d in sorted((p for p in out.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(d.iterdir()):
            d.rmdir()


def _write_demo_manifest(out: Path, *, complete: bool) -> None:
    """Mark ``out`` as a demo's folder; once ``complete``, list every file this run wrote."""
    files = (
        sorted(
            p.relative_to(out).as_posix()
            for p in out.rglob("*")
            if p.is_file() and p.name != DEMO_MANIFEST
        )
        if complete
        else []
    )
    text = json.dumps({"complete": complete, "files": files}, indent=0)
    (out / DEMO_MANIFEST).write_text(text, "utf-8")


def run_pipeline(
    out_dir: str | Path,
    n_patients: int = DEFAULT_PATIENTS,
    *,
    seed: int = 2026,
    workers: int | None = None,
    presets: Sequence[str] | None = None,
    include_sample: bool = True,
    shape: tuple[int, int, int] = (32, 160, 160),
    progress: Callable[[str], None] | None = None,
) -> PipelineResult:
    """Run the whole job on a generated cohort; see the module docstring for the stages.

    Parameters
    ----------
    out_dir
        Receives ``images/`` (generated DICOM), ``assessments/`` (one JSON per patient),
        ``sr/<patient>/`` (DICOM SR), ``timepoints.csv``, ``patients.csv`` and ``report/``.
        It must be empty, new, or an earlier demo's output folder holding nothing but what
        that run wrote (see :func:`clear_earlier_demo`); a user's file is never removed.
    n_patients
        Generated patients (the committed sample patient is added when present).
    seed
        Base seed: the same seed gives the same cohort.
    workers
        Processes for the per-patient stages (default: up to 2, the CPUs available).
    presets
        Criteria presets to score and report (default: all).
    shape
        ``(slices, rows, columns)`` of each generated series.

    Raises
    ------
    LesionToolError
        The output folder cannot be written, or no patient came through.
    """
    from lesion_tool.response import (
        PRESETS,
        cohort_endpoints,
        score_assessment,
        settings_for,
        write_patients_csv,
        write_timepoints_csv,
    )

    say = progress or (lambda _msg: None)
    presets = tuple(presets or PRESETS)
    total_start = time.perf_counter()
    out = Path(out_dir)
    images_dir, assessments_dir, sr_dir = out / "images", out / "assessments", out / "sr"
    clear_earlier_demo(out)
    try:
        for folder in (images_dir, assessments_dir, sr_dir):
            folder.mkdir(parents=True, exist_ok=True)
        _write_demo_manifest(out, complete=False)
    except OSError as err:
        raise LesionToolError(f"Cannot create the output folder {out}: {err}") from err

    plans = cohort_plan(n_patients, seed, include_sample)
    n_workers = max(1, min(workers or min(2, os.cpu_count() or 1), len(plans) or 1))
    jobs = [(plan, images_dir, assessments_dir, sr_dir, presets, shape) for plan in plans]
    say(f"{len(plans)} patients: generate, scan, measure, save, export SR ({n_workers} workers)")
    parallel_start = time.perf_counter()
    outcomes: list[PatientOutcome] = []
    if n_workers == 1:
        for i, job in enumerate(jobs, 1):
            outcomes.append(_process(job))
            say(f"  patient {i}/{len(jobs)} done")
    else:
        with ProcessPoolExecutor(max_workers=n_workers) as pool:
            for i, outcome in enumerate(pool.map(_process, jobs), 1):
                outcomes.append(outcome)
                say(f"  patient {i}/{len(jobs)} done")
    stage_seconds: dict[str, float] = {}
    for outcome in outcomes:
        for stage, sec in outcome.seconds.items():
            stage_seconds[stage] = stage_seconds.get(stage, 0.0) + sec
    stage_seconds["parallel wall"] = time.perf_counter() - parallel_start
    problems = [p for o in outcomes for p in o.problems]

    # rescore
    say("rescore")
    start = time.perf_counter()
    done = [o for o in outcomes if o.assessment is not None]
    if not done:
        raise LesionToolError("No patient came through the pipeline: " + "; ".join(problems[:5]))
    from lesion_tool.report import agreement_pairs

    needed = list(
        dict.fromkeys([*presets, *(p for pair in agreement_pairs(presets) for p in pair)])
    )
    settings = {p: settings_for(p) for p in needed}
    scored = []
    for o in done:
        try:
            scored.append((o, {p: score_assessment(o.assessment, settings[p]) for p in needed}))
        except LesionToolError as err:
            problems.append(f"{o.patient_id}: cannot be scored: {err}")
    all_results = [r[p] for _o, r in scored for p in presets]
    timepoints_csv = out / "timepoints.csv"
    patients_csv = out / "patients.csv"
    with open(timepoints_csv, "w", newline="", encoding="utf-8") as fh:
        write_timepoints_csv(all_results, fh)
    with open(patients_csv, "w", newline="", encoding="utf-8") as fh:
        write_patients_csv(all_results, fh)
    endpoints = {p: cohort_endpoints([r[p] for _o, r in scored]) for p in presets}
    stage_seconds["rescore"] = time.perf_counter() - start

    # report
    say("report")
    start = time.perf_counter()
    from lesion_tool.report import PatientReport, write_report

    result = PipelineResult(
        out,
        images_dir,
        assessments_dir,
        sr_dir,
        timepoints_csv,
        patients_csv,
        None,
        outcomes,
        endpoints,
        stage_seconds,
        n_workers,
        problems,
    )
    result.report = write_report(
        [PatientReport(o.assessment, r, o.assessment_path) for o, r in scored],
        out / "report",
        presets,
        problems=[(p.split(":", 1)[0], p.split(":", 1)[-1].strip()) for p in problems],
        title="lesion-tool demo: synthetic HCC cohort",
        problems_heading="Pipeline problems",
        problems_note="problem(s) met by the pipeline (the patients are still reported)",
        run_summary=format_summary(result),
    )
    stage_seconds["report"] = time.perf_counter() - start
    _write_demo_manifest(out, complete=True)
    stage_seconds["total"] = time.perf_counter() - total_start
    return result


def error_summary(comparisons: Sequence[LesionComparison]) -> dict[str, dict[str, float]]:
    """Mean signed error, mean and max absolute error (mm) and share within 2 mm, per diameter."""
    out: dict[str, dict[str, float]] = {}
    for name, errors in (
        ("viable", [c.viable_error_mm for c in comparisons if c.viable_error_mm is not None]),
        ("whole", [c.whole_error_mm for c in comparisons]),
    ):
        if not errors:
            continue
        absolute = [abs(e) for e in errors]
        out[name] = {
            "n": float(len(errors)),
            "mean_mm": sum(errors) / len(errors),
            "mean_abs_mm": sum(absolute) / len(absolute),
            "max_abs_mm": max(absolute),
            "within_2mm": sum(a <= 2.0 for a in absolute) / len(absolute),
        }
    return out


def format_summary(result: PipelineResult) -> str:
    """The demo's printed summary: outputs, endpoints per preset, measurement error, timings."""
    from lesion_tool.report.style import PRESET_LABELS

    lines = []
    n = len([o for o in result.outcomes if o.assessment is not None])
    lines.append(f"Patients processed: {n} of {len(result.outcomes)}")
    studies = sum(o.studies for o in result.outcomes)
    correct = sum(o.arterial_correct for o in result.outcomes)
    lines.append(
        f"Arterial series chosen = generator's arterial series: {correct}/{studies} studies"
    )
    manual = sum(o.manual for o in result.outcomes)
    lines.append(
        f"Lesion measurements: {len(result.comparisons)} semi-automatic from the seed, {manual} "
        "where the tool failed (drawn by hand; not in the error figures below)"
    )
    lines.append("")
    lines.append("Outputs")
    lines.append(f"  images (DICOM)        {result.images_dir}")
    lines.append(f"  assessments (JSON)    {result.assessments_dir}")
    n_sr = sum(len(o.sr_files) for o in result.outcomes)
    lines.append(f"  DICOM SR ({n_sr} files)  {result.sr_dir}")
    lines.append(f"  per-timepoint CSV     {result.timepoints_csv}")
    lines.append(f"  per-patient CSV       {result.patients_csv}")
    if result.report is not None:
        lines.append(f"  report (HTML)         {result.report.html}")
        lines.append(f"  report (PDF)          {result.report.pdf}")
        lines.append(f"  plots (PNG)           {result.report.out_dir / 'plots'}")
    lines.append("")
    lines.append("Endpoints")
    for preset, ep in result.endpoints.items():

        def pct(x: float | None) -> str:
            return "n/a" if x is None else f"{100 * x:.1f}%"

        median = "not reached" if ep.median_pfs_days is None else f"{ep.median_pfs_days:.0f} d"
        lo, hi = ep.median_pfs_ci
        ci = f"{'NR' if lo is None else f'{lo:.0f}'}-{'NR' if hi is None else f'{hi:.0f}'}"
        lines.append(
            f"  {PRESET_LABELS.get(preset, preset):12s} ORR {pct(ep.orr)} "
            f"({ep.n_responders}/{ep.n_evaluable})  DCR {pct(ep.dcr)} "
            f"({ep.n_disease_control}/{ep.n_evaluable})  median PFS {median} (95% CI {ci})"
        )
    errors = error_summary(result.comparisons)
    if errors:
        lines.append("")
        lines.append("Measurement vs truth (semi-automatic tool from the seed click)")
        for name, e in errors.items():
            lines.append(
                f"  {name:6s} diameter: n={int(e['n'])}, mean error {e['mean_mm']:+.2f} mm, "
                f"mean |error| {e['mean_abs_mm']:.2f} mm, max |error| {e['max_abs_mm']:.2f} mm, "
                f"within 2 mm {100 * e['within_2mm']:.0f}%"
            )
    lines.append("")
    lines.append(f"Time per stage (s; per-patient stages summed over {result.workers} workers)")
    for stage, sec in result.stage_seconds.items():
        lines.append(f"  {stage:14s} {sec:7.1f}")
    if result.problems:
        lines.append("")
        lines.append(f"Problems ({len(result.problems)})")
        lines.extend(f"  {p}" for p in result.problems[:20])
        if len(result.problems) > 20:
            lines.append(f"  ... and {len(result.problems) - 20} more (see the report)")
    return "\n".join(lines)
