"""The MQTT publisher against a real Mosquitto, received by a plain paho client."""

from __future__ import annotations

import logging
import socket
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

import pytest

from edge.control import CameraInfo, Command, StaticControl
from edge.errors import PublishError
from edge.publishers import create_publisher
from edge.publishers.mqtt.publisher import MqttPublisher

from ..support.mosquitto import Mosquitto
from ..support.records import make_record
from ..support.schema import VALIDATOR
from ..support.waiting import wait_for
from .support import Receiver, settings_for

Receive = Callable[..., Receiver]


@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
def test_every_record_arrives_schema_valid_in_order_with_state_and_availability(
    broker: Mosquitto, receive: Receive, tmp_path: Path, protocol: str
) -> None:
    receiver = receive("edge/#")
    settings = settings_for(broker.url, tmp_path, protocol=protocol)
    with create_publisher("mqtt", settings=settings) as publisher:
        assert isinstance(publisher, MqttPublisher)
        for seq in range(50):
            publisher.publish(make_record(seq, camera="front" if seq % 2 else "back"))
        assert receiver.wait(lambda: len(receiver.on("/result")) >= 50)
    results = receiver.results()
    assert [r["seq"] for r in results] == list(range(50))
    assert {m.topic for m in receiver.on("/result")} == {
        "edge/pi/front/result",
        "edge/pi/back/result",
    }
    assert [m.payload for m in receiver.on("availability")] == [b"online", b"offline"]
    assert _rows(settings.outbox) == 0

    late = receive("edge/pi/+/state", "edge/pi/availability", client_id="late")
    assert late.wait(lambda: len(late.messages) >= 3)
    retained = {m.topic: m for m in late.messages}
    assert retained["edge/pi/availability"].payload == b"offline"
    assert retained["edge/pi/front/state"].retain
    assert retained["edge/pi/front/state"].json()["seq"] == 49
    assert retained["edge/pi/back/state"].json()["seq"] == 48
    VALIDATOR.validate(retained["edge/pi/back/state"].json())


def _rows(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])


@pytest.mark.parametrize("qos", [0, 1, 2])
def test_the_result_qos_is_configurable(
    broker: Mosquitto, receive: Receive, tmp_path: Path, qos: int
) -> None:
    receiver = receive("edge/pi/+/result", qos=2)
    with MqttPublisher(settings_for(broker.url, tmp_path, qos=qos)) as publisher:
        for seq in range(5):
            publisher.publish(make_record(seq))
        assert receiver.wait(lambda: len(receiver.on("/result")) == 5)
    assert {m.qos for m in receiver.on("/result")} == {qos}


def test_records_wait_in_the_outbox_until_the_broker_comes(
    tmp_path: Path, make_broker: Callable[..., Mosquitto]
) -> None:
    broker = make_broker()
    receiver = Receiver(broker.port, ["edge/pi/+/result"], persistent=True).start()
    broker.stop()  # the receiver's session is saved; the port stays known, nobody listens
    settings = settings_for(broker.url, tmp_path, outbox_max_rows=20)
    try:
        with MqttPublisher(settings) as publisher:
            for seq in range(50):
                publisher.publish(make_record(seq))
            assert len(publisher.outbox) == 20
            assert publisher.outbox.dropped == 30
            broker.start()
            assert receiver.wait(lambda: len(receiver.on("/result")) >= 20)
    finally:
        receiver.stop()
    assert [r["seq"] for r in receiver.results()] == list(range(30, 50))


def test_a_restart_sends_what_the_outbox_kept(
    tmp_path: Path, make_broker: Callable[..., Mosquitto]
) -> None:
    broker = make_broker()
    receiver = Receiver(broker.port, ["edge/pi/+/result"], persistent=True).start()
    broker.stop()
    settings = settings_for(broker.url, tmp_path)
    try:
        with MqttPublisher(settings) as publisher:
            for seq in range(10):
                publisher.publish(make_record(seq))
        assert _rows(settings.outbox) == 10
        broker.start()
        with MqttPublisher(settings) as publisher:
            for seq in range(10, 15):
                publisher.publish(make_record(seq))
            assert receiver.wait(lambda: len(receiver.on("/result")) >= 15)
    finally:
        receiver.stop()
    assert [r["seq"] for r in receiver.results()] == list(range(15))
    assert _rows(settings.outbox) == 0


def test_a_killed_publisher_leaves_offline_as_its_last_will(
    broker: Mosquitto, receive: Receive, tmp_path: Path
) -> None:
    receiver = receive("edge/pi/availability")
    publisher = MqttPublisher(settings_for(broker.url, tmp_path))
    assert receiver.wait(lambda: [m.payload for m in receiver.messages] == [b"online"])
    sock = publisher.session.client.socket()
    assert sock is not None
    # gone without a DISCONNECT, as after a crash
    cast(socket.socket, sock).shutdown(socket.SHUT_RDWR)
    assert receiver.wait(lambda: b"offline" in [m.payload for m in receiver.messages])
    publisher.close()


TIMING = {"capture": 1.0, "colors": 2.0, "classify": 3.0, "anomaly": 4.0, "total": 10.0}


