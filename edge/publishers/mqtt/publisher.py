"""The MQTT publisher: results to a broker, in order, nothing lost while it is away.

    publish(record)  (a camera thread)   outbox.add -> wake the sender; never waits for the net
    sender thread                         outbox rows -> paho, at most ``inflight`` unacknowledged
    network thread (edge.publishers.mqtt.client.Session)  connects, acks -> outbox.remove

Every result goes through the durable outbox (edge.publishers.mqtt.outbox) and leaves it only when
the broker acknowledged it, so a broker that is away, a network that is gone or a daemon that
restarts costs nothing but time: the rows are sent again, oldest first, before newer ones.
After a reconnect the messages paho still holds are resent (by paho) and acknowledged before
any newer row goes out, which keeps the order. Delivery is at least once: a reader that must
not see a record twice drops repeated ``(device, camera, seq)``.

The latest record per camera goes to ``<camera>/state`` (retained), the newest picture handed
to ``publish_snapshot`` to ``<camera>/snapshot`` (retained, QoS 0); ``availability`` is
"online" on connect and "offline" as the last will and on close; ``stats`` every
``stats_interval`` seconds; Home Assistant discovery on connect and when Home Assistant
announces itself; commands arrive on ``<camera>/set/<name>`` and go to the ``Control``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import TYPE_CHECKING

from edge.control import Control, StaticControl, parse_command
from edge.errors import CommandError, PublishError
from edge.publishers.base import Publisher
from edge.publishers.mqtt import homeassistant
from edge.publishers.mqtt.client import Session
from edge.publishers.mqtt.inflight import InFlight
from edge.publishers.mqtt.outbox import Outbox
from edge.publishers.mqtt.stats import StatsCollector
from edge.publishers.mqtt.topics import ChangeFilter
from edge.records.record import ResultRecord
from edge.throttle import ThrottledLog

if TYPE_CHECKING:
    from edge.publishers.mqtt.settings import MqttSettings

logger = logging.getLogger(__name__)

ONLINE, OFFLINE = b"online", b"offline"
IDLE_WAKE_S = 1.0  # the sender looks at the outbox at least this often
CLOSE_ACK_S = 2.0  # on close, how long to wait for "offline" to be acknowledged
DROPPED_LOG_S = 60.0  # a full outbox is reported at most this often
EXTRA_IN_FLIGHT = 10  # room beside the results for state, stats, availability, discovery


class MqttPublisher(Publisher):
    """Publishes result records to an MQTT broker; see the module docstring."""

    name = "mqtt"

    def __init__(self, settings: MqttSettings, control: Control | None = None) -> None:
        self.settings = settings
        self.config = config = settings.config
        self.topics = settings.topics
        self.control: Control = control if control is not None else StaticControl()
        will = (self.topics.availability, OFFLINE)
        self.session = Session(settings.broker, self, will, config.inflight + EXTRA_IN_FLIGHT)
        self.outbox = Outbox(settings.outbox, config.outbox_max_rows)
        self.stats = StatsCollector(self.topics.device)
        self.filter = (
            ChangeFilter(config.change_color_distance, config.heartbeat)
            if config.publish_on_change
            else None
        )
        self.counts = {"sent": 0, "reconnects": 0, "rejected": 0}
        self._init_delivery()
        self._sender = threading.Thread(target=self._send_loop, name="mqtt-sender", daemon=True)
        self.session.start()
        self._sender.start()
        logger.info("MQTT: publishing to %s under %s/", settings.broker.url, self.topics.base)

    def _init_delivery(self) -> None:
        """The sender's state; the newest states are shared with the network thread under
        ``_lock``, the messages in flight in ``InFlight``, which has its own."""
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._closed = False
        self._lock = threading.Lock()
        self._latest: dict[str, bytes] = {}  # camera -> newest state payload
        self._unsent_states: set[str] = set()
        self._snapshots: dict[str, bytes] = {}  # camera -> the newest picture not yet sent
        self._in_flight = InFlight(self.config.inflight)
        self._cursor = 0  # the newest outbox row handed to paho (the sender's own)
        self._dropped_log = ThrottledLog(logger, DROPPED_LOG_S)

    # -- the Publisher interface -----------------------------------------------------------

    def publish(self, record: ResultRecord) -> None:
        if not isinstance(record, ResultRecord):
            raise TypeError(f"publish takes a ResultRecord, got {type(record).__name__}")
        if self._closed:
            raise PublishError("MQTT publisher is closed")
        self.stats.add(record)
        if self.filter is not None and not self.filter.wanted(record):
            return
        payload = record.to_json().encode("utf-8")
        dropped = self.outbox.add(self.topics.result(record.camera), payload, self.config.qos)
        with self._lock:
            self._latest[record.camera] = payload
            self._unsent_states.add(record.camera)
        self._wake.set()
        if dropped:
            self._log_dropped()

    def close(self) -> None:
        """Send what the outbox holds (up to flush_timeout), say "offline", disconnect."""
        if self._closed:
            return
        self._closed = True
        self._flush(self.config.flush_timeout)
        self._stop.set()
        self._wake.set()
        self._sender.join()
        if self.session.connected.is_set():
            self._say_offline()
        self.session.stop()
        left = len(self.outbox)
        self.outbox.close()
        if left:
            logger.warning("MQTT: %d result(s) kept in the outbox for the next start", left)

    def publish_snapshot(self, camera: str, jpeg: bytes) -> None:
        """The camera's annotated picture, retained on ``<camera>/snapshot``: sent by the sender
        thread while connected; a newer picture replaces one not sent yet."""
        with self._lock:
            self._snapshots[camera] = jpeg
        self._wake.set()

    def refresh(self) -> None:
        """Publish Home Assistant discovery again (after the cameras' models changed)."""
        if self.session.connected.is_set():
            self._publish_discovery()

    @property
    def connected(self) -> bool:
        return self.session.connected.is_set()

    def problem(self) -> str | None:
        problems = [] if self.connected else [f"broker away, {len(self.outbox)} queued"]
        if self.outbox.disk_problem is not None:
            problems.append(f"outbox cannot write, {self.outbox.held} held in memory")
        return "; ".join(problems) or None

    # -- the sender thread ---------------------------------------------------------------

    def _send_loop(self) -> None:
        interval = self.config.stats_interval
        next_stats = time.monotonic() + interval
        while not self._stop.is_set():
            timeout = min(IDLE_WAKE_S, max(0.0, next_stats - time.monotonic()))
            self._wake.wait(timeout if interval else IDLE_WAKE_S)
            self._wake.clear()
            if not self.session.connected.is_set():
                continue
            self._send_states()
            self._send_snapshots()
            self._send_results()
            if interval and time.monotonic() >= next_stats:
                next_stats = time.monotonic() + interval
                self._send_stats()

    def _send_results(self) -> None:
        room = self._in_flight.room()  # 0 while paho resends older ones: newer rows wait
        if room <= 0:
            return
        for message in self.outbox.after(self._cursor, room):
            self._send(message.topic, message.payload, message.qos, message.retain, message.id)
            self._cursor = message.id

    def _send_states(self) -> None:
        with self._lock:
            states = {camera: self._latest[camera] for camera in self._unsent_states}
            self._unsent_states.clear()
        for camera, payload in states.items():
            retain = self.config.retain_state
            self._send(self.topics.state(camera), payload, self.config.qos, retain)

    def _send_snapshots(self) -> None:
        with self._lock:
            pictures, self._snapshots = self._snapshots, {}
        for camera, jpeg in pictures.items():
            self._send(self.topics.snapshot(camera), jpeg, 0, retain=True)

    def _send_stats(self) -> None:
        extra = {
            "outbox": {"depth": len(self.outbox), "dropped": self.outbox.dropped},
            "mqtt": {
                "connected": self.connected,
                "sent": self.counts["sent"],
                "reconnects": self.counts["reconnects"],
                "rejected": self.counts["rejected"],
            },
        }
        stats = self.stats.snapshot(self.control.counters(), extra)
        self._send(self.topics.stats, json.dumps(stats).encode("utf-8"), 0, retain=True)

    def _send(
        self, topic: str, payload: bytes, qos: int, retain: bool = False, row: int | None = None
    ) -> int | None:
        """Hand one message to paho and remember its id; None if paho refused it."""
        try:
            mid = self.session.publish(topic, payload, qos, retain)
        except PublishError as exc:
            logger.error("MQTT: %s", exc)
            if row is not None:  # it can never be sent: do not block the ones after it
                self.outbox.remove(row)
            return None
        if self._in_flight.sent(mid, row):  # acknowledged already
            self._delivered(row, True, "")
        return mid

    def _flush(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for the outbox to empty, unless the broker is away
        and the last attempt to reach it failed (then the results wait in the outbox for the
        next start). A connection that was merely cut is given the time to come back."""
        deadline = time.monotonic() + timeout
        session = self.session
        while time.monotonic() < deadline and not (
            session.away.is_set() and session.last_failure is not None
        ):
            with self._lock:
                busy = bool(self._unsent_states)
            if not busy and len(self.outbox) == 0:
                return
            self._wake.set()
            time.sleep(0.02)

    def _say_offline(self) -> None:
        mid = self._send(self.topics.availability, OFFLINE, 1, retain=True)
        deadline = time.monotonic() + CLOSE_ACK_S
        while mid is not None and time.monotonic() < deadline:
            if not self._in_flight.waiting(mid):
                return
            time.sleep(0.01)

    # -- the Listener interface (the network thread) ----------------------------------------

    def on_connected(self) -> None:
        self._in_flight.reconnected()
        self.counts["reconnects"] = max(0, self.session.connections - 1)
        with self._lock:
            self._unsent_states.update(self._latest)  # the broker may have lost its retained
        self.session.subscribe(self.topics.commands, 1)
        if self.settings.discovery_prefix is not None:
            self.session.subscribe(homeassistant.status_topic(self.settings.discovery_prefix), 1)
        self._send(self.topics.availability, ONLINE, 1, retain=True)
        self._publish_discovery()
        self._wake.set()

    def on_disconnected(self, reason: str) -> None:
        self._wake.set()

    def on_acknowledged(self, mid: int, ok: bool, reason: str) -> None:
        known, row = self._in_flight.acknowledged(mid)
        if not known:  # before _send registered it: _send delivers it
            return
        self._delivered(row, ok, reason)
        self._wake.set()

    def on_message(self, topic: str, payload: bytes, retain: bool) -> None:
        prefix = self.settings.discovery_prefix
        if prefix is not None and topic == homeassistant.status_topic(prefix):
            if payload.strip().lower() == ONLINE:
                logger.info("MQTT: Home Assistant is online; publishing discovery again")
                self._publish_discovery()
            return
        self._command(topic, payload, retain)

    # -- helpers -----------------------------------------------------------------------------

    def _delivered(self, row: int | None, ok: bool, reason: str) -> None:
        if row is None:
            return
        self.outbox.remove(row)
        self.counts["sent"] += 1
        if not ok:
            self.counts["rejected"] += 1
            logger.warning("MQTT: the broker rejected a result (%s); it is not resent", reason)

    def _command(self, topic: str, payload: bytes, retain: bool) -> None:
        parsed = self.topics.parse_command(topic)
        if parsed is None:
            return
        if retain:
            logger.warning("MQTT command on %s ignored: retained; send commands unretained", topic)
            return
        try:
            command = parse_command(parsed[0], parsed[1], payload)
            self.control.apply(command)
        except CommandError as exc:
            logger.warning("MQTT command on %s ignored: %s", topic, exc)
            return
        logger.info("MQTT command on %s: %s", topic, command)

    def _publish_discovery(self) -> None:
        prefix = self.settings.discovery_prefix
        if prefix is None:
            return
        payload = homeassistant.discovery_payload(
            self.topics,
            self.control.cameras(),
            qos=min(self.config.qos, 1),
            stats=self.config.stats_interval > 0,
            snapshots=self.config.snapshot_interval > 0,
        )
        topic = homeassistant.discovery_topic(prefix, self.topics.device)
        self._send(topic, json.dumps(payload).encode("utf-8"), 1, retain=True)

    def _log_dropped(self) -> None:
        self._dropped_log.warning(
            "outbox full",
            "MQTT outbox full (%d results, the broker is away): dropping the oldest; "
            "%d dropped so far",
            self.config.outbox_max_rows,
            self.outbox.dropped,
        )
