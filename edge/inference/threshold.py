"""Anomaly thresholds that keep a promised false-alarm rate.

Given the errors of N normal images that the model did not train on, the k-th smallest, with
k = ceil((N + 1)(1 - a)), is exceeded by a fresh normal image with probability at most ``a``
on average over calibration sets: the N + 1 errors are exchangeable, so the fresh one ranks
above k of them with probability (N + 1 - k) / (N + 1) <= a. For one calibration set the
probability is Beta(N + 1 - k, k) distributed; its 5% and 95% quantiles give a 90% interval
for the false-alarm rate a camera will actually see.

Below 1/a - 1 images no order statistic keeps the promise: the largest error is used and the
expected rate is 1/(N + 1). :func:`beta_quantile` is a small numeric routine (the device has
no SciPy): the Beta CDF with whole-number parameters is a binomial tail, inverted by bisection.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

DEFAULT_RATE = 0.01
INTERVAL = (0.05, 0.95)
_EPS = 1e-9  # (N + 1)(1 - a) lands a hair above a whole number in floating point


def check_rate(rate: float) -> float:
    """A promised false-alarm rate: a number in (0, 1); ValueError otherwise."""
    if isinstance(rate, bool) or not isinstance(rate, (int, float)):
        raise TypeError(f"the false-alarm rate must be a number, got {rate!r}")
    if not (math.isfinite(rate) and 0.0 < rate < 1.0):
        raise ValueError(f"the false-alarm rate must be in (0, 1), e.g. 0.01, got {rate!r}")
    return float(rate)


def minimum_images(rate: float) -> int:
    """The fewest images whose order statistic keeps the promise ``rate``: ceil(1/a - 1)."""
    return max(1, math.ceil(1.0 / check_rate(rate) - 1.0 - _EPS))


def rank(images: int, rate: float) -> int:
    """k = ceil((N + 1)(1 - a)), at most N (the largest error when there are too few)."""
    if images < 1:
        raise ValueError("a threshold needs at least one error")
    wanted = math.ceil((images + 1) * (1.0 - check_rate(rate)) - _EPS)
    return max(1, min(images, wanted))


def _log_binomials(n: int) -> np.ndarray[Any, np.dtype[np.float64]]:
    j = np.arange(1, n + 1, dtype=np.float64)
    return np.concatenate(([0.0], np.cumsum(np.log(n - j + 1) - np.log(j))))


def beta_cdf(x: float, a: int, b: int) -> float:
    """P(X <= x) for X ~ Beta(a, b), whole a, b >= 1: P(Binomial(a + b - 1, x) >= a)."""
    if a < 1 or b < 1:
        raise ValueError(f"Beta parameters must be whole numbers >= 1, got {a}, {b}")
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    n = a + b - 1
    j = np.arange(a, n + 1, dtype=np.float64)
    logs = _log_binomials(n)[a:] + j * math.log(x) + (n - j) * math.log1p(-x)
    top = float(logs.max())
    return min(1.0, math.exp(top) * float(np.sum(np.exp(logs - top))))


def beta_quantile(q: float, a: int, b: int) -> float:
    """The x with P(Beta(a, b) <= x) = q, to about 1e-12, by bisection."""
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"a quantile is in [0, 1], got {q}")
    low, high = 0.0, 1.0
    for _ in range(60):
        mid = (low + high) / 2.0
        if beta_cdf(mid, a, b) < q:
            low = mid
        else:
            high = mid
    return (low + high) / 2.0


@dataclass(frozen=True)
class Calibration:
    """A threshold from N normal errors, with the false-alarm rate it promises and gives."""

    threshold: float
    images: int
    rank: int
    false_alarm_rate: float  # the promise a
    expected_rate: float  # (N + 1 - k) / (N + 1): <= a once there are enough images
    interval: tuple[float, float]  # 90%: the 5% and 95% quantiles of Beta(N + 1 - k, k)

    @property
    def keeps_promise(self) -> bool:
        return self.expected_rate <= self.false_alarm_rate + _EPS

    def as_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "false_alarm_rate": self.false_alarm_rate,
            "images": self.images,
            "rank": self.rank,
            "expected_false_alarm_rate": self.expected_rate,
            "interval_90": list(self.interval),
        }

    def describe(self) -> str:
        low, high = self.interval
        return (
            f"threshold {self.threshold:.5f} = error {self.rank} of {self.images} in order: "
            f"promised false-alarm rate {_pct(self.false_alarm_rate)}, expected "
            f"{_pct(self.expected_rate)} (90% interval {_pct(low)} to {_pct(high)})"
        )


def _pct(value: float) -> str:
    return f"{100 * value:.2f}%"


def calibrate(errors: Sequence[float] | np.ndarray[Any, Any], rate: float) -> Calibration:
    """The order-statistic threshold of ``errors`` (normal images) for the promise ``rate``."""
    values = np.sort(np.asarray(errors, dtype=np.float64).ravel())
    if values.size == 0:
        raise ValueError("a threshold needs at least one error")
    if not np.all(np.isfinite(values)):
        raise ValueError("the errors must be finite numbers")
    n, k = int(values.size), rank(int(values.size), rate)
    a, b = n + 1 - k, k
    interval = (beta_quantile(INTERVAL[0], a, b), beta_quantile(INTERVAL[1], a, b))
    return Calibration(float(values[k - 1]), n, k, check_rate(rate), a / (n + 1), interval)
