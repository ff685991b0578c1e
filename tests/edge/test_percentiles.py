"""The one percentile definition: the nearest rank."""

from __future__ import annotations

import numpy as np
import pytest

from edge.percentiles import percentile, summary

STATS = {"p50": 0.50, "p95": 0.95, "max": 1.0}


def test_percentiles() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.95) == 95.0
    assert percentile([3.0], 0.95) == 3.0
    assert summary([], STATS) is None
    assert summary([2.0, 1.0, 3.0], STATS) == {"p50": 2.0, "p95": 3.0, "max": 3.0}


@pytest.mark.parametrize("q", [0, 10, 50, 95, 99, 100])
def test_percentile_is_the_nearest_rank(q: float, rng: np.random.Generator) -> None:
    values = rng.exponential(size=37).tolist()
    expected = float(np.percentile(values, q, method="inverted_cdf"))
    assert percentile(values, q / 100) == pytest.approx(expected)


def test_a_percentile_is_a_measured_value_whatever_the_order() -> None:
    values = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert [percentile(values, q) for q in (0.0, 0.2, 0.21, 0.5, 0.99, 1.0)] == [
        1.0, 1.0, 2.0, 3.0, 5.0, 5.0,
    ]  # fmt: skip
    assert percentile([float(n) for n in range(1, 101)], 0.07) == 7.0  # not 8 by rounding


def test_summary_rounds_to_the_digits_asked() -> None:
    points = {"p50": 0.5, "p99": 0.99}
    assert summary([1.23456, 2.34567], points, digits=2) == {"p50": 1.23, "p99": 2.35}
    assert summary(iter([1.0]), points) == {"p50": 1.0, "p99": 1.0}


@pytest.mark.parametrize(("values", "fraction"), [([], 0.5), ([1.0], -0.1), ([1.0], 1.5)])
def test_bad_arguments_are_value_errors(values: list[float], fraction: float) -> None:
    with pytest.raises(ValueError, match=r"at least one value|fraction must be in"):
        percentile(values, fraction)
