"""``lesion-tool propagate``: carry each baseline target to the follow-ups as proposals for review.

``lesion-tool propagate ASSESSMENT [ASSESSMENT ...] --images FOLDER [--timepoint LABEL]
[--out FILE]`` registers each follow-up series (found in FOLDER by the SeriesInstanceUID the
assessment names, else the study's arterial series) to the baseline series, maps every baseline
target's seed and lines, runs the semi-automatic measurement there and writes the proposals as
JSON (``<assessment>.proposals.json`` beside each assessment unless ``--out`` is given). A target
that cannot be found with confidence is ``"flagged"`` with the reasons.

Registrations are cached in ``<assessment>.registration.json`` beside the assessment (the
assessment file itself is not changed), keyed by both series and their files' modification
times: a second run does not register again. Heavy modules are imported inside functions so the
command line starts quickly.

Each assessment is one item of work for :mod:`lesion_tool.executor`: in this process by default,
on ``--workers N`` local processes or on a Dask cluster (``--scheduler tcp://HOST:PORT``). The
item carries only the part of the scanned folder that assessment names; the proposals files are
written and reported here, in the order given, so the output is the same wherever the work ran.
Each registration stays single-threaded per stage (reproducible), so a cohort gains from workers,
not threads.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from lesion_tool.errors import LesionToolError

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``propagate`` subcommand."""
    parser = subparsers.add_parser(
        "propagate",
        help="carry baseline targets to follow-ups by registration (proposals for review)",
        description=(
            "Register each follow-up to the baseline series, map every baseline target there "
            "with a confidence check and measure it as a proposal; writes JSON for review."
        ),
    )
    parser.add_argument("assessments", nargs="+", metavar="ASSESSMENT", help="assessment JSON")
    parser.add_argument(
        "--images", required=True, metavar="FOLDER", help="folder holding the patients' series"
    )
    parser.add_argument(
        "--timepoint", metavar="LABEL", help="only this follow-up (default: every follow-up)"
    )
    parser.add_argument(
        "--out",
        metavar="FILE",
        help=(
            "proposals file (one assessment) or folder (several); default "
            "<assessment>.proposals.json beside each assessment"
        ),
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="register again even when the sidecar holds a result for the pair",
    )
    from lesion_tool.executor import add_executor_arguments

    add_executor_arguments(parser)
    parser.set_defaults(func=run)


def _out_path(assessment: Path, out: str | None, several: bool) -> Path:
    stem = assessment.name[:-5] if assessment.name.endswith(".json") else assessment.name
    if out is None:
        return assessment.with_name(f"{stem}.proposals.json")
    target = Path(out)
    if several:
        if not target.is_dir():
            raise LesionToolError(
                f"--out {out}: with several assessments, --out must be an existing folder."
            )
        return target / f"{assessment.parent.name}_{stem}.proposals.json"
    return target / f"{stem}.proposals.json" if target.is_dir() else target


def _find_stack(scan: Any, timepoint: Any) -> Any:
    """The series of ``timepoint`` in the scanned folder: by SeriesInstanceUID, else the
    arterial series its study was given (or its largest image stack)."""
    uid = timepoint.series_instance_uid
    if uid:
        stacks = [s for s in scan.stacks if s.series_instance_uid == uid and s.role == "image"]
        if stacks:
            return max(stacks, key=lambda s: s.slice_count)
    for study in scan.studies:
        if (
            timepoint.study_instance_uid
            and study.study_instance_uid == timepoint.study_instance_uid
        ):
            if study.arterial_series is not None:
                return study.arterial_series
            if study.image_stacks:
                return max(study.image_stacks, key=lambda s: s.slice_count)
    what = f"series {uid}" if uid else f"study {timepoint.study_instance_uid}"
    raise LesionToolError(f"timepoint {timepoint.label!r}: {what} is not in the --images folder.")


