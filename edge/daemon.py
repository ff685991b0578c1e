"""``edge run``: cameras, models and publishers wired together, one thread per camera.

The main thread owns the signals: SIGINT and SIGTERM set the stop event, every camera finishes
the frame in flight and publishes it, then the publishers are closed (MQTT last: it sends
what its outbox holds for up to ``flush_timeout`` seconds, then says "offline").

Commands from MQTT (pause, resume, confidence threshold, reload) reach a camera through
``DaemonControl``: queued, and applied by the camera's own thread between two frames.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, closing, contextmanager
from typing import TYPE_CHECKING

from edge.camera import CameraWorker, DaemonControl
from edge.config import Config, default_config, load_config, with_overrides
from edge.errors import EdgeError, PublishError, UsageError
from edge.service import Notifier, Supervisor
from edge.throttle import ThrottledLog

if TYPE_CHECKING:
    from edge.frames import Frame
    from edge.publishers import Publisher
    from edge.publishers.mqtt.settings import MqttSettings
    from edge.records.record import ResultRecord

logger = logging.getLogger(__name__)

LOG_EVERY_S = 60.0
SUPERVISE_S = 0.25


class Outputs:
    """Every publisher behind one lock; a failing publisher never stops the others."""

    def __init__(
        self, publishers: Sequence[Publisher], console: Callable[[str], None] | None
    ) -> None:
        self.publishers = list(publishers)
        self.console = console
        self._lock = threading.Lock()
        self._log = ThrottledLog(logger, LOG_EVERY_S)  # read now: tests shorten it

    def publish(self, record: ResultRecord, frame: Frame | None = None) -> None:
        """``record`` to every publisher, then its ``frame`` to those that draw pictures."""
        with self._lock:
            for publisher in self.publishers:
                try:
                    publisher.publish(record)
                    if frame is not None:
                        publisher.show(frame, record)
                except PublishError as exc:
                    self._log.warning(publisher.name, "%s: %s", publisher.name, exc)
            if self.console is not None:
                from edge.commands.tail import format_record

                self.console(format_record(record))

    def refresh(self) -> None:
        """Tell the publishers that describe the cameras (MQTT discovery) to do it again."""
        for publisher in self.publishers:
            publisher.refresh()


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
        mqtt=getattr(args, "mqtt", None),
        web=getattr(args, "web", None),
        no_web=getattr(args, "no_web", False),
    )


def _mqtt_settings(config: Config) -> MqttSettings | None:
    """The MQTT settings (password read now, so a missing secret fails before the models
    load), or None when MQTT is off."""
    if not config.outputs.mqtt.enabled:
        return None
    from edge.publishers.mqtt.settings import MqttSettings

    return MqttSettings.from_config(config)


def _publishers(
    config: Config, stack: ExitStack, mqtt: MqttSettings | None, control: DaemonControl
) -> list[Publisher]:
    from edge.publishers import create_publisher

    found: list[Publisher] = []
    files = config.outputs.files
    if files.enabled:
        publisher = create_publisher(
            "files", out_dir=files.directory(), retention_days=files.retention_days
        )
        found.append(stack.enter_context(publisher))
    if mqtt is not None:  # entered last, closed first: it may wait for the broker a moment
        found.append(stack.enter_context(create_publisher("mqtt", settings=mqtt, control=control)))
    # the page and the snapshots: closed first, they read the others
    pictures = create_publisher("pictures", config=config, cameras=control, publishers=found)
    found.append(stack.enter_context(pictures))
    return found


def _resend_after_crash(
    config: Config, workers: Sequence[CameraWorker], publishers: Sequence[Publisher]
) -> None:
    """Hand each camera's newest record in the files to MQTT again if the last run crashed.

    A record is appended to the files, then stored in the MQTT outbox: a crash between the two
    leaves it in the files only. After a crash (the sequence file is still ahead, see
    edge.state) the newest record is published again; delivery is at least once, so it may be
    a repeat, which readers drop by (device, camera, seq).
    """
    mqtt = next((p for p in publishers if p.name == "mqtt"), None)
    if mqtt is None or not config.outputs.files.enabled:
        return
    from edge.records.files import camera_dir, newest_of_camera

    for worker in workers:
        directory = camera_dir(config.outputs.files.directory(), worker.camera.name)
        try:
            newest = newest_of_camera(directory, 1)
            if newest and not worker.seq.resumes_after(newest[0].seq):
                logger.info("%s: resending seq %d to MQTT after a crash", directory, newest[0].seq)
                mqtt.publish(newest[0])
        except (OSError, PublishError) as exc:
            logger.warning("%s: cannot resend the newest record to MQTT: %s", directory, exc)


@contextmanager
def _signals(stop: threading.Event, reload: threading.Event) -> Iterator[None]:
    def on_stop(signum: int, _frame: object) -> None:
        logger.info("received %s: finishing the frames in flight", signal.Signals(signum).name)
        stop.set()

    def on_reload(_signum: int, _frame: object) -> None:
        logger.info("received SIGHUP: reloading the config and the models")
        reload.set()

    handlers = {signal.SIGINT: on_stop, signal.SIGTERM: on_stop, signal.SIGHUP: on_reload}
    previous = {sig: signal.signal(sig, handler) for sig, handler in handlers.items()}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class Generation:
    """One configuration running: its publishers and camera threads, until stop or reload."""

    def __init__(self, config: Config, args: argparse.Namespace, write: Callable[[str], None]):
        self.config = config
        self.stop = threading.Event()
        show = not args.quiet and (args.config is None or config.outputs.console)
        self.outputs = Outputs([], write if show else None)
        self.workers = [
            CameraWorker(config, camera, self.outputs, self.stop, args.max_frames)
            for camera in config.cameras
        ]

    def run(self, supervisor: Supervisor, stop: threading.Event, reload: threading.Event) -> None:
        mqtt = _mqtt_settings(self.config)
        with ExitStack() as stack:
            control = DaemonControl(self.workers)
            self.outputs.publishers.extend(_publishers(self.config, stack, mqtt, control))
            _resend_after_crash(self.config, self.workers, self.outputs.publishers)
            for worker in self.workers:
                worker.on_reloaded = self.outputs.refresh
                worker.start()
            where = f" and on {mqtt.broker.url}" if mqtt is not None else ""
            status = (
                f"{len(self.workers)} camera(s); results in {self.config.outputs.files.directory()}"
            )
            logger.info("running %s%s", status, where)
            supervisor.notifier.ready(status + where)
            self._supervise(supervisor, stop, reload)
        for worker in self.workers:
            if worker.error is not None:
                raise worker.error

    def _supervise(
        self, supervisor: Supervisor, stop: threading.Event, reload: threading.Event
    ) -> None:
        while any(worker.is_alive() for worker in self.workers):
            if stop.is_set() or reload.is_set():
                self.stop.set()
            problems = [p for p in (pub.problem() for pub in self.outputs.publishers) if p]
            supervisor.tick(self.workers, problems)
            stop.wait(SUPERVISE_S)
        for worker in self.workers:
            worker.join()


def _reloaded(args: argparse.Namespace, running: Config) -> Config:
    try:
        return load_run_config(args)
    except EdgeError as exc:
        logger.error("reload failed, keeping the running config: %s", exc)
        return running


def _set_log_level(args: argparse.Namespace, config: Config) -> None:
    """The config's log_level, unless ``edge --verbose`` asked for everything."""
    verbose = getattr(args, "verbose", False)
    logging.getLogger().setLevel("DEBUG" if verbose else config.log_level.upper())


def run_daemon(args: argparse.Namespace, write: Callable[[str], None] = print) -> int:
    config = load_run_config(args)
    _set_log_level(args, config)
    _mqtt_settings(config)  # a missing secret fails before the models load
    stop, reload = threading.Event(), threading.Event()
    notifier = Notifier()
    supervisor = Supervisor(notifier)
    with _signals(stop, reload), closing(notifier):
        while True:
            Generation(config, args, write).run(supervisor, stop, reload)
            if stop.is_set() or not reload.is_set():
                break
            notifier.reloading()
            reload.clear()
            config = _reloaded(args, config)
            _set_log_level(args, config)
        notifier.stopping()
    return 0
