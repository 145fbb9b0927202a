"""``lesion-tool demo --out DIR [--patients N]``: the main job on a synthetic cohort.

Generates the cohort, scans it and chooses the arterial phases, measures every lesion from its
seed with the semi-automatic tool, saves the assessments, re-scores them under the presets (CSV),
exports DICOM SR and writes the report; prints where each output is and a summary.
"""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo`` subcommand."""
    parser = subparsers.add_parser(
        "demo",
        help="run the whole pipeline on a generated synthetic cohort",
        description=(
            "Generate a synthetic HCC cohort (multiphase CT with exact truth), choose each "
            "study's arterial series, measure every lesion from its seed, save the assessments, "
            "re-score them by mRECIST, mRECIST-1.1 and RECIST 1.1 (CSV), export DICOM SR and "
            "write the report (HTML, PDF, PNG)."
        ),
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.add_argument(
        "--patients",
        type=int,
        default=None,
        metavar="N",
        help="generated patients (default 36; the committed sample patient is added)",
    )
    parser.add_argument("--seed", type=int, default=2026, help="cohort seed (default 2026)")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="worker processes for the per-patient stages (default: 2 or the CPUs available)",
    )
    parser.add_argument(
        "--no-sample",
        action="store_true",
        help="leave out the committed sample patient test_images/synthetic/SYN-001",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the pipeline and print the summary; 1 when some patient or file had a problem."""
    from lesion_tool.errors import LesionToolError
    from lesion_tool.pipeline import DEFAULT_PATIENTS, format_summary, run_pipeline

    n = DEFAULT_PATIENTS if args.patients is None else args.patients
    if n < 0:
        raise LesionToolError(f"--patients must be 0 or more, got {n}.")
    if args.workers is not None and args.workers < 1:
        raise LesionToolError(f"--workers must be 1 or more, got {args.workers}.")

    def progress(message: str) -> None:
        print(f"lesion-tool demo: {message}", file=sys.stderr, flush=True)

    result = run_pipeline(
        args.out,
        n,
        seed=args.seed,
        workers=args.workers,
        include_sample=not args.no_sample,
        progress=progress,
    )
    print(format_summary(result))
    return 0
