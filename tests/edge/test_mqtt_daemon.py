"""The daemon side of MQTT commands: DaemonControl and a camera thread applying them."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge import demo
from edge.camera import CameraWorker, DaemonControl
from edge.config import parse_config
from edge.control import Command
from edge.daemon import Outputs
from edge.errors import CommandError
from edge.publishers.memory import MemoryPublisher

from ..support.waiting import wait_until

Running = tuple[CameraWorker, DaemonControl, MemoryPublisher]


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    """A camera thread on 200 frames (10 s at 20 fps) with a copy of the demo classifier."""
    frames = tmp_path / "frames"
    frames.mkdir()
    rng = np.random.default_rng(3)
    for i in range(200):
        image = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
        cv2.imwrite(str(frames / f"{i:04d}.png"), image)
    models = tmp_path / "models"
    models.mkdir()
    for suffix in (".tflite", ".json"):
        shutil.copy(demo.classifier_path().with_suffix(suffix), models / f"digits{suffix}")
    config = parse_config(
        {
            "device": "pi",
            "cameras": [{"name": "door", "source": f"folder:{frames}", "fps": 20,
                         "classifier": str(models / "digits.tflite"), "anomaly": ""}],
            "outputs": {"files": {"dir": str(tmp_path / "out")}},
        }
    )  # fmt: skip
    memory = MemoryPublisher()
    stop = threading.Event()
    worker = CameraWorker(config, config.cameras[0], Outputs([memory], None), stop, None)
    control = DaemonControl([worker])
    worker.start()
    yield worker, control, memory
    stop.set()
    worker.join(5)


def test_the_cameras_as_mqtt_sees_them(
    running: Running,
) -> None:
    _, control, memory = running
    (info,) = control.cameras()
    assert info.name == "door" and info.labels == tuple(str(n) for n in range(10))
    assert info.classifier == "digits" and info.anomaly is None
    wait_until(lambda: len(memory.records) >= 2)
    counters = control.counters()["door"]
    assert counters.processed >= 2 and counters.dropped == 0 and not counters.paused
    with pytest.raises(CommandError, match="no camera named 'yard'; cameras: door"):
        control.apply(Command("yard", "pause"))


def test_pause_threshold_resume(
    running: Running,
) -> None:
    worker, control, memory = running
    wait_until(lambda: len(memory.records) >= 1)
    control.apply(Command("door", "pause"))
    wait_until(lambda: control.counters()["door"].paused)
    time.sleep(0.1)
    paused_at = len(memory.records)
    time.sleep(0.4)
    assert len(memory.records) == paused_at
    control.apply(Command("door", "confidence_threshold", 1.0))
    control.apply(Command("door", "resume"))
    wait_until(lambda: len(memory.records) >= paused_at + 3)
    after = memory.records[paused_at:]
    assert {r.classification.label for r in after if r.classification} == {"unknown"}
    assert worker.pipeline.stages.camera.confidence_threshold == 1.0


def test_a_failed_reload_keeps_the_old_models(
    running: Running,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    worker, control, memory = running
    reloaded = threading.Event()
    worker.on_reloaded = reloaded.set
    before = worker.pipeline.stages
    (tmp_path / "models" / "digits.tflite").write_bytes(b"not a model")
    with caplog.at_level(logging.ERROR):
        control.apply(Command("door", "reload"))
        wait_until(lambda: "reload failed, keeping the old models" in caplog.text)
    assert worker.pipeline.stages is before and not reloaded.is_set()
    count = len(memory.records)
    wait_until(lambda: len(memory.records) > count)  # still classifying
    shutil.copy(demo.classifier_path(), tmp_path / "models" / "digits.tflite")
    control.apply(Command("door", "reload"))
    wait_until(reloaded.is_set)
    assert worker.pipeline.stages is not before
