"""One camera in the daemon: its source, its stages and the thread that runs its loop.

``build_stages`` turns a camera's config into its stages (the models resolved and loaded), for
the daemon and for ``edge bench`` alike. ``DaemonControl`` is the cameras as the MQTT publisher
sees them: commands are queued and applied by the camera's own thread between two frames.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from edge import demo, promotion
from edge.config import DEMO, CameraConfig, Config
from edge.control import CameraInfo, Command, Counters
from edge.errors import CommandError, EdgeError
from edge.pacing import Pacer
from edge.pipeline import Pipeline, Stages, crop_roi
from edge.promotion import Choice
from edge.state import SeqCounter

if TYPE_CHECKING:
    from edge.capture import Capturer
    from edge.daemon import Outputs
    from edge.frames import Frame
    from edge.inference.anomaly import AnomalyDetector
    from edge.inference.classify import Classifier
    from edge.sources import FrameSource

logger = logging.getLogger(__name__)

READ_TIMEOUT_S = 0.25
PAUSED_POLL_S = 0.25


def resolve_model(spec: str, demo_path: Callable[[], Path]) -> Path | None:
    """A bundle path from a config value: a path, "demo", or "" for none."""
    if not spec:
        return None
    return demo_path() if spec == DEMO else Path(spec).expanduser()


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
        self.finished = False
        self.commands: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self.paused = threading.Event()
        self.on_reloaded: Callable[[], None] = lambda: None
        from edge.sources import ReconnectingSource, create_source

        self.state_dir = config.outputs.files.directory()
        self.choice = promotion.choose(camera, self.state_dir)
        self.previous: Classifier | None = None  # the live classifier before a promotion
        stages = build_stages(camera, self.state_dir, self.choice)
        source = create_source(
            camera.source, camera=camera.name, **source_options(camera, model_size(stages))
        )
        self.source = ReconnectingSource(source, stall_timeout=camera.stall_timeout)
        self.seq = _seq_counter(config, camera.name)
        self.models = model_files(camera)
        self.pipeline = Pipeline(config.device, stages, self.seq.next)
        self.capturer = _capturer(camera, self.state_dir)

    @property
    def camera_name(self) -> str:
        return self.camera.name

    def progress(self) -> float:
        stats = self.pipeline.stats
        return max(stats.last_frame, stats.started)

    def idle(self) -> bool:
        return self.paused.is_set() or self.finished

    def describe(self) -> str:
        if self.paused.is_set():
            return "paused"
        if not self.source.online:
            return f"offline ({self.source.last_error or 'opening'})"
        return f"{self.pipeline.stats.fps():.1f} fps"

    def info(self) -> CameraInfo:
        """The camera as MQTT and Home Assistant describe it."""
        stages = self.pipeline.stages
        classifier, detector, candidate = stages.classifier, stages.detector, stages.candidate
        return CameraInfo(
            self.camera.name,
            labels=classifier.labels if classifier is not None else (),
            classifier=classifier.name if classifier is not None else None,
            anomaly=detector.name if detector is not None else None,
            candidate=candidate.name if candidate is not None else None,
        )

    def run(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # reported by the main thread
            self.error = exc
            self.stop.set()
        finally:
            self.finished = True
            self.seq.close()
            if self.capturer is not None:
                self.capturer.close()

    def _loop(self) -> None:
        from edge.sources import EndOfStream

        pacer = Pacer(self.camera.fps, stop=self.stop)
        with self.source as source:
            while pacer.wait():
                self._apply_commands()
                if self.paused.is_set():
                    self.stop.wait(PAUSED_POLL_S)
                    continue
                try:
                    frame, capture_ms, wait_ms = self._next_frame(source)
                except EndOfStream:
                    logger.info("%s: the source has ended", self.camera.name)
                    return
                if frame is None:
                    return
                record = self.pipeline.process(frame, capture_ms, wait_ms)
                self.outputs.publish(record, frame)
                if self.capturer is not None:
                    self.capturer.consider(crop_roi(frame.rgb, self.camera.roi), record)
                if self.max_frames and self.pipeline.stats.processed >= self.max_frames:
                    return

    def _next_frame(self, source: FrameSource) -> tuple[Frame | None, float, float]:
        """The next frame (None when asked to stop), the milliseconds of work reading it took
        and the milliseconds spent waiting for it (reads that found no frame are waiting)."""
        start = time.perf_counter()
        while not self.stop.is_set():
            read_start = time.perf_counter()
            frame = source.read(timeout=READ_TIMEOUT_S)
            if frame is not None:
                now = time.perf_counter()
                work = max(0.0, now - read_start - source.waited)
                return frame, work * 1000.0, (now - start - work) * 1000.0
        return None, 0.0, 0.0

    def _apply_commands(self) -> None:
        while True:
            try:
                command = self.commands.get_nowait()
            except queue.Empty:
                return
            self._apply(command)

    def _apply(self, command: Command) -> None:
        name = self.camera.name
        if command.name == "pause":
            self.paused.set()
            logger.info("%s: paused", name)
        elif command.name == "resume":
            self.paused.clear()
            logger.info("%s: resumed", name)
        elif command.name == "confidence_threshold" and command.value is not None:
            self.camera = self.camera.model_copy(update={"confidence_threshold": command.value})
            self.pipeline.stages.camera = self.camera
            logger.info("%s: confidence threshold now %g", name, command.value)
        elif command.name == "reload":
            self._reload()
        elif command.name == "capture":
            self._capture()
        elif command.name == "promote":
            self._promote()
        elif command.name == "rollback":
            self._rollback()

    def _promote(self) -> None:
        """The candidate becomes the live classifier between two frames (both are loaded)."""
        stages = self.pipeline.stages
        if stages.candidate is None:
            logger.warning("%s: promote: there is no candidate (the camera's candidate = "
                           "\"BUNDLE.tflite\")", self.camera.name)  # fmt: skip
            return
        self.previous = stages.classifier
        stages.swap(stages.candidate, None)
        self._choose(promotion.promoted(self.choice))

    def _rollback(self) -> None:
        """The classifier before the last promotion is live again."""
        stages, choice = self.pipeline.stages, self.choice
        if choice.previous is None:
            logger.warning("%s: rollback: no model to return to", self.camera.name)
            return
        try:
            previous = self.previous or _classifier(choice.previous, self.camera)
        except EdgeError as exc:
            logger.error("%s: rollback failed, keeping the live model: %s", self.camera.name, exc)
            return
        new = promotion.rolled_back(choice, self.camera)
        stages.swap(previous, stages.classifier if new.candidate == choice.live else None)
        self.previous = None
        self._choose(new)

    def _choose(self, choice: Choice) -> None:
        self.choice = choice
        logger.info("%s: %s", self.camera.name, choice.describe())
        try:
            promotion.save(self.state_dir, self.camera, choice)
        except OSError as exc:
            logger.error("%s: cannot keep the model choice (it holds until a restart): %s",
                         self.camera.name, exc)  # fmt: skip
        self.on_reloaded()  # Home Assistant learns the new labels

    def _capture(self) -> None:
        capture = self.camera.capture
        if self.capturer is None or "command" not in capture.when:
            logger.warning("%s: capture asked for, but [cameras.capture] when has no "
                           "\"command\"", self.camera.name)  # fmt: skip
            return
        self.capturer.request()

    def reload_if_models_changed(self) -> None:
        """Queue a reload of the models if their files changed on disk since they were loaded."""
        if model_files(self.camera) != self.models:
            logger.info("%s: the model files changed", self.camera.name)
            self.commands.put(Command(self.camera.name, "reload"))

    def _reload(self) -> None:
        self.models = model_files(self.camera)
        try:
            stages = build_stages(self.camera, self.state_dir, self.choice)
        except EdgeError as exc:
            logger.error("%s: reload failed, keeping the old models: %s", self.camera.name, exc)
            return
        self.pipeline.stages = stages
        logger.info("%s: models reloaded", self.camera.name)
        self.on_reloaded()


class DaemonControl:
    """The cameras as the MQTT publisher sees them (edge.control.Control)."""

    def __init__(self, workers: Sequence[CameraWorker]) -> None:
        self.update(workers)

    def update(self, workers: Sequence[CameraWorker]) -> None:
        """The cameras now (after a reload); replaced at once, for the publisher's threads."""
        self.workers = {worker.camera.name: worker for worker in workers}

    def cameras(self) -> list[CameraInfo]:
        return [worker.info() for worker in self.workers.values()]

    def counters(self) -> dict[str, Counters]:
        return {
            name: Counters(
                worker.pipeline.stats.processed,
                worker.source.dropped,
                worker.paused.is_set(),
                _captures(worker.capturer),
            )
            for name, worker in self.workers.items()
        }

    def apply(self, command: Command) -> None:
        worker = self.workers.get(command.camera)
        if worker is None:
            cameras = ", ".join(sorted(self.workers))
            raise CommandError(f"no camera named {command.camera!r}; cameras: {cameras}")
        worker.commands.put(command)


