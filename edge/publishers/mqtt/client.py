"""The boundary to paho-mqtt 2.x: one client kept connected by one thread, with backoff.

``Session`` owns a paho client and a thread that connects, runs paho's network loop until the
connection ends, waits (exponential backoff with jitter, reset once a connection has held) and
connects again, for as long as the session runs. Given several brokers (the nodes of a cluster)
it connects to the first that answers and, when that connection ends, goes on to the next at
once (the next in the list, round and round): the wait comes only after a whole round failed, or
after a connection that did not hold. What was not acknowledged is sent again to the next node
(by paho, and by the publisher's outbox), so nothing is lost across the switch. Each node of a
list gets its own client id (``<client id>-<n>``, n its place in the list): a node that died
may still hold the old session (RabbitMQ keeps its subscription queue there), which must not
stop the next node from taking the client. Every failure (refused, unreachable, TLS,
wrong password) is logged as one clear line, the same failure at most once a minute, and is
retried: a broker that is away or misconfigured never stops the daemon.

paho's callbacks (on paho's thread) become calls on a ``Listener`` with plain Python values.
paho errors are translated here: ConfigError for settings it rejects (TLS files),
PublishError for a message it cannot take.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from typing import TYPE_CHECKING, Any, Protocol

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion

from edge.backoff import Backoff
from edge.errors import ConfigError, PublishError
from edge.throttle import ThrottledLog

if TYPE_CHECKING:
    from paho.mqtt.properties import Properties
    from paho.mqtt.reasoncodes import ReasonCode

    from edge.publishers.mqtt.settings import Broker

logger = logging.getLogger(__name__)
paho_logger = logging.getLogger(f"{__name__}.paho")

STABLE_S = 10.0  # a connection that held this long resets the backoff
REPEAT_LOG_S = 60.0  # the same connection problem is logged at most this often
JITTER = (0.75, 1.0)  # each reconnect wait is 75% to 100% of its backoff
AUTH_CODES = frozenset({134, 135, 140})  # bad user name or password, not authorized, bad auth
PASSWORD_HINT = (
    "check outputs.mqtt.username and the password (password_file, password_env or "
    "password_credential)"
)
HINTS = {
    132: 'the broker does not speak this MQTT version: set outputs.mqtt.protocol = "3.1.1"',
    133: "the broker rejects the client id: set outputs.mqtt.client_id",
    138: "this client is banned by the broker",
    142: "another client connected with the same client id: give each daemon its own",
}


class Listener(Protocol):
    """What a Session reports; called on the session's network thread."""

    def on_connected(self) -> None: ...

    def on_disconnected(self, reason: str) -> None: ...

    def on_acknowledged(self, mid: int, ok: bool, reason: str) -> None: ...

    def on_message(self, topic: str, payload: bytes, retain: bool) -> None: ...


