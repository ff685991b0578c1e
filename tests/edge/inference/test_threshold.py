"""The order-statistic threshold and the Beta quantiles behind its promise."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edge.inference.threshold import (
    beta_cdf,
    beta_quantile,
    calibrate,
    minimum_images,
    rank,
)


@pytest.mark.parametrize(
    ("images", "rate", "expected"),
    [(99, 0.01, 99), (300, 0.01, 298), (1000, 0.01, 991), (50, 0.01, 50), (19, 0.05, 19),
     (1, 0.01, 1), (100, 0.5, 51)],
)  # fmt: skip
def test_the_rank_is_ceil_n_plus_one_times_one_minus_a(
    images: int, rate: float, expected: int
) -> None:
    assert rank(images, rate) == expected


@pytest.mark.parametrize(("rate", "needed"), [(0.01, 99), (0.05, 19), (0.1, 9), (0.001, 999)])
def test_the_fewest_images_that_keep_the_promise(rate: float, needed: int) -> None:
    assert minimum_images(rate) == needed
    assert calibrate(np.arange(needed, dtype=float), rate).keeps_promise
    assert not calibrate(np.arange(needed - 1, dtype=float), rate).keeps_promise


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1, math.nan, 2.0])
def test_a_rate_outside_zero_one_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="false-alarm rate"):
        calibrate([1.0, 2.0], bad)


def test_no_errors_or_non_finite_ones_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        calibrate([], 0.01)
    with pytest.raises(ValueError, match="finite"):
        calibrate([1.0, math.inf], 0.01)


@pytest.mark.parametrize("b", [1, 3, 40])
@pytest.mark.parametrize("q", [0.05, 0.5, 0.95])
def test_beta_quantiles_match_the_closed_forms(q: float, b: int) -> None:
    # Beta(1, b): 1 - (1 - x)^b;  Beta(b, 1): x^b
    assert beta_quantile(q, 1, b) == pytest.approx(1 - (1 - q) ** (1 / b), abs=1e-9)
    assert beta_quantile(q, b, 1) == pytest.approx(q ** (1 / b), abs=1e-9)


def test_beta_quantiles_match_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    for a, b in ((3, 298), (10, 991), (1, 99), (51, 50)):
        for q in (0.05, 0.95):
            assert beta_quantile(q, a, b) == pytest.approx(stats.beta.ppf(q, a, b), rel=1e-7)
        assert beta_cdf(0.01, a, b) == pytest.approx(stats.beta.cdf(0.01, a, b), rel=1e-7)


def test_the_threshold_is_the_kth_smallest_error_with_its_interval() -> None:
    errors = np.random.default_rng(0).permutation(np.arange(1, 301, dtype=float))
    calibrated = calibrate(errors, 0.01)
    assert (calibrated.threshold, calibrated.rank, calibrated.images) == (298.0, 298, 300)
    assert calibrated.expected_rate == pytest.approx(3 / 301)
    low, high = calibrated.interval
    assert low == pytest.approx(0.00273, abs=1e-5)
    assert high == pytest.approx(0.02084, abs=1e-5)
    assert calibrated.as_dict()["interval_90"] == [low, high]


def test_the_promise_holds_on_average_for_fresh_errors() -> None:
    """Many calibration sets of 100 normal errors: fresh ones exceed the threshold 1% of the
    time on average (the percentile of the same errors would give about 2%)."""
    rng = np.random.default_rng(1)
    calibration = np.sort(rng.gamma(2.0, size=(2000, 100)), axis=1)
    thresholds = calibration[:, rank(100, 0.01) - 1]
    assert thresholds[0] == calibrate(calibration[0], 0.01).threshold
    fresh = rng.gamma(2.0, size=(2000, 500))
    assert float(np.mean(fresh > thresholds[:, None])) <= 0.011
    percentile = np.percentile(calibration, 99, axis=1)
    assert float(np.mean(fresh > percentile[:, None])) >= 0.015
