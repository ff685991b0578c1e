"""The messages handed to paho and not yet acknowledged, shared by two threads.

The sender registers each message paho took (``sent``) and asks how many more results may go
out (``room``); the network thread reports acknowledgements (``acknowledged``) and reconnects
(``reconnected``). An acknowledgement can arrive before its message was registered (paho sends
at once and may call back before ``publish`` returns): it is remembered, and ``sent`` then says
the message is already done.

After a reconnect paho resends the results it still holds; until they are acknowledged no newer
result goes out (``room`` is 0), which keeps the results in order.
"""

from __future__ import annotations

import threading


class InFlight:
    """Unacknowledged messages by paho message id, each with its outbox row (None: no row);
    at most ``limit`` results at a time. Safe to use from several threads."""

    def __init__(self, limit: int) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be a positive integer, got {limit!r}")
        self.limit = limit
        self._lock = threading.Lock()
        self._pending: dict[int, int | None] = {}  # paho mid -> outbox row
        self._early: set[int] = set()  # acknowledged before they were registered
        self._rows = 0  # pending messages that are results (have an outbox row)
        self._resuming = False

    @property
    def rows(self) -> int:
        """Results handed to paho and not yet acknowledged."""
        with self._lock:
            return self._rows

    def room(self) -> int:
        """How many more results may be handed to paho now (0 while paho resends older ones)."""
        with self._lock:
            if self._resuming and self._rows:
                return 0
            self._resuming = False
            return max(0, self.limit - self._rows)

    def sent(self, mid: int, row: int | None) -> bool:
        """Register a message paho took; True when its acknowledgement already came (it is
        delivered, and not registered)."""
        with self._lock:
            if mid in self._early:
                self._early.discard(mid)
                return True
            self._pending[mid] = row
            self._rows += row is not None
            return False

    def acknowledged(self, mid: int) -> tuple[bool, int | None]:
        """``(known, row)`` for an acknowledged message: known is False when it was not
        registered yet (``sent`` will report it), else row is its outbox row or None."""
        with self._lock:
            if mid not in self._pending:
                self._early.add(mid)
                return False, None
            row = self._pending.pop(mid)
            self._rows -= row is not None
            return True, row

    def waiting(self, mid: int) -> bool:
        """Whether the message is registered and not yet acknowledged."""
        with self._lock:
            return mid in self._pending

    def reconnected(self) -> None:
        """A new connection: the results still pending are resent by paho before newer ones."""
        with self._lock:
            self._resuming = self._rows > 0
