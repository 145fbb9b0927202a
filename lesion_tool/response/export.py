"""CSV exports of scored assessments (``shared/spec/assessment-format.md``), columns exactly."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from lesion_tool.response.models import PatientResult

__all__ = [
    "CSV_TABLES",
    "FINDING_COLUMNS",
    "PATIENT_COLUMNS",
    "TIMEPOINT_COLUMNS",
    "csv_header",
    "csv_rows_text",
    "finding_rows",
    "patient_row",
    "timepoint_rows",
    "write_findings_csv",
    "write_patients_csv",
    "write_timepoints_csv",
]

TIMEPOINT_COLUMNS = (
    "patient_id",
    "reader",
    "criteria",
    "timepoint",
    "date",
    "days_from_start",
    "target_sum_mm",
    "baseline_sum_mm",
    "nadir_sum_mm",
    "change_from_baseline_pct",
    "change_from_nadir_pct",
    "target_response",
    "non_target_response",
    "new_lesions",
    "overall_response",
)
PATIENT_COLUMNS = (
    "patient_id",
    "reader",
    "criteria",
    "best_overall_response",
    "best_overall_response_unconfirmed",
    "first_response_date",
    "progression_date",
    "pfs_days",
    "pfs_event",
    "dor_days",
    "disease_control",
)
FINDING_COLUMNS = (
    "patient_id",
    "reader",
    "criteria",
    "timepoint",
    "lesion_id",
    "severity",
    "message",
)
"""The findings export (beside the spec's two tables, whose columns stay exact)."""


def _one_decimal(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _free_text(value: str) -> str:
    """A field typed by a person (patient id, reader, timepoint label), safe for a spreadsheet.

    A cell starting with ``= + - @``, tab or carriage return is run as a formula by Excel and
    LibreOffice (CSV injection); OWASP's remedy is a leading apostrophe, which spreadsheets show
    as text and hide. Numbers are written by the exporter, never through here.
    """
    return "'" + value if value.startswith(_FORMULA_START) else value


@contextmanager
def _open(file: str | os.PathLike[str] | IO[str]) -> Iterator[IO[str]]:
    if isinstance(file, str | os.PathLike):
        with Path(file).open("w", newline="", encoding="utf-8") as handle:
            yield handle
    else:
        yield file


def write_timepoints_csv(
    results: Iterable[PatientResult], file: str | os.PathLike[str] | IO[str]
) -> None:
    """One row per patient x preset x timepoint; the baseline row has empty responses.

    Sums and percentages have one decimal; absent values are empty cells.
    """
    with _open(file) as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(TIMEPOINT_COLUMNS)
        for result in results:
            writer.writerows(timepoint_rows(result))


def timepoint_rows(result: PatientResult) -> list[tuple[object, ...]]:
    """The rows one result adds to the timepoints CSV (cells before CSV quoting)."""
    # The hot loop of a trial export (one row per patient x preset x timepoint): the per-result
    # cells once, the one-decimal numbers and the responses (str enums) inline.
    patient, reader, criteria = (
        _free_text(result.patient_id),
        _free_text(result.reader),
        result.criteria,
    )
    rows = []
    for row in result.timepoints:
        target_sum, baseline_sum, nadir_sum = (
            row.target_sum_mm,
            row.baseline_sum_mm,
            row.nadir_sum_mm,
        )
        vs_baseline, vs_nadir = row.change_from_baseline_pct, row.change_from_nadir_pct
        target, non_target = row.target_response, row.non_target_response
        new, overall = row.new_lesions, row.overall_response
        rows.append(
            (
                patient,
                reader,
                criteria,
                _free_text(row.label),
                row.date.isoformat(),
                row.days_from_start,
                "" if target_sum is None else f"{target_sum:.1f}",
                "" if baseline_sum is None else f"{baseline_sum:.1f}",
                "" if nadir_sum is None else f"{nadir_sum:.1f}",
                "" if vs_baseline is None else f"{vs_baseline:.1f}",
                "" if vs_nadir is None else f"{vs_nadir:.1f}",
                "" if target is None else str(target),
                "" if non_target is None else str(non_target),
                "" if new is None else str(new),
                "" if overall is None else str(overall),
            )
        )
    return rows


def write_patients_csv(
    results: Iterable[PatientResult], file: str | os.PathLike[str] | IO[str]
) -> None:
    """One row per patient x preset; booleans ``true`` / ``false``, absent dates empty."""
    with _open(file) as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(PATIENT_COLUMNS)
        for r in results:
            writer.writerow(patient_row(r))


def patient_row(r: PatientResult) -> tuple[object, ...]:
    """The row one result adds to the patients CSV (cells before CSV quoting)."""
    return (
        _free_text(r.patient_id),
        _free_text(r.reader),
        r.criteria,
        _text(r.best_overall_response),
        _text(r.best_overall_response_unconfirmed),
        _text(r.first_response_date),
        _text(r.progression_date),
        r.pfs_days,
        _text(r.pfs_event),
        _text(r.dor_days),
        _text(r.disease_control),
    )


def write_findings_csv(
    results: Iterable[PatientResult], file: str | os.PathLike[str] | IO[str]
) -> None:
    """One row per finding of each patient x preset (e.g. a viable diameter above the whole).

    The spec fixes the columns of the timepoint and patient tables, so findings travel in their
    own table; an empty table (header only) means nothing was noticed.
    """
    with _open(file) as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(FINDING_COLUMNS)
        for r in results:
            writer.writerows(finding_rows(r))


def finding_rows(r: PatientResult) -> list[tuple[object, ...]]:
    """The rows one result adds to the findings CSV (cells before CSV quoting)."""
    patient, reader = _free_text(r.patient_id), _free_text(r.reader)
    return [
        (
            patient,
            reader,
            r.criteria,
            _free_text(f.timepoint or ""),
            _free_text(f.lesion_id or ""),
            f.severity,
            f.message,
        )
        for f in r.findings
    ]


def _patient_rows(r: PatientResult) -> list[tuple[object, ...]]:
    return [patient_row(r)]


CSV_TABLES = {
    "timepoints": (TIMEPOINT_COLUMNS, timepoint_rows),
    "patients": (PATIENT_COLUMNS, _patient_rows),
    "findings": (FINDING_COLUMNS, finding_rows),
}
"""Each CSV table's columns and the function giving one result's rows, by table name."""


def csv_rows_text(result: PatientResult, table: str) -> str:
    """The finished CSV text (quoted, ``\\n``-terminated lines) ``result`` adds to ``table``.

    Exactly what the table's writer writes for this result, so that the text of each result can
    be made where it was scored (a worker process) and the files joined from it in order.
    """
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(CSV_TABLES[table][1](result))
    return buffer.getvalue()


def csv_header(table: str) -> str:
    """The header line of ``table`` as its writer writes it."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(CSV_TABLES[table][0])
    return buffer.getvalue()
