"""The ``<prefix>/<device>/stats`` message: what the daemon did since the last one.

    {"device": "pi-shed", "ts": "2026-11-24T13:05:07.123Z", "interval_s": 60.0,
     "uptime_s": 3600.0, "cpu_temperature_c": 51.2,
     "cameras": {"front": {"fps": 4.98, "processed": 17893, "dropped": 3, "paused": false,
                           "latency_ms": {"capture": {"p50": 0.3, "p95": 0.9, "max": 2.1},
                                          "colors": {...}, "classify": {...},
                                          "anomaly": {...}, "total": {...}},
                           "candidate": {"model": "door2", "compared": 412,
                                         "agreement": 0.93, "confusion": {...},
                                         "latency_ms": {...}}}},
     "outbox": {"depth": 0, "dropped": 0},
     "mqtt": {"connected": true, "sent": 17893, "reconnects": 1, "rejected": 0}}

``fps`` and the latency percentiles cover the records since the previous stats message;
``processed`` and ``dropped`` (frames a live camera skipped for newer ones) count from the
start, as do ``captures`` ({"saved", "dropped"}: frames saved for training and those
dropped because the writer was behind; only with ``[cameras.capture]``); ``candidate`` (only for
a camera with a candidate classifier in shadow, edge.shadow) counts since that candidate was
loaded. ``cpu_temperature_c`` is null where the machine does
not report one.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edge.percentiles import summary
from edge.records.record import format_ts
from edge.shadow import ShadowTally

if TYPE_CHECKING:
    from edge.control import Counters
    from edge.records.record import ResultRecord

STAGES = ("capture", "colors", "classify", "anomaly", "total")
WINDOW = 2000  # latencies kept per camera and stage between two stats messages
THERMAL_ZONE = Path("/sys/class/thermal/thermal_zone0/temp")
LATENCY = {"p50": 0.50, "p95": 0.95, "max": 1.0}  # the points of each latency summary


def cpu_temperature(path: Path = THERMAL_ZONE) -> float | None:
    """The CPU temperature in °C (a Raspberry Pi's thermal zone 0), None where there is none."""
    try:
        return round(int(path.read_text(encoding="ascii").strip()) / 1000.0, 1)
    except (OSError, ValueError):
        return None


class StatsCollector:
    """Gathers per-camera latencies from the records; ``snapshot()`` builds a stats message."""

    def __init__(self, device: str) -> None:
        self.device = device
        self._lock = threading.Lock()
        self._started = self._since = time.monotonic()
        self._counts: dict[str, int] = defaultdict(int)
        self._latency: dict[str, dict[str, deque[float]]] = {}
        self._shadow: dict[str, ShadowTally] = {}  # kept across messages

    def add(self, record: ResultRecord) -> None:
        timing = record.timing_ms.as_dict()
        with self._lock:
            self._counts[record.camera] += 1
            stages = self._latency.setdefault(
                record.camera, {stage: deque(maxlen=WINDOW) for stage in STAGES}
            )
            for stage in STAGES:
                value = timing.get(stage)
                if value is not None:
                    stages[stage].append(float(value))
            if record.candidate is not None:
                tally = self._shadow.get(record.camera) or ShadowTally()
                self._shadow[record.camera] = tally.add(record)

    def snapshot(
        self, counters: Mapping[str, Counters], extra: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The stats message; resets the per-interval figures."""
        now = time.monotonic()
        with self._lock:
            interval = max(now - self._since, 1e-9)
            cameras = {
                name: self._camera(name, interval, counters.get(name))
                for name in sorted(set(counters) | set(self._latency))
            }
            self._since = now
            self._counts.clear()
            self._latency.clear()
        return {
            "device": self.device,
            "ts": format_ts(time.time()),
            "interval_s": round(interval, 3),
            "uptime_s": round(now - self._started, 3),
            "cpu_temperature_c": cpu_temperature(),
            "cameras": cameras,
            **extra,
        }

    def _camera(self, name: str, interval: float, counters: Counters | None) -> dict[str, Any]:
        stages = self._latency.get(name, {})
        data: dict[str, Any] = {"fps": round(self._counts.get(name, 0) / interval, 3)}
        if counters is not None:
            data.update(
                processed=counters.processed, dropped=counters.dropped, paused=counters.paused
            )
            if counters.captures is not None:
                data["captures"] = dict(zip(("saved", "dropped"), counters.captures, strict=True))
        data["latency_ms"] = {stage: summary(stages.get(stage, ()), LATENCY) for stage in STAGES}
        if name in self._shadow:
            data["candidate"] = self._shadow[name].as_dict()
        return data
