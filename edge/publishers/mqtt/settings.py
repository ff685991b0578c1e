"""MQTT settings as the publisher and the reader use them: the validated ``[outputs.mqtt]``
section (edge.config.MqttOutput) plus the few values resolved from it at start.

    Broker        the section, the client id and the password: how to connect
    MqttSettings  the Broker, the topics and the outbox path: what the publisher needs

Every option (qos, inflight, TLS files, backoff...) is read from the section itself
(``settings.config.qos``); only what needs resolving is kept beside it. The password is read
here, at start, from a file, an environment variable or a systemd credential
(``$CREDENTIALS_DIRECTORY/<name>``, from ``LoadCredential=``); it is never in the config, never
in a ``repr`` and never in a log line or error message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from edge.brokerurl import BrokerAddress, parse_mqtt_url
from edge.config import MqttOutput
from edge.errors import ConfigError
from edge.publishers.mqtt.topics import Topics

if TYPE_CHECKING:
    from edge.config import Config

KEY = "outputs.mqtt"


@dataclass(frozen=True)
class Broker:
    """Where and how to connect: the ``[outputs.mqtt]`` section (its url, protocol, keepalive,
    TLS files, backoff), the client id and the password read at start."""

    config: MqttOutput
    client_id: str
    password: str | None = field(default=None, repr=False)
    address: BrokerAddress = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            address = parse_mqtt_url(self.config.url)
        except ValueError as exc:
            raise ConfigError(f"{KEY}.url: {exc}") from None
        object.__setattr__(self, "address", address)  # frozen: set once, here

    @property
    def url(self) -> str:
        return self.address.url()

    @property
    def username(self) -> str:
        """``username``, else the USER@ of the url."""
        return self.config.username or self.address.username

    @classmethod
    def from_url(cls, url: str, client_id: str) -> Broker:
        """A Broker for a URL, without credentials or TLS files; ConfigError for a bad URL."""
        try:
            parse_mqtt_url(url)
        except ValueError as exc:
            raise ConfigError(f"{KEY}.url: {exc}") from None
        return cls(MqttOutput(url=url), client_id)

    @classmethod
    def from_config(cls, mqtt: MqttOutput, client_id: str) -> Broker:
        """The Broker of a section, its password read now (ConfigError if it cannot be)."""
        return cls(mqtt, client_id, read_password(mqtt))


@dataclass(frozen=True)
class MqttSettings:
    """Everything the MQTT publisher needs: the Broker, the topics and the outbox path."""

    broker: Broker
    topics: Topics
    outbox: Path

    @property
    def config(self) -> MqttOutput:
        """The ``[outputs.mqtt]`` section: qos, inflight, flush_timeout and the rest."""
        return self.broker.config

    @property
    def discovery_prefix(self) -> str | None:
        """Home Assistant's discovery prefix, or None when discovery is off."""
        ha = self.config.homeassistant
        return ha.discovery_prefix if ha.enabled else None

    @classmethod
    def from_config(cls, config: Config) -> MqttSettings:
        """The settings of ``[outputs.mqtt]``; ConfigError if it is off or a secret is missing."""
        mqtt = config.outputs.mqtt
        if not mqtt.enabled:
            raise ConfigError(f"{KEY}.url: not set; give a broker URL or `edge run --mqtt URL`")
        return cls(
            broker=Broker.from_config(mqtt, config.mqtt_client_id()),
            topics=Topics(mqtt.topic_prefix, config.device),
            outbox=mqtt.outbox_path(config.outputs.files.directory()),
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
