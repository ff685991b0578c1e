"""MQTT settings as the publisher and the reader use them, built from ``[outputs.mqtt]``.

The password is read here, at start, from a file, an environment variable or a systemd
credential (``$CREDENTIALS_DIRECTORY/<name>``, from ``LoadCredential=``); it is never in the
config, never in a ``repr`` and never in a log line or error message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from edge.config import BrokerAddress, MqttOutput, parse_mqtt_url
from edge.errors import ConfigError
from edge.publishers.mqtt.topics import Topics

if TYPE_CHECKING:
    from edge.config import Config

KEY = "outputs.mqtt"


@dataclass(frozen=True)
class Broker:
    """Where and how to connect: address, identity, credentials, TLS, protocol, backoff."""

    address: BrokerAddress
    client_id: str
    username: str = ""
    password: str | None = field(default=None, repr=False)
    protocol: str = "3.1.1"
    keepalive: int = 60
    tls_ca: str = ""
    tls_cert: str = ""
    tls_key: str = ""
    tls_insecure: bool = False
    reconnect_min: float = 1.0
    reconnect_max: float = 60.0

    @property
    def url(self) -> str:
        return self.address.url()

    @classmethod
    def from_url(cls, url: str, client_id: str) -> Broker:
        """A Broker for a URL, without credentials or TLS files; ConfigError for a bad URL."""
        try:
            address = parse_mqtt_url(url)
        except ValueError as exc:
            raise ConfigError(f"{KEY}.url: {exc}") from None
        return cls(address, client_id, username=address.username)

    @classmethod
    def from_config(cls, mqtt: MqttOutput, client_id: str) -> Broker:
        address = mqtt.address()
        return cls(
            address=address,
            client_id=client_id,
            username=mqtt.username or address.username,
            password=read_password(mqtt),
            protocol=mqtt.protocol,
            keepalive=mqtt.keepalive,
            tls_ca=mqtt.tls_ca,
            tls_cert=mqtt.tls_cert,
            tls_key=mqtt.tls_key,
            tls_insecure=mqtt.tls_insecure,
            reconnect_min=mqtt.reconnect_min,
            reconnect_max=mqtt.reconnect_max,
        )


@dataclass(frozen=True)
class MqttSettings:
    """Everything the MQTT publisher needs, checked and resolved."""

    broker: Broker
    topics: Topics
    outbox: Path
    qos: int = 1
    retain_state: bool = True
    stats_interval: float = 60.0
    on_change: bool = False
    change_color_distance: float = 40.0
    heartbeat: float = 60.0
    outbox_max_rows: int = 100_000
    inflight: int = 20
    flush_timeout: float = 3.0
    discovery_prefix: str | None = "homeassistant"

    @classmethod
    def from_config(cls, config: Config) -> MqttSettings:
        """The settings of ``[outputs.mqtt]``; ConfigError if it is off or a secret is missing."""
        mqtt = config.outputs.mqtt
        if not mqtt.enabled:
            raise ConfigError(f"{KEY}.url: not set; give a broker URL or `edge run --mqtt URL`")
        ha = mqtt.homeassistant
        return cls(
            broker=Broker.from_config(mqtt, config.mqtt_client_id()),
            topics=Topics(mqtt.topic_prefix, config.device),
            outbox=mqtt.outbox_path(config.outputs.files.directory()),
            qos=mqtt.qos,
            retain_state=mqtt.retain_state,
            stats_interval=mqtt.stats_interval,
            on_change=mqtt.publish_on_change,
            change_color_distance=mqtt.change_color_distance,
            heartbeat=mqtt.heartbeat,
            outbox_max_rows=mqtt.outbox_max_rows,
            inflight=mqtt.inflight,
            flush_timeout=mqtt.flush_timeout,
            discovery_prefix=ha.discovery_prefix if ha.enabled else None,
        )


def read_password(mqtt: MqttOutput, environ: Mapping[str, str] = os.environ) -> str | None:
    """The password from the one source the config names; None when it names none."""
    if mqtt.password_file:
        return _read_secret(Path(mqtt.password_file).expanduser(), "password_file")
    if mqtt.password_env:
        value = environ.get(mqtt.password_env)
        if value is None:
            raise ConfigError(
                f"{KEY}.password_env: the environment variable {mqtt.password_env} is not set"
            )
        return value
    if mqtt.password_credential:
        return _read_secret(_credential(mqtt.password_credential, environ), "password_credential")
    return None


def _credential(name: str, environ: Mapping[str, str]) -> Path:
    if "/" in name or name in (".", ".."):
        raise ConfigError(f"{KEY}.password_credential: {name!r} is a name, not a path")
    directory = environ.get("CREDENTIALS_DIRECTORY", "")
    if not directory:
        raise ConfigError(
            f"{KEY}.password_credential: $CREDENTIALS_DIRECTORY is not set; run under systemd "
            f"with LoadCredential={name}:/path/to/secret (or use password_file)"
        )
    return Path(directory) / name


def _read_secret(path: Path, key: str) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise ConfigError(f"{KEY}.{key}: cannot read {path} ({reason})") from None
    secret = text.rstrip("\r\n")
    if not secret:
        raise ConfigError(f"{KEY}.{key}: {path} is empty")
    return secret
