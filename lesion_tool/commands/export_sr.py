"""``lesion-tool export-sr``: one DICOM Comprehensive 3D SR (TID 1500) per timepoint.

Exit 0 when every timepoint was written; a problem the user can fix (unreadable assessment, a
timepoint's series missing from ``--images``) is reported as ``lesion-tool: error: ...`` with
exit 1; a usage error exits 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lesion_tool.commands.rescore import parse_criteria
from lesion_tool.response import PRESETS

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
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Export ``args.assessment``; print each file written."""
    from lesion_tool.storage import load_assessment
    from lesion_tool.storage.sr import export_sr

    assessment = load_assessment(args.assessment)
    for path in export_sr(assessment, args.images, args.out, criteria=args.criteria):
        print(path)
    return 0
