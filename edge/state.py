"""A camera's state on disk: sequence numbers that keep increasing across restarts and power
cuts, and the lock that keeps a second daemon out of the camera's directory.

Writing the counter on every frame would wear an SD card, so the counter reserves a block of
numbers ahead on disk (fsync'd) and only writes again when the block is used up. After a crash
the next run starts after the reserved block: numbers may skip, never repeat. A clean stop
(:meth:`SeqCounter.close`) saves the exact next number. The next block is reserved one number
early, so after a crash the file is always at least two ahead of the last number handed out:
:meth:`SeqCounter.resumes_after` tells a clean stop from a crash. The file is not the only
witness: given the newest number on disk (``after``, the newest record written), the counter
never starts at or below it, so a lost or corrupt file never hands out old numbers again.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path

from edge.errors import EdgeError

logger = logging.getLogger(__name__)

BLOCK = 1000
LOCK_FILE = ".lock"


class SeqCounter:
    def __init__(self, path: Path, block: int = BLOCK, *, after: int | None = None) -> None:
        if block < 1:
            raise ValueError(f"block must be at least 1, got {block}")
        self.path = path
        self.block = block
        self._next = self._read()
        if after is not None and self._next <= after:
            logger.warning(
                "%s: the sequence file is missing or behind the newest record (%d); "
                "continuing at %d",
                self.path, after, after + 1,
            )  # fmt: skip
            self._next = after + 1
        self._reserved = self._next
        self.started_at = self._next

    def _read(self) -> int:
        try:
            return max(0, int(self.path.read_text(encoding="ascii").strip()))
        except FileNotFoundError:
            return 0
        except (OSError, ValueError) as exc:
            logger.warning("%s: unreadable sequence file (%s)", self.path, exc)
            return 0

    def _reserve(self, upto: int) -> None:
        self._reserved = upto
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with tmp.open("w", encoding="ascii") as f:
                f.write(f"{upto}\n")
                f.flush()
                os.fsync(f.fileno())
            tmp.replace(self.path)
        except OSError as exc:
            logger.warning("%s: cannot save the sequence number (%s)", self.path, exc.strerror)

    def close(self) -> None:
        """Save the exact next number, so that a clean restart continues without a gap."""
        if self._next != self._reserved:
            self._reserve(self._next)

    def resumes_after(self, seq: int) -> bool:
        """Whether this counter started right after ``seq``: the run that handed out ``seq``
        as its last number stopped cleanly (False after a crash, or for another number)."""
        return self.started_at == seq + 1

    def next(self) -> int:
        """The next sequence number."""
        seq = self._next
        if seq + 1 >= self._reserved:  # one early: the file stays two ahead of ``seq``
            self._reserve(seq + max(self.block, 2))
        self._next = seq + 1
        return seq


class CameraBusyError(EdgeError):
    """Another process holds the lock of a camera's directory (exit code 1)."""


class DirectoryLock:
    """An exclusive lock on a camera's directory (``flock`` on ``<dir>/.lock``), held while a
    daemon writes there, so that two daemons never interleave one camera's records.

    The lock file holds the holder's PID, for the message the second daemon exits with. The
    kernel releases the lock when its holder exits, crashed or not. A directory where no lock
    file can be made (read-only, full) is used without the lock: writing the results reports it.
    """

    def __init__(self, directory: Path) -> None:
        self.path = directory / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise CameraBusyError naming the process that holds it."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            logger.warning("%s: cannot lock (%s); going on without", self.path, exc.strerror)
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _holder(fd)
            os.close(fd)
            raise CameraBusyError(
                f"{self.path.parent} is in use by another edge run ({holder}); stop it, or "
                "give this one another --out or camera name"
            ) from None
        self._fd = fd
        _write_pid(fd)

    def release(self) -> None:
        """Let go of the lock (closing the file releases it); the file stays."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _holder(fd: int) -> str:
    try:
        pid = os.pread(fd, 32, 0).decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        pid = ""
    return f"PID {pid}" if pid.isdigit() else "PID unknown"


def _write_pid(fd: int) -> None:
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    except OSError as exc:  # a full disk: the lock holds all the same
        logger.warning("cannot write the PID into the lock file: %s", exc.strerror)