def _captures(capturer: Capturer | None) -> tuple[int, int] | None:
    return (capturer.saved, capturer.dropped) if capturer is not None else None


def _capturer(camera: CameraConfig, out_dir: Path) -> Capturer | None:
    if not camera.capture.enabled:
        return None
    from edge.capture import Capturer

    return Capturer(camera.name, camera.capture, camera.capture.directory(out_dir))


def _seq_counter(config: Config, camera: str) -> SeqCounter:
    """The camera's sequence counter, never behind the newest record in its files."""
    from edge.publishers.files import last_seq

    out_dir = config.outputs.files.directory()
    return SeqCounter(out_dir / camera / ".seq", after=last_seq(out_dir, camera))


def model_size(stages: Stages) -> tuple[int, int] | None:
    """The classifier's input size (width, height), which a Pi camera can deliver a picture at;
    None without a classifier, or with a region of interest (the picture would not be used)."""
    if stages.classifier is None or stages.camera.roi is not None:
        return None
    preprocess = stages.classifier.model.preprocess
    return preprocess.width, preprocess.height


def source_options(
    camera: CameraConfig, model: tuple[int, int] | None = None
) -> dict[str, float | tuple[int, int] | None]:
    """The camera's frame-rate cap (0: as fast as they come) for the sources that take it: the
    demo frames play at it and the Pi camera runs at it (``FrameDurationLimits``), so a 5 fps
    camera neither copies 30 frames a second nor caps its exposure at 33 ms. A Pi camera also
    gets the classifier's input size (``model``), to deliver a picture at it."""
    from edge.sources import parse_spec

    scheme, _ = parse_spec(camera.source)
    options: dict[str, float | tuple[int, int] | None] = {}
    if scheme in ("demo", "picamera2", "auto"):
        options["fps"] = camera.fps or None
    if scheme in ("picamera2", "auto") and model is not None:
        options["model_size"] = model
    return options


