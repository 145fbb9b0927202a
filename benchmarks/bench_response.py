"""Benchmark: re-score a synthetic cohort under all three presets, and compare with pyrecist.

Generates, in memory, 10,000 patients x 8 timepoints (3 targets, 2 non-targets each, occasional
new lesions, not-evaluated and absent lesions), scores every patient under ``mrecist``,
``mrecist-1.1`` and ``recist-1.1``, and prints patients per second and peak memory. Target on the
project's 2-core machine: under 10 s for all three presets together.

Then exports the same cohort (RECIST 1.1 whole-lesion diameters, targets only) to pyrecist's CSV
format (columns ``patient_id, study_date (YYYYMMDD), measurement, lesion_label_alias,
lesion_category``), times pyrecist's ``Reader`` + ``Evaluator.evaluate_recist`` on it (on a
subset, extrapolated, when the whole cohort would take too long), checks a sample of its
classifications against ours, and prints the speed ratio.

Run: ``.venv/bin/python benchmarks/bench_response.py [--patients N] [--workers K]``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import multiprocessing
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

from lesion_tool.model import Assessment, Category, Kind, Lesion, LesionState, Timepoint
from lesion_tool.response import PRESETS, Response, score_assessment, settings_for

N_TIMEPOINTS = 8
N_TARGETS = 3
N_NON_TARGETS = 2
START = dt.date(2026, 1, 5)


def generate_cohort(n_patients: int, seed: int = 20261123) -> list[Assessment]:
    """Synthetic readings: viable HCC targets whose sizes follow random multiplicative paths."""
    rng = np.random.default_rng(seed)
    # Per patient a trend (responder / stable / progressor), per timepoint noise.
    trend = rng.choice([-0.18, -0.05, 0.0, 0.06, 0.15], size=n_patients)
    baseline = rng.uniform(12.0, 80.0, size=(n_patients, N_TARGETS))
    steps = trend[:, None, None] + rng.normal(0.0, 0.08, size=(n_patients, N_TIMEPOINTS - 1, 1))
    growth = np.exp(np.cumsum(np.repeat(steps, N_TARGETS, axis=2), axis=1))
    longest = np.concatenate([baseline[:, None, :], baseline[:, None, :] * growth], axis=1)
    viable_share = np.clip(
        rng.uniform(0.6, 1.0, size=(n_patients, 1, N_TARGETS))
        - np.linspace(0, 0.6, N_TIMEPOINTS)[None, :, None]
        * rng.uniform(0, 1.2, (n_patients, 1, 1)),
        0.0,
        1.0,
    )
    # About 5 % complete responders: from fu3 on no enhancement left, lung target and
    # non-targets gone.
    complete = rng.uniform(size=n_patients) < 0.05
    viable_share[complete, 3:, :] = 0.0
    viable = longest * viable_share
    longest = np.round(longest, 1)
    viable = np.minimum(np.round(viable, 1), longest)
    state_roll = rng.uniform(size=(n_patients, N_TIMEPOINTS, N_TARGETS))
    nt_roll = rng.uniform(size=(n_patients, N_TIMEPOINTS, N_NON_TARGETS))
    new_roll = rng.uniform(size=(n_patients, N_TIMEPOINTS))
    new_size = np.round(rng.uniform(5.0, 30.0, size=(n_patients, N_TIMEPOINTS)), 1)
    gaps = rng.integers(35, 70, size=(n_patients, N_TIMEPOINTS))
    organs = ("liver", "liver", "lung")

    cohort = []
    for p in range(n_patients):
        timepoints = []
        when = -3
        for t in range(N_TIMEPOINTS):
            lesions = []
            for k in range(N_TARGETS):
                roll = state_roll[p, t, k]
                if t >= 3 and complete[p] and organs[k] != "liver":
                    state = LesionState.ABSENT
                elif t == 0 or roll >= 0.06:
                    state = LesionState.MEASURED
                elif roll < 0.03:
                    state = LesionState.NOT_EVALUATED
                else:
                    state = LesionState.ABSENT
                measured = state is LesionState.MEASURED
                lesions.append(
                    Lesion(
                        id=f"T{k + 1}",
                        category=Category.TARGET,
                        state=state,
                        organ=organs[k],
                        kind=Kind.VIABLE if organs[k] == "liver" else Kind.LONGEST,
                        viable_diameter_mm=float(viable[p, t, k])
                        if measured and organs[k] == "liver"
                        else None,
                        longest_diameter_mm=float(longest[p, t, k]) if measured else None,
                    )
                )
            for k in range(N_NON_TARGETS):
                roll = nt_roll[p, t, k]
                if t >= 3 and complete[p]:
                    state = LesionState.ABSENT
                elif t == 0 or roll < 0.9:
                    state = LesionState.PRESENT
                elif roll < 0.95:
                    state = LesionState.ABSENT
                elif roll < 0.98:
                    state = LesionState.NOT_EVALUATED
                else:
                    state = LesionState.UNEQUIVOCAL_PROGRESSION
                lesions.append(
                    Lesion(
                        id=f"NT{k + 1}",
                        category=Category.NON_TARGET,
                        state=state,
                        organ="portal_vein" if k == 0 else "peritoneum",
                        type="portal_vein_thrombosis" if k == 0 else "ascites",
                    )
                )
            if t > 0 and new_roll[p, t] < 0.08:
                lesions.append(
                    Lesion(
                        id="N1",
                        category=Category.NEW,
                        state=LesionState.EQUIVOCAL
                        if new_roll[p, t] < 0.03
                        else LesionState.UNEQUIVOCAL,
                        organ="liver",
                        longest_diameter_mm=float(new_size[p, t]),
                        typical_hcc_pattern=bool(new_roll[p, t] < 0.06),
                    )
                )
            timepoints.append(
                Timepoint(
                    "baseline" if t == 0 else f"fu{t}",
                    START + dt.timedelta(days=when),
                    tuple(lesions),
                )
            )
            when += int(gaps[p, t])
        cohort.append(Assessment(f"SYN-{p:05d}", START, tuple(timepoints), reader="bench"))
    return cohort


def _score_chunk(chunk: list[Assessment]) -> list[tuple[str, str, str]]:
    out = []
    for preset in PRESETS:
        settings = settings_for(preset)
        for a in chunk:
            r = score_assessment(a, settings)
            out.append((r.patient_id, preset, r.best_overall_response.value))
    return out


_COHORT: list[Assessment] = []


def _score_range(bounds: tuple[int, int]) -> list[tuple[str, str, str]]:
    # Runs in a forked worker that inherited _COHORT: only two integers cross the process
    # boundary on the way in, and small tuples on the way out (no pickling of the cohort).
    return _score_chunk(_COHORT[bounds[0] : bounds[1]])


def rescore(cohort: list[Assessment], workers: int) -> list[tuple[str, str, str]]:
    """Score every patient under every preset (``workers`` > 1: forked processes over slices)."""
    if workers <= 1:
        return _score_chunk(cohort)
    global _COHORT
    _COHORT = cohort
    size = -(-len(cohort) // workers)
    bounds = [(i, min(i + size, len(cohort))) for i in range(0, len(cohort), size)]
    ctx = multiprocessing.get_context("fork")
    try:
        with ctx.Pool(workers) as pool:
            parts = pool.map(_score_range, bounds)
    finally:
        _COHORT = []
    return [item for part in parts for item in part]


def export_pyrecist_csv(cohort: list[Assessment], path: Path) -> int:
    """RECIST 1.1 target diameters (whole lesion) in pyrecist's CSV format; returns row count.

    pyrecist has no 'not evaluated' or 'absent': an absent target is written as 0 mm and a
    not-evaluated one is left out (pyrecist then sums the rest, as a naive tool would).
    pyrecist calls ``DataFrame.diff()`` on every column, which fails on text with current
    pandas, so patients are numbered (row index in the cohort) instead of named.
    """
    rows = 0
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["patient_id", "study_date", "measurement", "lesion_label_alias", "lesion_category"]
        )
        for number, a in enumerate(cohort):
            for t in a.timepoints:
                stamp = t.date.strftime("%Y%m%d")
                for lesion in t.lesions:
                    if lesion.category is not Category.TARGET:
                        continue
                    if lesion.state is LesionState.ABSENT:
                        value = 0.0
                    elif lesion.state is LesionState.MEASURED:
                        value = lesion.longest_diameter_mm
                    else:
                        continue
                    writer.writerow([number, stamp, value, lesion.id, "target"])
                    rows += 1
    return rows


def run_pyrecist(path: Path):
    from pyrecist.assessment import Evaluator
    from pyrecist.data import Reader

    reader = Reader()
    reader.read_measurements(str(path))
    return Evaluator(reader).evaluate_recist()


def targets_only(a: Assessment) -> Assessment:
    """The same reading with only its targets, each fully evaluated (for a like-for-like check)."""
    timepoints = []
    for t in a.timepoints:
        lesions = tuple(
            lesion
            for lesion in t.lesions
            if lesion.category is Category.TARGET and lesion.state is not LesionState.NOT_EVALUATED
        )
        timepoints.append(Timepoint(t.label, t.date, lesions))
    return Assessment(a.patient_id, a.treatment_start, tuple(timepoints), reader=a.reader)


def compare_with_pyrecist(cohort: list[Assessment], frame, sample: int) -> tuple[int, int, list]:
    """Compare the first PD and first PR dates of a sample (pyrecist has no CR, NE or
    non-targets, keeps PR 'sticky' once reached, and stops classifying after PD)."""
    settings = settings_for("recist-1.1")
    checked = agreed = 0
    examples = []
    grouped = dict(list(frame.groupby("patient_id")))
    for number, a in enumerate(cohort[:sample]):
        reduced = targets_only(a)
        if any(len(t.lesions) != N_TARGETS for t in reduced.timepoints):
            continue  # a target was not evaluated: pyrecist cannot express it
        ours = score_assessment(reduced, settings)
        our_pd = next(
            (
                r.date.strftime("%Y%m%d")
                for r in ours.timepoints[1:]
                if r.target_response is Response.PD
            ),
            None,
        )
        our_pr = next(
            (
                r.date.strftime("%Y%m%d")
                for r in ours.timepoints[1:]
                if r.target_response in (Response.PR, Response.CR)
            ),
            None,
        )
        if our_pd is not None and our_pr is not None and our_pr > our_pd:
            our_pr = None  # pyrecist stops classifying after PD
        g = grouped.get(number)
        their_pd = their_pr = None
        if g is not None:
            pd_rows = g[g["classification"] == "PD"]["current_date"]
            pr_rows = g[g["classification"] == "PR"]["current_date"]
            their_pd = pd_rows.iloc[0] if len(pd_rows) else None
            their_pr = pr_rows.iloc[0] if len(pr_rows) else None
        checked += 1
        if (our_pd, our_pr) == (their_pd, their_pr):
            agreed += 1
        elif len(examples) < 5:
            examples.append((a.patient_id, (our_pd, our_pr), (their_pd, their_pr)))
    return checked, agreed, examples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument(
        "--pyrecist-max-patients",
        type=int,
        default=10_000,
        help="time pyrecist on at most this many patients and extrapolate",
    )
    args = parser.parse_args(argv)
    n = args.patients

    t0 = time.perf_counter()
    cohort = generate_cohort(n)
    t_gen = time.perf_counter() - t0
    print(
        f"cohort: {n} patients x {N_TIMEPOINTS} timepoints, {N_TARGETS} targets + "
        f"{N_NON_TARGETS} non-targets; generated in {t_gen:.2f} s"
    )

    # Peak memory of scoring itself (single process, tracemalloc) on a 1,000-patient slice.
    tracemalloc.start()
    _score_chunk(cohort[: min(n, 1000)])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    timings = {}
    for workers in sorted({1, args.workers}):
        t0 = time.perf_counter()
        results = rescore(cohort, workers)
        timings[workers] = time.perf_counter() - t0
        assert len(results) == 3 * n
    best_workers = min(timings, key=timings.get)
    elapsed = timings[best_workers]
    for workers, seconds in sorted(timings.items()):
        print(
            f"lesion-tool, {workers} process(es): {n} patients x 3 presets in {seconds:.2f} s = "
            f"{3 * n / seconds:,.0f} patient-scorings/s "
            f"({n / seconds:,.0f} patients/s, all presets)"
        )
    counts: dict[tuple[str, str], int] = {}
    for _, preset, bor in results:
        counts[preset, bor] = counts.get((preset, bor), 0) + 1
    for preset in PRESETS:
        mix = ", ".join(
            f"{bor} {counts.get((preset, bor), 0)}" for bor in ("CR", "PR", "SD", "PD", "NE")
        )
        print(f"  BOR mix [{preset}]: {mix}")
    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"peak memory: process max RSS {maxrss_mb:.0f} MB (cohort in memory included); "
        f"tracemalloc peak while scoring 1,000 patients x 3 presets (results dropped as they "
        f"are summarised): {peak / 1e6:.1f} MB"
    )
    target_ok = elapsed < 10.0
    print(
        f"target < 10 s for all three presets: {'met' if target_ok else 'MISSED'} ({elapsed:.2f} s)"
    )

    # pyrecist on the same cohort (RECIST 1.1, targets only).
    subset = cohort[: min(n, args.pyrecist_max_patients)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pyrecist.csv"
        rows = export_pyrecist_csv(subset, path)
        t0 = time.perf_counter()
        frame = run_pyrecist(path)
        t_py = time.perf_counter() - t0
    scale = n / len(subset)
    t_py_full = t_py * scale
    note = "" if scale == 1 else f" (timed on {len(subset)} patients, extrapolated x{scale:g})"
    print(
        f"pyrecist 0.1.0, RECIST 1.1 targets only: {len(subset)} patients ({rows} CSV rows) in "
        f"{t_py:.2f} s; whole cohort {t_py_full:.2f} s{note}"
    )
    t0 = time.perf_counter()
    _score_recist = [score_assessment(a, settings_for("recist-1.1")) for a in cohort]
    t_ours_recist = time.perf_counter() - t0
    print(
        f"lesion-tool recist-1.1 alone, 1 process (targets, non-targets, new lesions, BOR, PFS): "
        f"{t_ours_recist:.2f} s"
    )
    print(
        f"ratio pyrecist / lesion-tool (one preset, one process): {t_py_full / t_ours_recist:.1f}x"
    )
    checked, agreed, examples = compare_with_pyrecist(subset, frame, sample=2000)
    print(
        f"sample check, first PR and first PD dates (targets only, all evaluated): "
        f"{agreed}/{checked} agree"
    )
    for pid, ours, theirs in examples:
        print(f"  differs: {pid}: ours (PD, PR) {ours} vs pyrecist {theirs}")
    return 0 if target_ok else 1


if __name__ == "__main__":
    sys.exit(main())
