"""Reader-study pages and sections: an adjudication page per patient (the readers' readings
side by side) and the report's reader-agreement section with its Bland-Altman plot.

Numbers come from :mod:`lesion_tool.corelab` (adjudication triggers, agreement statistics);
this module only lays them out.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lesion_tool.report import html as H
from lesion_tool.report.style import PRESET_LABELS, response_colour

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure

    from lesion_tool.corelab.adjudication import AdjudicationSettings, Decision, Selection
    from lesion_tool.corelab.agreement import ReaderAgreement
    from lesion_tool.corelab.readings import Cohort, PatientReadings
    from lesion_tool.response import PatientResult

__all__ = [
    "ReaderStudy",
    "adjudication_page",
    "agreement_section",
    "bland_altman_figure",
    "reader_study_section",
]


@dataclass(frozen=True, slots=True)
class ReaderStudy:
    """What the report needs to show a multi-reader cohort: the grouped readings, every
    reading's results, the reading chosen per patient and the adjudication settings."""

    cohort: Cohort
    scored: Mapping[tuple[str, str, str], Mapping[str, PatientResult]]
    selections: Sequence[Selection]
    adjudication: AdjudicationSettings


def _num(x: float | None, digits: int = 1) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def _resp(value: object) -> H.Cell:
    text = "" if value is None else str(value)
    return H.Cell(text, response_colour(text) if text else None)


def adjudication_page(
    patient: PatientReadings,
    scored: Mapping[tuple[str, str, str], Mapping[str, PatientResult]],
    presets: Sequence[str],
    reasons: Sequence[str],
    decision: Decision | None = None,
) -> str:
    """One self-contained HTML page: every reader's timepoints, sums and responses side by side
    under each preset, the adjudication reasons, each reader's lesions, and any decision."""
    from lesion_tool.report.build import _lesion_table

    readings = [
        r
        for r in patient.readings
        if all(p in scored.get((r.patient_id, r.reader, r.role), {}) for p in presets)
    ]
    sections = []
    why = H.Section("Why adjudication", level=2)
    why.blocks.append(
        H.BulletList(list(reasons)) if reasons else H.Note("The readers agree: no trigger.")
    )
    if decision is not None:
        why.blocks.append(
            H.Note(
                f"Decision: {decision.chosen_reader}'s reading stands; by {decision.adjudicator} "
                f"at {decision.decided_at.isoformat()}: {decision.reason}"
            )
        )
    sections.append(why)
    for preset in presets:
        name = PRESET_LABELS.get(preset, preset)
        results = [scored[(r.patient_id, r.reader, r.role)][preset] for r in readings]
        header = ["Timepoint"]
        for r in readings:
            header += [f"{r.reader} date", f"{r.reader} sum (mm)", f"{r.reader} Δ base (%)"]
            header += [f"{r.reader} overall"]
        rows: list[list[H.Cell | str]] = []
        length = max(len(res.timepoints) for res in results)
        for i in range(length):
            row: list[H.Cell | str] = [str(i)]
            for res in results:
                if i < len(res.timepoints):
                    t = res.timepoints[i]
                    row += [
                        f"{t.label} {t.date.isoformat()}",
                        _num(t.target_sum_mm),
                        _num(t.change_from_baseline_pct),
                        _resp(t.overall_response),
                    ]
                else:
                    row += ["", "", "", ""]
            rows.append(row)
        summary = [
            [
                res.reader,
                _resp(res.best_overall_response),
                res.progression_date.isoformat() if res.progression_date else "none",
                str(res.pfs_days),
            ]
            for res in results
        ]
        sec = H.Section(f"{name}: readers side by side", level=2)
        sec.blocks.append(H.Table(header, rows, caption="Timepoints in order (0 = baseline)."))
        sec.blocks.append(
            H.Table(["Reader", "BOR", "Progression", "PFS (days)"], summary, left_columns=1)
        )
        sections.append(sec)
    for r in readings:
        sections.append(
            H.Section(f"Lesions read by {r.reader}", level=2, blocks=[_lesion_table(r.assessment)])
        )
    meta = [
        f"Patient {patient.patient_id}; readers {', '.join(r.reader for r in readings)}",
        (
            f"Generated {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')} by lesion-tool "
            "adjudicate (read-only view of the stored readings)"
        ),
    ]
    return H.render_document(f"Adjudication: patient {patient.patient_id}", meta, sections)


