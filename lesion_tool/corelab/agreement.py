"""Agreement between readers: kappa on responses, ICC(2,1) and Bland-Altman on target sums.

Per preset, over the patients every reader read: Cohen's kappa for two readers and Fleiss'
kappa for more (statsmodels ``cohens_kappa`` / ``fleiss_kappa``) on best overall response and
on each follow-up's overall response; ICC(2,1) (two-way random effects, absolute agreement,
single rater; pingouin's ``ICC(A,1)``) on target sums of every timepoint; Bland-Altman bias and
95 % limits of agreement per reader pair; the adjudication rate; and each reader's mRECIST vs
RECIST 1.1 agreement. statsmodels gives no interval for Fleiss' kappa, so its 95 % interval is
a percentile bootstrap over items (fixed seed, reproducible).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from lesion_tool.corelab.adjudication import AdjudicationSettings, Scored, worklist
from lesion_tool.corelab.readings import Cohort

__all__ = [
    "BlandAltman",
    "Kappa",
    "ReaderAgreement",
    "bland_altman",
    "icc_2_1",
    "kappa",
    "reader_agreement",
]

_NAN = float("nan")


@dataclass(frozen=True, slots=True)
class Kappa:
    """A kappa statistic: ``method`` Cohen or Fleiss, the value (NaN when undefined: no items,
    or every rating in one category), its 95 % interval, items and raters."""

    method: str
    kappa: float
    ci: tuple[float, float]
    n_items: int
    n_raters: int


def _codes(ratings: Sequence[Sequence[str]]) -> tuple[list[list[int]], list[str]]:
    categories = sorted({value for item in ratings for value in item})
    index = {c: i for i, c in enumerate(categories)}
    return [[index[v] for v in item] for item in ratings], categories


def kappa(ratings: Sequence[Sequence[str]], *, n_boot: int = 2000, seed: int = 13) -> Kappa:
    """Cohen's (two raters) or Fleiss' (more) kappa of ``ratings[item][rater]``, with 95 % CI.

    Cohen's interval is statsmodels' asymptotic one; Fleiss' a percentile bootstrap.
    """
    import numpy as np
    from statsmodels.stats.inter_rater import aggregate_raters, cohens_kappa, fleiss_kappa

    n = len(ratings)
    raters = len(ratings[0]) if n else 0
    method = "Cohen" if raters == 2 else "Fleiss"
    if n == 0 or raters < 2:
        return Kappa(method, _NAN, (_NAN, _NAN), n, raters)
    codes, categories = _codes(ratings)
    if len(categories) < 2:
        return Kappa(method, _NAN, (_NAN, _NAN), n, raters)
    data = np.asarray(codes)
    if raters == 2:
        table = np.zeros((len(categories), len(categories)))
        for a, b in data:
            table[a, b] += 1
        res = cohens_kappa(table)
        return Kappa(method, float(res.kappa), (float(res.kappa_low), float(res.kappa_upp)), n, 2)

    def fleiss(rows: np.ndarray) -> float:
        counts, _ = aggregate_raters(rows, n_cat=len(categories))
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(fleiss_kappa(counts, method="fleiss"))

    value = fleiss(data)
    rng = np.random.default_rng(seed)
    boots = np.array([fleiss(data[rng.integers(0, n, n)]) for _ in range(n_boot)])
    boots = boots[np.isfinite(boots)]
    ci = (
        (float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5)))
        if boots.size
        else (_NAN, _NAN)
    )
    return Kappa(method, value, ci, n, raters)


def icc_2_1(values: Sequence[Sequence[float]]) -> tuple[float, tuple[float, float]]:
    """ICC(2,1) of ``values[item][rater]`` with pingouin's 95 % interval (NaN: < 3 items)."""
    if len(values) < 3 or len(values[0]) < 2:
        return _NAN, (_NAN, _NAN)
    import pandas as pd
    import pingouin as pg

    rows = [
        {"item": i, "rater": r, "value": float(v)}
        for i, item in enumerate(values)
        for r, v in enumerate(item)
    ]
    table = pg.intraclass_corr(pd.DataFrame(rows), targets="item", raters="rater", ratings="value")
    row = table.set_index("Type").loc["ICC(A,1)"]
    low, high = row["CI95"]
    return float(row["ICC"]), (float(low), float(high))


@dataclass(frozen=True, slots=True)
class BlandAltman:
    """Bland-Altman statistics of two readers' paired values (first minus second)."""

    readers: tuple[str, str]
    n: int
    bias: float
    sd: float
    lower: float
    upper: float
    means: tuple[float, ...]
    differences: tuple[float, ...]


