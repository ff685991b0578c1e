"""The daemon's cameras, and what a reload (SIGHUP) changes among them.

``Plan.between(running, new)`` compares two configurations by value: a camera whose section is
the same keeps its thread and its open source; a changed, removed or added camera is stopped,
started or both; a changed ``device`` or results directory restarts every camera (their
records and sequence files depend on them). An unchanged camera reloads its models only when
their files changed on disk (size or modification time of a bundle's ``.tflite`` or sidecar).

``Cameras`` runs them: one ``CameraWorker`` thread each with its own stop event, and the lock of
each camera's directory (edge.state.DirectoryLock) for as long as a camera writes there.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from edge.camera import CameraWorker
from edge.state import DirectoryLock

if TYPE_CHECKING:
    from edge.config import Config
    from edge.daemon import Outputs

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """Which running cameras a reload keeps and which it restarts (or stops); cameras only in
    the new configuration are started."""

    keep: set[str] = field(default_factory=set)
    restart: set[str] = field(default_factory=set)
    start: set[str] = field(default_factory=set)

    @classmethod
    def between(cls, running: Config, new: Config) -> Plan:
        old = {camera.name: camera for camera in running.cameras}
        wanted = {camera.name: camera for camera in new.cameras}
        shared = running.device == new.device and _out(running) == _out(new)
        keep = {name for name, camera in old.items() if shared and wanted.get(name) == camera}
        return cls(keep, set(old) - keep, set(wanted) - keep)

    def describe(self) -> str:
        if not self.restart and not self.start:
            return f"no camera changed; {len(self.keep)} camera(s) keep running"
        parts = [f"restarting {', '.join(sorted(self.restart))}"] if self.restart else []
        if self.start - self.restart:
            parts.append(f"starting {', '.join(sorted(self.start - self.restart))}")
        if self.keep:
            parts.append(f"keeping {', '.join(sorted(self.keep))}")
        return "; ".join(parts)


def _out(config: Config) -> Path:
    return config.outputs.files.directory()


@dataclass
class _Camera:
    worker: CameraWorker
    stop: threading.Event


class Cameras:
    """The running cameras by name, each with its own stop event, and their directory locks."""

    def __init__(self, outputs: Outputs, max_frames: int | None) -> None:
        self.outputs = outputs
        self.max_frames = max_frames
        self._running: dict[str, _Camera] = {}
        self._locks: dict[Path, DirectoryLock] = {}

    def workers(self) -> list[CameraWorker]:
        return [camera.worker for camera in self._running.values()]

    def apply(self, config: Config, keep: set[str]) -> None:
        """The cameras of ``config``: those in ``keep`` go on (reloading models whose files
        changed), the others are made anew (not started yet). Cameras not kept must have been
        stopped."""
        self._lock_directories({_out(config) / camera.name for camera in config.cameras})
        running: dict[str, _Camera] = {}
        for camera in config.cameras:
            kept = self._running.get(camera.name) if camera.name in keep else None
            if kept is not None:
                kept.worker.reload_if_models_changed()
                running[camera.name] = kept
            else:
                stop = threading.Event()
                worker = CameraWorker(config, camera, self.outputs, stop, self.max_frames)
                worker.on_reloaded = self.outputs.refresh  # new models: discovery again
                running[camera.name] = _Camera(worker, stop)
        self._running = running

    def _lock_directories(self, wanted: set[Path]) -> None:
        for path in set(self._locks) - wanted:
            self._locks.pop(path).release()
        for path in sorted(wanted - set(self._locks)):
            lock = DirectoryLock(path)
            lock.acquire()
            self._locks[path] = lock

    def start(self) -> None:
        """Start the cameras made since the last call."""
        for camera in self._running.values():
            if camera.worker.ident is None:
                camera.worker.start()

    def running(self) -> bool:
        return any(camera.worker.is_alive() for camera in self._running.values())

    @property
    def error(self) -> BaseException | None:
        """The first failure of a camera thread, if one failed."""
        return next((w.error for w in self.workers() if w.error is not None), None)

    def raise_error(self) -> None:
        if self.error is not None:
            raise self.error

    def stop(self, names: set[str]) -> None:
        """Stop these cameras (each finishes and publishes its frame in flight) and forget them."""
        stopping = [self._running.pop(name) for name in sorted(names) if name in self._running]
        for camera in stopping:
            camera.stop.set()
        for camera in stopping:
            if camera.worker.ident is not None:
                camera.worker.join()
            logger.info("%s: stopped", camera.worker.camera.name)

    def stop_all(self) -> None:
        running = dict(self._running)
        for camera in running.values():
            camera.stop.set()
        for camera in running.values():
            if camera.worker.ident is not None:
                camera.worker.join()

    def release(self) -> None:
        """Let go of every directory lock (after the cameras stopped)."""
        for lock in self._locks.values():
            lock.release()
        self._locks.clear()
