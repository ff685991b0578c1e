"""A real Mosquitto for the soak scripts, and a plain paho subscriber that counts results.

The broker runs from a config written to its own directory, on a free loopback port (never
the system service), and is stopped with SIGTERM (SIGKILL if it lingers).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

START_TIMEOUT_S = 10.0


def mosquitto_binary() -> str | None:
    found = shutil.which("mosquitto")
    if found:
        return found
    return "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Broker:
    """``with Broker(directory) as broker:`` a mosquitto on 127.0.0.1:``broker.port``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def __enter__(self) -> Broker:
        binary = mosquitto_binary()
        if binary is None:
            raise SystemExit("needs mosquitto: `make mosquitto` installs it")
        self.directory.mkdir(parents=True, exist_ok=True)
        conf = self.directory / "mosquitto.conf"
        lines = [
            f"listener {self.port} 127.0.0.1",
            "user root" if os.geteuid() == 0 else "",
            "allow_anonymous true",
            "max_queued_messages 0",
            f"log_dest file {self.directory / 'mosquitto.log'}",
        ]
        conf.write_text("\n".join(line for line in lines if line) + "\n")
        self.process = subprocess.Popen(
            [binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"mosquitto exited at once; see {self.directory}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise SystemExit(f"mosquitto did not listen on port {self.port}")

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


class ResultCounter:
    """A plain paho client (not the project's own) subscribed to every camera's results with
    QoS 1 from before the first daemon starts; keeps each (camera, seq) it received."""

    def __init__(self, port: int, topic: str = "edge/+/+/result") -> None:
        import paho.mqtt.client as paho
        from paho.mqtt.enums import CallbackAPIVersion

        self.seqs: dict[str, list[int]] = {}
        self.bad: list[str] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id="soak-counter")
        self.client.on_connect = lambda client, *_: client.subscribe(topic, 1)
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_message = self._on_message
        self.port = port

    def _on_message(self, _client: Any, _userdata: Any, message: Any) -> None:
        try:
            record = json.loads(message.payload)
            camera, seq = str(record["camera"]), int(record["seq"])
        except (ValueError, KeyError, TypeError) as exc:
            with self._lock:
                self.bad.append(f"{message.topic}: {exc}")
            return
        with self._lock:
            self.seqs.setdefault(camera, []).append(seq)

    def start(self) -> ResultCounter:
        self.client.connect("127.0.0.1", self.port, keepalive=30)
        self.client.loop_start()
        if not self._subscribed.wait(10):
            raise SystemExit("the result counter could not subscribe to the broker")
        return self

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def received(self, camera: str) -> list[int]:
        with self._lock:
            return list(self.seqs.get(camera, []))

    def wait_for(self, done: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if done():
                return True
            time.sleep(0.05)
        return done()