def bland_altman(readers: tuple[str, str], pairs: Sequence[tuple[float, float]]) -> BlandAltman:
    """Bias (mean difference) and 95 % limits of agreement (bias ± 1.96 SD, SD with n - 1)."""
    import numpy as np

    a = np.array([p[0] for p in pairs], dtype=float)
    b = np.array([p[1] for p in pairs], dtype=float)
    diff = a - b
    n = int(diff.size)
    bias = float(diff.mean()) if n else _NAN
    sd = float(diff.std(ddof=1)) if n > 1 else _NAN
    return BlandAltman(
        readers,
        n,
        bias,
        sd,
        bias - 1.96 * sd,
        bias + 1.96 * sd,
        tuple(float(v) for v in (a + b) / 2),
        tuple(float(v) for v in diff),
    )


@dataclass(frozen=True, slots=True)
class ReaderAgreement:
    """Every agreement figure of one preset over a cohort's readers."""

    preset: str
    readers: tuple[str, ...]
    bor_kappa: Kappa
    timepoint_kappa: Kappa
    icc: float
    icc_ci: tuple[float, float]
    icc_n: int
    bland_altman: tuple[BlandAltman, ...]
    n_paired: int
    """Patients read by two or more readers."""
    n_adjudicated: int
    """Of those, patients with an adjudication trigger (under the adjudication settings)."""
    criteria_kappa: tuple[tuple[str, Kappa], ...]
    """Per reader: Cohen's kappa of BOR by mRECIST vs RECIST 1.1 over that reader's patients."""

    @property
    def adjudication_rate(self) -> float | None:
        """Share of patients read twice or more that need adjudication (None: none read twice)."""
        return self.n_adjudicated / self.n_paired if self.n_paired else None


def reader_agreement(
    cohort: Cohort,
    scored: Scored,
    preset: str,
    adjudication: AdjudicationSettings,
    criteria_pair: tuple[str, str] = ("mrecist", "recist-1.1"),
) -> ReaderAgreement:
    """Agreement of the cohort's readers (role ``reader``) under ``preset``.

    Kappa and ICC use the patients every reader read; follow-ups and sums are paired by
    position and need the same date for every reader. Bland-Altman uses each pair's common
    timepoints. ``scored`` must hold ``preset``, the adjudication preset and ``criteria_pair``.
    """
    readers = cohort.readers
    full = []
    for patient in cohort.patients:
        keys = [(patient.patient_id, r, "reader") for r in readers]
        if all(preset in scored.get(k, {}) for k in keys):
            full.append([scored[k][preset] for k in keys])
    bor = kappa([[str(r.best_overall_response) for r in results] for results in full])
    tp_ratings: list[list[str]] = []
    sums: list[list[float]] = []
    for results in full:
        for i in range(min(len(r.timepoints) for r in results)):
            rows = [r.timepoints[i] for r in results]
            if len({t.date for t in rows}) != 1:
                continue
            if i > 0:
                tp_ratings.append([str(t.overall_response) for t in rows])
            if all(t.target_sum_mm is not None for t in rows):
                sums.append([float(t.target_sum_mm) for t in rows])  # type: ignore[arg-type]
    icc, icc_ci = icc_2_1(sums)
    pairs = []
    for a, b in itertools.combinations(readers, 2):
        values = []
        for patient in cohort.patients:
            ka, kb = (patient.patient_id, a, "reader"), (patient.patient_id, b, "reader")
            if preset not in scored.get(ka, {}) or preset not in scored.get(kb, {}):
                continue
            ta, tb = scored[ka][preset].timepoints, scored[kb][preset].timepoints
            for x, y in zip(ta, tb, strict=False):
                if x.date == y.date and x.target_sum_mm is not None and y.target_sum_mm is not None:
                    values.append((float(x.target_sum_mm), float(y.target_sum_mm)))
        if values:
            pairs.append(bland_altman((a, b), values))
    items = worklist(cohort, scored, adjudication)
    paired = {i.patient_id for i in items}
    flagged = {i.patient_id for i in items if i.reasons}
    first, second = criteria_pair
    cross = []
    for reader in readers:
        ratings = [
            [
                str(scored[k][first].best_overall_response),
                str(scored[k][second].best_overall_response),
            ]
            for p in cohort.patients
            for k in [(p.patient_id, reader, "reader")]
            if k in scored and first in scored[k] and second in scored[k]
        ]
        cross.append((reader, kappa(ratings)))
    return ReaderAgreement(
        preset=preset,
        readers=readers,
        bor_kappa=bor,
        timepoint_kappa=kappa(tp_ratings),
        icc=icc,
        icc_ci=icc_ci,
        icc_n=len(sums),
        bland_altman=tuple(pairs),
        n_paired=len(paired),
        n_adjudicated=len(flagged),
        criteria_kappa=tuple(cross),
    )
