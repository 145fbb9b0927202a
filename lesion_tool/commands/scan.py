"""``lesion-tool scan FOLDER... [--json]``: studies, series, contrast phases, what to measure.

``lesion-tool scan --url URL (--patient ID | --study UID)`` scans a PACS study instead: it is
retrieved into the local cache first (as ``lesion-tool pull`` does: resumable, progress on
standard error), and the cache folder is scanned, so the output is the local scan's.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import TYPE_CHECKING, Any

from lesion_tool.commands._deid import add_deid_arguments, deidentifier_from_args
from lesion_tool.commands._pacs import (
    add_connection_arguments,
    refuse_connection_options,
)
from lesion_tool.errors import LesionToolError, PacsError, SeriesError

if TYPE_CHECKING:
    from lesion_tool.deid import Deidentifier
    from lesion_tool.io.scan import ScanResult, SeriesStack

__all__ = ["format_table", "register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``scan`` subcommand."""
    parser = subparsers.add_parser(
        "scan",
        help="find DICOM studies and series, classify contrast phases, pick the arterial series",
        description=(
            "Scan folders recursively (headers only, plus a few slices per CT series for the "
            "enhancement check), list every study and series with its contrast phase, confidence "
            "and reason, and name the series each study would be measured on."
        ),
    )
    parser.add_argument(
        "folders", nargs="*", metavar="FOLDER", help="folders or files to scan (or --url)"
    )
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    add_deid_arguments(parser)
    parser.add_argument(
        "--no-pixels",
        action="store_true",
        help="read headers only (no enhancement evidence from the images)",
    )
    pacs = parser.add_argument_group("scan a PACS study (retrieved into the cache first)")
    pacs.add_argument("--url", metavar="URL", help="DICOMweb root URL (instead of FOLDERs)")
    what = pacs.add_mutually_exclusive_group()
    what.add_argument("--patient", metavar="ID", help="every study of this PatientID")
    what.add_argument("--study", metavar="UID", help="one study (StudyInstanceUID)")
    pacs.add_argument(
        "--cache",
        metavar="DIR",
        help="cache folder (default $LESION_TOOL_CACHE_DIR or ~/.cache/lesion-tool/pacs)",
    )
    add_connection_arguments(parser)
    from lesion_tool.executor import add_executor_arguments

    add_executor_arguments(parser)
    parser.set_defaults(func=run)


def _phase_text(stack: SeriesStack) -> tuple[str, str]:
    if stack.role != "image":
        return stack.role, ""
    if stack.phase is None:
        return "-", ""
    name = stack.phase.phase.value
    if stack.phase.subphase:
        name += f" ({stack.phase.subphase})"
    return name, f"{stack.phase.confidence:.2f}"


def _spacing_text(stack: SeriesStack) -> str:
    if stack.spacing_mm is None:
        return "-"
    z, y, x = stack.spacing_mm
    return f"{z:.3g} x {y:.3g} x {x:.3g}"


def format_table(result: ScanResult, deidentifier: Deidentifier | None = None) -> str:
    """The human-readable report: one block per study, one row per stack, then the problems;
    with a ``deidentifier``, pseudonymous patient ids, shifted dates and path aliases."""
    lines: list[str] = []
    for patient in result.patients:
        shown_id = patient.patient_id or "(no ID)"
        if deidentifier is not None:
            shown_id = deidentifier.patient_id(patient.patient_id or "")
        for study in patient.studies:
            when = study.study_date
            if when is not None and deidentifier is not None:
                when = deidentifier.date(patient.patient_id or "", when)
            date = when.isoformat() if when else "no date"
            lines.append(
                f"Patient {shown_id}  study {date}  "
                f"{study.description or ''}  [{study.study_instance_uid}]"
            )
            header = (
                f"  {'':1} {'#':>5}  {'description':<34} {'phase':<22} {'conf':>4}  "
                f"{'slices':>6}  {'spacing mm (z y x)':<22} note"
            )
            lines.append(header)
            for s in study.series:
                chosen = "*" if s is study.arterial_series else " "
                phase, conf = _phase_text(s)
                note = s.not_measurable or (
                    s.phase.source if s.phase is not None and s.role == "image" else ""
                )
                number = "" if s.series_number is None else str(s.series_number)
                if s.stack_index:
                    number += f".{s.stack_index}"
                desc = s.description or "(no description)"
                lines.append(
                    f"  {chosen:1} {number:>5}  {desc[:34]:<34} {phase:<22} {conf:>4}  "
                    f"{s.slice_count:>6}  {_spacing_text(s):<22} {note}"
                )
                if s.phase is not None and s.role == "image" and s.phase.evidence:
                    lines.append(f"{'':11}evidence: {'; '.join(s.phase.evidence)}")
                lines.extend(f"{'':11}note: {w}" for w in s.warnings)
                if s.stray:
                    lines.append(f"{'':11}note: {s.stray}")
            lines.append(f"  measure on: {study.arterial_reason}")
            lines.extend(f"  WARNING: {w}" for w in study.warnings)
            lines.append("")

    def path(value: object) -> str:
        return str(value) if deidentifier is None else deidentifier.path_alias(str(value))

    if result.problems:
        lines.append(f"{len(result.problems)} file(s) not used:")
        lines.extend(f"  {path(p.path)}: {p.reason}" for p in result.problems)
    if result.ignored:
        lines.extend(f"  ignored {path(p.path)}: {p.reason}" for p in result.ignored)
    lines.append(
        f"{result.files_scanned} file(s) scanned, {len(result.studies)} study(ies), "
        f"{len(result.stacks)} series stack(s)."
    )
    return "\n".join(lines)


