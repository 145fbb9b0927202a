"""Reader agreement (issue 13) checked against independent computations: textbook formulas
coded here by hand, published worked examples, and the TCIA table's sums read directly."""

from __future__ import annotations

import math
import random
import statistics
from pathlib import Path

import _tcia
import pytest

from lesion_tool.corelab.adjudication import AdjudicationSettings, score_cohort_readings
from lesion_tool.corelab.agreement import bland_altman, icc_2_1, kappa, reader_agreement
from lesion_tool.corelab.readings import Reading, group_readings
from lesion_tool.report.agreement import cohen_kappa, cross_table
from lesion_tool.response import score_assessment, settings_for


def _hand_cohen(pairs: list[tuple[str, str]]) -> float:
    n = len(pairs)
    cats = {c for p in pairs for c in p}
    p_o = sum(a == b for a, b in pairs) / n
    p_e = sum(
        (sum(a == c for a, _ in pairs) / n) * (sum(b == c for _, b in pairs) / n) for c in cats
    )
    return (p_o - p_e) / (1 - p_e)


def _hand_fleiss(ratings: list[list[str]]) -> float:
    """Fleiss (1971): P_bar from each item's agreeing rater pairs, P_e from category shares."""
    n, k = len(ratings), len(ratings[0])
    cats = sorted({c for item in ratings for c in item})
    counts = [[item.count(c) for c in cats] for item in ratings]
    p_i = [(sum(x * x for x in row) - k) / (k * (k - 1)) for row in counts]
    p_j = [sum(row[j] for row in counts) / (n * k) for j in range(len(cats))]
    p_bar, p_e = sum(p_i) / n, sum(p * p for p in p_j)
    return (p_bar - p_e) / (1 - p_e)


def _hand_icc_2_1(values: list[list[float]]) -> float:
    """Shrout & Fleiss (1979) ICC(2,1) from the two-way ANOVA mean squares."""
    n, k = len(values), len(values[0])
    grand = sum(map(sum, values)) / (n * k)
    rows = [sum(r) / k for r in values]
    cols = [sum(r[j] for r in values) / n for j in range(k)]
    ss_r = k * sum((m - grand) ** 2 for m in rows)
    ss_c = n * sum((m - grand) ** 2 for m in cols)
    ss_t = sum((v - grand) ** 2 for r in values for v in r)
    ms_r, ms_c = ss_r / (n - 1), ss_c / (k - 1)
    ms_e = (ss_t - ss_r - ss_c) / ((n - 1) * (k - 1))
    return (ms_r - ms_e) / (ms_r + (k - 1) * ms_e + k * (ms_c - ms_e) / n)


def test_cohen_kappa_matches_hand_formula_and_the_report_code() -> None:
    pairs = [("PR", "PR")] * 20 + [("PR", "SD")] * 5 + [("SD", "SD")] * 15 + [("PD", "PD")] * 8
    pairs += [("SD", "PD")] * 2 + [("CR", "PR")] * 3 + [("CR", "CR")] * 4
    result = kappa([list(p) for p in pairs])
    assert result.method == "Cohen" and result.n_items == len(pairs)
    assert result.kappa == pytest.approx(_hand_cohen(pairs), abs=1e-12)
    other = cohen_kappa(cross_table([a for a, _ in pairs], [b for _, b in pairs]))
    assert result.kappa == pytest.approx(other.kappa, abs=1e-12)
    assert -1 <= result.ci[0] < result.kappa < result.ci[1] <= 1


def test_fleiss_kappa_on_the_published_worked_example() -> None:
    """Fleiss (1971) as worked on Wikipedia: 10 items, 14 raters, 5 categories, kappa 0.210."""
    table = [
        (0, 0, 0, 0, 14), (0, 2, 6, 4, 2), (0, 0, 3, 5, 6), (0, 3, 9, 2, 0), (2, 2, 8, 1, 1),
        (7, 7, 0, 0, 0), (3, 2, 6, 3, 0), (2, 5, 3, 2, 2), (6, 5, 2, 1, 0), (0, 2, 2, 3, 7),
    ]  # fmt: skip
    ratings = [[c for c, times in zip("ABCDE", row, strict=True) for _ in range(times)]
               for row in table]  # fmt: skip
    result = kappa(ratings)
    assert result.method == "Fleiss" and result.n_raters == 14
    assert result.kappa == pytest.approx(0.2099, abs=5e-5)
    assert result.kappa == pytest.approx(_hand_fleiss(ratings), abs=1e-12)
    assert result.ci[0] < result.kappa < result.ci[1]


