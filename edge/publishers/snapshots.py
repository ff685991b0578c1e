"""Annotated pictures at intervals: to ``<out>/<camera>/latest.jpg`` and to MQTT.

    <out>/<camera>/latest.jpg        replaced atomically (a temporary file, then rename) every
                                     ``outputs.files.snapshot_interval`` seconds (10; 0: never)
    <prefix>/<device>/<camera>/snapshot   retained JPEG bytes every
                                     ``outputs.mqtt.snapshot_interval`` seconds (30; 0: never)

One thread wakes when the next picture is due, takes each camera's newest picture (encoded
once, shared with the page) and hands it on; a camera without a newer frame since its last
picture is skipped, so an idle camera costs no writes. A crash (even SIGKILL) mid-write leaves
the previous latest.jpg whole; its temporary is removed at the next start.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from edge.records.files import camera_dir
from edge.throttle import ThrottledLog

logger = logging.getLogger(__name__)

SNAPSHOT_FILE = "latest.jpg"
LOG_EVERY_S = 300.0

Picture = Callable[[str], "tuple[int, bytes] | None"]  # camera -> (seq, JPEG) or None
Deliver = Callable[[str, bytes], None]  # camera, JPEG


@dataclass
class Schedule:
    """One destination: how often, and what it did with each camera's last picture."""

    name: str
    interval: float
    deliver: Deliver
    due: float = 0.0
    sent: dict[str, int] = field(default_factory=dict)  # camera -> seq of the last picture


class SnapshotTimer:
    """Calls each schedule's ``deliver(camera, jpeg)`` every ``interval`` seconds, per camera."""

    def __init__(self, cameras: Sequence[str], picture: Picture, schedules: Sequence[Schedule]):
        self.cameras = list(cameras)
        self.picture = picture
        self.schedules = [s for s in schedules if s.interval > 0]
        self._stop = threading.Event()
        self._log = ThrottledLog(logger, LOG_EVERY_S)
        self._thread = threading.Thread(target=self._run, name="snapshots", daemon=True)

    def start(self) -> None:
        if self.schedules:
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        start = time.monotonic()
        for schedule in self.schedules:  # the first pictures once the cameras had a moment
            schedule.due = start + min(schedule.interval, 2.0)
        while not self._stop.wait(max(0.0, min(s.due for s in self.schedules) - time.monotonic())):
            now = time.monotonic()
            for schedule in self.schedules:
                if now >= schedule.due:
                    schedule.due = now + schedule.interval
                    self._deliver(schedule)

    def _deliver(self, schedule: Schedule) -> None:
        for camera in self.cameras:
            try:
                picture = self.picture(camera)
                if picture is None or schedule.sent.get(camera) == picture[0]:
                    continue
                schedule.deliver(camera, picture[1])
                schedule.sent[camera] = picture[0]
            except OSError as exc:
                name = schedule.name
                self._log.warning(name, "%s snapshot of %s: %s", name, camera, exc)


def snapshot_writer(out_dir: Path) -> Deliver:
    """``deliver`` for the files: ``<out>/<camera>/latest.jpg``, replaced atomically."""
    from edge.publishers.files import write_latest

    for directory in out_dir.glob("*/"):
        for leftover in directory.glob(f".{SNAPSHOT_FILE}.*.tmp"):  # a crash's
            leftover.unlink(missing_ok=True)

    def write(camera: str, jpeg: bytes) -> None:
        directory = camera_dir(out_dir, camera)
        directory.mkdir(parents=True, exist_ok=True)
        write_latest(directory, jpeg, name=SNAPSHOT_FILE)

    return write