class Session:
    """A paho client that a thread keeps connected until ``stop()``."""

    def __init__(
        self,
        broker: Broker,
        listener: Listener,
        will: tuple[str, bytes] | None = None,
        inflight: int = 20,
    ) -> None:
        self.broker = broker
        self.listener = listener
        self.client = new_client(broker, will)
        self.client.max_inflight_messages_set(inflight)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self.client.on_message = self._on_message
        self.connected = threading.Event()
        self.away = threading.Event()  # the last attempt failed or the connection was lost
        self.last_failure: str | None = None
        self.failures = 0
        self.connections = 0
        self.node = 0  # the index of the broker in use, or tried next
        self._round_start = 0  # where the current round of attempts began
        self._stopping = threading.Event()
        config = broker.config
        self._backoff = Backoff(config.reconnect_min, config.reconnect_max, spread=JITTER)
        self._failure_log = ThrottledLog(logger, REPEAT_LOG_S)
        self._thread = threading.Thread(target=self._run, name="mqtt-network", daemon=True)

    @property
    def url(self) -> str:
        """The URL of the broker in use (or tried next)."""
        return self.broker.addresses[self.node].url()

    @property
    def client_id(self) -> str:
        """The client id on the broker in use: with several brokers, one per node."""
        if len(self.broker.addresses) == 1:
            return self.broker.client_id
        return f"{self.broker.client_id}-{self.node + 1}"

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Disconnect cleanly (no last will) and end the thread."""
        self._stopping.set()
        self.client.disconnect()  # also ends a loop still waiting for the broker's answer
        self._thread.join(timeout)

    def publish(self, topic: str, payload: bytes, qos: int, retain: bool = False) -> int:
        """Hand a message to paho (sent now, or when connected again); its message id."""
        try:
            info = self.client.publish(topic, payload, qos=qos, retain=retain)
        except (ValueError, TypeError) as exc:
            raise PublishError(f"cannot publish to {topic!r}: {exc}") from exc
        queued = {MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN}
        if qos > 0:  # paho keeps it and sends it again after the reconnect
            queued.add(MQTTErrorCode.MQTT_ERR_CONN_LOST)
        if info.rc not in queued:
            raise PublishError(f"cannot publish to {topic!r}: {paho.error_string(info.rc)}")
        return int(info.mid)

    def subscribe(self, topic: str, qos: int = 1) -> None:
        self.client.subscribe(topic, qos)

    # -- the network thread -------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            held: bool | None = None
            try:
                held = self._connect_and_loop()
            except Exception:  # the boundary: this thread must outlive any surprise
                logger.exception("%s: unexpected error in the MQTT client", self.url)
            if not self._stopping.is_set():
                self._stopping.wait(self._next_node(held))

    def _next_node(self, held: bool | None) -> float:
        """Move on to the next broker; how long to wait before trying it. ``held``: None when
        no connection was made, else whether it lasted."""
        count = len(self.broker.addresses)
        if count == 1:
            return self._backoff.next()
        self.node = (self.node + 1) % count
        if held is not None:
            logger.warning("MQTT: failing over to %s", self.url)
        if held:  # a node that served us for a while went away: the next one, at once
            self._round_start = self.node
            return 0.0
        return self._backoff.next() if self.node == self._round_start else 0.0

    def _connect_and_loop(self) -> bool | None:
        """One connection, until it ends: None if none was made, else whether it held
        (STABLE_S seconds or more)."""
        if self._stopping.is_set():
            return None
        address = self.broker.addresses[self.node]
        self.client.use_client_id(self.client_id)
        try:
            self.client.connect(address.host, address.port, self.broker.config.keepalive)
        except OSError as exc:  # refused, unreachable, name unknown, TLS handshake
            self._failed(f"cannot connect: {describe_os_error(exc)}")
            return None
        started, failures, connections = time.monotonic(), self.failures, self.connections
        rc = self.client.loop_forever(retry_first_connection=False)
        self.connected.clear()
        if connections == self.connections and failures == self.failures:
            if not self._stopping.is_set():  # closed before any CONNACK: not an MQTT broker?
                self._failed(f"no MQTT answer ({paho.error_string(rc)})")
            return None
        if time.monotonic() - started < STABLE_S:
            return False
        self._backoff.reset()
        return True

    def _failed(self, problem: str) -> None:
        self.away.set()
        self.failures += 1
        self.last_failure = problem
        message = f"{self.url}: {problem} (retrying with backoff)"
        self._failure_log.error(message, "%s", message)

    # -- paho's callbacks (VERSION2) ------------------------------------------------------

    def _on_connect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            self._failed(f"the broker refused the connection: {refusal(reason)}")
            return
        if self._stopping.is_set():
            client.disconnect()
            return
        self.last_failure = None
        self.connections += 1
        self.away.clear()
        self._failure_log.reset()
        logger.info("%s: connected as %s", self.url, self.client_id)
        self.connected.set()
        self.listener.on_connected()

    def _on_disconnect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.DisconnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        was_connected = self.connected.is_set()
        self.connected.clear()
        if not was_connected:
            return
        self.away.set()
        text = refusal(reason) if reason.is_failure else "disconnected"
        if not self._stopping.is_set():
            logger.warning("%s: connection lost (%s); reconnecting", self.url, text)
        self.listener.on_disconnected(text)

    def _on_publish(
        self,
        client: paho.Client,
        userdata: Any,
        mid: int,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self.listener.on_acknowledged(mid, not reason.is_failure, str(reason))

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        self.listener.on_message(message.topic, bytes(message.payload), bool(message.retain))


def _paho_log(client: paho.Client, userdata: Any, level: int, text: str) -> None:
    """paho's own messages in our log: an exception in a callback (a bug) as an error; socket
    troubles only at debug level, since the session reports each failure once, clearly."""
    if text.startswith("Caught exception"):
        paho_logger.error("%s", text)
    elif level == paho.MQTT_LOG_WARNING:
        paho_logger.warning("%s", text)
    else:
        paho_logger.debug("%s", text)


def refusal(reason: ReasonCode) -> str:
    """A broker's reason code as words, with what to do about the common ones."""
    value = int(reason.value)
    if value in AUTH_CODES:
        return f"{reason} ({PASSWORD_HINT})"
    hint = HINTS.get(value)
    return f"{reason} ({hint})" if hint else str(reason)


