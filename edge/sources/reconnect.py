"""ReconnectingSource: the daemon never dies of a camera.

It wraps any FrameSource. When the source fails to open, raises while reading, ends although
it is live, or delivers nothing for ``stall_timeout`` seconds, the wrapper closes it, goes
offline, and reopens it after an exponentially growing delay (``backoff_initial`` doubling up
to ``backoff_max``, with optional random ``jitter``). While offline ``read`` returns None
(after waiting up to its timeout, so callers do not spin). The delay starts over once a frame
arrives again. A finite source (file, folder) that ends still raises ``EndOfStream``. An
unusable frame (``FrameError``: empty, wrong dtype or shape) is dropped and counted in
``bad_frames``, with a warning at most once a minute; only when nothing usable arrives for
``stall_timeout`` is the source reopened.

``stall_timeout`` applies to every source: for one paced slower than a frame per
``stall_timeout`` (a folder at ``fps=0.05``), set it longer than the frame interval.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable

from edge.backoff import Backoff
from edge.errors import ConfigError, FrameError
from edge.frames import Frame
from edge.sources.base import DEFAULT_READ_TIMEOUT, EndOfStream, FrameSource
from edge.throttle import ThrottledLog

logger = logging.getLogger(__name__)

BAD_FRAME_LOG_S = 60.0  # unusable frames are reported at most this often


class ReconnectingSource(FrameSource):
    """``source`` reopened with backoff whenever it fails, ends (if live) or stalls."""

    announce = False

    def __init__(
        self,
        source: FrameSource,
        *,
        stall_timeout: float = 10.0,
        backoff_initial: float = 1.0,
        backoff_max: float = 60.0,
        jitter: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        random_fraction: Callable[[], float] = random.random,
    ) -> None:
        _check_settings(stall_timeout, backoff_initial, backoff_max, jitter)
        super().__init__(source.spec, camera=source.name)
        self.source = source
        self.stall_timeout, self.jitter = stall_timeout, jitter
        self.backoff_initial, self.backoff_max = backoff_initial, backoff_max
        self._clock, self._sleep = clock, sleep
        self._backoff = Backoff(
            backoff_initial,
            backoff_max,
            spread=(1.0 - jitter, 1.0 + jitter),
            random_fraction=random_fraction,
        )
        self.online = False
        self.open_attempts = 0  # every open, the first included
        self.reconnects = 0  # opens that worked after the source had been lost
        self.failures = 0  # times the source was lost
        self.bad_frames = 0  # unusable frames dropped
        self._bad_frame_log = ThrottledLog(logger, BAD_FRAME_LOG_S, clock=clock)
        self.last_error: str | None = None
        self._next_attempt = 0.0
        self._last_frame = 0.0
        self._offline_since = 0.0

    @property
    def live(self) -> bool:  # type: ignore[override]  # whatever the wrapped source is
        return self.source.live

    @property
    def reopen_attempts(self) -> int:
        """Opens tried after the first one."""
        return max(0, self.open_attempts - 1)

    def describe(self) -> str:
        return self.source.describe()

    def _open(self) -> None:
        """Try at once; a failure only takes the source offline (never raises)."""
        self._next_attempt = self._clock()
        self._try_open()

    def _close(self) -> None:
        self.source.close()
        self.online = False

    def _read(self, timeout: float = DEFAULT_READ_TIMEOUT) -> Frame | None:
        if not self.online and not self._try_open(timeout):
            return None
        try:
            frame = self.source.read(timeout)
        except EndOfStream:
            if not self.live:
                raise
            self._lost("the source ended")
            return None
        except FrameError as exc:  # one bad frame: drop it; a stall if nothing good follows
            self._dropped_bad_frame(exc)
            return self._received(None)
        except Exception as exc:  # any camera failure: never take the daemon down
            self._lost(f"{type(exc).__name__}: {exc}")
            return None
        return self._received(frame)

    def _received(self, frame: Frame | None) -> Frame | None:
        now = self._clock()
        if frame is None:
            if now - self._last_frame > self.stall_timeout:
                self._lost(f"no frame for {now - self._last_frame:.1f} s")
            return None
        self._last_frame = now
        self._backoff.reset()
        self.frames_read, self.dropped = self.source.frames_read, self.source.dropped
        self.waited = self.source.waited
        return frame

    def _dropped_bad_frame(self, exc: FrameError) -> None:
        self.bad_frames += 1
        self._bad_frame_log.warning(
            "bad frame", "%s (%d unusable frame(s) dropped so far)", exc, self.bad_frames
        )

    def _try_open(self, timeout: float = 0.0) -> bool:
        """Open the source if its next attempt is due (waiting up to ``timeout`` for it)."""
        wait = self._next_attempt - self._clock()
        if wait > timeout:
            self._sleep(timeout)
            return False
        if wait > 0:
            self._sleep(wait)
        self.open_attempts += 1
        try:
            self.source.open()
        except Exception as exc:  # a missing or busy camera is a reason to wait, not to die
            self._schedule_retry(f"cannot open: {exc}")
            return False
        self._went_online()
        return True

    def _went_online(self) -> None:
        now = self._clock()
        if self.failures or self.open_attempts > 1:
            self.reconnects += 1
            outage = now - self._offline_since
            logger.warning("%s is back after %.1f s offline", self.describe(), outage)
        self.online, self.last_error = True, None
        self._last_frame = now

    def _lost(self, reason: str) -> None:
        self.failures += 1
        try:
            self.source.close()
        except Exception as exc:  # closing a broken camera may fail as well
            logger.debug("%s: close failed: %s", self.describe(), exc)
        self._schedule_retry(reason)
        self.online = False

    def _schedule_retry(self, reason: str) -> None:
        went_offline = self.online or self.last_error is None
        if went_offline:
            self._offline_since = self._clock()
        delay = self.next_delay()
        self._next_attempt = self._clock() + delay
        self.last_error = reason
        level = logging.WARNING if went_offline else logging.INFO  # one warning per outage
        logger.log(level, "%s offline (%s); retrying in %.1f s", self.describe(), reason, delay)

    def next_delay(self) -> float:
        """The wait before the next attempt: initial * 2**failures since the last frame, with
        up to ``jitter`` either way, never beyond backoff_max. Each call counts one failure."""
        return self._backoff.next()


def _check_settings(stall: float, initial: float, maximum: float, jitter: float) -> None:
    for name, value in (("stall_timeout", stall), ("backoff_initial", initial)):
        if not value > 0:
            raise ConfigError(f"{name} must be positive, got {value!r}")
    if not maximum >= initial:
        raise ConfigError(f"backoff_max must be at least backoff_initial, got {maximum!r}")
    if not 0.0 <= jitter < 1.0:
        raise ConfigError(f"jitter must be between 0 and 1, got {jitter!r}")
