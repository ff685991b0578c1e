"""The order in which a session tries the brokers of a list, and how long it waits between
(without a network: the session is built, never started)."""

from __future__ import annotations

from edge.config import MqttOutput
from edge.publishers.mqtt.client import Session
from edge.publishers.mqtt.settings import Broker

URLS = ["mqtt://a", "mqtt://b", "mqtt://c"]


class _Nobody:
    def on_connected(self) -> None: ...

    def on_disconnected(self, reason: str) -> None: ...

    def on_acknowledged(self, mid: int, ok: bool, reason: str) -> None: ...

    def on_message(self, topic: str, payload: bytes, retain: bool) -> None: ...


def _session(urls: list[str]) -> Session:
    config = MqttOutput(url=urls, reconnect_min=1.0, reconnect_max=8.0)
    return Session(Broker(config, "edge-pi"), _Nobody())


def test_failed_attempts_go_round_the_list_and_wait_only_after_a_whole_round() -> None:
    session = _session(URLS)
    waits = []
    for _ in range(6):  # nobody answers: a, b, c, a, b, c
        waits.append(session._next_node(None))
    assert [wait > 0 for wait in waits] == [False, False, True, False, False, True]
    assert session.node == 0


def test_a_node_that_served_and_died_is_followed_by_the_next_at_once() -> None:
    session = _session(URLS)
    assert (session.url, session.client_id) == ("mqtt://a:1883", "edge-pi-1")
    assert session._next_node(True) == 0.0  # a held, then died: b at once
    assert (session.url, session.client_id) == ("mqtt://b:1883", "edge-pi-2")
    assert session._next_node(None) == 0.0  # b does not answer: c, the round goes on
    assert session._next_node(None) == 0.0  # c neither: a, the last of the round (began at b)
    assert session._next_node(None) > 0  # a neither: a whole round failed, wait before b
    assert session.node == 1


def test_one_broker_keeps_its_client_id_and_always_waits() -> None:
    session = _session(["mqtt://a"])
    assert session.client_id == "edge-pi"
    assert session._next_node(True) > 0 and session._next_node(None) > 0
