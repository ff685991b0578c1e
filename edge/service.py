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
