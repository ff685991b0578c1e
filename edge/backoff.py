"""Exponential backoff with jitter: how long to wait before trying again.

The waits double from ``initial`` up to ``maximum`` seconds; each one is scaled by a random
factor between ``spread[0]`` and ``spread[1]`` (so that many clients that lost the same broker
or camera do not all come back at the same instant) and never exceeds ``maximum``. ``reset()``
starts over from ``initial``, once what was retried works again.
"""

from __future__ import annotations

import random
from collections.abc import Callable

MAX_DOUBLINGS = 64  # beyond this the wait is long past any maximum


class Backoff:
    """``next()``: the wait before the next attempt, doubling after each; ``reset()``."""

    def __init__(
        self,
        initial: float,
        maximum: float,
        *,
        spread: tuple[float, float] = (1.0, 1.0),
        random_fraction: Callable[[], float] = random.random,
    ) -> None:
        low, high = spread
        if not initial > 0:
            raise ValueError(f"initial must be a positive number of seconds, got {initial!r}")
        if not 0 <= low <= high:
            raise ValueError(f"spread must be two factors 0 <= low <= high, got {spread!r}")
        self.initial, self.maximum = initial, max(initial, maximum)
        self.spread = (low, high)
        self.failures = 0  # attempts since the last reset: the exponent
        self._random = random_fraction

    def next(self) -> float:
        """The wait before the next attempt, in seconds; the one after will be twice as long."""
        base = min(self.maximum, self.initial * 2.0 ** min(self.failures, MAX_DOUBLINGS))
        self.failures += 1
        low, high = self.spread
        return min(self.maximum, base * (low + (high - low) * self._random()))

    def reset(self) -> None:
        self.failures = 0
