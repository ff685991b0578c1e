"""Fixtures of the MQTT tests: real Mosquitto brokers on free loopback ports (never the system
service), killed on teardown; receivers that are plain paho clients; frame folders.
``make test`` installs mosquitto; without it these tests are skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ..support.mosquitto import MOSQUITTO, Mosquitto
from .support import Receiver, make_frames


@pytest.fixture
def make_broker(tmp_path: Path) -> Iterator[Callable[..., Mosquitto]]:
    """Started brokers, each in its own directory; all stopped on teardown."""
    brokers: list[Mosquitto] = []

    def factory(**options: Any) -> Mosquitto:
        if MOSQUITTO is None:
            pytest.skip("needs mosquitto: `make test` installs it")
        broker = Mosquitto(tmp_path / f"broker{len(brokers)}", **options)
        brokers.append(broker)
        broker.start()
        return broker

    yield factory
    for broker in brokers:
        broker.stop()


@pytest.fixture
def broker(make_broker: Callable[..., Mosquitto]) -> Mosquitto:
    return make_broker()


@pytest.fixture
def receive(broker: Mosquitto) -> Iterator[Callable[..., Receiver]]:
    receivers: list[Receiver] = []

    def factory(*topics: str, port: int | None = None, **options: Any) -> Receiver:
        receiver = Receiver(port or broker.port, list(topics) or ["#"], **options).start()
        receivers.append(receiver)
        return receiver

    yield factory
    for receiver in receivers:
        receiver.stop()


@pytest.fixture
def frames(tmp_path: Path) -> Callable[[int], Path]:
    """A folder of ``count`` small distinct PNG frames."""
    return lambda count: make_frames(tmp_path / f"frames{count}", count)
