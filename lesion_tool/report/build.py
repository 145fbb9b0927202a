"""Build the cohort report: score every assessment under each preset, draw, write PNG/HTML/PDF.

Scoring, endpoints and survival statistics are the response engine's
(:func:`lesion_tool.response.score_assessment`, :func:`lesion_tool.response.cohort_endpoints`);
this module only arranges and draws them. Bad assessment files are reported and skipped.
"""

from __future__ import annotations

import bisect
import datetime as dt
import io
import math
import re
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure as MplFigure

from lesion_tool.deid import Deidentifier
from lesion_tool.errors import LesionToolError
from lesion_tool.model import Assessment, Category, Kind, LesionState
from lesion_tool.report import html as H
from lesion_tool.report import plots
from lesion_tool.report.agreement import Agreement, cohen_kappa, cross_table
from lesion_tool.report.style import (
    DAYS_PER_MONTH,
    PRESET_LABELS,
    RESPONSE_ORDER,
    rc_params,
    response_colour,
)
from lesion_tool.storage.atomic import atomic_write

__all__ = [
    "PatientReport",
    "ReportResult",
    "agreement_pairs",
    "build_report",
    "endpoint_definitions",
    "km_curve",
    "load_cohort",
    "score_cohort",
    "write_report",
]


@dataclass(slots=True)
class PatientReport:
    """One patient's assessment and its scored results per preset."""

    assessment: Assessment
    results: dict[str, Any]
    """preset -> ``lesion_tool.response.PatientResult``."""
    source: Path | None = None
    basis: str | None = None
    """Why this reading stands for the patient when several readers read it."""


@dataclass(slots=True)
class ReportResult:
    """What :func:`write_report` wrote and the numbers it showed."""

    out_dir: Path
    html: Path
    pdf: Path
    pngs: list[Path]
    patients: list[PatientReport]
    endpoints: dict[str, Any]
    """preset -> ``lesion_tool.response.CohortEndpoints``."""
    agreements: list[tuple[str, str, Agreement]]
    problems: list[tuple[str, str]] = field(default_factory=list)
    """(file or patient, reason) of every assessment that was skipped."""


def load_cohort(
    paths: Iterable[str | Path],
    executor: Any = None,
) -> tuple[list[tuple[Path, Assessment]], list[tuple[str, str]]]:
    """Load every assessment file under ``paths``; a bad file is reported, never fatal.

    Returns ``(loaded, problems)`` with ``loaded`` a list of (path, Assessment) and
    ``problems`` a list of (path, reason), both in file order. The files are read on
    ``executor`` (a :class:`lesion_tool.executor.Executor`; default: in process).
    """
    from lesion_tool.executor import Executor
    from lesion_tool.storage import find_assessment_files, load_assessment

    files = find_assessment_files([Path(p) for p in paths])
    outcomes = (executor or Executor()).map(load_assessment, files, label="report")
    loaded: list[tuple[Path, Assessment]] = []
    problems: list[tuple[str, str]] = []
    for path, outcome in zip(files, outcomes, strict=True):
        if outcome.error is not None or outcome.value is None:
            problems.append((str(path), str(outcome.error)))
        else:
            loaded.append((path, outcome.value))
    return loaded, problems


def agreement_pairs(presets: Sequence[str]) -> list[tuple[str, str]]:
    """Which preset pairs the agreement section compares: each mRECIST preset vs RECIST 1.1."""
    pairs = [(p, "recist-1.1") for p in presets if p != "recist-1.1"]
    return pairs or [("mrecist", "recist-1.1")]


def score_cohort(
    loaded: Sequence[tuple[Path | None, Assessment]],
    presets: Sequence[str],
    settings_overrides: Mapping[str, Any] | None = None,
) -> tuple[list[PatientReport], list[tuple[str, str]]]:
    """Score every assessment under every preset needed (the requested ones and the agreement's).

    A patient that cannot be scored (``LesionToolError``) is reported and skipped.
    """
    from lesion_tool.response import score_assessment, settings_for

    needed = list(
        dict.fromkeys([*presets, *(p for pair in agreement_pairs(presets) for p in pair)])
    )
    settings = {p: settings_for(p, **dict(settings_overrides or {})) for p in needed}
    patients: list[PatientReport] = []
    problems: list[tuple[str, str]] = []
    for path, assessment in loaded:
        try:
            results = {p: score_assessment(assessment, settings[p]) for p in needed}
        except LesionToolError as err:
            problems.append((str(path or assessment.patient_id), str(err)))
            continue
        patients.append(PatientReport(assessment, results, path))
    return patients, problems


def build_report(
    paths: Iterable[str | Path],
    out_dir: str | Path,
    presets: Sequence[str] = ("mrecist", "mrecist-1.1", "recist-1.1"),
    settings_overrides: Mapping[str, Any] | None = None,
    *,
    title: str = "Tumour response report",
    progress: Callable[[str], None] | None = None,
    deidentifier: Deidentifier | None = None,
    adjudications: Sequence[str | Path] = (),
    adjudication: Any = None,
    executor: Any = None,
) -> ReportResult:
    """Load, score and report a cohort of assessment files (see :func:`write_report`).

    The files are read on ``executor`` (a :class:`lesion_tool.executor.Executor`; default: in
    process); scoring and everything after it run here, so the report does not depend on it.

    Nothing is written when no file could be used; the result then lists the problems. With a
    ``deidentifier`` the report shows pseudonyms and shifted dates only, and names no input file
    (file names often carry the patient's id): skipped files are counted, not listed.

    Patients read by several readers count once: their endpoints use the reading chosen by
    :func:`lesion_tool.corelab.adjudication.select_readings` (with the decisions found under
    ``adjudications`` and the triggers of ``adjudication``, an ``AdjudicationSettings``), and the
    report adds a section with per-reader endpoints and reader agreement.
    """
    from lesion_tool.corelab.adjudication import AdjudicationSettings

    loaded, problems = load_cohort(paths, executor)
    if deidentifier is not None:
        loaded = [(None, deidentifier.assessment(a)) for _path, a in loaded]
    patients, score_problems, study = _score_readers(
        loaded, presets, settings_overrides, adjudications, adjudication or AdjudicationSettings()
    )
    problems = [*problems, *score_problems]
    if deidentifier is not None and problems:
        problems = [
            (f"{len(problems)} input(s)", "not used; run validate on the inputs for the reasons")
        ]
    if not patients:
        out = Path(out_dir)
        return ReportResult(out, out / "report.html", out / "report.pdf", [], [], {}, [], problems)
    return write_report(
        patients,
        out_dir,
        presets,
        problems=problems,
        title=title,
        progress=progress,
        settings_overrides=settings_overrides,
        reader_study=study,
    )


