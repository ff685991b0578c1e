"""Several brokers in ``url`` (the nodes of a cluster), against real Mosquittos: the publisher
connects to the first that answers and fails over to the next when its broker dies, each node
with its own client id, nothing lost across the switch. Two separate Mosquittos are not a
cluster, so what each received is put together (tests/mqtt/test_cluster.py runs a real one).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from edge.publishers import create_publisher
from edge.publishers.mqtt.publisher import MqttPublisher

from ..support.mosquitto import Mosquitto, free_port
from ..support.records import make_record
from ..support.waiting import wait_until
from .support import Receiver, settings_for

Receive = Callable[..., Receiver]


def _publisher(url: str, tmp_path: Path) -> MqttPublisher:
    publisher = create_publisher("mqtt", settings=settings_for(url, tmp_path, client_id="pi"))
    assert isinstance(publisher, MqttPublisher)
    return publisher


def _seqs(receivers: list[Receiver]) -> set[int]:
    return {result["seq"] for receiver in receivers for result in receiver.results()}


def test_the_first_broker_that_answers_is_used(
    broker: Mosquitto, receive: Receive, tmp_path: Path
) -> None:
    receiver = receive("edge/#")
    dead = f"mqtt://127.0.0.1:{free_port()}"
    with _publisher(f"{dead},{broker.url}", tmp_path) as publisher:
        wait_until(lambda: publisher.connected)
        assert publisher.session.client_id == "pi-2"
        for seq in range(10):
            publisher.publish(make_record(seq))
        wait_until(lambda: len(receiver.on("/result")) >= 10)
    assert [result["seq"] for result in receiver.results()] == list(range(10))


def test_a_broker_that_dies_is_failed_over_losing_nothing(
    make_broker: Callable[..., Mosquitto], tmp_path: Path
) -> None:
    first, second = make_broker(), make_broker()
    receivers = [
        Receiver(b.port, ["edge/+/+/result"], client_id="r").start() for b in (first, second)
    ]
    publisher = _publisher(f"{first.url},{second.url}", tmp_path)
    try:
        wait_until(lambda: publisher.connected)
        assert publisher.session.client_id == "pi-1"
        for seq in range(200):
            publisher.publish(make_record(seq))
            if seq == 100:
                first.stop()  # its connections close: the publisher sees the broker die
        wait_until(lambda: publisher.session.client_id == "pi-2" and publisher.connected, 10)
        wait_until(lambda: _seqs(receivers) >= set(range(200)), 15)
    finally:
        publisher.close()
        for receiver in receivers:
            receiver.stop()
    assert receivers[1].results(), "the second broker took over"
    assert len(publisher.outbox) == 0
