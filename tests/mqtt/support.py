"""Helpers of the MQTT tests: a real Mosquitto, a receiver that is not the project's own
client (plain paho), records, settings, and the daemon as a process.

Each broker runs from a config generated in its own directory on a free loopback port (never
the system service); it can be stopped and started again on the same port.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from edge.publishers.mqtt.settings import Broker, MqttSettings
from edge.publishers.mqtt.topics import Topics
from edge.records import (
    AnomalyResult,
    Classified,
    ColorShare,
    FrameSize,
    LabelScore,
    ResultRecord,
    Timing,
    schema,
)

REPO = Path(__file__).resolve().parents[2]
MOSQUITTO = shutil.which("mosquitto") or (
    "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
)
VALIDATOR = jsonschema.Draft202012Validator(schema())
START_TIMEOUT_S = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class TlsFiles:
    ca: Path
    cert: Path
    key: Path
    client_cert: Path
    client_key: Path


class Mosquitto:
    """One mosquitto process on 127.0.0.1:``port`` with a config written to ``directory``."""

    def __init__(
        self,
        directory: Path,
        *,
        tls: TlsFiles | None = None,
        require_certificate: bool = False,
        users: dict[str, str] | None = None,
    ) -> None:
        self.directory = directory
        self.port = free_port()
        self.tls = tls
        self.require_certificate = require_certificate
        self.users = users
        self.log = directory / "mosquitto.log"
        self.process: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"{'mqtts://localhost' if self.tls else 'mqtt://127.0.0.1'}:{self.port}"

    def config(self) -> str:
        lines = [
            f"listener {self.port} 127.0.0.1",
            "user root" if os.geteuid() == 0 else "",
            "persistence true",
            f"persistence_location {self.directory}/",
            "autosave_interval 1",
            f"log_dest file {self.log}",
            "log_type all",
            f"allow_anonymous {'false' if self.users else 'true'}",
        ]
        if self.users:
            lines.append(f"password_file {self._password_file()}")
        if self.tls:
            lines += [
                f"cafile {self.tls.ca}",
                f"certfile {self.tls.cert}",
                f"keyfile {self.tls.key}",
            ]
            lines.append(f"require_certificate {str(self.require_certificate).lower()}")
        return "\n".join(line for line in lines if line) + "\n"

    def _password_file(self) -> Path:
        path = self.directory / "passwords"
        path.write_text("")
        for user, password in (self.users or {}).items():
            subprocess.run(["mosquitto_passwd", "-b", str(path), user, password], check=True)
        path.chmod(0o600)
        return path

    def start(self) -> None:
        if self.process is not None:
            raise RuntimeError("mosquitto is already running")
        conf = self.directory / "mosquitto.conf"
        conf.write_text(self.config())
        assert MOSQUITTO is not None
        self.process = subprocess.Popen(
            [MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self.process.stderr.read()!r}")  # type: ignore[union-attr]
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"mosquitto did not listen on {self.port} within {START_TIMEOUT_S} s")

    def stop(self) -> None:
        """SIGTERM (mosquitto saves its sessions), SIGKILL if it lingers."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if process.stderr is not None:
            process.stderr.close()


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
        self.client.on_connect = lambda client, *_: [
            client.subscribe(t, self.qos) for t in self.topics
        ]
        self.client.on_message = self._on_message
        self.connected = threading.Event()
        self.client.on_subscribe = lambda *_: self.connected.set()

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
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.02)
        return predicate()

    def results(self) -> list[dict[str, Any]]:
        """Every result payload, schema-checked, in arrival order (repeats included)."""
        found = []
        for message in self.on("/result"):
            data = message.json()
            VALIDATOR.validate(data)
            found.append(data)
        return found


# -- publisher settings and records -----------------------------------------------------------


def settings_for(url: str, tmp_path: Path, device: str = "pi", **options: Any) -> MqttSettings:
    """MqttSettings for a test broker: short backoffs, a fresh outbox."""
    broker_options = {
        key: options.pop(key)
        for key in list(options)
        if key in Broker.__dataclass_fields__ and key not in ("address", "client_id")
    }
    broker = Broker.from_url(url, options.pop("client_id", f"test-{device}"))
    fields = {"reconnect_min": 0.05, "reconnect_max": 0.3, **broker_options}
    broker = Broker(**{**broker.__dict__, **fields})
    options.setdefault("outbox", tmp_path / f"outbox-{device}.sqlite")
    options.setdefault("flush_timeout", 5.0)
    return MqttSettings(broker=broker, topics=Topics("edge", device), **options)


def make_record(
    seq: int,
    *,
    camera: str = "front",
    label: str = "7",
    rgb: tuple[int, int, int] = (58, 95, 140),
    anomaly: bool = False,
    device: str = "pi",
) -> ResultRecord:
    return ResultRecord.create(
        device=device,
        camera=camera,
        seq=seq,
        timestamp=1795957507.0 + seq * 0.1,
        frame=FrameSize(64, 48),
        colors=[ColorShare.from_rgb(rgb, 0.7), ColorShare.from_rgb((0, 0, 0), 0.3)],
        classification=Classified("digits", (LabelScore(label, 0.9), LabelScore("1", 0.1)), label),
        anomaly=AnomalyResult("ae", 0.5 if anomaly else 0.01, 0.03, is_anomaly=anomaly),
        timing_ms=Timing(capture=1.0, colors=2.0, classify=3.0, anomaly=4.0, total=10.0),
    )  # fmt: skip


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
