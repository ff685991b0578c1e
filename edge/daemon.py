"""``edge run``: cameras, models and publishers wired together, one thread per camera.

The main thread owns the signals: SIGINT and SIGTERM set the stop event, every camera finishes
the frame in flight and publishes it, then the publishers are closed (MQTT last: it sends
what its outbox holds for up to ``flush_timeout`` seconds, then says "offline"). SIGHUP
reloads the config and applies only what changed (edge.reload): cameras and publishers whose
settings are the same keep running.

Commands from MQTT (pause, resume, confidence threshold, reload) reach a camera through
``DaemonControl``: queued, and applied by the camera's own thread between two frames.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from typing import TYPE_CHECKING

from edge import demo, preflight
from edge.camera import CameraWorker, DaemonControl
from edge.config import Config, default_config, load_config, with_overrides
from edge.errors import EdgeError, PublishError, UsageError
from edge.malloc import limit_arenas
from edge.reload import Cameras, Plan
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
    """Every publisher behind one lock; a failing publisher never stops the others.

    ``configure`` opens, keeps or replaces each publisher by its settings: one whose settings
    did not change is kept as it is (MQTT stays connected), a changed one is closed and opened
    again while publishing waits, so no record misses it.
    """

    def __init__(
        self, publishers: Sequence[Publisher], console: Callable[[str], None] | None
    ) -> None:
        self.publishers = list(publishers)
        self.console = console
        self._settings: dict[str, object] = {}
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

    def configure(self, settings: dict[str, object], control: DaemonControl) -> None:
        """The publishers of ``settings`` (name -> settings, in publishing order)."""
        with self._lock:
            kept = {}
            for publisher in reversed(self.publishers):  # MQTT first: it may wait a moment
                if settings.get(publisher.name) == self._settings.get(publisher.name):
                    kept[publisher.name] = publisher
                else:
                    _close(publisher)
            self.publishers = []  # what is open, in order, even if opening the next one fails
            for name, wanted in settings.items():
                opened = kept.get(name) or _open(name, wanted, control, self.publishers)
                self.publishers.append(opened)
            self._settings = dict(settings)

    def close(self) -> None:
        """Close every publisher, MQTT first; the list stays, for who wants their counts."""
        with self._lock:
            for publisher in reversed(self.publishers):
                _close(publisher)
            self._settings = {}


def _open(
    name: str, settings: object, control: DaemonControl, opened: Sequence[Publisher]
) -> Publisher:
    """A publisher from its settings; ``opened``: those before it in publishing order."""
    from edge.config import FilesOutput
    from edge.publishers import create_publisher

    if isinstance(settings, FilesOutput):
        return create_publisher(
            "files", out_dir=settings.directory(), retention_days=settings.retention_days
        )
    if name == "pictures" and isinstance(settings, tuple):
        return create_publisher("pictures", config=settings[0], cameras=control, publishers=opened)
    return create_publisher(name, settings=settings, control=control)


def _close(publisher: Publisher) -> None:
    try:
        publisher.close()
    except PublishError as exc:
        logger.warning("%s: closing failed: %s", publisher.name, exc)


def load_run_config(args: argparse.Namespace) -> Config:
    """The config file (or the default) with the command line's values, checked as a whole
    (edge.preflight): a wrong value on the command line is a UsageError naming its flag."""
    config = load_config(args.config) if args.config else default_config()
    if args.max_frames is not None and args.max_frames < 1:
        raise UsageError("--max-frames must be at least 1")
    overrides = {"source": args.source, "classifier": args.classifier, "anomaly": args.anomaly,
                 "fps": args.fps, "out": args.out, "mqtt": getattr(args, "mqtt", None),
                 "web": getattr(args, "web", None),
                 "no_web": getattr(args, "no_web", False)}  # fmt: skip
    config = with_overrides(config, **overrides)
    preflight.check(config, str(args.config or "command line"), overrides)
    return config


def _mqtt_settings(config: Config) -> MqttSettings | None:
    """The MQTT settings (password read now, so a missing secret fails before the models
    load), or None when MQTT is off."""
    if not config.outputs.mqtt.enabled:
        return None
    from edge.publishers.mqtt.settings import MqttSettings

    return MqttSettings.from_config(config)


def _publisher_settings(config: Config, mqtt: MqttSettings | None) -> dict[str, object]:
    """Each publisher's settings by name, in publishing order (MQTT last, closed first)."""
    found: dict[str, object] = {}
    if config.outputs.files.enabled:
        found["files"] = config.outputs.files
    if mqtt is not None:
        found["mqtt"] = mqtt
    # the page and the snapshots: last, closed first; they read the others (MQTT)
    found["pictures"] = (config, mqtt)
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
        logger.info("received SIGHUP: reloading the config")
        reload.set()

    handlers = {signal.SIGINT: on_stop, signal.SIGTERM: on_stop, signal.SIGHUP: on_reload}
    previous = {sig: signal.signal(sig, handler) for sig, handler in handlers.items()}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class Daemon:
    """The running daemon: its publishers and one thread per camera, from start to stop.

    A reload (SIGHUP) applies what changed between the running and the new configuration
    (edge.reload): an invalid file changes nothing, a changed camera restarts alone, and a
    publisher reconnects only when its own settings changed.
    """

    def __init__(self, config: Config, args: argparse.Namespace, write: Callable[[str], None]):
        self.config = config
        self.args = args
        self.write = write
        self.outputs = Outputs([], self._console(config))
        self.cameras = Cameras(self.outputs, args.max_frames)
        self.control = DaemonControl([])
        self.mqtt: MqttSettings | None = None

    @property
    def workers(self) -> list[CameraWorker]:
        return self.cameras.workers()

    def _console(self, config: Config) -> Callable[[str], None] | None:
        show = not self.args.quiet and config.outputs.console
        return self.write if show else None

    def run(self, supervisor: Supervisor, stop: threading.Event, reload: threading.Event) -> None:
        try:
            self._start(supervisor)
            while self._supervise(supervisor, stop, reload):
                reload.clear()
                self._reload(supervisor)
        finally:
            self.cameras.stop_all()
            self.outputs.close()
            self.cameras.release()
        self.cameras.raise_error()

    def _start(self, supervisor: Supervisor) -> None:
        self.mqtt = _mqtt_settings(self.config)
        self.cameras.apply(self.config, set())
        self.control.update(self.workers)
        self.outputs.configure(_publisher_settings(self.config, self.mqtt), self.control)
        _resend_after_crash(self.config, self.workers, self.outputs.publishers)
        self.cameras.start()
        self._ready(supervisor)

    def _ready(self, supervisor: Supervisor) -> None:
        mqtt, out = self.mqtt, self.config.outputs.files.directory()
        where = f" and on {mqtt.broker.url}" if mqtt is not None else ""
        status = f"{len(self.workers)} camera(s); results in {out}"
        logger.info("running %s%s", status, where)
        supervisor.notifier.ready(status + where)

    def _supervise(
        self, supervisor: Supervisor, stop: threading.Event, reload: threading.Event
    ) -> bool:
        """Watch the cameras until they all ended, one failed, or a signal came: True for a
        reload, False to stop."""
        while self.cameras.running() and self.cameras.error is None:
            if stop.is_set():
                return False
            if reload.is_set():
                return True
            problems = [p for p in (pub.problem() for pub in self.outputs.publishers) if p]
            supervisor.tick(self.workers, problems)
            stop.wait(SUPERVISE_S)
        return False

    def _reload(self, supervisor: Supervisor) -> None:
        supervisor.notifier.reloading()
        new, mqtt = _reloaded(self.args, self.config, self.mqtt)
        _set_log_level(self.args, new)
        plan = Plan.between(self.config, new)
        logger.info("reload: %s", plan.describe())
        self.cameras.stop(plan.restart)
        self.cameras.apply(new, plan.keep)
        self.control.update(self.workers)
        self.outputs.console = self._console(new)
        self.outputs.configure(_publisher_settings(new, mqtt), self.control)
        self.config, self.mqtt = new, mqtt
        self.cameras.start()
        if plan.restart or plan.start:
            self.outputs.refresh()  # Home Assistant learns the changed cameras
        self._ready(supervisor)


