"""What the page and the snapshots read of one camera, kept by the camera's own thread.

``CameraView.show(frame, record)`` runs once per frame and only stores: references to the
newest frame and record (never a copy), a point of history at most every ``HISTORY_STEP_S``
seconds, and the stage latencies counted into histogram buckets. Pictures are drawn and
encoded when a reader asks (``jpeg()``), once per record however many readers ask.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edge.frames import Frame
    from edge.records.parts import Timing
    from edge.records.record import ResultRecord

HISTORY_S = 300.0  # the page shows the last five minutes
HISTORY_STEP_S = 1.0  # at most one point per second
STAGES = ("capture", "colors", "classify", "anomaly", "total")
BUCKETS_MS = (0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0)


@dataclass(frozen=True)
class Point:
    """One moment of a camera's history: its palette, decision and anomaly score."""

    t: float
    colors: tuple[tuple[str, float], ...]
    label: str | None
    score: float | None
    anomaly: float | None
    threshold: float | None

    @classmethod
    def of(cls, record: ResultRecord) -> Point:
        classified, anomaly = record.classification, record.anomaly
        return cls(
            round(record.timestamp, 3),
            tuple((color.hex, color.fraction) for color in record.colors),
            (classified.label or classified.top[0].label) if classified else None,
            classified.top[0].score if classified else None,
            anomaly.score if anomaly else None,
            anomaly.threshold if anomaly else None,
        )

    def as_dict(self) -> dict[str, Any]:
        colors = [list(color) for color in self.colors]
        return {"t": self.t, "colors": colors, "label": self.label, "score": self.score,
                "anomaly": self.anomaly, "threshold": self.threshold}  # fmt: skip


class Latencies:
    """Per-stage latency histograms (milliseconds, Prometheus' cumulative ``le`` buckets)."""

    def __init__(self) -> None:
        self.counts = {stage: [0] * (len(BUCKETS_MS) + 1) for stage in STAGES}
        self.sums = dict.fromkeys(STAGES, 0.0)

    def observe(self, timing: Timing) -> None:
        for stage in STAGES:
            value = getattr(timing, stage)
            if value is not None:
                self.counts[stage][bisect_left(BUCKETS_MS, value)] += 1
                self.sums[stage] += value

    def cumulative(self, stage: str) -> tuple[list[tuple[float, int]], float]:
        """((upper bound in ms, count at or below it) ..., with inf last; the sum in ms)."""
        counts, total, running = list(self.counts[stage]), self.sums[stage], 0
        buckets = []
        for bound, count in zip((*BUCKETS_MS, float("inf")), counts, strict=True):
            running += count
            buckets.append((bound, running))
        return buckets, total


class CameraView:
    """The newest frame and record of one camera, its history, its latencies, its picture."""

    def __init__(self, name: str, width: int = 640) -> None:
        self.name = name
        self.width = width
        self.latest: tuple[Frame, ResultRecord] | None = None
        self.frames = 0
        self.history: deque[Point] = deque(maxlen=int(HISTORY_S / HISTORY_STEP_S) + 1)
        self.latencies = Latencies()
        self.watchers = 0  # MJPEG streams waiting for the next frame
        self._next_point = 0.0
        self._changed = threading.Condition()
        self._encoding = threading.Lock()
        self._jpeg: tuple[int, bytes] | None = None

    def show(self, frame: Frame, record: ResultRecord) -> None:
        """The camera's newest frame and its record (the camera's thread, once per frame)."""
        self.latest = (frame, record)
        self.frames += 1
        self.latencies.observe(record.timing_ms)
        if record.timestamp >= self._next_point:
            self._next_point = record.timestamp + HISTORY_STEP_S
            self.history.append(Point.of(record))
        if self.watchers:
            with self._changed:
                self._changed.notify_all()

    @property
    def record(self) -> ResultRecord | None:
        latest = self.latest
        return latest[1] if latest is not None else None

    def jpeg(self) -> tuple[int, bytes] | None:
        """(seq, JPEG) of the newest record's annotated picture; None before the first frame.
        Drawn and encoded at most once per record."""
        from edge.web.annotate import annotate, encode_jpeg

        latest = self.latest
        if latest is None:
            return None
        frame, record = latest
        with self._encoding:
            if self._jpeg is None or self._jpeg[0] != record.seq:
                self._jpeg = (record.seq, encode_jpeg(annotate(frame.rgb, record, self.width)))
            return self._jpeg

    def wait_newer(self, seq: int | None, timeout: float) -> bool:
        """Wait (at most ``timeout`` s) for a record other than ``seq``; True when there is one.
        Only within ``watching()``: ``show`` wakes the waiters only while someone watches."""

        def newer() -> bool:
            record = self.record
            return record is not None and record.seq != seq

        with self._changed:
            return self._changed.wait_for(newer, timeout)

    @contextmanager
    def watching(self) -> Iterator[None]:
        with self._changed:
            self.watchers += 1
        try:
            yield
        finally:
            with self._changed:
                self.watchers -= 1