def test_stats_are_published_periodically(
    broker: Mosquitto, receive: Receive, tmp_path: Path
) -> None:
    receiver = receive("edge/pi/stats")
    control = StaticControl([CameraInfo("front")])
    with MqttPublisher(settings_for(broker.url, tmp_path, stats_interval=0.2), control) as pub:
        for seq in range(20):
            pub.publish(make_record(seq, timing_ms=TIMING))
            time.sleep(0.01)
        assert receiver.wait(lambda: len(receiver.messages) >= 2)
    stats = [m.json() for m in receiver.messages]
    with_records = next(s for s in stats if s["cameras"].get("front", {}).get("fps"))
    front = with_records["cameras"]["front"]
    assert front["latency_ms"]["total"] == {"p50": 10.0, "p95": 10.0, "max": 10.0}
    assert front["latency_ms"]["colors"]["p50"] == 2.0
    assert {"processed", "dropped", "paused"} <= set(front)
    assert with_records["device"] == "pi"
    assert with_records["outbox"] == {"depth": with_records["outbox"]["depth"], "dropped": 0}
    assert with_records["mqtt"]["connected"] is True
    assert "cpu_temperature_c" in with_records


def test_publish_on_change_sends_changes_and_heartbeats(
    broker: Mosquitto, receive: Receive, tmp_path: Path
) -> None:
    receiver = receive("edge/pi/+/result")
    settings = settings_for(broker.url, tmp_path, publish_on_change=True, heartbeat=0.3)
    with MqttPublisher(settings) as publisher:
        records = [
            make_record(0),
            make_record(1),  # same: skipped
            make_record(2, rgb=(60, 97, 140)),  # the color moved a little: skipped
            make_record(3, label="3"),  # the label changed
            make_record(4, label="3", anomaly=True),  # the verdict changed
            make_record(5, label="3", anomaly=True, rgb=(200, 30, 30)),  # the color changed
            make_record(6, label="3", anomaly=True, rgb=(200, 30, 30)),  # same: skipped
        ]
        for record in records:
            publisher.publish(record)
        time.sleep(0.35)
        publisher.publish(make_record(7, label="3", anomaly=True, rgb=(200, 30, 30)))  # heartbeat
        assert receiver.wait(lambda: len(receiver.on("/result")) >= 5)
    assert [r["seq"] for r in receiver.results()] == [0, 3, 4, 5, 7]


def test_commands_reach_the_control_and_bad_ones_are_logged(
    broker: Mosquitto, receive: Receive, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sender = receive("nothing/at/all", client_id="sender")
    base = "edge/pi/front/set/"
    sender.client.publish(base + "pause", "now", qos=1, retain=True).wait_for_publish(5)
    control = StaticControl([CameraInfo("front")])
    with (
        caplog.at_level(logging.INFO, logger="edge"),
        MqttPublisher(settings_for(broker.url, tmp_path), control) as publisher,
    ):
        assert publisher.session.connected.wait(5)
        time.sleep(0.2)  # the subscription is made right after connecting
        sent = [
            (base + "pause", ""),
            (base + "confidence_threshold", "0.75"),
            (base + "paused", "false"),
            (base + "reload", "reload"),
            (base + "confidence_threshold", "2"),  # out of range
            (base + "explode", ""),  # unknown
            ("edge/pi/garage/set/pause", ""),  # no such camera
            ("edge/other-device/front/set/pause", ""),  # not ours: not even subscribed
        ]
        for topic, payload in sent:
            sender.client.publish(topic, payload, qos=1).wait_for_publish(5)
        wait_for(lambda: "garage" in caplog.text, 5)
    assert control.applied == [
        Command("front", "pause"),
        Command("front", "confidence_threshold", 0.75),
        Command("front", "resume"),
        Command("front", "reload"),
    ]
    log = caplog.text
    assert "set/pause ignored: retained" in log
    assert "expected a number in [0, 1], got '2'" in log
    assert "unknown command 'explode'" in log
    assert "no camera named 'garage'" in log


def test_publish_after_close_is_an_error(broker: Mosquitto, tmp_path: Path) -> None:
    publisher = MqttPublisher(settings_for(broker.url, tmp_path))
    publisher.close()
    publisher.close()
    with pytest.raises(PublishError, match="closed"):
        publisher.publish(make_record(0))


def test_two_publishers_with_their_own_ids_do_not_disturb_each_other(
    broker: Mosquitto, receive: Receive, tmp_path: Path
) -> None:
    receiver = receive("edge/+/+/result")
    first = MqttPublisher(settings_for(broker.url, tmp_path, device="a", client_id="edge-a"))
    second = MqttPublisher(settings_for(broker.url, tmp_path, device="b", client_id="edge-b"))
    with first, second:
        for seq in range(20):
            first.publish(make_record(seq, device="a"))
            second.publish(make_record(seq, device="b"))
        assert receiver.wait(lambda: len(receiver.on("/result")) >= 40)
    by_device: dict[str, list[int]] = {}
    for result in receiver.results():
        by_device.setdefault(result["device"], []).append(result["seq"])
    assert by_device == {"a": list(range(20)), "b": list(range(20))}


def test_a_server_that_is_not_a_broker_is_one_clear_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def answer_like_http() -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            with client:
                client.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")

    thread = threading.Thread(target=answer_like_http, daemon=True)
    thread.start()
    with caplog.at_level(logging.ERROR), server:
        with MqttPublisher(settings_for(f"mqtt://127.0.0.1:{port}", tmp_path)) as publisher:
            publisher.publish(make_record(0))
            wait_for(lambda: publisher.session.failures >= 3, 5)
        assert publisher.session.failures >= 3
    (error,) = [record.getMessage() for record in caplog.records]  # once, not per attempt
    assert error.startswith(f"mqtt://127.0.0.1:{port}: no MQTT answer (")
    assert error.endswith("(retrying with backoff)")
