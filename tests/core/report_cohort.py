"""A seeded generator of realistic HCC trial courses, for report tests at trial size.

Not a test module: ``test_report_scale.py`` imports it, and running it writes a whole report::

    python tests/core/report_cohort.py --patients 300 --out test-output/report-300

Each patient has 1-3 viable liver targets (sometimes a portal-vein non-target), follow-ups every
6 or 8 weeks until progression or the data cut-off (staggered accrual), a per-patient trend
(responder, stable or progressor) with visit noise, responders' viable parts sometimes vanishing
(CR), new lesions (lung, or typical HCC in the liver) at a per-visit hazard, occasional targets
not evaluated, deaths after (and a few before) progression. Imaging stops after the first visit
whose sum has grown 20% over the nadir or that shows a new lesion, as in a trial.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np

from lesion_tool.model import Assessment, Lesion, Timepoint

START = dt.date(2025, 1, 6)
CUTOFF_DAYS = 760


def _target(lid: str, segment: str, viable: float, whole: float) -> Lesion:
    return Lesion(
        lid,
        "target",
        "measured",
        kind="viable",
        location=segment,
        viable_diameter_mm=round(viable, 1),
        longest_diameter_mm=round(max(whole, viable), 1),
    )


def generate_cohort(n_patients: int, seed: int = 20261203) -> list[Assessment]:
    """``n_patients`` assessments (ids ``HCC-0001``...) with trial-like courses; deterministic."""
    rng = np.random.default_rng(seed)
    cohort = []
    for i in range(n_patients):
        pid = f"HCC-{i + 1:04d}"
        enrol = int(rng.uniform(0, 700))
        start = START + dt.timedelta(days=enrol)
        horizon = CUTOFF_DAYS - enrol  # days of follow-up before the data cut-off
        kind = rng.choice(["responder", "stable", "progressor"], p=[0.3, 0.45, 0.25])
        trend = {"responder": -0.22, "stable": -0.01, "progressor": 0.12}[kind]
        n_targets = int(rng.integers(1, 4))
        viable = rng.uniform(12, 70, n_targets)
        whole = viable * rng.uniform(1.05, 1.5, n_targets)
        segments = rng.choice(["S2", "S3", "S4", "S5", "S6", "S7", "S8"], n_targets, replace=False)
        non_target = None
        if rng.uniform() < 0.3:
            non_target = Lesion(
                "NT1", "non_target", "present", organ="portal_vein", type="portal_vein_thrombosis"
            )
        interval = int(rng.choice([42, 56]))
        hazard_new = {"responder": 0.03, "stable": 0.06, "progressor": 0.12}[kind]
        base_day = -int(rng.integers(1, 15))
        tps = [
            Timepoint(
                "baseline",
                start + dt.timedelta(days=base_day),
                tuple(
                    [
                        _target(f"T{k + 1}", segments[k], viable[k], whole[k])
                        for k in range(n_targets)
                    ]
                    + ([non_target] if non_target else [])
                ),
            )
        ]
        level = np.ones(n_targets)
        nadir = float(viable.sum())
        progressed_day = None
        day = 0
        visit = 0
        while True:
            visit += 1
            day = visit * interval + int(rng.integers(-5, 6))
            if day > horizon:
                break
            step = trend * (1.0 if visit < 4 else 0.4) + rng.normal(0, 0.07)
            if kind == "responder" and visit > 3 and rng.uniform() < 0.15:
                step = 0.25  # late escape
            level = level * np.exp(step + rng.normal(0, 0.04, n_targets))
            now_viable = viable * level
            if kind == "responder" and visit >= 2:
                now_viable = np.where(
                    now_viable < 10.0, 0.0, now_viable
                )  # necrosis: no enhancement
            now_whole = np.maximum(whole * (0.6 + 0.4 * level), now_viable)
            lesions: list[Lesion] = []
            for k in range(n_targets):
                if rng.uniform() < 0.02:
                    lesions.append(Lesion(f"T{k + 1}", "target", "not_evaluated", kind="viable"))
                else:
                    lesions.append(_target(f"T{k + 1}", segments[k], now_viable[k], now_whole[k]))
            if non_target:
                lesions.append(non_target)
            new = rng.uniform() < hazard_new
            if new:
                if rng.uniform() < 0.5:
                    lesions.append(
                        Lesion("N1", "new", "unequivocal", organ="lung", longest_diameter_mm=12.0)
                    )
                else:
                    lesions.append(
                        Lesion(
                            "N1",
                            "new",
                            "unequivocal",
                            location="S1",
                            longest_diameter_mm=float(rng.uniform(11, 25)),
                            typical_hcc_pattern=True,
                        )
                    )
            tps.append(Timepoint(f"FU{visit}", start + dt.timedelta(days=day), tuple(lesions)))
            total = float(now_viable.sum())
            if new or total >= 1.2 * nadir + 0.1:
                progressed_day = day
                break
            nadir = min(nadir, total)
        death = None
        if progressed_day is not None and rng.uniform() < 0.45:
            death = progressed_day + int(rng.integers(20, 250))
        elif progressed_day is None and rng.uniform() < 0.05:
            death = min(horizon, day) - int(rng.integers(1, 30))
        if death is not None and death > horizon:
            death = None
        last_alive = None if death is not None else start + dt.timedelta(days=max(horizon, 1))
        cohort.append(
            Assessment(
                pid,
                start,
                tuple(tps),
                reader="R1",
                death_date=None if death is None else start + dt.timedelta(days=max(death, 1)),
                last_known_alive=last_alive,
            )
        )
    return cohort


def main(argv: list[str]) -> int:
    """Write a report of a generated cohort: ``--patients N --out DIR``."""
    import argparse

    from lesion_tool.report import score_cohort, write_report

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=300)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=20261203)
    args = parser.parse_args(argv)
    cohort = generate_cohort(args.patients, args.seed)
    presets = ("mrecist", "mrecist-1.1", "recist-1.1")
    patients, problems = score_cohort([(None, a) for a in cohort], presets)
    result = write_report(patients, args.out, presets, problems=problems, progress=print)
    print(result.html)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
