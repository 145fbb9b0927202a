"""``lesion-tool export-sr``: one DICOM Comprehensive 3D SR (TID 1500) per timepoint.

Exit 0 when every timepoint was written; a problem the user can fix (unreadable assessment, a
timepoint's series missing from ``--images``) is reported as ``lesion-tool: error: ...`` with
exit 1; a usage error exits 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lesion_tool.commands._deid import add_deid_arguments, deidentifier_from_args
from lesion_tool.commands._pacs import (
    add_connection_arguments,
    connection_from_args,
    refuse_connection_options,
)
from lesion_tool.commands.rescore import parse_criteria
from lesion_tool.errors import PacsError
from lesion_tool.response import PRESETS
from lesion_tool.storage import load_assessment
from lesion_tool.storage.sr import export_sr

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``export-sr`` subcommand."""
    parser = subparsers.add_parser(
        "export-sr",
        help="write an assessment as DICOM SR (TID 1500), one file per timepoint",
        description=(
            "Write one Comprehensive 3D SR per timepoint, in the study of the measured series, "
            "with one measurement group per lesion and the timepoint responses under each "
            "criteria preset (the first preset is the lesions' measurement method)."
        ),
    )
    parser.add_argument("assessment", type=Path, metavar="ASSESSMENT", help="assessment JSON")
    parser.add_argument(
        "--images",
        type=Path,
        required=True,
        metavar="FOLDER",
        help="folder holding the timepoints' series (searched recursively)",
    )
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    parser.add_argument(
        "--criteria",
        type=parse_criteria,
        default=tuple(PRESETS),
        metavar="LIST",
        help=f"comma-separated presets (default: {','.join(PRESETS)})",
    )
    parser.add_argument(
        "--force", action="store_true", help="replace SR files already in the output folder"
    )
    add_deid_arguments(parser)
    parser.add_argument(
        "--stow",
        metavar="URL",
        help="also store the SRs written on this DICOMweb server (STOW-RS)",
    )
    add_connection_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Export ``args.assessment``; print each file written (then store them with ``--stow``)."""
    if not args.stow:
        refuse_connection_options(args, "--stow URL")
    elif args.deidentify:
        # a pseudonymised SR stored beside the identified images would split the study
        raise PacsError(
            "--stow stores the SRs in the patient's study on the PACS, beside identified "
            "images; --deidentify makes SRs to share elsewhere. Give one of them."
        )
    connection = connection_from_args(args, args.stow) if args.stow else None
    assessment = load_assessment(args.assessment)
    paths = export_sr(
        assessment,
        args.images,
        args.out,
        criteria=args.criteria,
        overwrite=args.force,
        deidentifier=deidentifier_from_args(args),
    )
    for path in paths:
        print(path)
    if connection is not None:
        from lesion_tool.pacs import connect

        with connect(connection) as client:
            stored = client.store(paths)
        print(
            f"export-sr: {len(stored.stored_sop_instance_uids)} SR(s) stored on {connection.url}",
            file=sys.stderr,
        )
    return 0
