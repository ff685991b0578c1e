"""An in-memory publisher: the public fake for tests and tools, beside the real backends."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from edge.errors import PublishError
from edge.publishers.base import Publisher

if TYPE_CHECKING:
    from edge.records.record import ResultRecord


class MemoryPublisher(Publisher):
    """Keeps every record it is given, in order, in ``records``.

    ``fail_next(error, times)`` makes the next publishes raise, as a full disk or an absent
    broker would, so callers' error handling can be tested without mock patching.
    """

    name = "memory"

    def __init__(self) -> None:
        self.records: list[ResultRecord] = []
        self.closed = False
        self._failures: list[PublishError] = []
        self._lock = threading.Lock()

    def fail_next(self, error: PublishError | None = None, times: int = 1) -> None:
        failure = error or PublishError("memory publisher: a simulated failure")
        with self._lock:
            self._failures.extend([failure] * times)

    def publish(self, record: ResultRecord) -> None:
        with self._lock:
            if self.closed:
                raise PublishError("memory publisher: publish after close")
            if self._failures:
                raise self._failures.pop(0)
            self.records.append(record)

    def close(self) -> None:
        self.closed = True
