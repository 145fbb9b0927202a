"""Cohort endpoints (spec 8): ORR and DCR with exact intervals, Kaplan-Meier PFS."""

from __future__ import annotations

import math
from collections.abc import Sequence

from lesion_tool.response.models import CohortEndpoints, PatientResult, Response

__all__ = ["clopper_pearson", "cohort_endpoints"]


def clopper_pearson(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) confidence interval of a binomial proportion, via scipy.

    Raises
    ------
    ValueError
        ``n`` is 0 or ``successes`` is outside ``0..n``.
    """
    from scipy.stats import binomtest

    if n <= 0 or not 0 <= successes <= n:
        raise ValueError(f"Need 0 <= successes <= n and n > 0, got {successes} of {n}.")
    ci = binomtest(successes, n).proportion_ci(confidence_level=confidence, method="exact")
    return float(ci.low), float(ci.high)


def _finite_or_none(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def cohort_endpoints(results: Sequence[PatientResult]) -> CohortEndpoints:
    """ORR, DCR (exact 95% intervals), Kaplan-Meier PFS and OS over patients of one preset.

    ORR and DCR are over the patients with measurable disease at baseline (at least one target);
    spec 8 defines ORR so, and DCR is taken over the same denominator (the trial's). PFS is over
    every patient. The Kaplan-Meier fit and its median interval come from lifelines
    (``KaplanMeierFitter``, ``median_survival_times`` on the exponential Greenwood interval).

    Raises
    ------
    ValueError
        ``results`` is empty or mixes presets.
    """
    if not results:
        raise ValueError("No results: the cohort is empty.")
    criteria = {r.criteria for r in results}
    if len(criteria) != 1:
        raise ValueError(f"Results mix criteria {sorted(criteria)}; pass one preset at a time.")
    evaluable = [r for r in results if r.measurable_at_baseline]
    n_eval = len(evaluable)
    responders = sum(r.best_overall_response in (Response.CR, Response.PR) for r in evaluable)
    controlled = sum(r.disease_control for r in evaluable)
    orr = responders / n_eval if n_eval else None
    dcr = controlled / n_eval if n_eval else None
    orr_ci = clopper_pearson(responders, n_eval) if n_eval else None
    dcr_ci = clopper_pearson(controlled, n_eval) if n_eval else None

    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    durations = [r.pfs_days for r in results]
    events = [r.pfs_event for r in results]
    kmf = KaplanMeierFitter()
    kmf.fit(durations, event_observed=events, label="PFS")
    median = _finite_or_none(kmf.median_survival_time_)
    ci_table = median_survival_times(kmf.confidence_interval_)
    low, high = ci_table.iloc[0, 0], ci_table.iloc[0, 1]
    surv = kmf.survival_function_.iloc[:, 0]
    ci = kmf.confidence_interval_
    os_fit = KaplanMeierFitter()
    os_fit.fit([r.os_days for r in results], event_observed=[r.os_event for r in results])
    os_ci = median_survival_times(os_fit.confidence_interval_)
    return CohortEndpoints(
        criteria=next(iter(criteria)),
        n=len(results),
        n_evaluable=n_eval,
        n_responders=responders,
        n_disease_control=controlled,
        orr=orr,
        orr_ci=orr_ci,
        dcr=dcr,
        dcr_ci=dcr_ci,
        n_pfs_events=sum(events),
        median_pfs_days=median,
        median_pfs_ci=(_finite_or_none(low), _finite_or_none(high)),
        n_deaths=sum(r.os_event for r in results),
        median_os_days=_finite_or_none(os_fit.median_survival_time_),
        median_os_ci=(_finite_or_none(os_ci.iloc[0, 0]), _finite_or_none(os_ci.iloc[0, 1])),
        km_days=tuple(float(v) for v in surv.index),
        km_survival=tuple(float(v) for v in surv.to_numpy()),
        km_lower=tuple(float(v) for v in ci.iloc[:, 0].to_numpy()),
        km_upper=tuple(float(v) for v in ci.iloc[:, 1].to_numpy()),
    )
