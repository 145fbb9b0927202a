"""within_interval resamples prompt positions, not prompts."""

import pytest

from lesion_tool.measurement.evaluation import within_interval


def _clustered(copies: int) -> tuple[list[bool], list[int]]:
    """28 positions, 24 always within and 4 never, each measured ``copies`` times."""
    within = [pos < 24 for pos in range(28) for _ in range(copies)]
    groups = [pos for pos in range(28) for _ in range(copies)]
    return within, groups


def test_interval_is_that_of_the_positions_however_often_each_is_measured() -> None:
    once = within_interval(*_clustered(1))
    eleven = within_interval(*_clustered(11))
    assert once == pytest.approx(eleven)
    share, low, high = eleven
    assert share == pytest.approx(24 / 28)
    # 28 independent positions at 86 %: the binomial 95 % interval is about 72-96 %.
    assert 0.68 < low < 0.77
    assert 0.94 < high <= 1.0


def test_resampling_prompts_instead_would_be_far_too_narrow() -> None:
    within, groups = _clustered(11)
    _, glow, ghigh = within_interval(within, groups)
    _, plow, phigh = within_interval(within, list(range(len(within))))
    assert (phigh - plow) < 0.5 * (ghigh - glow)


def test_all_within_has_no_spread() -> None:
    assert within_interval([True] * 5, [0, 0, 1, 2, 2]) == (1.0, 1.0, 1.0)


def test_mismatched_input_is_refused() -> None:
    with pytest.raises(ValueError, match="same length"):
        within_interval([True, False], [0])