def _score_readers(
    loaded: Sequence[tuple[Path | None, Assessment]],
    presets: Sequence[str],
    settings_overrides: Mapping[str, Any] | None,
    adjudications: Sequence[str | Path],
    adjudication: Any,
) -> tuple[list[PatientReport], list[tuple[str, str]], Any]:
    """Group readings by patient and reader, score them all, keep one reading per patient
    (single, concordant or adjudicated; lesion_tool.corelab) and the reader study, if any."""
    from lesion_tool.corelab.adjudication import load_decisions, select_readings
    from lesion_tool.corelab.readings import Reading, group_readings, reader_role
    from lesion_tool.report.readers import ReaderStudy

    cohort = group_readings(Reading(a, p) for p, a in loaded)
    kept = [r for pt in cohort.patients for r in (*pt.readings, pt.adjudicator) if r is not None]
    scored_all, problems = score_cohort(
        [(r.source, r.assessment) for r in kept],
        [*presets, adjudication.preset],
        settings_overrides,
    )
    by_key = {
        (pt.assessment.patient_id, pt.assessment.reader, reader_role(pt.assessment)): pt
        for pt in scored_all
    }
    scored = {key: pt.results for key, pt in by_key.items()}
    decisions, decision_problems = load_decisions(adjudications)
    selections, select_problems = select_readings(cohort, scored, decisions, adjudication)
    patients = []
    for s in selections:
        pt = by_key[(s.reading.patient_id, s.reading.reader, s.reading.role)]
        pt.basis = s.basis if cohort.multi_reader else None
        patients.append(pt)
    study = ReaderStudy(cohort, scored, selections, adjudication) if cohort.multi_reader else None
    return (
        patients,
        [*cohort.problems, *problems, *decision_problems, *select_problems],
        study,
    )


# ----------------------------------------------------------------------------- formatting
def _pct(x: float | None, digits: int = 1) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.{digits}f}"


def _num(x: float | None, digits: int = 1) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def _days_text(days: float | None) -> str:
    if days is None or not math.isfinite(days):
        return "NR"
    return f"{days:.0f}"


def _months_text(days: float | None) -> str:
    if days is None or not math.isfinite(days):
        return "NR"
    return f"{days / DAYS_PER_MONTH:.1f}"


def _resp_cell(value: object) -> H.Cell:
    text = "" if value is None else str(value)
    return H.Cell(text, response_colour(text) if text else None)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "patient"


def _data_value(x: object) -> str:
    if x is None:
        return ""
    if isinstance(x, float):
        return repr(x)
    return str(x)


# ----------------------------------------------------------------------------- survival
def km_curve(endpoints: Any, results: Sequence[Any]) -> dict[str, Any]:
    """The drawable Kaplan-Meier data: the engine's table plus where the censored patients sit.

    The estimate and its band are ``endpoints.km_*`` (computed by the engine with lifelines);
    censoring ticks are placed at each censored patient's PFS time on that step curve.
    """
    days = [float(d) for d in endpoints.km_days]
    survival = [float(v) for v in endpoints.km_survival]
    censored = sorted(float(r.pfs_days) for r in results if not r.pfs_event)

    def at(t: float) -> float:
        i = bisect.bisect_right(days, t) - 1
        return survival[i] if i >= 0 else 1.0

    return {
        "timeline_days": days,
        "survival": survival,
        "ci_lower": [float(v) for v in endpoints.km_lower],
        "ci_upper": [float(v) for v in endpoints.km_upper],
        "censor_days": censored,
        "censor_survival": [at(t) for t in censored],
        "n_events": endpoints.n_pfs_events,
    }


# ----------------------------------------------------------------------------- report
def _palette_png(data: bytes) -> bytes:
    """The PNG ``data`` as a 256-colour palette PNG, about 3 times smaller, looking the same.

    Plots are flat colours plus anti-aliasing; median cut keeps the frequent (categorical)
    colours exact. A 300-patient report's HTML, which embeds every PNG, shrinks from 24 MB to
    11 MB.
    """
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        quantized = image.convert("RGB").quantize(
            256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
    buffer = io.BytesIO()
    quantized.save(buffer, format="PNG")
    return buffer.getvalue()


class _Renderer:
    """Saves each figure once as PNG (file + bytes for the HTML) and as a PDF page."""

    def __init__(self, out_dir: Path, pdf: PdfPages) -> None:
        self.out_dir = out_dir
        self.pdf = pdf
        self.pngs: list[Path] = []

    def save(self, fig: MplFigure, relpath: str, dpi: int = 150, pdf: bool = True) -> bytes:
        FigureCanvasAgg(fig)  # render with Agg explicitly; pyplot and its backends stay untouched
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi)
        data = _palette_png(buffer.getvalue())
        path = self.out_dir / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path, "wb") as handle:
            handle.write(data)
        self.pngs.append(path)
        if pdf:
            self.pdf.savefig(fig)
        return data


