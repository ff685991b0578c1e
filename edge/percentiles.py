"""Percentiles of timings, one definition for every figure the project reports.

The definition is the nearest rank: the ``fraction`` percentile of n values is the smallest
value that at least ``fraction * n`` of them do not exceed, i.e. the ``ceil(fraction * n)``-th
smallest (the first for a fraction of 0). It is always a value that was measured (a p99 is a
frame that really took that long). It is NumPy's ``percentile(..., method="inverted_cdf")``,
except that ``fraction * n`` is rounded to 9 decimals first, so that 0.07 of 100 values is the
7th and not, by a floating-point hair, the 8th.

``summary`` names the points of a summary: the MQTT stats message reports p50, p95 and max (the
percentile at 1.0); ``edge bench`` reports p50, p95 and p99.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence


def percentile(values: Iterable[float], fraction: float) -> float:
    """The nearest-rank percentile of ``values`` (in any order, not empty), ``fraction`` in
    [0, 1]: 0.5 for the median, 1.0 for the largest."""
    return _nearest_rank(_sorted(values), fraction)


def summary(
    values: Iterable[float], points: Mapping[str, float], digits: int = 3
) -> dict[str, float] | None:
    """``{name: percentile at fraction}`` for each of ``points``, rounded to ``digits``
    decimals; None when there are no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    return {name: round(_nearest_rank(ordered, q), digits) for name, q in points.items()}


def _sorted(values: Iterable[float]) -> list[float]:
    ordered = sorted(values)
    if not ordered:
        raise ValueError("a percentile needs at least one value")
    return ordered


def _nearest_rank(ordered: Sequence[float], fraction: float) -> float:
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction!r}")
    rank = math.ceil(round(fraction * len(ordered), 9))  # 0.07 * 100 is rank 7, not 8
    return ordered[min(len(ordered) - 1, max(0, rank - 1))]