def _finite(value: Any) -> Any:
    """``value`` with every NaN / infinite float replaced by None: JSON has no NaN, and a reader
    (``jq``, JavaScript) given one fails on the whole document."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _deidentified(doc: dict[str, Any], deidentifier: Deidentifier) -> dict[str, Any]:
    """``scan --json``'s document with pseudonymous patient ids (also for the name), dates
    shifted as in every other export, and keyed aliases for file paths (PS3.15 Annex E)."""
    import datetime as dt

    alias = deidentifier.path_alias
    for patient in doc["patients"]:
        real = patient["patient_id"] or ""
        pseudonym = deidentifier.patient_id(real)
        patient["patient_id"] = patient["patient_name"] = pseudonym
        for study in patient["studies"]:
            study["patient_id"] = pseudonym
            if study["study_date"]:
                shifted = deidentifier.date(real, dt.date.fromisoformat(study["study_date"]))
                study["study_date"] = shifted.isoformat()
            for series in study["series"]:
                series["files"] = [alias(f) for f in series["files"]]
    for key in ("problems", "ignored"):
        for item in doc[key]:
            item["path"] = alias(item["path"])
    return doc


def _folders(args: argparse.Namespace) -> list[str]:
    """The folders to scan: as given, or the cache folder of the PACS study pulled."""
    given = {"--patient": args.patient, "--study": args.study, "--cache": args.cache}
    pacs_only = [option for option, value in given.items() if value]
    if not args.url:
        if pacs_only:
            raise PacsError(f"{', '.join(pacs_only)}: used only with --url.")
        refuse_connection_options(args, "--url")
        if not args.folders:
            raise LesionToolError(
                "give the FOLDER(s) to scan, or --url URL with --patient ID or --study UID."
            )
        return list(args.folders)
    if args.folders:
        raise LesionToolError("give FOLDER(s) or --url, not both.")
    if not (args.patient or args.study):
        raise PacsError("--url needs --patient ID or --study UID (what to scan on the PACS).")
    from lesion_tool.commands.pull import pull_from_args

    result = pull_from_args(args)
    print(
        f"pull: {len(result.studies)} study(ies), {result.retrieved} instance(s) retrieved, "
        f"{result.skipped} already in the cache; scanning {result.folder}",
        file=sys.stderr,
    )
    return [str(result.folder)]


def run(args: argparse.Namespace) -> int:
    """Scan the folders (or the PACS study pulled into the cache) and print the table (or
    JSON); exit 0, or 1 when no DICOM was found."""
    from lesion_tool.io.scan import scan_folders

    folders = _folders(args)
    from lesion_tool.executor import executor_from_args

    result = scan_folders(folders, use_pixels=not args.no_pixels, executor=executor_from_args(args))
    deidentifier = deidentifier_from_args(args)
    if args.json:
        doc = result.to_dict()
        if deidentifier is not None:
            doc = _deidentified(doc, deidentifier)
        json.dump(_finite(doc), sys.stdout, indent=2, allow_nan=False)
        sys.stdout.write("\n")
    else:
        print(format_table(result, deidentifier))
    if not result.patients:
        raise SeriesError(
            f"no DICOM series found in {', '.join(folders)} "
            f"({len(result.problems)} file(s) not DICOM or unreadable)."
        )
    return 0
