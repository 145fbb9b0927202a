"""``lesion-tool report PATH... --out DIR [--criteria ...]``: the cohort report.

Writes ``report.html`` (self-contained), ``report.pdf`` and PNG plots into DIR. A bad assessment
file is reported on stderr and skipped; the exit code is then 1 (as ``rescore``).
"""

from __future__ import annotations

import argparse
import sys

from lesion_tool.errors import LesionToolError


def parse_criteria(text: str) -> tuple[str, ...]:
    """Split a comma-separated preset list; an unknown name is a usage error."""
    from lesion_tool.response import PRESETS

    names = tuple(dict.fromkeys(p.strip().lower() for p in text.split(",") if p.strip()))
    unknown = [n for n in names if n not in PRESETS]
    if unknown or not names:
        choices = ", ".join(PRESETS)
        raise argparse.ArgumentTypeError(
            f"unknown criteria {', '.join(unknown) or '(none)'}; choose from {choices}"
        )
    return names


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``report`` subcommand."""
    parser = subparsers.add_parser(
        "report",
        help="plots, endpoint tables and per-patient pages for a cohort (HTML, PDF, PNG)",
        description=(
            "Score assessment files under each preset and write a cohort report: waterfall, "
            "spider, swimmer and Kaplan-Meier plots, ORR/DCR/median PFS per preset, agreement "
            "between mRECIST and RECIST 1.1 (cross-table, Cohen's kappa) and one page per "
            "patient. Output: DIR/report.html (self-contained), DIR/report.pdf, DIR/plots/*.png, "
            "DIR/patients/*.png."
        ),
    )
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="assessment file, or folder searched recursively for *.json",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.add_argument(
        "--criteria",
        type=parse_criteria,
        default=None,
        metavar="LIST",
        help="comma-separated presets, first one drives the detail tables "
        "(default: mrecist,mrecist-1.1,recist-1.1)",
    )
    parser.add_argument("--title", default="Tumour response report", help="report title")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build the report; 0 when every file was used, 1 when some were skipped."""
    from lesion_tool.report import build_report
    from lesion_tool.response import PRESETS

    presets = args.criteria or tuple(PRESETS)
    result = build_report(args.paths, args.out, presets, title=args.title)
    for where, why in result.problems:
        print(f"lesion-tool: skipped {where}: {why}", file=sys.stderr)
    if not result.patients:
        raise LesionToolError(
            f"No assessment could be used from {', '.join(map(str, args.paths))}; "
            f"nothing to report ({len(result.problems)} file(s) skipped)."
        )
    print(f"Report ({len(result.patients)} patients): {result.html}")
    print(f"PDF: {result.pdf}")
    print(
        f"Plots ({len(result.pngs)} PNG): {result.out_dir / 'plots'}, {result.out_dir / 'patients'}"
    )
    return 1 if result.problems else 0
