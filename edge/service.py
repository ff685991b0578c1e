"""systemd integration: the sd_notify protocol, without libsystemd.

    READY=1       once the cameras and publishers are up
    STATUS=...    what the daemon is doing (fps, camera offline, broker away)
    WATCHDOG=1    only while frames are really being processed
    STOPPING=1    on shutdown
    RELOADING=1   while SIGHUP reloads the config and models

Outside systemd ($NOTIFY_SOCKET unset) every call is a no-op.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Sequence
from typing import Protocol

logger = logging.getLogger(__name__)


class Notifier:
    """Sends sd_notify datagrams to $NOTIFY_SOCKET (a path, or @name for the abstract namespace)."""

    def __init__(self, address: str | None = None) -> None:
        address = os.environ.get("NOTIFY_SOCKET") if address is None else address
        self.address = _socket_address(address) if address else None
        self._sock: socket.socket | None = None
        if self.address is not None:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)

    @property
    def enabled(self) -> bool:
        return self._sock is not None

    def notify(self, *fields: str) -> bool:
        """Send one message of ``KEY=value`` lines; False when not under systemd or on failure."""
        if self._sock is None or self.address is None:
            return False
        try:
            self._sock.sendto("\n".join(fields).encode("utf-8"), self.address)
        except OSError as exc:
            logger.debug("sd_notify to %r failed: %s", self.address, exc)
            return False
        return True

    def ready(self, status: str) -> bool:
        return self.notify("READY=1", f"STATUS={status}")

    def status(self, status: str) -> bool:
        return self.notify(f"STATUS={status}")

    def watchdog(self) -> bool:
        return self.notify("WATCHDOG=1")

    def reloading(self) -> bool:
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        return self.notify("RELOADING=1", f"MONOTONIC_USEC={usec}")

    def stopping(self) -> bool:
        return self.notify("STOPPING=1")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _socket_address(address: str) -> str:
    return "\0" + address[1:] if address.startswith("@") else address


def watchdog_interval() -> float | None:
    """Half of systemd's watchdog timeout in seconds, or None when the watchdog is off."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0 or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 2_000_000


class Watched(Protocol):
    """What the supervisor reads of a camera worker."""

    @property
    def camera_name(self) -> str: ...
    def is_alive(self) -> bool: ...
    def progress(self) -> float:
        """Monotonic time of the last processed frame (or of the start, before the first)."""
        ...

    def describe(self) -> str:
        """A few words for the STATUS line: '5.0 fps', 'offline (reconnecting)', 'paused'."""
        ...

    def idle(self) -> bool:
        """Paused or finished: not expected to process frames."""
        ...


class Supervisor:
    """Pings the watchdog while every active camera processes frames; keeps STATUS current."""

    def __init__(
        self,
        notifier: Notifier,
        status_every: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.notifier = notifier
        self.interval = watchdog_interval()
        self.status_every = status_every
        self.clock = clock
        self._next_ping = self._next_status = 0.0
        self._last_status = ""

    def healthy(self, workers: Sequence[Watched]) -> bool:
        """Every camera that should be processing frames did so within the watchdog window."""
        window = 2 * self.interval if self.interval else float("inf")
        now = self.clock()
        return all(w.idle() or now - w.progress() < window for w in workers if w.is_alive())

    def status(self, workers: Sequence[Watched], problems: Sequence[str]) -> str:
        cameras = "; ".join(f"{w.camera_name}: {w.describe()}" for w in workers)
        return "; ".join([cameras, *problems]) if problems else cameras

    def tick(self, workers: Sequence[Watched], problems: Sequence[str]) -> None:
        now = self.clock()
        if self.interval and now >= self._next_ping:
            if self.healthy(workers):
                self.notifier.watchdog()
            else:
                logger.warning("no frames processed lately: not pinging the watchdog")
            self._next_ping = now + self.interval / 2
        status = self.status(workers, problems)
        changed = _shape(status) != _shape(self._last_status)  # a camera went offline, ...
        if changed or (now >= self._next_status and status != self._last_status):
            self.notifier.status(status)
            self._last_status = status
            self._next_status = now + self.status_every


def _shape(status: str) -> str:
    """The status without its numbers: what changes when something happens, not every tick."""
    return "".join(c for c in status if not c.isdigit())
