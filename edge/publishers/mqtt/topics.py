"""The MQTT topics of one daemon, and the per-record decisions made before sending.

    <prefix>/<device>/availability          "online" (retained) / "offline" (retained, last will)
    <prefix>/<device>/stats                 periodic statistics (JSON)
    <prefix>/<device>/<camera>/result       every result record
    <prefix>/<device>/<camera>/state        the latest record, retained
    <prefix>/<device>/<camera>/snapshot     the annotated picture (JPEG bytes), retained
    <prefix>/<device>/<camera>/set/<name>   commands (see edge.control)

``ChangeFilter`` decides, for publish-on-change, whether a record is worth sending.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from edge.records.record import ResultRecord


@dataclass(frozen=True)
class Topics:
    prefix: str
    device: str

    @property
    def base(self) -> str:
        return f"{self.prefix}/{self.device}"

    @property
    def availability(self) -> str:
        return f"{self.base}/availability"

    @property
    def stats(self) -> str:
        return f"{self.base}/stats"

    @property
    def commands(self) -> str:
        """The filter the publisher subscribes to for commands."""
        return f"{self.base}/+/set/+"

    def result(self, camera: str) -> str:
        return f"{self.base}/{camera}/result"

    def state(self, camera: str) -> str:
        return f"{self.base}/{camera}/state"

    def snapshot(self, camera: str) -> str:
        return f"{self.base}/{camera}/snapshot"

    def command(self, camera: str, name: str) -> str:
        return f"{self.base}/{camera}/set/{name}"

    def parse_command(self, topic: str) -> tuple[str, str] | None:
        """(camera, command name) of a command topic of this device, else None."""
        head = f"{self.base}/"
        if not topic.startswith(head):
            return None
        parts = topic[len(head) :].split("/")
        if len(parts) != 3 or parts[1] != "set" or not parts[0] or not parts[2]:
            return None
        return parts[0], parts[2]


def decision(record: ResultRecord) -> str | None:
    """The label a record stands for: its decision, else its top label; None without one."""
    classification = record.classification
    if classification is None:
        return None
    return classification.label or classification.top[0].label


@dataclass
class _Sent:
    label: str | None
    anomaly: bool | None
    rgb: tuple[int, int, int]
    at: float


class ChangeFilter:
    """Publish-on-change: a camera's record is sent when its label or anomaly verdict changed,
    its dominant color moved more than ``color_distance`` (RGB, 0 to 441), or ``heartbeat``
    seconds passed since the last one sent (0: no heartbeat)."""

    def __init__(
        self,
        color_distance: float,
        heartbeat: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.color_distance = color_distance
        self.heartbeat = heartbeat
        self._clock = clock
        self._sent: dict[str, _Sent] = {}

    def wanted(self, record: ResultRecord) -> bool:
        """True (and remembered as sent) when the record should be published."""
        now = self._clock()
        anomaly = record.anomaly.is_anomaly if record.anomaly is not None else None
        current = _Sent(decision(record), anomaly, record.colors[0].rgb, now)
        last = self._sent.get(record.camera)
        if last is not None and not self._changed(last, current, now):
            return False
        self._sent[record.camera] = current
        return True

    def _changed(self, last: _Sent, now_sent: _Sent, now: float) -> bool:
        if self.heartbeat and now - last.at >= self.heartbeat:
            return True
        if (last.label, last.anomaly) != (now_sent.label, now_sent.anomaly):
            return True
        return math.dist(last.rgb, now_sent.rgb) > self.color_distance
