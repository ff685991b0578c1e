"""MQTT settings as the publisher and the reader use them: the validated ``[outputs.mqtt]``
section (edge.config.MqttOutput) plus the few values resolved from it at start.

    Broker        the section, the client id and the password: how to connect (one broker,
                  or the nodes of a cluster tried in order)
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

from pydantic import ValidationError

from edge.brokers import BrokerAddress, parse_mqtt_url, split_urls
from edge.config import MqttOutput
from edge.credentials import credential_path, read_secret_file
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
    addresses: tuple[BrokerAddress, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            addresses = tuple(parse_mqtt_url(url) for url in split_urls(self.config.url))
        except ValueError as exc:
            raise ConfigError(f"{KEY}.url: {exc}") from None
        if not addresses:
            raise ConfigError(f"{KEY}.url: not set; give a broker URL")
        object.__setattr__(self, "addresses", addresses)  # frozen: set once, here

    @property
    def address(self) -> BrokerAddress:
        """The first broker (all of them share the scheme and the user name)."""
        return self.addresses[0]

    @property
    def url(self) -> str:
        """The broker URLs, for logs: "mqtt://a:1883" or "mqtt://a:1883,mqtt://b:1883"."""
        return ",".join(address.url() for address in self.addresses)

    @property
    def username(self) -> str:
        """``username``, else the USER@ of the url."""
        return self.config.username or self.address.username

    @classmethod
    def from_url(cls, url: str, client_id: str) -> Broker:
        """A Broker for a URL (or several, separated by commas), without credentials or TLS
        files; ConfigError for a bad URL."""
        try:
            config = MqttOutput(url=url)
        except ValidationError as exc:  # its message never holds a password
            reason = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
            raise ConfigError(f"{KEY}.url: {reason}") from None
        return cls(config, client_id)

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
        path = credential_path(
            f"{KEY}.password_credential", mqtt.password_credential, "password_file", environ
        )
        return _read_secret(path, "password_credential")
    return None


def _read_secret(path: Path, key: str) -> str:
    secret = read_secret_file(path, f"{KEY}.{key}").rstrip("\r\n")
    if not secret:
        raise ConfigError(f"{KEY}.{key}: {path} is empty")
    return secret
