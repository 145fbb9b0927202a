"""The cohort report: trial plots, endpoint tables and per-patient pages as PNG, HTML and PDF.

``build_report(paths, out_dir, presets)`` loads and scores assessment files with the response
engine and writes ``report.html`` (one self-contained file), ``report.pdf`` and the PNGs;
``write_report`` does the same from already scored patients (the demo pipeline uses it).
Cohen's kappa for the agreement between criteria is in :mod:`lesion_tool.report.agreement`.
"""

from __future__ import annotations

from lesion_tool.report.agreement import Agreement, CrossTable, cohen_kappa, cross_table
from lesion_tool.report.build import (
    PatientReport,
    ReportResult,
    agreement_pairs,
    build_report,
    load_cohort,
    score_cohort,
    write_report,
)
from lesion_tool.report.style import RESPONSE_COLOURS, RESPONSE_ORDER

__all__ = [
    "RESPONSE_COLOURS",
    "RESPONSE_ORDER",
    "Agreement",
    "CrossTable",
    "PatientReport",
    "ReportResult",
    "agreement_pairs",
    "build_report",
    "cohen_kappa",
    "cross_table",
    "load_cohort",
    "score_cohort",
    "write_report",
]
