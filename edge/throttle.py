"""A log for recurring problems: each one reported at most once per interval.

A disk that stays full, a broker that stays away or a camera that keeps sending bad frames
would otherwise write the same line for every record. ``ThrottledLog`` reports a problem (a
key) at once, then holds back its repeats for ``interval`` seconds and says in the next report
how many it held back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable


class ThrottledLog:
    """Logs each key at most once per ``interval`` seconds to ``logger``, with the count of
    reports held back since the last one; ``reset()`` forgets a key (or all of them)."""

    def __init__(
        self,
        logger: logging.Logger,
        interval: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not interval >= 0:
            raise ValueError(f"interval must be a number of seconds >= 0, got {interval!r}")
        self.logger = logger
        self.interval = interval
        self._clock = clock
        self._last: dict[str, float] = {}
        self._held_back: dict[str, int] = {}

    def log(self, level: int, key: str, message: str, *args: object) -> bool:
        """Log ``message % args`` unless ``key`` was reported less than ``interval`` ago;
        True when it was logged."""
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            self._held_back[key] = self._held_back.get(key, 0) + 1
            return False
        self._last[key] = now
        held_back = self._held_back.pop(key, 0)
        suffix = f" ({held_back} more since the last report)" if held_back else ""
        self.logger.log(level, f"{message}%s", *args, suffix)
        return True

    def warning(self, key: str, message: str, *args: object) -> bool:
        return self.log(logging.WARNING, key, message, *args)

    def error(self, key: str, message: str, *args: object) -> bool:
        return self.log(logging.ERROR, key, message, *args)

    def reset(self, key: str | None = None) -> None:
        """Report ``key`` (every key when None) at once the next time it comes up."""
        if key is None:
            self._last.clear()
            self._held_back.clear()
        else:
            self._last.pop(key, None)
            self._held_back.pop(key, None)