def describe_os_error(exc: OSError) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"the broker's certificate is not trusted ({exc.verify_message}); check tls_ca"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({exc.reason or exc}); does the broker speak TLS on this port?"
    return exc.strerror or str(exc) or type(exc).__name__


class _Client(paho.Client):
    """paho's client, closing the TLS socket when the handshake fails (paho 2.x leaves it
    open, one descriptor per failed attempt until the garbage collector finds it).

    Host names are checked by the SSL context itself (``tls_context``), so paho's own check
    after the handshake is not needed. ``use_client_id`` changes the id for the next connect
    (paho has no public way; its ``reinitialise`` would drop the messages in flight)."""

    def use_client_id(self, client_id: str) -> None:
        self._client_id = client_id.encode("utf-8")

    def _ssl_wrap_socket(self, tcp_sock: socket.socket) -> ssl.SSLSocket:
        context = self._ssl_context
        if context is None:  # paho calls this only with TLS configured
            raise ConfigError("TLS was asked for without a TLS context")
        ssl_sock = context.wrap_socket(
            tcp_sock, server_hostname=self._host, do_handshake_on_connect=False
        )
        try:
            ssl_sock.settimeout(self._connect_timeout)
            ssl_sock.do_handshake()
        except BaseException:
            ssl_sock.close()
            raise
        return ssl_sock


def new_client(broker: Broker, will: tuple[str, bytes] | None = None) -> _Client:
    """A configured paho client (not connected): protocol, identity, credentials, TLS, will."""
    v5 = broker.config.protocol == "5"
    client = _Client(
        CallbackAPIVersion.VERSION2,
        client_id=broker.client_id,
        clean_session=None if v5 else True,
        protocol=MQTTProtocolVersion.MQTTv5 if v5 else MQTTProtocolVersion.MQTTv311,
        reconnect_on_failure=False,
    )
    client.on_log = _paho_log
    client.suppress_exceptions = True
    if broker.username:
        client.username_pw_set(broker.username, broker.password)
    if broker.address.tls:
        client.tls_set_context(tls_context(broker))
        client.tls_insecure_set(broker.config.tls_insecure)
    if will is not None:
        client.will_set(will[0], will[1], qos=1, retain=True)
    return client


def tls_context(broker: Broker) -> ssl.SSLContext:
    """A client TLS context: the CA file (or the system's CAs), the client certificate."""
    config = broker.config
    try:
        context = ssl.create_default_context(cafile=config.tls_ca or None)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"outputs.mqtt.tls_ca: cannot load {config.tls_ca} ({exc})") from exc
    if config.tls_cert:
        try:
            context.load_cert_chain(config.tls_cert, config.tls_key or None)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"outputs.mqtt.tls_cert: cannot load {config.tls_cert} with its key "
                f"{config.tls_key} ({exc})"
            ) from exc
    if config.tls_insecure:
        context.check_hostname = False
    return context