def _reloaded(
    args: argparse.Namespace, config: Config, mqtt: MqttSettings | None
) -> tuple[Config, MqttSettings | None]:
    """The new config and its MQTT settings, or the running ones if the new file is invalid."""
    try:
        new = load_run_config(args)
        return new, _mqtt_settings(new)
    except EdgeError as exc:
        logger.error("reload failed, keeping the running config: %s", exc)
        return config, mqtt


def _set_log_level(args: argparse.Namespace, config: Config) -> None:
    """The config's log_level, unless ``edge --verbose`` asked for everything."""
    verbose = getattr(args, "verbose", False)
    logging.getLogger().setLevel("DEBUG" if verbose else config.log_level.upper())


def run_daemon(args: argparse.Namespace, write: Callable[[str], None] = print) -> int:
    limit_arenas()  # before any thread of the daemon allocates
    config = load_run_config(args)
    _set_log_level(args, config)
    demo.announce(config.cameras)
    _mqtt_settings(config)  # a missing secret fails before the models load
    stop, reload = threading.Event(), threading.Event()
    notifier = Notifier()
    supervisor = Supervisor(notifier)
    with _signals(stop, reload), closing(notifier):
        Daemon(config, args, write).run(supervisor, stop, reload)
        notifier.stopping()
    return 0
