"""``lesion-tool pull --url URL (--patient ID | --study UID)``: retrieve studies from a PACS.

The studies go into a local cache folder (``--cache``, default ``$LESION_TOOL_CACHE_DIR`` or
``~/.cache/lesion-tool/pacs``) instance by instance, each file complete or absent; pulling again
skips what is already there, so an interrupted pull resumes. The folder to scan or open is
printed on standard output (progress goes to standard error)::

    lesion-tool scan "$(lesion-tool pull --url http://pacs:8042/dicom-web --patient HCC_006)"
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from lesion_tool.commands._pacs import add_connection_arguments, connection_from_args

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``pull`` subcommand."""
    parser = subparsers.add_parser(
        "pull",
        help="retrieve a patient's studies (or one study) from a DICOMweb PACS into a cache",
        description=(
            "Retrieve studies from a DICOMweb server (WADO-RS) into a local cache folder, one "
            "complete file per instance; a second pull skips instances already there (resume). "
            "Prints the folder to scan or open."
        ),
    )
    parser.add_argument("--url", required=True, metavar="URL", help="DICOMweb root URL")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--patient", metavar="ID", help="every study of this PatientID")
    what.add_argument("--study", metavar="UID", help="one study (StudyInstanceUID)")
    parser.add_argument(
        "--series",
        action="append",
        default=[],
        metavar="UID",
        help="only this series of --study (repeatable)",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        metavar="DIR",
        help="cache folder (default $LESION_TOOL_CACHE_DIR or ~/.cache/lesion-tool/pacs)",
    )
    add_connection_arguments(parser)
    parser.set_defaults(func=run)


class _ProgressPrinter:
    """Progress on standard error: a rewritten line on a terminal, else every tenth."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last_tenth = -1

    def __call__(self, p: Any) -> None:
        text = f"pull: {p.done}/{p.total} instances"
        if p.skipped:
            text += f" ({p.skipped} already in the cache)"
        if self.tty:
            end = "\n" if p.done == p.total else ""
            print(f"\r{text}", end=end, file=sys.stderr, flush=True)
        elif int(p.fraction * 10) > self.last_tenth:
            self.last_tenth = int(p.fraction * 10)
            print(text, file=sys.stderr, flush=True)


def pull_from_args(args: argparse.Namespace, series_uids: Any = ()) -> Any:
    """Pull ``--patient`` / ``--study`` from ``--url`` into ``--cache`` (or the default cache)
    with progress on stderr: the one pull of ``pull`` and ``scan --url``."""
    from lesion_tool.pacs import connect, default_cache_dir

    with connect(connection_from_args(args, args.url)) as client:
        return client.pull(
            args.cache or default_cache_dir(),
            patient_id=args.patient,
            study_uid=args.study,
            series_uids=series_uids,
            progress=_ProgressPrinter(),
        )


def run(args: argparse.Namespace) -> int:
    """Pull and print the local folder; exit 0, or 1 with a one-line error."""
    from lesion_tool.errors import PacsError

    if args.series and not args.study:
        raise PacsError("--series needs --study.")
    result = pull_from_args(args, args.series)
    print(
        f"pull: {len(result.studies)} study(ies), {result.retrieved} instance(s) retrieved "
        f"({result.retrieved_bytes / 1e6:.1f} MB), {result.skipped} already in the cache",
        file=sys.stderr,
    )
    print(result.folder)
    return 0
