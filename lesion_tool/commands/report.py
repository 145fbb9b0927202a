"""``lesion-tool report PATH... --out DIR [--criteria ...]``: the cohort report.

Writes ``report.html`` (self-contained), ``report.pdf`` and PNG plots into DIR. A bad assessment
file is reported on stderr and skipped; the exit code is then 1 (as ``rescore``). The criteria
and settings options are ``rescore``'s, so both commands score a cohort the same way.
"""

from __future__ import annotations

import argparse
import sys

from lesion_tool.commands._deid import add_deid_arguments, deidentifier_from_args
from lesion_tool.errors import LesionToolError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``report`` subcommand."""
    from lesion_tool.commands.rescore import non_negative_int, parse_criteria

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
        help="comma-separated presets, the first drives the detail tables "
        "(default: mrecist,mrecist-1.1,recist-1.1)",
    )
    parser.add_argument("--no-confirm", action="store_true", help="do not require confirmation")
    parser.add_argument("--confirm-min-days", type=non_negative_int, metavar="N")
    parser.add_argument("--sd-min-days", type=non_negative_int, metavar="N")
    parser.add_argument(
        "--dcr-sd-min-days",
        type=non_negative_int,
        metavar="N",
        help="DCR: SD must last to an assessment at least N days after start (default 182)",
    )
    parser.add_argument("--title", default="Tumour response report", help="report title")
    add_deid_arguments(parser)
    from lesion_tool.commands._corelab import add_adjudication_arguments

    add_adjudication_arguments(parser)
    from lesion_tool.executor import add_executor_arguments

    add_executor_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build the report; 0 when every file was used, 1 when some were skipped."""
    from lesion_tool.commands._corelab import adjudication_settings_from_args
    from lesion_tool.executor import executor_from_args
    from lesion_tool.report import build_report
    from lesion_tool.response import PRESETS

    overrides: dict[str, object] = {}
    if args.no_confirm:
        overrides["confirm"] = False
    for name in ("confirm_min_days", "sd_min_days", "dcr_sd_min_days"):
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    presets = args.criteria or tuple(PRESETS)
    result = build_report(
        args.paths,
        args.out,
        presets,
        overrides,
        title=args.title,
        deidentifier=deidentifier_from_args(args),
        adjudications=args.adjudications,
        adjudication=adjudication_settings_from_args(args),
        executor=executor_from_args(args),
    )
    for where, why in result.problems:
        print(f"lesion-tool: skipped {where}: {why}", file=sys.stderr)
    if not result.patients:
        raise LesionToolError(
            f"No assessment could be used from {', '.join(map(str, args.paths))}; "
            f"nothing to report ({len(result.problems)} file(s) skipped)."
        )
    readers = {pt.assessment.reader for pt in result.patients if pt.basis}
    study = ", multi-reader: see 'Agreement between readers'" if readers else ""
    print(f"Report ({len(result.patients)} patients{study}): {result.html}")
    print(f"PDF: {result.pdf}")
    print(
        f"Plots ({len(result.pngs)} PNG): {result.out_dir / 'plots'}, {result.out_dir / 'patients'}"
    )
    return 1 if result.problems else 0
