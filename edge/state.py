"""Per-camera sequence numbers that keep increasing across restarts and power cuts.

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

import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)

BLOCK = 1000


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
