"""Agreement between two readings of the same patients: cross-table and Cohen's kappa.

Used to compare the best overall response of the same assessments scored under two presets
(mRECIST vs RECIST 1.1). No library already installed with the project provides Cohen's kappa
(scikit-learn and statsmodels are not dependencies), so it is computed here from its textbook
definition (Cohen 1960) and tested against a hand-computed value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Agreement", "CrossTable", "cohen_kappa", "cross_table"]


@dataclass(frozen=True, slots=True)
class CrossTable:
    """Counts of paired categorical ratings.

    ``counts[i][j]`` is the number of items rated ``categories[i]`` by the first rating (rows)
    and ``categories[j]`` by the second (columns).
    """

    categories: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]

    @property
    def n(self) -> int:
        """Number of paired ratings."""
        return sum(sum(row) for row in self.counts)

    def row_totals(self) -> tuple[int, ...]:
        """Totals per category of the first rating."""
        return tuple(sum(row) for row in self.counts)

    def column_totals(self) -> tuple[int, ...]:
        """Totals per category of the second rating."""
        return tuple(sum(col) for col in zip(*self.counts, strict=True)) if self.counts else ()


@dataclass(frozen=True, slots=True)
class Agreement:
    """Agreement statistics of a :class:`CrossTable`.

    ``kappa`` is Cohen's kappa, ``observed`` the share of identical ratings (p_o), ``expected``
    the share expected by chance from the marginals (p_e); ``kappa_ci`` an approximate 95%
    interval from the large-sample standard error ``sqrt(p_o (1 - p_o) / (n (1 - p_e)^2))``
    (Cohen 1960). ``kappa`` is NaN when it is undefined (no items, or p_e == 1: both ratings
    use one single category).
    """

    table: CrossTable
    kappa: float
    observed: float
    expected: float
    kappa_ci: tuple[float, float]


def cross_table(
    first: Sequence[str], second: Sequence[str], categories: Sequence[str] = ()
) -> CrossTable:
    """Count paired ratings into a square table.

    Parameters
    ----------
    first, second
        The two ratings of the same items, in the same order (e.g. best overall responses of
        the same patients under two presets).
    categories
        Order of the categories; categories that occur but are not listed are appended in order
        of first appearance.

    Raises
    ------
    ValueError
        If the two sequences differ in length.
    """
    if len(first) != len(second):
        raise ValueError(
            f'Arguments "first" and "second" must have the same length, got {len(first)} and '
            f"{len(second)}."
        )
    order = list(dict.fromkeys(categories))
    for value in (*first, *second):
        if value not in order:
            order.append(value)
    index = {c: i for i, c in enumerate(order)}
    counts = [[0] * len(order) for _ in order]
    for a, b in zip(first, second, strict=True):
        counts[index[a]][index[b]] += 1
    return CrossTable(tuple(order), tuple(tuple(row) for row in counts))


def cohen_kappa(table: CrossTable) -> Agreement:
    """Cohen's kappa of a cross-table: ``(p_o - p_e) / (1 - p_e)``.

    ``p_o`` is the share of items on the diagonal and ``p_e = sum_k (row_k / n) (col_k / n)``
    the agreement expected by chance. Unweighted: every disagreement counts the same, as BOR
    categories are compared as labels.
    """
    n = table.n
    nan = float("nan")
    if n == 0:
        return Agreement(table, nan, nan, nan, (nan, nan))
    observed = sum(table.counts[i][i] for i in range(len(table.categories))) / n
    expected = sum(
        r * c for r, c in zip(table.row_totals(), table.column_totals(), strict=True)
    ) / (n * n)
    if math.isclose(expected, 1.0):
        return Agreement(table, nan, observed, expected, (nan, nan))
    kappa = (observed - expected) / (1.0 - expected)
    se = math.sqrt(observed * (1.0 - observed) / (n * (1.0 - expected) ** 2))
    ci = (max(-1.0, kappa - 1.959963984540054 * se), min(1.0, kappa + 1.959963984540054 * se))
    return Agreement(table, kappa, observed, expected, ci)