def _settings_text(settings: Any) -> str:
    parts = []
    confirm = getattr(settings, "confirm", None)
    if confirm is not None:
        parts.append(
            f"confirmation {'on' if confirm else 'off'}"
            + (f" (≥ {settings.confirm_min_days} days)" if confirm else "")
        )
    for attr, text in (
        ("sd_min_days", "SD counts from day {}"),
        ("dcr_sd_min_days", "DCR: SD without PD at an assessment ≥ day {}"),
    ):
        value = getattr(settings, attr, None)
        if value is not None:
            parts.append(text.format(value))
    return "; ".join(parts)


def _ci_text(ci: tuple[float | None, float | None] | None, scale: str) -> str:
    if ci is None:
        return "–"
    lo, hi = ci
    if scale == "pct":
        return f"{_pct(lo)}–{_pct(hi)}%"
    return f"{_days_text(lo)}–{_days_text(hi)}"


def _ci_value(ci: tuple[float | None, float | None] | None) -> str:
    return "" if ci is None else f"{_data_value(ci[0])},{_data_value(ci[1])}"


def _share_text(share: float | None, k: int, n: int) -> str:
    """``"41.7% (15/36)"``; ``"n/a (0/0)"`` when nobody is evaluable (the engine gives None)."""
    return f"n/a ({k}/{n})" if share is None else f"{_pct(share)}% ({k}/{n})"


def _endpoint_row(preset: str, ep: Any) -> list[H.Cell]:
    def c(key: str, text: str, value: object) -> H.Cell:
        return H.Cell(text, data={"preset": preset, "key": key, "value": _data_value(value)})

    return [
        H.Cell(PRESET_LABELS.get(preset, preset), data={"preset": preset}, left=True),
        c("n", str(ep.n), ep.n),
        c("n_evaluable", str(ep.n_evaluable), ep.n_evaluable),
        c("orr", _share_text(ep.orr, ep.n_responders, ep.n_evaluable), ep.orr),
        H.Cell(
            _ci_text(ep.orr_ci, "pct"),
            data={"preset": preset, "key": "orr_ci", "value": _ci_value(ep.orr_ci)},
        ),
        c("dcr", _share_text(ep.dcr, ep.n_disease_control, ep.n_evaluable), ep.dcr),
        H.Cell(
            _ci_text(ep.dcr_ci, "pct"),
            data={"preset": preset, "key": "dcr_ci", "value": _ci_value(ep.dcr_ci)},
        ),
        c("n_pfs_events", str(ep.n_pfs_events), ep.n_pfs_events),
        c("median_pfs_days", _days_text(ep.median_pfs_days), ep.median_pfs_days),
        H.Cell(
            _ci_text(ep.median_pfs_ci, "days"),
            data={"preset": preset, "key": "median_pfs_ci", "value": _ci_value(ep.median_pfs_ci)},
        ),
        c("median_pfs_months", _months_text(ep.median_pfs_days), ep.median_pfs_days),
    ]


def _lesion_value(lesion: Any) -> str:
    state = LesionState(lesion.state)
    if lesion.category == Category.TARGET:
        if state is LesionState.MEASURED:
            if lesion.kind == Kind.VIABLE:
                viable, whole = _num(lesion.viable_diameter_mm), _num(lesion.longest_diameter_mm)
                return f"{viable} / {whole}"
            if lesion.kind == Kind.SHORT_AXIS:
                return f"SA {_num(lesion.short_axis_mm)}"
            return _num(lesion.longest_diameter_mm)
        return {"absent": "absent", "too_small": "too small", "not_evaluated": "NE"}[state.value]
    if lesion.category == Category.NEW:
        size = (
            f" {_num(lesion.longest_diameter_mm)}" if lesion.longest_diameter_mm is not None else ""
        )
        pattern = " HCC pattern" if lesion.typical_hcc_pattern else ""
        return f"{state.value}{size}{pattern}"
    return state.value.replace("_", " ")


def _lesion_table(assessment: Assessment) -> H.Table:
    order: dict[str, Any] = {}
    for tp in assessment.timepoints:
        for lesion in tp.lesions:
            order.setdefault(lesion.id, lesion)
    rank = {Category.TARGET: 0, Category.NON_TARGET: 1, Category.NEW: 2}
    lesions = sorted(order.values(), key=lambda les: (rank[Category(les.category)], les.id))
    header = [
        "Lesion",
        "Category",
        "Organ / site",
        "Kind",
        *(tp.label for tp in assessment.timepoints),
    ]
    rows = []
    for les in lesions:
        site = les.organ + (f" {les.location}" if les.location else "")
        if les.type:
            site += f" ({les.type.replace('_', ' ')})"
        row: list[H.Cell | str] = [
            les.id,
            Category(les.category).value.replace("_", "-"),
            H.Cell(site, left=True),
            les.kind.value if les.kind else "",
        ]
        for tp in assessment.timepoints:
            found = tp.lesion(les.id)
            row.append("" if found is None else _lesion_value(found))
        rows.append(row)
    return H.Table(
        header,
        rows,
        caption=(
            "Diameters in mm. Viable targets: viable (arterially enhancing, mRECIST) / whole "
            "lesion (RECIST 1.1); nodes: short axis (SA); new lesions: longest diameter."
        ),
        left_columns=4,
    )


