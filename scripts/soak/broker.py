"""A real Mosquitto for the soak scripts, and a plain paho subscriber that counts results.

The broker is the tests' own (tests/support/mosquitto.py): a config written to its own
directory, a free loopback port (never the system service), stopped with SIGTERM (SIGKILL if
it lingers). Here it keeps no persistence file and queues without limit.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository, for tests.support

from tests.support.mosquitto import MOSQUITTO, Mosquitto
from tests.support.waiting import wait_for


class Broker(Mosquitto):
    """``with Broker(directory) as broker:`` a mosquitto on 127.0.0.1:``broker.port``; a
    broker that cannot start ends the script with the reason."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory, persistence=False, extra=["max_queued_messages 0"])

    def __enter__(self) -> Broker:
        if MOSQUITTO is None:
            raise SystemExit("needs mosquitto: `make mosquitto` installs it")
        try:
            self.start()
        except RuntimeError as exc:
            raise SystemExit(str(exc)) from exc
        return self


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
        return wait_for(done, timeout, step=0.05)
