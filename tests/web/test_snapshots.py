"""Annotated snapshots: latest.jpg replaced atomically (even under SIGKILL), the retained MQTT
picture, and the Home Assistant image entity that shows it."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from ..mqtt.support import Receiver
from ..support.mosquitto import Mosquitto
from ..support.waiting import wait_for
from .conftest import Daemon

pytestmark = pytest.mark.slow

FAST = '[[cameras]]\nsource = "demo"\nfps = 20.0\n'


def _whole_jpeg(data: bytes) -> bool:
    if not (data.startswith(b"\xff\xd8") and data.endswith(b"\xff\xd9")):
        return False
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) is not None


def test_latest_jpg_is_replaced_atomically_even_under_sigkill(
    daemon: Callable[..., Daemon], tmp_path: Path
) -> None:
    config = FAST + "[outputs.files]\nsnapshot_interval = 0.02\n"
    seen: set[bytes] = set()
    for _ in range(3):
        running = daemon(config=config, wait=False)
        picture = running.out / "camera" / "latest.jpg"
        assert wait_for(picture.exists, 60), running.log_text()[-2000:]
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:  # read while it is being replaced
            data = picture.read_bytes()
            assert _whole_jpeg(data)
            seen.add(data)
        running.process.send_signal(signal.SIGKILL)
        running.process.wait(30)
        assert _whole_jpeg(picture.read_bytes())
        tmp_path.joinpath("out0").mkdir(exist_ok=True)
    assert len(seen) > 5  # it was replaced many times, never torn


def test_temporaries_left_by_a_crash_are_removed_at_start(
    daemon: Callable[..., Daemon], tmp_path: Path
) -> None:
    running = daemon(config=FAST + "[outputs.files]\nsnapshot_interval = 0.05\n")
    directory = running.out / "camera"
    assert wait_for((directory / "latest.jpg").exists, 30)
    assert running.stop() == 0
    leftover = directory / ".latest.jpg.crash1.tmp"
    leftover.write_bytes(b"\xff\xd8half a picture")
    restarted = daemon("--out", str(running.out), config=FAST)
    assert wait_for(lambda: not leftover.exists(), 30)
    assert restarted.stop() == 0


def test_no_snapshot_files_when_the_interval_is_0(daemon: Callable[..., Daemon]) -> None:
    running = daemon(config=FAST + "[outputs.files]\nsnapshot_interval = 0.0\n")
    assert wait_for((running.out / "camera" / "latest.json").exists, 30)
    time.sleep(1.0)
    assert running.stop() == 0
    assert not (running.out / "camera" / "latest.jpg").exists()


def test_the_mqtt_snapshot_is_retained_and_home_assistant_gets_an_image(
    daemon: Callable[..., Daemon], broker: Mosquitto, receive: Callable[..., Receiver]
) -> None:
    config = FAST + (f'[outputs.mqtt]\nurl = "{broker.url}"\nsnapshot_interval = 0.5\n'
                     "reconnect_min = 0.05\nreconnect_max = 0.3\n")  # fmt: skip
    receiver = receive("edge/+/+/snapshot", "homeassistant/#")
    running = daemon(config=config)
    assert receiver.wait(lambda: len(receiver.on("/snapshot")) >= 2, timeout=30)
    snapshot = receiver.on("/snapshot")[-1]
    assert _whole_jpeg(snapshot.payload)
    (discovery,) = {m.topic: m for m in receiver.on("/config")}.values()
    components = json.loads(discovery.payload)["components"]
    (image,) = [c for c in components.values() if c["platform"] == "image"]
    assert image["image_topic"] == snapshot.topic and image["content_type"] == "image/jpeg"
    assert "state_topic" not in image
    assert running.stop() == 0
    late = receive("edge/+/+/snapshot")  # retained: a late subscriber sees the picture
    assert late.wait(lambda: any(m.retain for m in late.on("/snapshot")), timeout=10)
