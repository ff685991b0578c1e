"""Helpers of the MQTT tests: a receiver that is not the project's own client (plain paho),
publisher settings, and the daemon as a process. The broker is ``tests.support.mosquitto``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from edge.config import MqttOutput
from edge.publishers.mqtt.settings import Broker, MqttSettings
from edge.publishers.mqtt.topics import Topics

from ..support.schema import validate
from ..support.waiting import wait_for

REPO = Path(__file__).resolve().parents[2]


# -- a receiver that is not the project's client: plain paho ---------------------------------


@dataclass
class Message:
    topic: str
    payload: bytes
    retain: bool
    qos: int

    def json(self) -> Any:
        return json.loads(self.payload)


@dataclass
class Receiver:
    """A plain paho client that subscribes on every connect and keeps every message."""

    port: int
    topics: list[str]
    client_id: str = "test-receiver"
    persistent: bool = False
    qos: int = 1
    tls_ca: Path | None = None
    username: str | None = None
    password: str | None = None
    messages: list[Message] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=self.client_id, clean_session=not self.persistent
        )
        self.client.reconnect_delay_set(1, 1)
        if self.tls_ca is not None:
            self.client.tls_set(ca_certs=str(self.tls_ca))
        if self.username is not None:
            self.client.username_pw_set(self.username, self.password)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.connected = threading.Event()
        self.client.on_subscribe = lambda *_: self.connected.set()

    def _on_connect(self, client: paho.Client, *_: Any) -> None:
        for topic in self.topics:
            client.subscribe(topic, self.qos)

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        with self._lock:
            self.messages.append(
                Message(message.topic, bytes(message.payload), bool(message.retain), message.qos)
            )

    def start(self) -> Receiver:
        host = "localhost" if self.tls_ca else "127.0.0.1"
        self.client.connect(host, self.port, keepalive=10)
        self.client.loop_start()
        assert self.connected.wait(5), "the receiver did not subscribe"
        return self

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def on(self, suffix: str) -> list[Message]:
        with self._lock:
            return [m for m in self.messages if m.topic.endswith(suffix)]

    def wait(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        return wait_for(predicate, timeout)

    def results(self) -> list[dict[str, Any]]:
        """Every result payload, schema-checked, in arrival order (repeats included)."""
        found = []
        for message in self.on("/result"):
            data = message.json()
            validate(data)
            found.append(data)
        return found


# -- publisher settings and records -----------------------------------------------------------


def settings_for(url: str, tmp_path: Path, device: str = "pi", **options: Any) -> MqttSettings:
    """MqttSettings for a test broker: short backoffs, a fresh outbox. ``options`` are
    ``[outputs.mqtt]`` keys, and ``client_id``, ``password`` and ``outbox`` (a path)."""
    client_id = options.pop("client_id", f"test-{device}")
    password = options.pop("password", None)
    outbox = Path(options.pop("outbox", tmp_path / f"outbox-{device}.sqlite"))
    values = {"reconnect_min": 0.05, "reconnect_max": 0.3, "flush_timeout": 5.0, **options}
    broker = Broker(MqttOutput(url=url, **values), client_id, password)
    return MqttSettings(broker, Topics("edge", device), outbox)


# -- the daemon as a process -------------------------------------------------------------------


def make_frames(folder: Path, count: int) -> Path:
    """``count`` small distinct PNG frames in a new folder."""
    import cv2

    folder.mkdir()
    rng = np.random.default_rng(count)
    for i in range(count):
        image = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
        cv2.imwrite(str(folder / f"{i:04d}.png"), image)
    return folder


def write_config(path: Path, device: str = "pi-test", **mqtt: Any) -> Path:
    """A config with fast reconnects; ``mqtt`` adds [outputs.mqtt] keys."""
    values = {"reconnect_min": 0.05, "reconnect_max": 0.3, "stats_interval": 0.5, **mqtt}
    lines = [f'device = "{device}"', "[outputs.mqtt]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def start_daemon(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "edge.cli", "run", "--quiet", *args],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )


def file_records(out: Path, camera: str = "camera") -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for path in sorted((out / camera).glob("results-*.jsonl")):
        found += [json.loads(line) for line in path.read_text().splitlines()]
    return found