def model_files(camera: CameraConfig) -> tuple[tuple[str, int, int], ...]:
    """(path, size, modification time) of each file of the camera's model bundles."""
    found: list[tuple[str, int, int]] = []
    for spec, demo_path in ((camera.classifier, demo.classifier_path),
                            (camera.anomaly, demo.autoencoder_path),
                            (camera.candidate, demo.classifier_path)):  # fmt: skip
        path = resolve_model(spec, demo_path)
        for part in (path.with_suffix(".tflite"), path.with_suffix(".json")) if path else ():
            try:
                stat = part.stat()
            except OSError:
                continue
            found.append((str(part), stat.st_size, stat.st_mtime_ns))
    return tuple(found)


def build_stages(
    camera: CameraConfig, state_dir: Path | None = None, choice: Choice | None = None
) -> Stages:
    """The camera's stages: its color tracker and its models, resolved and loaded; with the
    threshold that ``edge calibrate`` kept in ``state_dir`` for the camera's autoencoder, and
    the classifiers of ``choice`` (default: the config's, see edge.promotion)."""
    from edge.inference.colors import ColorTracker

    choice = choice or promotion.configured(camera)
    detector: AnomalyDetector | None = None
    classifier = _classifier(choice.live, camera)
    anomaly_path = resolve_model(camera.anomaly, demo.autoencoder_path)
    if anomaly_path is not None:
        from edge.inference.anomaly import AnomalyDetector

        detector = AnomalyDetector.from_bundle(anomaly_path, camera.num_threads)
        if state_dir is not None:
            from edge import calibration

            calibration.apply(detector, state_dir, camera.name)
    tracker = ColorTracker(k=camera.colors.k, size=camera.colors.size)
    candidate = _classifier(choice.candidate, camera)
    return Stages(camera, tracker, classifier, detector, candidate)


def _classifier(path: Path | None, camera: CameraConfig) -> Classifier | None:
    """A classifier bundle loaded for the camera; None without one."""
    if path is None:
        return None
    from edge.inference.classify import Classifier

    return Classifier.from_bundle(path, camera.num_threads)