def _patient_section(
    patient: PatientReport, presets: Sequence[str], sum_png: bytes, anchor: str
) -> H.Section:
    a = patient.assessment
    section = H.Section(f"Patient {a.patient_id}", anchor=anchor, level=3, css_class="patient")
    meta = [f"Treatment start {a.treatment_start.isoformat()}"]
    if a.reader:
        meta.append(f"reader {a.reader.replace('^', ' ')}")  # DICOM person names use ^
    if a.death_date:
        meta.append(f"death {a.death_date.isoformat()}")
    if a.last_known_alive:
        meta.append(f"last known alive {a.last_known_alive.isoformat()}")
    if patient.source:
        meta.append(f"file {patient.source.name}")
    if patient.basis:
        meta.append(f"endpoints on: {patient.basis}")
    section.blocks.append(H.Note("; ".join(meta)))
    summary_rows = []
    for p in presets:
        r = patient.results[p]
        summary_rows.append(
            [
                PRESET_LABELS.get(p, p),
                _resp_cell(r.best_overall_response),
                _resp_cell(r.best_overall_response_unconfirmed),
                r.first_response_date.isoformat() if r.first_response_date else "",
                r.progression_date.isoformat() if r.progression_date else "",
                _num(r.pfs_days, 0),
                "progression/death" if r.pfs_event else "censored",
                _num(r.dor_days, 0) if r.dor_days is not None else "",
                "yes" if r.disease_control else "no",
            ]
        )
    section.blocks.append(
        H.Table(
            [
                "Criteria",
                "BOR",
                "BOR unconfirmed",
                "First response",
                "Progression",
                "PFS (days)",
                "PFS status",
                "DoR (days)",
                "Disease control",
            ],
            summary_rows,
        )
    )
    section.blocks.append(H.Section("Timepoints", level=4))
    tps = patient.results[presets[0]].timepoints
    header = ["Timepoint", "Date", "Day"]
    for p in presets:
        name = PRESET_LABELS.get(p, p)
        header += [f"{name} sum (mm)", f"{name} Δ baseline (%)", f"{name} overall"]
    rows = []
    for i, tp in enumerate(tps):
        row: list[H.Cell | str] = [tp.label, tp.date.isoformat(), str(tp.days_from_start)]
        for p in presets:
            t = patient.results[p].timepoints[i]
            row += [
                _num(t.target_sum_mm),
                _num(t.change_from_baseline_pct),
                _resp_cell(t.overall_response),
            ]
        rows.append(row)
    section.blocks.append(H.Table(header, rows, left_columns=2))
    p0 = presets[0]
    detail = []
    for tp in patient.results[p0].timepoints:
        detail.append(
            [
                tp.label,
                _num(tp.nadir_sum_mm),
                _num(tp.change_from_nadir_pct),
                _resp_cell(tp.target_response),
                _resp_cell(tp.non_target_response),
                tp.new_lesions or "",
                _resp_cell(tp.overall_response),
            ]
        )
    section.blocks.append(
        H.Table(
            [
                "Timepoint",
                "Nadir (mm)",
                "Δ nadir (%)",
                "Target",
                "Non-target",
                "New lesions",
                "Overall",
            ],
            detail,
            caption=f"Response components under {PRESET_LABELS.get(p0, p0)}.",
        )
    )
    section.blocks.append(
        H.Figure(
            sum_png,
            f"{a.patient_id}: sum of target diameters per preset; marker colour = overall "
            "response at that timepoint.",
            f"Sum of target diameters over time for {a.patient_id}",
        )
    )
    section.blocks.append(H.Section("Lesions", level=4, blocks=[_lesion_table(a)]))
    findings = []
    for p in presets:
        for f in patient.results[p].findings:
            where = ", ".join(x for x in (f.timepoint, f.lesion_id) if x)
            findings.append(
                f"[{PRESET_LABELS.get(p, p)}] {f.severity}: {f.message}"
                + (f" ({where})" if where else "")
            )
    if findings:
        section.blocks.append(
            H.Section("Findings", level=4, blocks=[H.BulletList(list(dict.fromkeys(findings)))])
        )
    return section


def _same(settings: Mapping[str, Any], attr: str) -> Any:
    """The value of ``attr`` when every preset has the same one, else None."""
    values = {getattr(st, attr) for st in settings.values()}
    return next(iter(values)) if len(values) == 1 else None


def _or_table(value: Any, text: str) -> str:
    return "per preset (see the table below)" if value is None else text.format(value)