def bland_altman_figure(agreement: ReaderAgreement) -> MplFigure:
    """Bland-Altman plot of target sums for each reader pair (difference vs mean, with bias
    and 95 % limits of agreement)."""
    from matplotlib.figure import Figure

    pairs = agreement.bland_altman
    fig = Figure(figsize=(4.2 * max(1, len(pairs)), 3.8), layout="constrained")
    axes = fig.subplots(1, max(1, len(pairs)), squeeze=False)[0]
    for ax, ba in zip(axes, pairs, strict=False):
        ax.scatter(ba.means, ba.differences, s=12, alpha=0.6, color="#1f3b73")
        for y, style in ((ba.bias, "-"), (ba.lower, "--"), (ba.upper, "--")):
            ax.axhline(y, color="#a00000", linestyle=style, linewidth=1)
        ax.set_title(f"{ba.readers[0]} − {ba.readers[1]} (n = {ba.n})", fontsize=9)
        ax.set_xlabel("Mean of target sums (mm)")
        ax.set_ylabel("Difference (mm)")
        ax.text(
            0.99,
            0.02,
            f"bias {ba.bias:.1f}, LoA {ba.lower:.1f} to {ba.upper:.1f} mm",
            transform=ax.transAxes,
            ha="right",
            fontsize=7,
        )
    fig.suptitle(
        f"Bland-Altman, target sums ({PRESET_LABELS.get(agreement.preset, agreement.preset)})"
    )
    return fig


def _ci(ci: tuple[float, float]) -> str:
    return f"{_num(ci[0], 3)} to {_num(ci[1], 3)}"


def agreement_section(
    agreements: Sequence[ReaderAgreement], figures: Sequence[tuple[bytes, str]], notes: Any = ()
) -> H.Section:
    """The report's "Readers" section: one row per preset, then the Bland-Altman plots."""
    sec = H.Section("Agreement between readers", anchor="readers")
    header = [
        "Criteria",
        "Readers",
        "Patients",
        "BOR kappa (95% CI)",
        "Timepoint kappa (95% CI)",
        "ICC(2,1) target sums (95% CI)",
        "Bland-Altman bias / LoA (mm)",
        "Adjudication rate",
        "mRECIST vs RECIST 1.1 kappa",
    ]
    rows = []
    for ag in agreements:
        ba = "; ".join(
            f"{b.readers[0]}−{b.readers[1]}: {b.bias:.1f} / {b.lower:.1f} to {b.upper:.1f}"
            for b in ag.bland_altman
        )
        cross = "; ".join(f"{reader}: {_num(k.kappa, 3)}" for reader, k in ag.criteria_kappa)
        rows.append(
            [
                H.Cell(PRESET_LABELS.get(ag.preset, ag.preset), data={"preset": ag.preset}),
                str(len(ag.readers)),
                str(ag.bor_kappa.n_items),
                H.Cell(
                    f"{ag.bor_kappa.method} {_num(ag.bor_kappa.kappa, 3)} ({_ci(ag.bor_kappa.ci)})",
                    data={"key": "bor_kappa", "value": repr(ag.bor_kappa.kappa)},
                ),
                H.Cell(
                    f"{_num(ag.timepoint_kappa.kappa, 3)} ({_ci(ag.timepoint_kappa.ci)}), "
                    f"n = {ag.timepoint_kappa.n_items}",
                    data={"key": "timepoint_kappa", "value": repr(ag.timepoint_kappa.kappa)},
                ),
                H.Cell(
                    f"{_num(ag.icc, 3)} ({_ci(ag.icc_ci)}), n = {ag.icc_n}",
                    data={"key": "icc", "value": repr(ag.icc)},
                ),
                H.Cell(ba, left=True),
                H.Cell(
                    "–"
                    if ag.adjudication_rate is None
                    else f"{100 * ag.adjudication_rate:.1f}% ({ag.n_adjudicated}/{ag.n_paired})",
                    data={"key": "adjudication_rate", "value": repr(ag.adjudication_rate)},
                ),
                H.Cell(cross, left=True),
            ]
        )
    sec.blocks.append(H.Table(header, rows, table_id="reader-agreement"))
    sec.blocks.append(
        H.Note(
            "Kappa on best overall response (patients) and on timepoint overall responses "
            "(follow-ups read by every reader): Cohen's for two readers (statsmodels, asymptotic "
            "95% CI), Fleiss' for more (statsmodels; 95% CI by bootstrap over patients). "
            "ICC(2,1): two-way random effects, absolute agreement, single rater (pingouin), on "
            "target sums of every timepoint read by all readers. Bland-Altman: bias ± 1.96 SD of "
            "the paired differences. Adjudication rate: patients with a trigger among those read "
            "by two or more readers. mRECIST vs RECIST 1.1: each reader's BOR under both."
        )
    )
    for note in notes:
        sec.blocks.append(H.Note(note))
    for png, caption in figures:
        sec.blocks.append(H.Figure(png, caption, caption))
    return sec


