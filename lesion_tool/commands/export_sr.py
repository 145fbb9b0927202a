"""``lesion-tool export-sr``: one DICOM Comprehensive 3D SR (TID 1500) per timepoint.

Exit 0 when every timepoint was written; a problem the user can fix (unreadable assessment, a
timepoint's series missing from ``--images``) is reported as ``lesion-tool: error: ...`` with
exit 1; a usage error exits 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from lesion_tool.commands._deid import add_deid_arguments, deidentifier_from_args
from lesion_tool.commands._pacs import (
    add_connection_arguments,
    connection_from_args,
    refuse_connection_options,
)
from lesion_tool.commands.rescore import parse_criteria
from lesion_tool.errors import PacsError
from lesion_tool.response import PRESETS

if TYPE_CHECKING:
    from lesion_tool.storage.sr import ClinicalTrial

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
        "--predecessor",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="an earlier SR of a timepoint (matched by its measured series) that the new one "
        "replaces; repeatable (a file replaced with --force is referenced too)",
    )
    parser.add_argument(
        "--reader-role",
        default="reader",
        metavar="ROLE",
        help="the reader's role: reader (default), adjudicator, eligibility-reader or reviewer",
    )
    signing = parser.add_argument_group("sign-off (FINAL, COMPLETE, VERIFIED SRs)")
    signing.add_argument("--sign-off", metavar="NAME", help="verifying observer (Family^Given)")
    signing.add_argument(
        "--organisation", metavar="ORG", help="the verifying observer's organisation"
    )
    trial = parser.add_argument_group("clinical trial (DICOM Clinical Trial Subject module)")
    trial.add_argument(
        "--trial-sponsor", metavar="NAME", help="sponsor (required with any --trial-*)"
    )
    trial.add_argument(
        "--trial-protocol", metavar="ID", help="protocol id (required with any --trial-*)"
    )
    trial.add_argument("--trial-protocol-name", default="", metavar="NAME")
    trial.add_argument("--trial-site", default="", metavar="ID", help="site id")
    trial.add_argument("--trial-site-name", default="", metavar="NAME")
    trial.add_argument(
        "--trial-subject", default="", metavar="ID", help="subject id (default: the patient id)"
    )
    trial.add_argument(
        "--trial-time-point",
        action="append",
        default=[],
        metavar="LABEL=ID",
        help="trial time point id of a timepoint (default: its label); repeatable",
    )
    parser.add_argument(
        "--stow",
        metavar="URL",
        help="also store the SRs written on this DICOMweb server (STOW-RS)",
    )
    add_connection_arguments(parser)
    parser.set_defaults(func=run)


def _trial(args: argparse.Namespace) -> ClinicalTrial | None:
    """The ClinicalTrial of the --trial-* options, or None when none is given."""
    from lesion_tool.errors import ExportError
    from lesion_tool.storage.sr import ClinicalTrial

    given = [
        args.trial_sponsor,
        args.trial_protocol,
        args.trial_protocol_name,
        args.trial_site,
        args.trial_site_name,
        args.trial_subject,
        *args.trial_time_point,
    ]
    if not any(given):
        return None
    time_points = {}
    for item in args.trial_time_point:
        label, sep, value = item.partition("=")
        if not sep or not label or not value:
            raise ExportError(f"--trial-time-point {item!r}: write it as LABEL=ID (baseline=V1).")
        time_points[label] = value
    return ClinicalTrial(
        sponsor=args.trial_sponsor or "",
        protocol_id=args.trial_protocol or "",
        protocol_name=args.trial_protocol_name,
        site_id=args.trial_site,
        site_name=args.trial_site_name,
        subject_id=args.trial_subject,
        time_points=time_points,
    )


def run(args: argparse.Namespace) -> int:
    """Export ``args.assessment``; print each file written (then store them with ``--stow``)."""
    from lesion_tool.errors import ExportError
    from lesion_tool.storage import load_assessment
    from lesion_tool.storage.sr import SignOff, export_sr

    if bool(args.sign_off) != bool(args.organisation):
        raise ExportError("A sign-off needs both --sign-off NAME and --organisation ORG.")
    sign_off = SignOff(args.sign_off, args.organisation) if args.sign_off else None
    trial = _trial(args)
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
        trial=trial,
        reader_role=args.reader_role,
        sign_off=sign_off,
        predecessors=args.predecessor,
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