def endpoint_definitions(settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Plain-words definitions of the responses and endpoints the report shows.

    ``settings`` is preset -> ``ResponseSettings`` as used for this report; numbers shared by
    every preset are written into the text, the others point to the settings table.
    """
    confirm_days = _same(settings, "confirm_min_days")
    sd_days = _same(settings, "sd_min_days")
    dcr_days = _same(settings, "dcr_sd_min_days")
    pr_pct = _same(settings, "pr_decrease_pct")
    pd_pct = _same(settings, "pd_increase_pct")
    dcr_text = _or_table(
        dcr_days,
        "{} days (" + (f"{dcr_days / DAYS_PER_MONTH:.1f}" if dcr_days else "") + " months)",
    )
    return [
        (
            "Target sum",
            (
                "The sum of the diameters of the target lesions chosen at baseline: under mRECIST "
                "and mRECIST-1.1 the viable (arterially enhancing) diameter of typical HCC "
                "targets, under RECIST 1.1 the whole-lesion longest diameter; lymph nodes by their"
                " short axis. Response compares it with the baseline sum, progression with the "
                "smallest sum so far (the nadir)."
            ),
        ),
        (
            "Response at a timepoint",
            (
                "CR: every target and non-target gone (mRECIST: no enhancing tumour left) and no "
                "new lesion. PR: target sum at least "
                + _or_table(pr_pct, "{}%")
                + " below baseline. PD: target sum at least "
                + _or_table(pd_pct, "{}%")
                + " above the nadir (with the 5 mm rule also at least 5 mm more), unequivocal "
                "progression of a non-target, or a new lesion that counts. SD: none of these. NE: "
                "a target not evaluated and no PD. non-CR/non-PD: no targets, non-targets still "
                "present."
            ),
        ),
        (
            "Progression by new lesion",
            (
                "A PD whose timepoint shows a new lesion that counts (unequivocal; under the "
                "mRECIST presets a new liver lesion counts only with the typical HCC pattern and "
                "at least 10 mm, or after growing 10 mm since first seen). It is dated at the scan"
                " where the lesion was first seen. In the waterfall, spider and swimmer plots a "
                "diamond marks a first progression that came with a new lesion, a cross any other."
            ),
        ),
        (
            "Best overall response (BOR)",
            "The best timepoint response from treatment start up to the first progression. "
            "With confirmation on, a CR or PR counts only when confirmed (below); unconfirmed "
            "it falls back to SD. SD counts only when recorded at least "
            + _or_table(sd_days, "{} days")
            + " after treatment start; otherwise BOR is PD (if the patient progressed) or NE.",
        ),
        (
            "Confirmation",
            "A CR is confirmed by a later CR, a PR by a later CR or PR, at least "
            + _or_table(confirm_days, "{} days")
            + " after it, with nothing but CR, PR or NE in between. Whether confirmation is "
            "required is a preset setting (table below).",
        ),
        (
            "ORR (objective response rate)",
            (
                "Share of the patients with measurable disease at baseline (at least one target) "
                "whose BOR is CR or PR, with its exact (Clopper-Pearson) 95% CI."
            ),
        ),
        (
            "DCR (disease control rate)",
            "Share of the same patients whose BOR is CR or PR, or who are still without "
            "progression (SD or better) at an assessment at least " + dcr_text + " after "
            "treatment start; exact (Clopper-Pearson) 95% CI.",
        ),
        (
            "PFS (progression-free survival)",
            (
                "Time from treatment start to the first progression (as above, back-dated for a "
                "new lesion) or to death from any cause, whichever comes first; these are events. "
                "A patient with neither is censored at the last evaluable assessment (day 0 when "
                "there is none). A death long after the last assessment is still an event (no "
                "missed-visit rule). Over all patients, measurable disease or not."
            ),
        ),
        (
            "Median PFS and the Kaplan-Meier plot",
            (
                "Estimated with lifelines' Kaplan-Meier fit. The median is the first time the "
                "curve reaches 0.5 (NR: not reached); its 95% CI is where the CI below crosses "
                "0.5. The shaded area is a pointwise 95% CI (Greenwood variance on the log(-log) "
                "scale, lifelines' exponential Greenwood): it holds at each time separately and is"
                " not a simultaneous band for the whole curve. Number at risk: patients whose PFS "
                "time is at least that long (not progressed, dead or censored before)."
            ),
        ),
        (
            "DoR (duration of response)",
            (
                "For patients with a response: from the first CR or PR counted for the BOR to "
                "progression or death; censored at the last evaluable assessment. Shown per "
                "patient."
            ),
        ),
        ("Months", "Days / 30.4375."),
    ]


def _settings_rows(settings: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    """The preset settings behind the definitions: header and rows of (setting, per preset)."""
    presets = list(settings)
    header = ["Setting", *(PRESET_LABELS.get(p, p) for p in presets)]

    def row(name: str, fmt: Callable[[Any], str]) -> list[str]:
        return [name, *(fmt(settings[p]) for p in presets)]

    rows = [
        row(
            "Target diameter",
            lambda st: "viable" if st.use_viable_diameter else "whole lesion",
        ),
        row("PR: target sum below baseline by", lambda st: f"≥ {st.pr_decrease_pct}%"),
        row(
            "PD: target sum above nadir by",
            lambda st: (
                f"≥ {st.pd_increase_pct}%"
                + (f" and ≥ {st.pd_min_increase_mm:g} mm" if st.five_mm_rule else "")
            ),
        ),
        row(
            "New liver lesion counts when",
            lambda st: (
                f"typical HCC ≥ {st.new_liver_hcc_min_mm:g} mm or grown "
                f"≥ {st.new_liver_growth_mm:g} mm"
                if st.liver_hcc_new_lesion_rules
                else "unequivocal"
            ),
        ),
        row(
            "CR / PR confirmation",
            lambda st: f"required, ≥ {st.confirm_min_days} days later" if st.confirm else "off",
        ),
        row("SD counts for BOR from", lambda st: f"day {st.sd_min_days}"),
        row(
            "DCR: no progression at an assessment from",
            lambda st: f"day {st.dcr_sd_min_days} ({st.dcr_sd_min_days / DAYS_PER_MONTH:.1f} mo)",
        ),
    ]
    return header, rows


def _definitions_page(
    definitions: Sequence[tuple[str, str]], header: Sequence[str], rows: Sequence[Sequence[str]]
) -> MplFigure:
    """A PDF page (A4 landscape) with the definitions in plain words and the preset settings."""
    fig = MplFigure(figsize=(11.69, 8.27))
    fig.suptitle("Definitions", x=0.03, ha="left", fontsize=13, fontweight="bold")
    lines: list[tuple[str, bool]] = []
    for term, text in definitions:
        lines.append((term, True))
        lines += [(part, False) for part in textwrap.wrap(text, 160)]
    y = 0.93
    for text, bold in lines:
        if bold:
            y -= 0.006
        fig.text(0.03 if bold else 0.045, y, text, fontsize=8.5, weight="bold" if bold else None)
        y -= 0.021
    ax = fig.add_axes((0.03, 0.03, 0.6, max(0.05, y - 0.06)))
    ax.axis("off")
    table = ax.table(cellText=[list(r) for r in rows], colLabels=list(header), loc="upper left")
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    table.auto_set_column_width(list(range(len(header))))
    for (row, col), cell in table.get_celld().items():
        cell.set_edgecolor("#d0d4da")
        cell.set_text_props(ha="left" if col == 0 else "center")
        if row == 0:
            cell.set_facecolor("#eef1f6")
            cell.set_text_props(weight="bold")
    return fig


def _summary_page(
    title: str,
    tables: Sequence[tuple[str, Sequence[str], Sequence[Sequence[str]]]],
    notes: Sequence[str],
) -> MplFigure:
    """The PDF's first page (A4 landscape): titled tables drawn with matplotlib, then notes.

    ``tables`` are (subtitle, header, rows) of strings; each gets a band of the page in
    proportion to its rows, header cells wrapped to short lines so columns stay narrow.
    """
    fig = MplFigure(figsize=(11.69, 8.27))
    fig.suptitle(title, x=0.03, ha="left", fontsize=13, fontweight="bold")
    weights = [len(rows) + 3 for _s, _h, rows in tables]
    bands = fig.add_gridspec(
        len(tables) + 1,
        1,
        height_ratios=[*weights, 1.5 + 0.6 * len(notes)],
        left=0.03,
        right=0.97,
        top=0.92,
        bottom=0.03,
        hspace=0.55,
    )
    for k, (subtitle, header, rows) in enumerate(tables):
        ax = fig.add_subplot(bands[k])
        ax.axis("off")
        ax.set_title(subtitle, loc="left", fontsize=10, fontweight="bold")
        wrapped = [textwrap.fill(h, 15) for h in header]
        table = ax.table(
            cellText=[list(r) for r in rows],
            colLabels=wrapped,
            cellLoc="center",
            bbox=(0.0, 0.0, min(1.0, 0.085 * len(header)), 1.0),
        )
        table.auto_set_font_size(False)
        table.set_fontsize(8)
        for (row, _col), cell in table.get_celld().items():
            cell.set_edgecolor("#d0d4da")
            if row == 0:
                cell.set_facecolor("#eef1f6")
                cell.set_text_props(weight="bold")
    ax = fig.add_subplot(bands[len(tables)])
    ax.axis("off")
    ax.text(
        0,
        1,
        "\n".join(notes),
        va="top",
        ha="left",
        fontsize=8,
        color="#444444",
        transform=ax.transAxes,
    )
    return fig


def write_report(
    patients: Sequence[PatientReport],
    out_dir: str | Path,
    presets: Sequence[str] = ("mrecist", "mrecist-1.1", "recist-1.1"),
    *,
    problems: Sequence[tuple[str, str]] = (),
    title: str = "Tumour response report",
    progress: Callable[[str], None] | None = None,
    settings_overrides: Mapping[str, Any] | None = None,
    problems_heading: str = "Skipped inputs",
    problems_note: str = "input(s) could not be used and are not in this report",
    run_summary: str | None = None,
    reader_study: Any = None,
) -> ReportResult:
    """Write the cohort report into ``out_dir``.

    Files: ``report.html`` (self-contained, everything), ``report.pdf`` (the endpoints page, the
    definitions page and the cohort plots, one per page; the per-patient pages are in the HTML
    only, which halves the rendering time), ``plots/{waterfall,spider,swimmer,km}_<preset>.png``
    (the swimmer plot paged above 40 patients: page 1 there, ``swimmer_<preset>_pageNN.png``
    from 02 on) and
    ``patients/<patient_id>_sums.png``.

    Parameters
    ----------
    patients
        Scored patients (see :func:`score_cohort`); each must hold a result for every preset
        of ``presets`` and of :func:`agreement_pairs`.
    presets
        Criteria presets to report, the first one driving the per-patient detail table.
    problems
        (file, reason) of inputs that were skipped; listed first in the report under
        ``problems_heading``, introduced by the count and ``problems_note``.
    run_summary
        Optional plain text shown at the end under "About this run" (the demo's summary:
        outputs, measurement error against truth, time per stage).

    Raises
    ------
    LesionToolError
        If ``presets`` is empty or the output folder cannot be written.
    """
    from lesion_tool.response import cohort_endpoints, settings_for

    if not presets:
        raise LesionToolError("No criteria preset requested; give at least one with --criteria.")
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise LesionToolError(f"Cannot create the report folder {out}: {err}") from err
    say = progress or (lambda _msg: None)
    endpoints = {p: cohort_endpoints([pt.results[p] for pt in patients]) for p in presets}
    bor_counts = {
        p: {
            r: sum(1 for pt in patients if str(pt.results[p].best_overall_response) == r)
            for r in RESPONSE_ORDER
        }
        for p in presets
    }
    agreements = []
    for a, b in agreement_pairs(presets):
        first = [str(pt.results[a].best_overall_response) for pt in patients]
        second = [str(pt.results[b].best_overall_response) for pt in patients]
        used = [r for r in RESPONSE_ORDER if r in set(first) | set(second)]
        agreements.append((a, b, cohen_kappa(cross_table(first, second, used))))

    html_path = out / "report.html"
    pdf_path = out / "report.pdf"
    sections: list[H.Section] = []
    with (
        matplotlib.rc_context(rc_params()),
        atomic_write(pdf_path, "wb") as pdf_file,
        PdfPages(pdf_file) as pdf,
    ):
        info = pdf.infodict()
        info["Title"] = title
        info["Creator"] = "lesion-tool"
        renderer = _Renderer(out, pdf)

        # endpoints
        rows = [_endpoint_row(p, endpoints[p]) for p in presets]
        header = [
            "Criteria",
            "Patients",
            "Measurable at baseline",
            "ORR",
            "ORR 95% CI",
            "DCR",
            "DCR 95% CI",
            "PFS events",
            "Median PFS (days)",
            "Median PFS 95% CI (days)",
            "Median PFS (months)",
        ]
        overrides = dict(settings_overrides or {})
        notes = [
            f"{PRESET_LABELS.get(p, p)}: {_settings_text(settings_for(p, **overrides))}"
            for p in presets
        ]
        sec = H.Section("Cohort endpoints", anchor="endpoints")
        sec.blocks.append(H.Table(header, rows, table_id="endpoints"))
        sec.blocks.append(
            H.Note(
                "ORR = CR or PR as best overall response, among patients with "
                "measurable disease at baseline; DCR = CR, PR, or SD without progression "
                "at an assessment at least the DCR minimum after treatment start; exact "
                "(Clopper-Pearson) 95% intervals. Median PFS by Kaplan-Meier with its 95% "
                "CI; NR = not reached. Months = days / 30.4375. Every term is defined in "
                "plain words under Definitions below.",
            )
        )
        sec.blocks.append(
            H.Section(
                "Best overall response",
                level=3,
                blocks=[
                    H.Table(
                        ["Criteria", *RESPONSE_ORDER[:-1]],
                        [
                            [
                                PRESET_LABELS.get(p, p),
                                *(
                                    H.Cell(str(bor_counts[p][r]), data={"preset": p, "bor": r})
                                    for r in RESPONSE_ORDER[:-1]
                                ),
                            ]
                            for p in presets
                        ],
                        table_id="bor-counts",
                    )
                ],
            )
        )
        sections.append(sec)
        # definitions, with the settings of each preset
        settings = {p: settings_for(p, **overrides) for p in presets}
        definitions = endpoint_definitions(settings)
        set_header, set_rows = _settings_rows(settings)
        sections.append(
            H.Section(
                "Definitions",
                anchor="definitions",
                blocks=[
                    H.Definitions(definitions, list_id="definitions"),
                    H.Table(
                        set_header,
                        [
                            [
                                r[0],
                                *(
                                    H.Cell(c, data={"preset": p})
                                    for c, p in zip(r[1:], presets, strict=True)
                                ),
                            ]
                            for r in set_rows
                        ],
                        table_id="preset-settings",
                        caption="Settings of each preset used for this report.",
                    ),
                ],
            )
        )
        # agreement
        sec = H.Section("Agreement between criteria on the same readings", anchor="agreement")
        for a, b, ag in agreements:
            na, nb = PRESET_LABELS.get(a, a), PRESET_LABELS.get(b, b)
            t = ag.table
            body = []
            for i, cat in enumerate(t.categories):
                body.append(
                    [_resp_cell(cat), *(str(v) for v in t.counts[i]), str(t.row_totals()[i])]
                )
            body.append(["Total", *(str(v) for v in t.column_totals()), str(t.n)])
            sub = H.Section(f"Best overall response: {na} (rows) vs {nb} (columns)", level=3)
            sub.blocks.append(
                H.Table(
                    [f"{na} \\ {nb}", *t.categories, "Total"], body, table_id=f"crosstab-{a}-vs-{b}"
                )
            )
            kappa_text = (
                "undefined (a single category)"
                if math.isnan(ag.kappa)
                else f"{ag.kappa:.3f} (approx. 95% CI {ag.kappa_ci[0]:.3f} to {ag.kappa_ci[1]:.3f})"
            )
            sub.blocks.append(
                H.Table(
                    ["Statistic", "Value"],
                    [
                        [
                            "Cohen's kappa",
                            H.Cell(
                                kappa_text, data={"key": "kappa", "value": _data_value(ag.kappa)}
                            ),
                        ],
                        [
                            "Observed agreement",
                            H.Cell(
                                f"{_pct(ag.observed)}%",
                                data={"key": "observed", "value": _data_value(ag.observed)},
                            ),
                        ],
                        ["Agreement expected by chance", f"{_pct(ag.expected)}%"],
                        ["Patients", str(t.n)],
                    ],
                    table_id=f"kappa-{a}-vs-{b}",
                )
            )
            sec.blocks.append(sub)
        sec.blocks.append(
            H.Note(
                "Unweighted Cohen's kappa over BOR categories; interval from "
                "the large-sample standard error (Cohen 1960).",
            )
        )
        sections.append(sec)
        if reader_study is not None:  # several readers: endpoints per reader, their agreement
            from lesion_tool.report.readers import reader_study_section

            sections.append(reader_study_section(reader_study, presets, renderer.save))
        page_tables: list[tuple[str, Sequence[str], Sequence[Sequence[str]]]] = [
            ("Cohort endpoints", header, [[c.text for c in row] for row in rows]),
            (
                "Best overall response (patients)",
                ["Criteria", *RESPONSE_ORDER[:-1]],
                [
                    [PRESET_LABELS.get(p, p), *(str(bor_counts[p][r]) for r in RESPONSE_ORDER[:-1])]
                    for p in presets
                ],
            ),
        ]
        for a, b, ag in agreements:
            t = ag.table
            kappa = "undefined" if math.isnan(ag.kappa) else f"{ag.kappa:.3f}"
            subtitle = (
                f"BOR {PRESET_LABELS.get(a, a)} (rows) vs {PRESET_LABELS.get(b, b)} "
                f"(columns): Cohen's kappa {kappa}, observed agreement {_pct(ag.observed)}%"
            )
            page_tables.append(
                (
                    subtitle,
                    ["", *t.categories],
                    [[c, *map(str, t.counts[i])] for i, c in enumerate(t.categories)],
                )
            )
        pdf.savefig(
            _summary_page(
                f"{title}: {len(patients)} patients",
                page_tables,
                [*notes, "ORR/DCR: exact 95% CI; PFS: Kaplan-Meier, NR = not reached."],
            )
        )
        pdf.savefig(_definitions_page(definitions, set_header, set_rows))

        # cohort plots
        say("plots")
        sec = H.Section("Cohort plots", anchor="plots")
        by_patient = [(pt.assessment, pt) for pt in patients]
        for p in presets:
            name = PRESET_LABELS.get(p, p)
            results = [pt.results[p] for pt in patients]
            sub = H.Section(name, anchor=f"plots-{p}", level=3)
            fig = plots.waterfall_figure(results, p)
            sub.blocks.append(
                H.Figure(
                    renderer.save(fig, f"plots/waterfall_{p}.png"),
                    f"Waterfall ({name}): best change of the target sum from baseline per "
                    "patient (up to the first progression), coloured by best overall response. "
                    "Patient ids label every bar while they fit at 8 pt, else 1 in k bars (the "
                    "axis says which k); bars above +100% are cut and marked ▲; a diamond above "
                    "a bar: the first progression came with a new lesion.",
                    f"Waterfall plot, {name}",
                )
            )
            fig = plots.spider_figure(results, p)
            sub.blocks.append(
                H.Figure(
                    renderer.save(fig, f"plots/spider_{p}.png"),
                    f"Spider plot ({name}): change of the target sum from baseline over time, "
                    f"one line per patient; above {plots.SPIDER_ONE_PANEL_MAX} patients one "
                    "panel per best-response group. First progression: diamond when it came "
                    "with a new lesion, cross otherwise.",
                    f"Spider plot, {name}",
                )
            )
            pages = plots.swimmer_figures([(a, pt.results[p]) for a, pt in by_patient], p)
            for number, fig in enumerate(pages, 1):
                # page 1 keeps the one-page name, so that swimmer_<preset>.png always exists
                suffix = "" if number == 1 else f"_page{number:02d}"
                relpath = f"plots/swimmer_{p}{suffix}.png"
                which = f" Page {number} of {len(pages)}." if len(pages) > 1 else ""
                sub.blocks.append(
                    H.Figure(
                        renderer.save(fig, relpath),
                        f"Swimmer plot ({name}): time on study per patient, longest first, "
                        f"at most {plots.SWIMMER_ROWS_PER_PAGE} patients a page on one time "
                        "axis; first progression: diamond when it came with a new lesion, "
                        "cross otherwise." + which,
                        f"Swimmer plot, {name}" + (f", page {number}" if which else ""),
                    )
                )
            ep = endpoints[p]
            curve = km_curve(ep, results)
            fig = plots.km_figure(
                curve["timeline_days"],
                curve["survival"],
                curve["ci_lower"],
                curve["ci_upper"],
                curve["censor_days"],
                curve["censor_survival"],
                median_days=ep.median_pfs_days,
                median_ci_days=tuple(ep.median_pfs_ci),
                n=ep.n,
                n_events=curve["n_events"],
                durations_days=[float(r.pfs_days) for r in results],
                preset=p,
            )
            sub.blocks.append(
                H.Figure(
                    renderer.save(fig, f"plots/km_{p}.png"),
                    f"Kaplan-Meier estimate of PFS ({name}). Shaded: pointwise 95% CI "
                    "(lifelines' exponential Greenwood), not a simultaneous band; ticks: "
                    "censored; number at risk under the time axis; median and its 95% CI in "
                    "the legend.",
                    f"Kaplan-Meier PFS, {name}",
                )
            )
            sec.blocks.append(sub)
        sections.append(sec)

        # patients
        say("patients")
        sec = H.Section("Patients", anchor="patients")
        anchors = []
        used: set[str] = set()
        for pt in patients:
            anchor = "patient-" + _slug(pt.assessment.patient_id)
            while anchor in used:
                anchor += "-x"
            used.add(anchor)
            anchors.append(anchor)
        sec.blocks.append(
            H.Nav(
                [
                    (anc, pt.assessment.patient_id)
                    for anc, pt in zip(anchors, patients, strict=True)
                ],
            )
        )
        for anchor, pt in zip(anchors, patients, strict=True):
            results = {p: pt.results[p] for p in presets}
            fig = plots.patient_sum_figure(pt.assessment, results)
            png = renderer.save(
                fig, f"patients/{anchor.removeprefix('patient-')}_sums.png", dpi=110, pdf=False
            )
            sec.blocks.append(_patient_section(pt, presets, png, anchor))
        sections.append(sec)

    if problems:
        sections.insert(
            0,
            H.Section(
                problems_heading,
                anchor="problems",
                blocks=[
                    H.Note(kind="err", text=f"{len(problems)} {problems_note}:"),
                    H.BulletList([f"{where}: {why}" for where, why in problems]),
                ],
            ),
        )
    if run_summary:
        sections.append(
            H.Section("About this run", anchor="run", blocks=[H.Preformatted(run_summary)])
        )
    links = [(sec.anchor, sec.title) for sec in sections if sec.anchor]
    plot_links = [(f"plots-{p}", f"Cohort plots: {PRESET_LABELS.get(p, p)}") for p in presets]
    at = next((i for i, (a, _t) in enumerate(links) if a == "plots"), len(links))
    links[at : at + 1] = plot_links
    sections.insert(0, H.Section("Contents", anchor="contents", blocks=[H.Nav(links)]))
    meta = [
        f"Generated {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')} by lesion-tool",
        f"{len(patients)} patient(s); criteria: "
        + ", ".join(PRESET_LABELS.get(p, p) for p in presets),
    ]
    document = H.render_document(title, meta, sections)
    with atomic_write(html_path) as handle:
        handle.write(document)
    return ReportResult(
        out,
        html_path,
        pdf_path,
        renderer.pngs,
        list(patients),
        endpoints,
        agreements,
        list(problems),
    )