def reader_study_section(
    study: ReaderStudy,
    presets: Sequence[str],
    save_png: Callable[[MplFigure, str], bytes],
) -> H.Section:
    """The report's section on the readers: what the endpoints are computed on, endpoints per
    reader, and the agreement table with a Bland-Altman plot per preset (saved by
    ``save_png(figure, relative_path)``)."""
    from lesion_tool.corelab.adjudication import result_sets
    from lesion_tool.corelab.agreement import reader_agreement
    from lesion_tool.response import cohort_endpoints

    rows = []
    note = ""
    for preset in presets:
        sets = result_sets(study.cohort, study.scored, study.selections, preset)
        note = sets[0].note
        for result_set in sets:
            if not result_set.results:
                continue
            e = cohort_endpoints(list(result_set.results))
            label = "one reading per patient" if result_set.label == "final" else result_set.label
            rows.append(
                [
                    PRESET_LABELS.get(preset, preset),
                    H.Cell(label, left=True, data={"preset": preset, "set": result_set.label}),
                    str(e.n),
                    "n/a"
                    if e.orr is None
                    else f"{100 * e.orr:.1f}% ({e.n_responders}/{e.n_evaluable})",
                    "n/a"
                    if e.dcr is None
                    else f"{100 * e.dcr:.1f}% ({e.n_disease_control}/{e.n_evaluable})",
                    "NR" if e.median_pfs_days is None else f"{e.median_pfs_days:.0f}",
                ]
            )
    pending = [s.patient_id for s in study.selections if s.status == "pending"]
    agreements = []
    figures = []
    for preset in presets:
        ag = reader_agreement(study.cohort, study.scored, preset, study.adjudication)
        agreements.append(ag)
        if ag.bland_altman:
            png = save_png(bland_altman_figure(ag), f"plots/bland_altman_{preset}.png")
            figures.append(
                (
                    png,
                    (
                        f"Bland-Altman plot of target sums between readers "
                        f"({PRESET_LABELS.get(preset, preset)}): difference against mean, with the "
                        "bias and 95% limits of agreement."
                    ),
                )
            )
    notes = [
        (
            f"The cohort endpoints above use one reading per patient: {note}. Adjudication is "
            f"triggered {study.adjudication.describe()}."
        )
    ]
    if pending:
        notes.append(
            f"{len(pending)} patient(s) await adjudication ({', '.join(pending[:20])}"
            f"{', ...' if len(pending) > 20 else ''}): their first reader's reading is used."
        )
    section = agreement_section(agreements, figures, notes)
    section.blocks.insert(
        0,
        H.Table(
            ["Criteria", "Readings", "Patients", "ORR", "DCR", "Median PFS (days)"],
            rows,
            table_id="reader-endpoints",
            caption="Endpoints on one reading per patient, and on each reader's readings alone.",
            left_columns=2,
        ),
    )
    return section
