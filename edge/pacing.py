"""Frame pacing: turns at a fixed rate, never in bursts.

A source played at its own rate (a video file, a folder of stills) and a camera capped at its
``fps`` both ask a ``Pacer`` for their next turn. A turn that comes late moves the schedule on
instead of being caught up with a burst of frames.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Pacer:
    """Hands out turns at ``fps`` per second (at once when ``fps`` is None or 0).

    With a ``stop`` event the waits end as soon as it is set, and ``wait`` then says False.
    """

    def __init__(
        self,
        fps: float | None,
        *,
        stop: threading.Event | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        self.interval = 1.0 / fps if fps else None
        self.stop = stop
        self._clock = clock
        if sleep is None:
            sleep = stop.wait if stop is not None else time.sleep
        self._sleep = sleep
        self._due: float | None = None
        self.waited = 0.0  # seconds the last wait() slept

    def reset(self) -> None:
        """The next turn is at once (the schedule starts over)."""
        self._due = None

    def wait(self, timeout: float | None = None) -> bool:
        """Sleep until the next turn and return True; False after sleeping ``timeout`` when
        the turn is further away than that, or when ``stop`` was set."""
        start = self._clock()
        try:
            if self.interval is not None and not self._turn(self.interval, timeout):
                return False
            return not self.stopped
        finally:
            self.waited = max(0.0, self._clock() - start)

    @property
    def stopped(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def _turn(self, interval: float, timeout: float | None) -> bool:
        now = self._clock()
        due = now if self._due is None else self._due
        if timeout is not None and due - now > timeout:
            self._sleep(timeout)
            return False
        if due > now:
            self._sleep(due - now)
        if self.stopped:
            return False
        self._due = max(due + interval, self._clock())  # behind schedule: no catching up
        return True
