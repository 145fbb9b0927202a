"""Options and steps shared by the commands that read a cohort of several readers
(``rescore``, ``report``, ``adjudicate``): adjudication settings and decisions, loading and
grouping readings. Heavy modules are imported inside the functions."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING

from lesion_tool.errors import LesionToolError

if TYPE_CHECKING:
    from pathlib import Path

    from lesion_tool.corelab.adjudication import AdjudicationSettings, ResultSet
    from lesion_tool.corelab.readings import Cohort
    from lesion_tool.deid import Deidentifier
    from lesion_tool.executor import Executor

__all__ = [
    "add_adjudication_arguments",
    "adjudication_settings_from_args",
    "load_cohort_files",
    "print_result_sets",
]


def add_adjudication_arguments(parser: argparse.ArgumentParser, *, decisions: bool = True) -> None:
    """``--adjudications`` (decisions to use) and the adjudication triggers."""
    from lesion_tool.commands.rescore import non_negative_int, parse_criteria

    if decisions:
        parser.add_argument(
            "--adjudications",
            nargs="+",
            metavar="PATH",
            default=(),
            help="adjudication decisions (*.adjudication.json files or folders) to apply",
        )
    parser.add_argument(
        "--adjudication-preset",
        type=lambda text: parse_criteria(text)[0],
        default="mrecist",
        metavar="PRESET",
        help="preset the readers are compared under (default: mrecist)",
    )
    parser.add_argument(
        "--progression-days",
        type=non_negative_int,
        default=28,
        metavar="N",
        help="adjudicate when progression dates differ by more than N days (default: 28)",
    )
    parser.add_argument(
        "--no-bor-trigger",
        action="store_true",
        help="do not adjudicate on a different best overall response",
    )
    parser.add_argument(
        "--no-progression-trigger",
        action="store_true",
        help="do not adjudicate when only one reader records progression",
    )


def adjudication_settings_from_args(args: argparse.Namespace) -> AdjudicationSettings:
    """The adjudication settings the options ask for."""
    from lesion_tool.corelab.adjudication import AdjudicationSettings

    return AdjudicationSettings(
        preset=args.adjudication_preset,
        on_bor=not args.no_bor_trigger,
        on_progression=not args.no_progression_trigger,
        progression_days=args.progression_days,
    )


def load_cohort_files(
    paths: Sequence[str],
    deidentifier: Deidentifier | None = None,
    *,
    files: Sequence[Path] | None = None,
    executor: Executor | None = None,
) -> tuple[Cohort, list[tuple[str, str]]]:
    """Load every assessment file and group the readings by patient and reader.

    Returns (cohort, problems): a file that cannot be read, and two readings of one patient by
    the same reader, are problems (file, reason), never fatal. ``files``: what
    :func:`~lesion_tool.storage.find_assessment_files` already found in ``paths``. The files
    are read on ``executor`` (default: in process); de-identifying and grouping happen here, in
    file order, so the cohort does not depend on where the files were read.
    """
    from lesion_tool.corelab.readings import Reading, group_readings
    from lesion_tool.executor import Executor
    from lesion_tool.storage import find_assessment_files, load_assessment

    if files is None:
        files = find_assessment_files(paths)
    if not files:
        raise LesionToolError(f"no assessment files (*.json) found in {', '.join(paths)}")
    readings = []
    problems: list[tuple[str, str]] = []
    outcomes = (executor or Executor()).map(load_assessment, files, label="load")
    for path, outcome in zip(files, outcomes, strict=True):
        try:
            if outcome.error is not None or outcome.value is None:
                raise LesionToolError(str(outcome.error))
            assessment = outcome.value
            if deidentifier is not None:
                assessment = deidentifier.assessment(assessment)
        except LesionToolError as err:
            problems.append((str(path), str(err)))
            continue
        readings.append(Reading(assessment, path))
    cohort = group_readings(readings)
    return cohort, [*problems, *cohort.problems]


def print_result_sets(sets: Sequence[ResultSet], out: IO[str] | None = None) -> None:
    """After a preset's cohort endpoints: what they were computed on, then each reader's."""
    from lesion_tool.response import cohort_endpoints

    out = out or sys.stdout
    out.write(f"  endpoints on one reading per patient: {sets[0].note}\n")
    for result_set in sets[1:]:
        if not result_set.results:
            continue
        e = cohort_endpoints(list(result_set.results))
        orr = (
            f"ORR {e.n_responders}/{e.n_evaluable} = {100 * e.orr:.1f}%"
            if e.orr is not None
            else "ORR n/a"
        )
        dcr = (
            f"DCR {e.n_disease_control}/{e.n_evaluable} = {100 * e.dcr:.1f}%"
            if e.dcr is not None
            else "DCR n/a"
        )
        pfs = "not reached" if e.median_pfs_days is None else f"{e.median_pfs_days:.0f} days"
        out.write(
            f"  {result_set.label} alone: {e.n} patients; {orr}; {dcr}; "
            f"PFS {e.n_pfs_events} events, median {pfs}\n"
        )
