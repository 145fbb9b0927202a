"""``lesion-tool rescore``: score stored assessments under one or more presets.

A bad file is reported on stderr with its reason and skipped; the rest are scored; the exit code is
1 when any file (or any file under any preset) failed, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING

from lesion_tool.commands._deid import add_deid_arguments, deidentifier_from_args
from lesion_tool.errors import CriteriaError, LesionToolError
from lesion_tool.executor import Progress, add_executor_arguments, executor_from_args
from lesion_tool.response.settings import PRESETS

if TYPE_CHECKING:  # the engine is imported when a command runs, not for ``--help``
    from lesion_tool.corelab.readings import Cohort
    from lesion_tool.deid import Deidentifier
    from lesion_tool.executor import Executor
    from lesion_tool.model import Assessment
    from lesion_tool.response import PatientResult, ResponseSettings

__all__ = ["Progress", "parse_criteria", "register", "run", "score_file", "score_files"]


def parse_criteria(text: str) -> tuple[str, ...]:
    """A comma-separated list of presets (argparse type); unknown names are a usage error."""
    names = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [name for name in names if name not in PRESETS]
    if not names or unknown:
        raise argparse.ArgumentTypeError(
            f"unknown criteria {', '.join(unknown) or repr(text)}; choose from {', '.join(PRESETS)}"
        )
    return names


def non_negative_int(text: str) -> int:
    """A whole number of days >= 0 (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value


def positive_float(text: str) -> float:
    """A number of millimetres > 0 (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{value} is not > 0")
    return value


def add_settings_arguments(parser: argparse.ArgumentParser) -> None:
    """The options shared by ``rescore`` and ``validate``: presets and their settings."""
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="assessment JSON file, or a folder searched recursively for *.json",
    )
    parser.add_argument(
        "--criteria",
        type=parse_criteria,
        default=PRESETS,
        help=f"comma-separated presets (default: {','.join(PRESETS)})",
    )
    parser.add_argument(
        "--slice-thickness-mm",
        type=positive_float,
        default=None,
        help="baseline slice thickness for the target size rule (not stored in assessments)",
    )


def settings_from_args(args: argparse.Namespace) -> list[ResponseSettings]:
    """One settings object per requested preset, with the command line's overrides."""
    from lesion_tool.response import settings_for

    overrides: dict[str, object] = {}
    if getattr(args, "no_confirm", False):
        overrides["confirm"] = False
    for name in ("confirm_min_days", "sd_min_days", "dcr_sd_min_days", "slice_thickness_mm"):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    return [settings_for(preset, **overrides) for preset in args.criteria]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``rescore`` subcommand."""
    parser = subparsers.add_parser(
        "rescore",
        help="score stored assessments by mRECIST / mRECIST-1.1 / RECIST 1.1",
        description=(
            "Score assessment files under one or more presets. Without --timepoints-csv or "
            "--patients-csv a readable table is printed; --summary adds the cohort endpoints."
        ),
    )
    add_settings_arguments(parser)
    parser.add_argument("--no-confirm", action="store_true", help="do not require confirmation")
    parser.add_argument("--confirm-min-days", type=non_negative_int, metavar="N")
    parser.add_argument("--sd-min-days", type=non_negative_int, metavar="N")
    parser.add_argument("--dcr-sd-min-days", type=non_negative_int, metavar="N")
    parser.add_argument(
        "--timepoints-csv", metavar="FILE", help="per-timepoint CSV ('-' for stdout)"
    )
    parser.add_argument("--patients-csv", metavar="FILE", help="per-patient CSV ('-' for stdout)")
    parser.add_argument(
        "--findings-csv",
        metavar="FILE",
        help="CSV of every finding per patient and preset ('-' for stdout)",
    )
    parser.add_argument(
        "--summary", action="store_true", help="print ORR, DCR and median PFS per preset"
    )
    add_deid_arguments(parser)
    from lesion_tool.commands._corelab import add_adjudication_arguments

    add_adjudication_arguments(parser)
    # auto: a trial (>= 2,000 files) spreads over the idle cores; small batches stay in process
    add_executor_arguments(parser, default_workers="auto")
    parser.set_defaults(func=run)


TABLE_COLUMNS = (
    ("timepoint", "<"),
    ("date", "<"),
    ("day", ">"),
    ("sum mm", ">"),
    ("base mm", ">"),
    ("nadir mm", ">"),
    ("vs base", ">"),
    ("vs nadir", ">"),
    ("target", "<"),
    ("non-target", "<"),
    ("new", "<"),
    ("overall", "<"),
)


def _mm(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:+.1f}%"


def _cell(value: object) -> str:
    return "" if value is None else str(value)


def print_table(results: Sequence[PatientResult], out: IO[str]) -> None:
    """A readable per-timepoint table, one block per patient and preset."""
    for result in results:
        reader = f", reader {result.reader}" if result.reader else ""
        out.write(f"{result.patient_id}{reader} [{result.criteria}]\n")
        rows = [tuple(name for name, _ in TABLE_COLUMNS)]
        for row in result.timepoints:
            rows.append(
                (
                    row.label,
                    row.date.isoformat(),
                    str(row.days_from_start),
                    _mm(row.target_sum_mm),
                    _mm(row.baseline_sum_mm),
                    _mm(row.nadir_sum_mm),
                    _pct(row.change_from_baseline_pct),
                    _pct(row.change_from_nadir_pct),
                    _cell(row.target_response),
                    _cell(row.non_target_response),
                    _cell(row.new_lesions),
                    _cell(row.overall_response),
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(TABLE_COLUMNS))]
        for r in rows:
            cells = [
                f"{text:{align}{width}}"
                for text, (_, align), width in zip(r, TABLE_COLUMNS, widths, strict=True)
            ]
            out.write(("  " + "  ".join(cells)).rstrip() + "\n")
        progression = result.progression_date.isoformat() if result.progression_date else "none"
        first = result.first_response_date.isoformat() if result.first_response_date else "none"
        dor = f"{result.dor_days} d" if result.dor_days is not None else "n/a"
        out.write(
            f"  BOR {result.best_overall_response} ("
            f"without confirmation {result.best_overall_response_unconfirmed}); "
            f"first response {first}; "
            f"progression {progression}; PFS {result.pfs_days} d "
            f"({'event' if result.pfs_event else 'censored'}); DoR {dor}; "
            f"disease control {'yes' if result.disease_control else 'no'}\n\n"
        )


def _days(value: float | None) -> str:
    return "not reached" if value is None else f"{value:.0f} days"


def print_summary(results: Sequence[PatientResult], criteria: Sequence[str], out: IO[str]) -> None:
    """Cohort endpoints (ORR, DCR with exact 95% CI; KM median PFS with 95% CI) per preset."""
    from lesion_tool.response import cohort_endpoints

    for preset in criteria:
        subset = [r for r in results if r.criteria == preset]
        if not subset:
            out.write(f"[{preset}] no patients scored\n")
            continue
        e = cohort_endpoints(subset)
        out.write(f"[{preset}] {e.n} patients, {e.n_evaluable} with measurable disease\n")
        if e.orr is not None and e.orr_ci is not None and e.dcr_ci is not None:
            out.write(
                f"  ORR {e.n_responders}/{e.n_evaluable} = {100 * e.orr:.1f}% "
                f"(95% CI {100 * e.orr_ci[0]:.1f}-{100 * e.orr_ci[1]:.1f}%, Clopper-Pearson)\n"
                f"  DCR {e.n_disease_control}/{e.n_evaluable} = {100 * e.dcr:.1f}% "  # type: ignore[operator]
                f"(95% CI {100 * e.dcr_ci[0]:.1f}-{100 * e.dcr_ci[1]:.1f}%)\n"
            )
        else:
            out.write("  ORR / DCR: no patient with measurable disease\n")
        low, high = e.median_pfs_ci
        out.write(
            f"  PFS: {e.n_pfs_events} events; median {_days(e.median_pfs_days)} "
            f"(95% CI {_days(low)}-{_days(high)}, Kaplan-Meier)\n"
        )
        low, high = e.median_os_ci
        out.write(
            f"  OS: {e.n_deaths} deaths; median {_days(e.median_os_days)} "
            f"(95% CI {_days(low)}-{_days(high)})\n"
        )


@dataclass(frozen=True, slots=True)
class CsvText:
    """One reading scored under one preset, as the finished text of each CSV table asked for.

    What a worker sends back when the command only writes CSVs: strings, not model objects, so
    that little crosses between processes; ``patient_id``, ``reader`` and ``criteria`` order the
    rows as :class:`PatientResult` objects are ordered.
    """

    patient_id: str
    reader: str
    criteria: str
    tables: dict[str, str]
    """Table name (``timepoints``, ``patients``, ``findings``) -> its rows' CSV text."""


@dataclass(frozen=True, slots=True)
class FileScore:
    """One file loaded and scored under every preset (what a worker sends back)."""

    assessment: Assessment
    """The assessment; with ``csv_tables``, its header only (patient, reader, role)."""
    results: tuple[tuple[str, PatientResult | CsvText | None, str | None], ...]
    """(preset, result, or the reason it cannot be scored under that preset)."""
    messages: dict[str, list[str]] = field(default_factory=dict)
    """Finding text -> presets that raised it, in the order found."""
    pseudonyms: dict[str, str] = field(default_factory=dict)
    """Real patient id -> pseudonym made while loading (the parent's log scrubber needs them)."""


def score_file(
    path: Path,
    *,
    settings_list: Sequence[ResponseSettings],
    eligibility: str,
    deidentifier: Deidentifier | None = None,
    csv_tables: Sequence[str] = (),
) -> FileScore:
    """Load one assessment file (de-identify it if asked) and score it under every preset.

    Runs in a worker: it depends on this file only. Raises ``LesionToolError`` when the file
    cannot be read; a preset that cannot score it is recorded in the result, not raised. With
    ``csv_tables`` (names of :data:`~lesion_tool.response.export.CSV_TABLES`) each result comes
    back as :class:`CsvText` and the assessment as its header only (what grouping needs).
    """
    from lesion_tool.response import check_baseline, score_assessment
    from lesion_tool.response.export import csv_rows_text
    from lesion_tool.storage import load_assessment

    assessment = load_assessment(path)
    pseudonyms: dict[str, str] = {}
    if deidentifier is not None:
        real = assessment.patient_id
        assessment = deidentifier.assessment(assessment)
        pseudonyms[real] = assessment.patient_id
    messages: dict[str, list[str]] = {}
    results: list[tuple[str, PatientResult | CsvText | None, str | None]] = []
    for settings in settings_list:
        for finding in check_baseline(assessment, settings):
            key = f"{eligibility}: {_finding_text(finding)}"
            messages.setdefault(key, []).append(settings.criteria)
        try:
            result = score_assessment(assessment, settings)
        except CriteriaError as err:
            results.append((settings.criteria, None, str(err)))
            continue
        for finding in result.findings:
            key = f"{finding.severity}: {_finding_text(finding)}"
            messages.setdefault(key, []).append(settings.criteria)
        if csv_tables:
            text = CsvText(
                result.patient_id,
                result.reader,
                result.criteria,
                {table: csv_rows_text(result, table) for table in csv_tables},
            )
            results.append((settings.criteria, text, None))
        else:
            results.append((settings.criteria, result, None))
    if csv_tables:
        assessment = _header_only(assessment)
    return FileScore(assessment, tuple(results), messages, pseudonyms)


def _header_only(assessment: Assessment) -> Assessment:
    """The assessment without its timepoints or extra fields, but its reader role (for
    :func:`~lesion_tool.corelab.readings.group_readings`)."""
    from dataclasses import replace

    role = assessment.extra.get("reader_role")
    return replace(assessment, timepoints=(), extra={} if role is None else {"reader_role": role})


def score_files(
    paths: Sequence[str],
    settings_list: Sequence[ResponseSettings],
    *,
    eligibility: str,
    deidentifier: Deidentifier | None = None,
    files: Sequence[Path] | None = None,
    executor: Executor | None = None,
    csv_tables: Sequence[str] = (),
) -> tuple[list, int, Cohort, dict]:
    """Load, group by patient and reader, and score every reading; problems go to stderr.

    Returns (results of every reading, failures, the cohort, scored by (patient, reader, role)
    and preset). ``eligibility`` is the severity word baseline-eligibility findings are
    reported with; a ``deidentifier`` pseudonymises each assessment before it is scored.
    The per-file work (load, check, score) runs on ``executor`` (default: in process); the
    grouping, the messages and their order are decided here, in input order, so the outcome
    does not depend on where the work ran. With ``csv_tables`` the results are
    :class:`CsvText` (see :func:`score_file`) and the scored mapping is empty.
    """
    from lesion_tool.corelab.readings import Reading, group_readings
    from lesion_tool.executor import Executor
    from lesion_tool.storage import find_assessment_files

    if files is None:
        files = find_assessment_files(paths)
    if not files:
        raise LesionToolError(f"no assessment files (*.json) found in {', '.join(paths)}")
    executor = executor or Executor()
    if not executor.scheduler:
        # Compiled and imported here, once: local workers are forked from this process.
        import lesion_tool.response.baseline
        import lesion_tool.response.export
        import lesion_tool.response.scoring  # noqa: F401
        from lesion_tool.storage.assessment_json import prepare_loading

        prepare_loading()
    work = partial(
        score_file,
        settings_list=tuple(settings_list),
        eligibility=eligibility,
        deidentifier=deidentifier,
        csv_tables=tuple(csv_tables),
    )
    outcomes = executor.map(work, files, label="rescore")
    problems: list[tuple[str, str]] = []
    by_path: dict[str, FileScore] = {}
    readings = []
    for path, outcome in zip(files, outcomes, strict=True):
        if outcome.error is not None or outcome.value is None:
            problems.append((str(path), str(outcome.error)))
            continue
        if deidentifier is not None:  # so that the log scrubber knows the ids a worker saw
            deidentifier.pseudonymised.update(outcome.value.pseudonyms)
        by_path[str(path)] = outcome.value
        readings.append(Reading(outcome.value.assessment, path))
    cohort = group_readings(readings)
    problems.extend(cohort.problems)
    failures = len(problems)
    for where, why in problems:
        print(
            f"lesion-tool: skipped: {why if where in why else f'{where}: {why}'}",
            file=sys.stderr,
        )
    results: list[PatientResult | CsvText] = []
    scored: dict[tuple[str, str, str], dict[str, PatientResult]] = {}
    for patient in cohort.patients:
        for reading in (*patient.readings, *([patient.adjudicator] if patient.adjudicator else [])):
            path = reading.where
            file_score = by_path[path]
            by_preset: dict[str, PatientResult | CsvText] = {}
            for criteria, result, error in file_score.results:
                if result is None:
                    print(f"lesion-tool: skipped: {path} [{criteria}]: {error}", file=sys.stderr)
                    failures += 1
                    continue
                results.append(result)
                by_preset[criteria] = result
            if by_preset and not csv_tables:  # a preset that cannot score it leaves the others
                scored[(reading.patient_id, reading.reader, reading.role)] = by_preset
            for message, presets in file_score.messages.items():
                print(f"lesion-tool: {path} [{','.join(presets)}]: {message}", file=sys.stderr)
    return results, failures, cohort, scored


def _finding_text(finding: object) -> str:
    text = str(finding)
    return text.split(": ", 1)[1] if ": " in text else text


def run(args: argparse.Namespace) -> int:
    """Run ``rescore``; returns 0, or 1 when any file failed."""
    from lesion_tool.response import write_findings_csv, write_patients_csv, write_timepoints_csv
    from lesion_tool.storage import find_assessment_files
    from lesion_tool.storage.atomic import atomic_write, refuse_inputs_as_outputs

    settings_list = settings_from_args(args)
    files = find_assessment_files(args.paths)
    outputs = {
        "timepoints": args.timepoints_csv,
        "patients": args.patients_csv,
        "findings": args.findings_csv,
    }
    refuse_inputs_as_outputs(
        [(f"--{table}-csv", option) for table, option in outputs.items()], files
    )
    # Only CSVs asked for: each file's rows are made as text where it is scored, and no
    # model object is kept (nor, with workers, pickled); the table and --summary need results.
    csv_tables = (
        tuple(table for table, option in outputs.items() if option)
        if any(outputs.values()) and not args.summary
        else ()
    )
    results, failures, cohort, scored = score_files(
        args.paths,
        settings_list,
        eligibility="warning",
        deidentifier=deidentifier_from_args(args),
        files=files,
        executor=executor_from_args(args),
        csv_tables=csv_tables,
    )
    order = {preset: i for i, preset in enumerate(args.criteria)}
    results.sort(key=lambda r: (r.patient_id, r.reader, order[r.criteria]))
    writers = {
        "timepoints": write_timepoints_csv,
        "patients": write_patients_csv,
        "findings": write_findings_csv,
    }
    for table, option in outputs.items():
        if not option:
            continue
        if csv_tables:
            write = partial(_write_csv_text, table, results)
        else:
            write = partial(writers[table], results)
        if option == "-":
            write(sys.stdout)
        else:
            try:
                with atomic_write(option) as handle:
                    write(handle)
            except OSError as err:
                raise LesionToolError(f"{option}: cannot write: {err}") from err
    if not (args.timepoints_csv or args.patients_csv or args.findings_csv):
        print_table(results, sys.stdout)
    if args.summary:
        failures += _print_cohort_summary(args, cohort, scored)
    return 1 if failures else 0


def _write_csv_text(table: str, results: Sequence[CsvText], out: IO[str]) -> None:
    """``table`` from the rows' finished text (the same bytes as its writer)."""
    from lesion_tool.response.export import csv_header

    out.write(csv_header(table))
    out.writelines([r.tables[table] for r in results])


def _print_cohort_summary(args: argparse.Namespace, cohort: Cohort, scored: dict) -> int:
    """Endpoints per preset with each patient counted once (single, concordant or adjudicated
    reading), then per reader when patients were read more than once; returns problems."""
    from lesion_tool.commands._corelab import adjudication_settings_from_args, print_result_sets
    from lesion_tool.corelab.adjudication import load_decisions, result_sets, select_readings
    from lesion_tool.response import settings_for

    adjudication = adjudication_settings_from_args(args)
    decisions, problems = load_decisions(args.adjudications)
    if adjudication.preset not in args.criteria:
        # the readers are compared under the adjudication preset: score it too
        from lesion_tool.corelab.adjudication import score_cohort_readings

        extra, _ = score_cohort_readings(cohort, [settings_for(adjudication.preset)])
        scored = {k: {**v, **extra.get(k, {})} for k, v in scored.items()}
    selections, select_problems = select_readings(cohort, scored, decisions, adjudication)
    for where, why in [*problems, *select_problems]:
        print(f"lesion-tool: {where}: {why}", file=sys.stderr)
    if cohort.multi_reader:
        print(f"Adjudication {adjudication.describe()}", file=sys.stdout)
    for preset in args.criteria:
        sets = result_sets(cohort, scored, selections, preset)
        if not sets[0].results:
            sys.stdout.write(f"[{preset}] no patients scored\n")
            continue
        print_summary(list(sets[0].results), [preset], sys.stdout)
        print_result_sets(sets, sys.stdout)
    return len(problems) + len(select_problems)
