"""Home Assistant discovery over a real broker: one retained device message, sent again when
Home Assistant announces itself; and the daemon describing its real cameras."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from edge.control import CameraInfo, StaticControl
from edge.publishers.mqtt.publisher import MqttPublisher

from ..support.mosquitto import Mosquitto
from .support import Receiver, file_records, settings_for, start_daemon, write_config

Receive = Callable[..., Receiver]
DIGITS = tuple(str(n) for n in range(10))


def test_discovery_is_one_retained_device_message_sent_again_for_home_assistant(
    broker: Mosquitto, receive: Receive, tmp_path: Path
) -> None:
    control = StaticControl(
        [CameraInfo("front", DIGITS, "digits", "digits_ae"), CameraInfo("yard")]
    )
    receiver = receive("homeassistant/#")
    with MqttPublisher(settings_for(broker.url, tmp_path), control) as publisher:
        assert receiver.wait(lambda: len(receiver.messages) == 1)
        assert publisher.connected
        ha = Receiver(broker.port, ["nothing"], client_id="home-assistant").start()
        ha.client.publish("homeassistant/status", "online", qos=1).wait_for_publish(5)
        assert receiver.wait(lambda: len(receiver.on("/config")) == 2)
        ha.stop()
    first, second = receiver.on("/config")
    assert first.topic == "homeassistant/device/edge_pi/config"
    assert first.payload == second.payload
    config = first.json()
    assert config["device"]["identifiers"] == ["edge-vision_pi"]
    assert config["origin"]["name"] == "edge-vision"
    assert config["availability_topic"] == "edge/pi/availability"
    components = config["components"]
    assert components["edge_pi_front_label"]["options"] == list(DIGITS)
    assert components["edge_pi_front_label"]["default_entity_id"] == "sensor.pi_front_label"
    assert {c["qos"] for c in components.values()} == {1}  # per component: HA reads it there
    assert all("object_id" not in c for c in components.values())
    assert "edge_pi_yard_label" not in components  # no classifier, no label entity
    assert components["edge_pi_yard_color"]["state_topic"] == "edge/pi/yard/state"

    late = receive("homeassistant/#", client_id="late")
    assert late.wait(lambda: len(late.messages) == 1)
    assert late.messages[0].retain


@pytest.mark.slow
def test_the_daemon_describes_its_cameras_and_obeys_commands(
    broker: Mosquitto, receive: Receive, frames: Callable[[int], Path], tmp_path: Path
) -> None:
    receiver = receive("homeassistant/#", "edge/#")
    out = tmp_path / "out"
    config = write_config(tmp_path / "edge.toml", device="shed")
    daemon = start_daemon(
        "--config", str(config), "--source", f"folder:{frames(400)}", "--out", str(out),
        "--mqtt", broker.url, "--fps", "20", "--classifier", "demo", "--anomaly", "demo",
    )  # fmt: skip
    try:
        assert receiver.wait(lambda: len(receiver.on("/result")) >= 5, 20)
        discovery = receiver.on("homeassistant/device/edge_shed/config")[0].json()
        label = discovery["components"]["edge_shed_camera_label"]
        assert label["options"] == list(DIGITS)
        assert "edge_shed_camera_anomaly" in discovery["components"]

        receiver.client.publish("edge/shed/camera/set/pause", "", qos=1).wait_for_publish(5)
        time.sleep(1.0)
        paused_at = len(file_records(out))
        time.sleep(1.0)
        assert len(file_records(out)) <= paused_at + 1  # a frame in flight at most
        receiver.client.publish("edge/shed/camera/set/confidence_threshold", "1", qos=1)
        receiver.client.publish("edge/shed/camera/set/resume", "", qos=1).wait_for_publish(5)
        assert receiver.wait(lambda: len(file_records(out)) >= paused_at + 10, 20)
        stats = receiver.on("edge/shed/stats")
        assert stats and stats[-1].json()["cameras"]["camera"]["processed"] > 0
        receiver.client.publish("edge/shed/camera/set/reload", "reload", qos=1)
        assert receiver.wait(lambda: len(receiver.on("/edge_shed/config")) >= 2, 10)
    finally:
        daemon.terminate()
        _, stderr = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, stderr
    assert "camera: paused" in stderr and "camera: resumed" in stderr
    assert "camera: confidence threshold now 1" in stderr
    assert "camera: models reloaded" in stderr
    labels = [r["classification"]["label"] for r in file_records(out)[paused_at + 2 :]]
    assert set(labels) == {"unknown"}  # every score is below a threshold of 1
    assert receiver.on("availability")[-1].payload == b"offline"
