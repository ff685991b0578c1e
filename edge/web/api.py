"""The data behind the routes: ``/api/status``, ``/api/cameras/<camera>/history``, ``/healthz``.

``Site`` reads the cameras (their workers, through the ``Cameras`` protocol the daemon's
``DaemonControl`` satisfies), their views, the MQTT publisher when there is one, and a
``StatsCollector`` (the one the MQTT stats message uses) for fps and latency percentiles.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sized
from typing import TYPE_CHECKING, Any, Protocol

from edge import __version__
from edge.publishers.mqtt.stats import StatsCollector

if TYPE_CHECKING:
    from edge.config import CameraConfig
    from edge.control import CameraInfo, Command, Counters
    from edge.promotion import Choice
    from edge.web.views import CameraView

STATS_EVERY_S = 5.0  # fps and latency percentiles cover (about) the last 5 seconds


class Camera(Protocol):
    """A camera's worker as the page sees it (edge.camera.CameraWorker)."""

    @property
    def camera(self) -> CameraConfig: ...
    def is_alive(self) -> bool: ...
    def idle(self) -> bool: ...
    def progress(self) -> float: ...
    def describe(self) -> str: ...
    def info(self) -> CameraInfo: ...
    @property
    def choice(self) -> Choice: ...


class Cameras(Protocol):
    """The daemon's cameras (edge.camera.DaemonControl)."""

    @property
    def workers(self) -> Mapping[str, Camera]: ...
    def counters(self) -> Mapping[str, Counters]: ...
    def apply(self, command: Command) -> None: ...


class Mqtt(Protocol):
    """What the page shows of the MQTT publisher."""

    @property
    def connected(self) -> bool: ...
    @property
    def outbox(self) -> Sized: ...


def camera_state(worker: Camera, counters: Counters | None, frames: int) -> str:
    """starting, running, paused, offline or stopped."""
    paused = counters is not None and counters.paused
    if not worker.is_alive() or (worker.idle() and not paused):
        return "stopped"
    if paused:
        return "paused"
    if worker.describe().startswith("offline"):
        return "offline"
    return "running" if frames else "starting"


class Site:
    """Everything a request may ask about, for one running configuration."""

    def __init__(
        self,
        device: str,
        views: Mapping[str, CameraView],
        cameras: Cameras,
        mqtt: Mqtt | None = None,
    ) -> None:
        self.device = device
        self.views = views
        self.cameras = cameras
        self.mqtt = mqtt
        self.stats = StatsCollector(device)
        self.started = time.monotonic()
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._stats: tuple[float, dict[str, Any]] | None = None

    def camera_stats(self) -> dict[str, Any]:
        """The stats message's cameras and temperature, refreshed at most every 5 s."""
        now = time.monotonic()
        with self._lock:
            if self._stats is None or now - self._stats[0] >= STATS_EVERY_S:
                self._stats = (now, self.stats.snapshot(self.cameras.counters(), {}))
            return self._stats[1]

    def status(self) -> dict[str, Any]:
        stats = self.camera_stats()
        counters = self.cameras.counters()
        cameras = {}
        for name, worker in self.cameras.workers.items():
            info, view = worker.info(), self.views[name]
            record = view.record
            cameras[name] = {
                "state": camera_state(worker, counters.get(name), view.frames),
                "status": worker.describe(),
                "fps": stats["cameras"].get(name, {}).get("fps", 0.0),
                "stats": stats["cameras"].get(name, {}),
                "models": {
                    "classifier": info.classifier,
                    "anomaly": info.anomaly,
                    "candidate": info.candidate,
                    "choice": worker.choice.describe(),
                    "action": worker.choice.action,
                },
                "record": record.as_dict() if record is not None else None,
            }
        return {
            "device": self.device,
            "version": __version__,
            "uptime_s": round(time.monotonic() - self.started, 3),
            "cpu_temperature_c": stats["cpu_temperature_c"],
            "mqtt": self._mqtt(),
            "cameras": cameras,
        }

    def _mqtt(self) -> dict[str, Any] | None:
        if self.mqtt is None:
            return None
        return {"connected": self.mqtt.connected, "outbox_depth": len(self.mqtt.outbox)}

    def command(self, camera: str, name: str) -> None:
        """A button of the page (capture, promote, rollback); CommandError if it cannot be."""
        from edge.control import parse_command

        self.cameras.apply(parse_command(camera, name, b""))

    def history(self, camera: str) -> dict[str, Any]:
        view = self.views[camera]
        return {"camera": camera, "points": [point.as_dict() for point in list(view.history)]}

    def health(self) -> tuple[bool, str]:
        """(True, "ok") while every active camera delivers frames; else False and why not."""
        now, problems = time.monotonic(), []
        for name, worker in self.cameras.workers.items():
            if not worker.is_alive():
                problems.append(f"{name}: stopped")
            elif not worker.idle():
                camera = worker.camera
                window = camera.stall_timeout + (1.0 / camera.fps if camera.fps else 0.0)
                age = now - worker.progress()
                if age > window:
                    problems.append(f"{name}: no frame for {age:.0f} s ({worker.describe()})")
        return (not problems, "; ".join(problems) or "ok")