def test_icc_and_bland_altman_match_hand_computation() -> None:
    rng = random.Random(13)
    truth = [rng.uniform(10, 120) for _ in range(30)]
    values = [[t + rng.gauss(0, 6), t + 3 + rng.gauss(0, 6), t + rng.gauss(0, 9)] for t in truth]
    icc, (low, high) = icc_2_1(values)
    assert icc == pytest.approx(_hand_icc_2_1(values), abs=1e-9)
    assert low <= icc <= high
    pairs = [(v[0], v[1]) for v in values]
    ba = bland_altman(("a", "b"), pairs)
    diffs = [a - b for a, b in pairs]
    assert ba.bias == pytest.approx(statistics.mean(diffs))
    assert ba.upper == pytest.approx(statistics.mean(diffs) + 1.96 * statistics.stdev(diffs))
    assert ba.lower == pytest.approx(statistics.mean(diffs) - 1.96 * statistics.stdev(diffs))


def test_undefined_kappa_is_nan_not_an_error() -> None:
    assert math.isnan(kappa([["SD", "SD"], ["SD", "SD"]]).kappa)
    assert math.isnan(kappa([]).kappa)


@pytest.mark.realdata
def test_tcia_three_reader_agreement_matches_independent_computation(shared_data: Path) -> None:
    """The README's figures: TCIA, 3 readers, one follow-up (so no confirmation possible)."""
    readings = _tcia.readings(shared_data)
    cohort = group_readings(Reading(r.assessment) for r in readings)
    presets = ("mrecist", "recist-1.1")
    scored, problems = score_cohort_readings(
        cohort, [settings_for(p, confirm=False) for p in presets]
    )
    assert problems == []
    complete = [p for p in cohort.patients if len(p.readings) == 3]
    assert (len(cohort.patients), len(complete)) == (99, 93)
    rows = {r["TCIA_ID"]: r for r in _tcia.table(shared_data)}
    expected = {  # preset: BOR kappa, timepoint kappa, ICC(2,1), adjudications
        "mrecist": (0.466, 0.443, 0.876, 50),
        "recist-1.1": (0.619, 0.354, 0.931, 26),
    }
    for preset, column in (("mrecist", "mRECIST"), ("recist-1.1", "RECIST")):
        ag = reader_agreement(cohort, scored, preset, AdjudicationSettings(preset=preset))
        settings = settings_for(preset, confirm=False)
        # BOR and follow-up responses scored reading by reading, kappa by hand
        bor, follow_up = [], []
        for patient in complete:
            results = [score_assessment(r.assessment, settings) for r in patient.readings]
            bor.append([str(r.best_overall_response) for r in results])
            follow_up.append([str(r.timepoints[1].overall_response) for r in results])
        assert ag.bor_kappa.kappa == pytest.approx(_hand_fleiss(bor), abs=1e-12)
        assert ag.timepoint_kappa.kappa == pytest.approx(_hand_fleiss(follow_up), abs=1e-12)
        # ICC(2,1) on the released sums themselves, baseline and follow-up
        sums = [
            [float(rows[p.patient_id][f"{r}_{column}_{t}"]) for r in "123"]
            for p in complete
            for t in ("BL", "FU")
        ]
        assert ag.icc_n == len(sums) == 186
        assert ag.icc == pytest.approx(_hand_icc_2_1(sums), abs=1e-9)
        # Bland-Altman of readers 1 and 2 on every patient both read
        pairs = [
            (float(row[f"1_{column}_{t}"]), float(row[f"2_{column}_{t}"]))
            for pid, row in rows.items()
            if cohort.patient(pid) and {"reader1", "reader2"} <= set(cohort.patient(pid).readers)
            for t in ("BL", "FU")
        ]
        [ba12] = [b for b in ag.bland_altman if b.readers == ("reader1", "reader2")]
        assert ba12.n == len(pairs)
        assert ba12.bias == pytest.approx(statistics.mean(a - b for a, b in pairs), abs=1e-9)
        bor_k, tp_k, icc, n_adj = expected[preset]
        assert (round(ag.bor_kappa.kappa, 3), round(ag.timepoint_kappa.kappa, 3)) == (bor_k, tp_k)
        assert (round(ag.icc, 3), ag.n_adjudicated, ag.n_paired) == (icc, n_adj, 95)
    # mRECIST vs RECIST 1.1 per reader: Cohen's kappa by hand on each reader's BORs
    ag = reader_agreement(cohort, scored, "mrecist", AdjudicationSettings())
    for reader, k in ag.criteria_kappa:
        pairs = [
            (
                str(scored[(p.patient_id, reader, "reader")]["mrecist"].best_overall_response),
                str(scored[(p.patient_id, reader, "reader")]["recist-1.1"].best_overall_response),
            )
            for p in cohort.patients
            if (p.patient_id, reader, "reader") in scored
        ]
        assert k.kappa == pytest.approx(_hand_cohen(pairs), abs=1e-12)
    assert ag.readers == ("reader1", "reader2", "reader3")