def propagate_assessment(
    assessment_path: Path,
    scan: Any,
    *,
    timepoint: str | None = None,
    use_cache: bool = True,
) -> dict[str, Any]:
    """Proposals (JSON-able) for every follow-up of one assessment.

    Raises
    ------
    LesionToolError
        The assessment cannot be read, has no baseline target, or its baseline series is absent.
    """
    import numpy as np

    from lesion_tool.io import load_series
    from lesion_tool.registration import cache
    from lesion_tool.registration.propagate import propagate_targets, targets_of
    from lesion_tool.registration.register import RegistrationSettings, register_series
    from lesion_tool.storage import load_assessment

    assessment = load_assessment(assessment_path)
    if len(assessment.timepoints) < 2:
        raise LesionToolError(f"{assessment_path}: no follow-up timepoint to propagate to.")
    base_tp = assessment.timepoints[0]
    follow_ups = [tp for tp in assessment.timepoints[1:] if timepoint in (None, tp.label)]
    if not follow_ups:
        labels = ", ".join(tp.label for tp in assessment.timepoints[1:])
        raise LesionToolError(
            f"{assessment_path}: no follow-up labelled {timepoint!r} (follow-ups: {labels})."
        )
    base_stack = _find_stack(scan, base_tp)
    baseline = load_series(list(base_stack.files))
    targets = targets_of(base_tp, baseline)
    if not targets:
        raise LesionToolError(
            f"{assessment_path}: the baseline {base_tp.label!r} has no target with a seed or line."
        )
    focus = baseline.index_to_patient(np.array([t.seed_zyx for t in targets]))
    settings = RegistrationSettings()
    sidecar = cache.sidecar_path(assessment_path)
    base_sig = cache.volume_signature(baseline)
    result: dict[str, Any] = {
        "format": "lesion-tool.proposals",
        "version": 1,
        "assessment": str(assessment_path),
        "patient_id": assessment.patient_id,
        "registration_sidecar": str(sidecar),
        "baseline": {"label": base_tp.label, "series_instance_uid": base_stack.series_instance_uid},
        "follow_ups": [],
    }
    for tp in follow_ups:
        entry: dict[str, Any] = {"label": tp.label}
        try:
            stack = _find_stack(scan, tp)
            follow_up = load_series(list(stack.files))
        except LesionToolError as err:
            entry["error"] = str(err)
            result["follow_ups"].append(entry)
            continue
        key = cache.pair_key(
            base_stack.series_instance_uid,
            stack.series_instance_uid,
            base_sig,
            cache.volume_signature(follow_up),
            settings,
            focus,
        )
        t0 = time.perf_counter()
        registration = cache.read_cached(sidecar, key) if use_cache else None
        cached = registration is not None
        if registration is None:
            try:
                registration = register_series(
                    baseline, follow_up, focus_lps=focus, settings=settings
                )
            except RuntimeError as err:  # SimpleITK: e.g. no overlap between the series
                first = str(err).strip().splitlines()[-1][:200]
                entry["error"] = f"timepoint {tp.label!r}: the registration failed ({first})."
                result["follow_ups"].append(entry)
                continue
            cache.store(sidecar, key, registration)
        # the phase the scan called (unknown: the assessment's series, read as arterial)
        phase = None if stack.phase is None else str(stack.phase.phase)
        phase = None if phase == "unknown" else phase
        proposals = propagate_targets(registration, baseline, follow_up, targets, phase=phase)
        entry.update(
            series_instance_uid=stack.series_instance_uid,
            registration={
                "key": key,
                "cached": cached,
                "register_seconds": round(registration.seconds, 2),
                "seconds": round(time.perf_counter() - t0, 2),
            },
            proposals=[p.to_dict() for p in proposals],
        )
        result["follow_ups"].append(entry)
    return result


def _scan_for(assessment_path: Path, scan: Any) -> Any:
    """The part of ``scan`` that ``assessment_path`` can use: the studies holding a series or
    study its timepoints name (what :func:`_find_stack` searches), so that an item of work sent
    to another process carries a few studies, not the whole folder's headers. An assessment
    that cannot be read gets no studies: the worker then reports the same error as here."""
    from lesion_tool.storage import load_assessment

    try:
        assessment = load_assessment(assessment_path)
    except LesionToolError:
        return replace(scan, patients=())
    series = {tp.series_instance_uid for tp in assessment.timepoints if tp.series_instance_uid}
    studies = {tp.study_instance_uid for tp in assessment.timepoints if tp.study_instance_uid}
    patients = []
    for patient in scan.patients:
        kept = tuple(
            study
            for study in patient.studies
            if study.study_instance_uid in studies
            or any(s.series_instance_uid in series for s in study.series)
        )
        if kept:
            patients.append(replace(patient, studies=kept))
    return replace(scan, patients=tuple(patients))


def _propagate_item(
    item: tuple[Path, Any], *, timepoint: str | None, use_cache: bool
) -> tuple[dict[str, Any], list[tuple[type[Warning], str]]]:
    """One assessment's proposals where the executor runs it (module level: picklable), and
    the warnings raised meanwhile (a worker's own stderr is not the command's: the command
    shows them, in the order of the assessments)."""
    path, scan = item
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = propagate_assessment(path, scan, timepoint=timepoint, use_cache=use_cache)
    return result, [(w.category, str(w.message)) for w in caught]


def run(args: argparse.Namespace) -> int:
    """Write the proposals of every assessment; 1 when any assessment or follow-up failed."""
    from lesion_tool.executor import executor_from_args
    from lesion_tool.io import scan_folders
    from lesion_tool.storage.atomic import atomic_write

    images = Path(args.images)
    if not images.is_dir():
        raise LesionToolError(f"--images {args.images}: no such folder.")
    paths = [Path(a) for a in args.assessments]
    several = len(paths) > 1
    outs = [_out_path(p, args.out, several) for p in paths]  # refuse a bad --out before work
    executor = executor_from_args(args)
    scan = scan_folders(images, use_pixels=True, executor=executor)
    if not scan.stacks:
        raise LesionToolError(f"--images {args.images}: no DICOM series found.")
    work = partial(_propagate_item, timepoint=args.timepoint, use_cache=not args.no_cache)
    outcomes = executor.map(work, [(p, _scan_for(p, scan)) for p in paths], label="propagate")
    failed = 0
    for outcome, out in zip(outcomes, outs, strict=True):
        if outcome.error is not None:
            print(f"lesion-tool: error: {outcome.error}", file=sys.stderr)
            failed += 1
            continue
        assert outcome.value is not None
        result, raised = outcome.value
        for category, message in raised:
            warnings.warn(message, category, stacklevel=1)
        with atomic_write(out) as fh:
            json.dump(result, fh, indent=1)
            fh.write("\n")
        n = sum(len(f.get("proposals", [])) for f in result["follow_ups"])
        flagged = sum(
            p["status"] == "flagged" for f in result["follow_ups"] for p in f.get("proposals", [])
        )
        bad = [f["label"] for f in result["follow_ups"] if "error" in f]
        for f in result["follow_ups"]:
            if "error" in f:
                print(f"lesion-tool: error: {f['error']}", file=sys.stderr)
        failed += bool(bad)
        print(f"{out}: {n} proposals ({flagged} flagged for review)")
    return 1 if failed else 0
