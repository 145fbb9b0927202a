"""``lesion-tool pacs-search --url URL [--patient ID] [--date FROM-TO] [--modality CT]``: studies
on a PACS."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from lesion_tool.commands._pacs import add_connection_arguments, connection_from_args

__all__ = ["register", "run"]


def _date_range(text: str) -> tuple[Any, Any]:
    from lesion_tool.pacs.models import parse_date_range

    try:
        return parse_date_range(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def register(subparsers: Any) -> None:
    """Add the ``pacs-search`` subcommand."""
    parser = subparsers.add_parser(
        "pacs-search",
        help="list the studies on a DICOMweb PACS matching a patient, study or date",
        description=(
            "Search a DICOMweb server (QIDO-RS) for studies; * and ? are wildcards in --patient "
            "and --name where the server supports them. Pull one with: lesion-tool pull --url "
            "URL --study UID."
        ),
    )
    parser.add_argument("--url", required=True, metavar="URL", help="DICOMweb root URL")
    parser.add_argument("--patient", metavar="ID", help="PatientID")
    parser.add_argument("--name", metavar="NAME", help="PatientName (DICOM form, e.g. DOE^J*)")
    parser.add_argument("--study", metavar="UID", help="StudyInstanceUID")
    parser.add_argument("--accession", metavar="NUMBER", help="AccessionNumber")
    parser.add_argument(
        "--date",
        type=_date_range,
        metavar="FROM-TO",
        help="study date or range: YYYYMMDD, YYYYMMDD-YYYYMMDD (open ends allowed), "
        "or YYYY-MM-DD..YYYY-MM-DD",
    )
    parser.add_argument(
        "--modality",
        metavar="MODALITY",
        help="only studies holding a series of this modality (ModalitiesInStudy), e.g. CT or SR",
    )
    parser.add_argument(
        "--limit", type=int, default=200, metavar="N", help="at most N studies (default 200)"
    )
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    add_connection_arguments(parser)
    parser.set_defaults(func=run)


def format_table(studies: list[Any]) -> str:
    """One row per study, columns as in the plugin's table."""
    from lesion_tool.pacs.models import STUDY_COLUMNS

    rows = [[title for _, title in STUDY_COLUMNS]]
    rows += [[s.row()[key] for key, _ in STUDY_COLUMNS] for s in studies]
    widths = [max(len(r[i]) for r in rows) for i in range(len(STUDY_COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def run(args: argparse.Namespace) -> int:
    """Print the studies found; exit 0 (also when none matched: that is an answer)."""
    from lesion_tool.errors import PacsError
    from lesion_tool.pacs import connect

    if args.limit < 1:
        raise PacsError(f"--limit must be at least 1, got {args.limit}.")
    with connect(connection_from_args(args, args.url)) as client:
        studies = client.search_studies(
            patient_id=args.patient,
            patient_name=args.name,
            study_uid=args.study,
            accession_number=args.accession,
            date_range=args.date,
            modality=args.modality,
            limit=args.limit,
        )
    if args.json:
        json.dump([s.to_dict() for s in studies], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if studies:
        print(format_table(studies))
    print(f"{len(studies)} study(ies) found.", file=sys.stderr)
    if len(studies) >= args.limit:
        print(
            f"pacs-search: the server may hold more than {args.limit}; narrow the search or "
            "raise --limit.",
            file=sys.stderr,
        )
    return 0
