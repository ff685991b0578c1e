"""``edge run``: cameras, models and publishers wired together, one thread per camera.

The main thread owns the signals: SIGINT and SIGTERM set the stop event, every camera finishes
the frame in flight and publishes it, then the publishers are closed.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from edge import demo
from edge.config import DEMO, CameraConfig, Config, default_config, load_config, with_overrides
from edge.errors import PublishError, UsageError
from edge.pipeline import FramePacer, Pipeline, Stages
from edge.state import SeqCounter

if TYPE_CHECKING:
    from edge.anomaly import AnomalyDetector
    from edge.classify import Classifier
    from edge.frames import Frame
    from edge.publishers import Publisher
    from edge.results import ResultRecord
    from edge.sources import FrameSource

logger = logging.getLogger(__name__)

LOG_EVERY_S = 60.0
READ_TIMEOUT_S = 0.25


def resolve_model(spec: str, demo_path: Callable[[], Path]) -> Path | None:
    """A bundle path from a config value: a path, "demo", or "" for none."""
    if not spec:
        return None
    return demo_path() if spec == DEMO else Path(spec).expanduser()


class ThrottledLog:
    """Logs a recurring problem at most once per interval, with the count in between."""

    def __init__(self, interval: float = LOG_EVERY_S) -> None:
        self.interval = interval
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def warning(self, key: str, message: str) -> None:
        now = time.monotonic()
        if now - self._last.get(key, -self.interval) < self.interval:
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return
        skipped = self._suppressed.pop(key, 0)
        self._last[key] = now
        suffix = f" ({skipped} more since the last report)" if skipped else ""
        logger.warning("%s%s", message, suffix)


class Outputs:
    """Every publisher behind one lock; a failing publisher never stops the others."""

    def __init__(
        self, publishers: Sequence[Publisher], console: Callable[[str], None] | None
    ) -> None:
        self.publishers = list(publishers)
        self.console = console
        self._lock = threading.Lock()
        self._log = ThrottledLog()

    def publish(self, record: ResultRecord) -> None:
        with self._lock:
            for publisher in self.publishers:
                try:
                    publisher.publish(record)
                except PublishError as exc:
                    self._log.warning(publisher.name, f"{publisher.name}: {exc}")
            if self.console is not None:
                from edge.tail import format_record

                self.console(format_record(record))


class CameraWorker(threading.Thread):
    """One camera: its source, its own interpreters, its loop."""

    def __init__(
        self,
        config: Config,
        camera: CameraConfig,
        outputs: Outputs,
        stop: threading.Event,
        max_frames: int | None,
    ) -> None:
        super().__init__(name=f"camera-{camera.name}", daemon=True)
        self.camera = camera
        self.outputs = outputs
        self.stop = stop
        self.max_frames = max_frames
        self.error: BaseException | None = None
        from edge.sources import ReconnectingSource, create_source

        self.source = ReconnectingSource(
            create_source(camera.source, camera=camera.name), stall_timeout=camera.stall_timeout
        )
        seq = SeqCounter(config.outputs.files.directory() / camera.name / ".seq")
        self.pipeline = Pipeline(config.device, _stages(camera), seq.next)

    def run(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # reported by the main thread
            self.error = exc
            self.stop.set()

    def _loop(self) -> None:
        from edge.sources import EndOfStream

        pacer = FramePacer(self.camera.fps, self.stop)
        with self.source as source:
            while pacer.wait():
                try:
                    frame, capture_ms = self._next_frame(source)
                except EndOfStream:
                    logger.info("%s: the source has ended", self.camera.name)
                    return
                if frame is None:
                    return
                self.outputs.publish(self.pipeline.process(frame, capture_ms))
                if self.max_frames and self.pipeline.stats.processed >= self.max_frames:
                    return

    def _next_frame(self, source: FrameSource) -> tuple[Frame | None, float]:
        """The next frame (None when asked to stop) and how long reading it took."""
        while not self.stop.is_set():
            start = time.perf_counter()
            frame = source.read(timeout=READ_TIMEOUT_S)
            if frame is not None:
                return frame, (time.perf_counter() - start) * 1000.0
        return None, 0.0


def _stages(camera: CameraConfig) -> Stages:
    from edge.colors import ColorTracker

    classifier: Classifier | None = None
    detector: AnomalyDetector | None = None
    classifier_path = resolve_model(camera.classifier, demo.classifier_path)
    if classifier_path is not None:
        from edge.classify import Classifier

        classifier = Classifier.from_bundle(classifier_path, camera.num_threads)
    anomaly_path = resolve_model(camera.anomaly, demo.autoencoder_path)
    if anomaly_path is not None:
        from edge.anomaly import AnomalyDetector

        detector = AnomalyDetector.from_bundle(anomaly_path, camera.num_threads)
    tracker = ColorTracker(k=camera.colors.k, size=camera.colors.size)
    return Stages(camera, tracker, classifier, detector)


def load_run_config(args: argparse.Namespace) -> Config:
    config = load_config(args.config) if args.config else default_config()
    if args.max_frames is not None and args.max_frames < 1:
        raise UsageError("--max-frames must be at least 1")
    return with_overrides(
        config,
        source=args.source,
        classifier=args.classifier,
        anomaly=args.anomaly,
        fps=args.fps,
        out=args.out,
    )


def _publishers(config: Config, stack: ExitStack) -> list[Publisher]:
    from edge.publishers import create_publisher

    found: list[Publisher] = []
    files = config.outputs.files
    if files.enabled:
        publisher = create_publisher(
            "files", out_dir=files.directory(), retention_days=files.retention_days
        )
        found.append(stack.enter_context(publisher))
    return found


@contextmanager
def _signals(stop: threading.Event) -> Iterator[None]:
    def handler(signum: int, _frame: object) -> None:
        logger.info("received %s: finishing the frames in flight", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_daemon(args: argparse.Namespace, write: Callable[[str], None] = print) -> int:
    config = load_run_config(args)
    logging.getLogger().setLevel(config.log_level.upper())
    show = not args.quiet and (args.config is None or config.outputs.console)
    stop = threading.Event()
    with ExitStack() as stack:
        outputs = Outputs(_publishers(config, stack), write if show else None)
        workers = [
            CameraWorker(config, camera, outputs, stop, args.max_frames)
            for camera in config.cameras
        ]
        logger.info(
            "running %d camera(s); results in %s", len(workers), config.outputs.files.directory()
        )
        with _signals(stop):
            for worker in workers:
                worker.start()
            _wait(workers, stop)
    return _exit_code(workers)


def _wait(workers: Sequence[CameraWorker], stop: threading.Event) -> None:
    while any(worker.is_alive() for worker in workers):
        stop.wait(0.2)
        if stop.is_set():
            break
    for worker in workers:
        worker.join()


def _exit_code(workers: Sequence[CameraWorker]) -> int:
    for worker in workers:
        if worker.error is not None:
            raise worker.error
    return 0
