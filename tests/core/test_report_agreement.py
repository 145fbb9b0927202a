"""Cohen's kappa and the cross-table, against values computed by hand."""

from __future__ import annotations

import math

import pytest

from lesion_tool.report.agreement import cohen_kappa, cross_table


def test_kappa_matches_hand_computed_two_by_two() -> None:
    # 20 agree "PR", 15 agree "SD", 5 PR->SD, 10 SD->PR (n = 50).
    # p_o = 35/50 = 0.7; rows (25, 25), columns (30, 20): p_e = (25*30 + 25*20)/2500 = 0.5;
    # kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4; SE = sqrt(0.7*0.3 / (50*0.25)) = 0.129615.
    first = ["PR"] * 25 + ["SD"] * 25
    second = ["PR"] * 20 + ["SD"] * 5 + ["PR"] * 10 + ["SD"] * 15
    table = cross_table(first, second, ["PR", "SD"])
    assert table.counts == ((20, 5), (10, 15))
    assert table.row_totals() == (25, 25)
    assert table.column_totals() == (30, 20)
    result = cohen_kappa(table)
    assert result.observed == pytest.approx(0.7)
    assert result.expected == pytest.approx(0.5)
    assert result.kappa == pytest.approx(0.4)
    se = math.sqrt(0.21 / 12.5)
    assert result.kappa_ci == pytest.approx((0.4 - 1.959964 * se, 0.4 + 1.959964 * se), abs=1e-6)


def test_kappa_three_categories_hand_computed() -> None:
    # rows CR, PR, SD; counts [[2,1,0],[0,3,1],[0,1,2]], n = 10, p_o = 7/10;
    # rows (3,4,3), cols (2,5,3): p_e = (6 + 20 + 9)/100 = 0.35; kappa = 0.35/0.65.
    pairs = [("CR", "CR")] * 2 + [("CR", "PR")] + [("PR", "PR")] * 3 + [("PR", "SD")]
    pairs += [("SD", "PR")] + [("SD", "SD")] * 2
    table = cross_table([a for a, _ in pairs], [b for _, b in pairs], ["CR", "PR", "SD"])
    assert cohen_kappa(table).kappa == pytest.approx(0.35 / 0.65)


def test_perfect_agreement_and_undefined_kappa() -> None:
    assert cohen_kappa(cross_table(["CR", "PD", "SD"], ["CR", "PD", "SD"])).kappa == 1.0
    single = cohen_kappa(cross_table(["SD", "SD"], ["SD", "SD"]))
    assert math.isnan(single.kappa)
    assert single.observed == 1.0
    assert math.isnan(cohen_kappa(cross_table([], [])).kappa)


def test_categories_keep_the_given_order_and_append_unlisted() -> None:
    table = cross_table(["PD", "NE"], ["SD", "PD"], ["CR", "PR", "SD", "PD"])
    assert table.categories == ("CR", "PR", "SD", "PD", "NE")
    assert table.n == 2


def test_length_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match="same length"):
        cross_table(["CR"], [])
