"""``lesion-tool import-sr``: rebuild an assessment from TID 1500 reports.

Reads lesion-tool's own SRs field by field and other tools' reports (OHIF / Cornerstone,
dcmqi, highdicom) as uncategorised lesions to categorise. A file that cannot be read is
reported on stderr with its reason and the others are imported; the exit code is then 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from lesion_tool.errors import ExportError, HeaderWarning, LesionToolError
from lesion_tool.model import UNCATEGORISED_KEY

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume

__all__ = ["register", "run"]


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``import-sr`` subcommand."""
    parser = subparsers.add_parser(
        "import-sr",
        help="rebuild an assessment from DICOM SR measurement reports (TID 1500)",
        description=(
            "Rebuild one patient's assessment from SR files (one per timepoint). Lengths from "
            f"other tools become uncategorised lesions ('{UNCATEGORISED_KEY}' in the JSON)."
        ),
    )
    parser.add_argument("files", type=Path, nargs="+", metavar="FILE", help="SR files")
    parser.add_argument("--out", type=Path, required=True, metavar="ASSESSMENT", help="JSON out")
    parser.add_argument(
        "--images",
        type=Path,
        metavar="FOLDER",
        help="the measured series, to bring lines back in voxel indices",
    )
    parser.add_argument(
        "--treatment-start", type=_date, metavar="DATE", help="start of treatment (YYYY-MM-DD)"
    )
    parser.set_defaults(func=run)


def _volumes(files: list[Path], images: Path) -> dict[str, CTVolume]:
    """The measured series the SRs reference, loaded from ``images`` (missing ones skipped)."""
    import pydicom

    from lesion_tool.io import load_series
    from lesion_tool.storage.sr_import import referenced_series

    volumes: dict[str, CTVolume] = {}
    for path in files:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                header = pydicom.dcmread(path, stop_before_pixels=True, force=True)
        except (OSError, ValueError, pydicom.errors.InvalidDicomError):
            continue  # reported by the import itself
        uid = referenced_series(header)
        if not uid or uid in volumes:
            continue
        try:
            volumes[uid] = load_series(images, series_uid=uid)
        except LesionToolError as err:
            print(f"lesion-tool: warning: {path}: series {uid}: {err}", file=sys.stderr)
    return volumes


def run(args: argparse.Namespace) -> int:
    """Import ``args.files`` into ``args.out``; report problems and warnings on stderr."""
    from lesion_tool.storage.atomic import refuse_inputs_as_outputs

    refuse_inputs_as_outputs([("--out", args.out)], args.files)
    from lesion_tool.storage.sr_import import import_sr

    volumes = _volumes(args.files, args.images) if args.images else None
    with warnings.catch_warnings():
        # the same findings are in result.warnings, printed below once each
        warnings.simplefilter("ignore", HeaderWarning)
        result = import_sr(args.files, volumes=volumes, treatment_start=args.treatment_start)
    for _path, reason in result.problems:
        print(f"lesion-tool: error: {reason}", file=sys.stderr)
    for message in result.warnings:
        print(f"lesion-tool: warning: {message}", file=sys.stderr)
    if result.assessment is None:
        raise ExportError("No SR file could be imported; nothing written.")
    import getpass

    from lesion_tool.storage.audit import save_audited

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name (some containers)
        user = "unknown"
    save_audited(
        result.assessment,
        args.out,
        by=user,
        action="import",
        note=f"imported from {len(result.files)} DICOM SR file(s)",
    )
    n_lesions = sum(len(tp.lesions) for tp in result.assessment.timepoints)
    n_uncategorised = len(result.assessment.extra.get(UNCATEGORISED_KEY, []))  # type: ignore[arg-type]
    print(
        f"{args.out}: {len(result.assessment.timepoints)} timepoint(s), {n_lesions} lesion "
        f"reading(s), {n_uncategorised} uncategorised measurement group(s) from "
        f"{len(result.files)} of {len(args.files)} file(s)"
    )
    return 1 if result.problems else 0
