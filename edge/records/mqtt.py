"""Reading result records from a broker: the MQTT side of edge.records.record' readers.

``subscribe_records()`` subscribes to ``<prefix>/<device>/<camera>/result`` (``+`` for any
device or camera) and yields each payload as a ResultRecord, in arrival order. Results are
delivered at least once, so repeats of a ``(device, camera, seq)`` already yielded are dropped.
With ``latest`` the retained ``state`` of each camera comes first; with ``follow=False`` only
those come, and the iteration ends when the broker has sent them. Payloads that are not
records are logged and skipped. A broker that cannot be reached at the start (or refuses the
credentials) is a PublishError; one that goes away later is reconnected to, with backoff.
"""

from __future__ import annotations

import logging
import queue
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING

from edge.errors import PublishError
from edge.publishers.mqtt.client import Session
from edge.publishers.mqtt.settings import Broker
from edge.records.files import parse_line

if TYPE_CHECKING:
    from edge.config import MqttOutput
    from edge.records.record import ResultRecord

logger = logging.getLogger(__name__)

POLL_S = 0.2
RETAINED_WAIT_S = 1.0  # without follow: how long to wait for retained records when none come
REMEMBERED = 10_000  # (device, camera, seq) kept to drop repeats
Identity = tuple[str, str, int]


class _Inbox:
    """The Listener of a reading session: subscribes on every connect, queues the messages."""

    def __init__(self, filters: list[str]) -> None:
        self.filters = filters
        self.messages: queue.SimpleQueue[tuple[str, bytes, bool]] = queue.SimpleQueue()
        self.session: Session | None = None

    def on_connected(self) -> None:
        if self.session is not None:
            for topic in self.filters:
                self.session.subscribe(topic, 1)

    def on_disconnected(self, reason: str) -> None:
        """Nothing to do: the session reconnects and on_connected subscribes again."""

    def on_acknowledged(self, mid: int, ok: bool, reason: str) -> None:
        """A reader publishes nothing."""

    def on_message(self, topic: str, payload: bytes, retain: bool) -> None:
        self.messages.put((topic, payload, retain))


class _Seen:
    """The identities of the last ``size`` records, to drop repeats."""

    def __init__(self, size: int = REMEMBERED) -> None:
        self._order: deque[Identity] = deque()
        self._set: set[Identity] = set()
        self.size = size

    def first_time(self, record: ResultRecord) -> bool:
        key = (record.device, record.camera, record.seq)
        if key in self._set:
            return False
        self._set.add(key)
        self._order.append(key)
        if len(self._order) > self.size:
            self._set.discard(self._order.popleft())
        return True


def reader_broker(url: str | None, settings: MqttOutput | None) -> Broker:
    """Connection settings for reading: the URL (else settings.url) with the credentials and
    TLS files of ``settings`` (an ``[outputs.mqtt]`` section) when given."""
    client_id = f"edge-reader-{secrets.token_hex(4)}"
    if settings is None:
        if not url:
            raise PublishError("no broker URL given; e.g. mqtt://localhost")
        return Broker.from_url(url, client_id)
    return Broker.from_config(settings.model_copy(update={"url": url or settings.url}), client_id)


def topic_filters(
    prefix: str, device: str, camera: str, latest: bool, follow: bool = True
) -> list[str]:
    kinds = ["state", "result"] if latest and follow else ["result"] if follow else ["state"]
    return [f"{prefix}/{device}/{camera}/{kind}" for kind in kinds]


def subscribe_records(
    url: str | None = None,
    *,
    prefix: str | None = None,
    device: str = "+",
    camera: str = "+",
    latest: bool = False,
    settings: MqttOutput | None = None,
    stop: threading.Event | None = None,
    idle_timeout: float | None = None,
    follow: bool = True,
) -> Iterator[ResultRecord]:
    """Records published to a broker from now on (``latest``: each camera's retained newest
    first), until ``stop`` is set or none arrived for ``idle_timeout`` seconds. Without
    ``follow``: each camera's retained newest only, ending once the broker has sent them (at
    the first live message, or after ``idle_timeout``, default 1 s, of silence).

    ``url`` is ``mqtt://HOST[:PORT]`` or ``mqtts://...``; ``settings``, an ``[outputs.mqtt]``
    section (``load_config(path).outputs.mqtt``), gives the URL, prefix, credentials and TLS
    files when they are not passed here. ``device`` and ``camera`` narrow the subscription
    (``+`` is any). Repeats of a ``(device, camera, seq)`` (MQTT delivers at least once) are
    dropped. Raises PublishError (at the first ``next()``) when the broker cannot be reached
    or refuses the connection; ConfigError for a bad URL.
    """
    broker = reader_broker(url, settings)
    topic_prefix = prefix or (settings.topic_prefix if settings is not None else "edge")
    filters = topic_filters(topic_prefix, device, camera, latest, follow)
    if follow:
        return subscribe(broker, filters, stop=stop, idle_timeout=idle_timeout)
    idle = RETAINED_WAIT_S if idle_timeout is None else idle_timeout
    return subscribe(broker, filters, stop=stop, idle_timeout=idle, retained_only=True)


def subscribe(
    broker: Broker,
    filters: list[str],
    *,
    stop: threading.Event | None = None,
    idle_timeout: float | None = None,
    connect_timeout: float = 10.0,
    retained_only: bool = False,
) -> Iterator[ResultRecord]:
    """Records from ``filters`` until ``stop`` is set or none came for ``idle_timeout`` s;
    ``retained_only``: each camera's latest (its retained state; some brokers, RabbitMQ's MQTT
    plugin among them, do not flag it as retained), until one camera's state comes again."""
    inbox = _Inbox(filters)
    session = Session(broker, inbox)
    inbox.session = session
    session.start()
    try:
        _wait_connected(session, connect_timeout)
        yield from _records(inbox, stop, idle_timeout, retained_only)
    finally:
        session.stop()


def _wait_connected(session: Session, timeout: float) -> None:
    """Return once connected; PublishError once every broker failed, or after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not session.connected.wait(0.02):
        if session.failures >= len(session.broker.addresses):
            raise PublishError(f"{session.broker.url}: {session.last_failure}")
        if time.monotonic() > deadline:
            raise PublishError(f"{session.broker.url}: no answer within {timeout:g} s")


def _records(
    inbox: _Inbox, stop: threading.Event | None, idle_timeout: float | None, retained_only: bool
) -> Iterator[ResultRecord]:
    seen = _Seen()
    shown: set[tuple[str, str]] = set()  # retained_only: the cameras whose latest came
    last = time.monotonic()
    while stop is None or not stop.is_set():
        if idle_timeout is not None and time.monotonic() - last > idle_timeout:
            return
        try:
            topic, payload, _retained = inbox.messages.get(timeout=POLL_S)
        except queue.Empty:
            continue
        last = time.monotonic()
        record = parse_line(payload, topic)
        if record is None or not seen.first_time(record):
            continue
        if retained_only:  # a second state of one camera is a live one: the latest came before
            if (record.device, record.camera) in shown:
                return
            shown.add((record.device, record.camera))
        yield record
