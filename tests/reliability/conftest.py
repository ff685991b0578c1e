"""Fixtures of the reliability tests: the MQTT brokers of tests/mqtt, the fault camera in the
source registry, an sd_notify listener."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from edge.sources import SOURCES

from ..mqtt.conftest import broker, make_broker, receive
from .support import FAULT_SOURCE, NotifyListener

__all__ = ["broker", "fault_source", "make_broker", "notify", "receive"]


@pytest.fixture
def fault_source(monkeypatch: pytest.MonkeyPatch) -> str:
    """``fault:SCRIPT`` as a source spec for this test (edge.sources.fault)."""
    monkeypatch.setitem(SOURCES, "fault", FAULT_SOURCE)
    return "fault"


@pytest.fixture
def notify(monkeypatch: pytest.MonkeyPatch) -> Iterator[NotifyListener]:
    """$NOTIFY_SOCKET for the daemon run in this test, and what it was told."""
    listener = NotifyListener()
    monkeypatch.setenv("NOTIFY_SOCKET", listener.address)
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    yield listener
    listener.close()
