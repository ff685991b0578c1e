"""SIGHUP on a real daemon with two cameras playing videos, publishing to a real Mosquitto: a
reload changes only what changed."""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from edge import demo

from ..support.mosquitto import Mosquitto
from .support import Receiver, file_records, start_daemon

pytestmark = pytest.mark.slow  # the daemon runs for about 10 s

FRAMES = 600  # 60 s at 10 fps: the videos never end during a test


def _video(path: Path) -> Path:
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (64, 48))
    rng = np.random.default_rng(3)
    for _ in range(FRAMES):
        writer.write(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))
    writer.release()
    return path


def _config(path: Path, url: str, video: Path, model: Path, b_k: int = 5) -> None:
    cameras = [("a", str(model), 5), ("b", "", b_k)]
    lines = ['device = "shed"', "[outputs.mqtt]", f'url = "{url}"', "stats_interval = 0"]
    for name, classifier, k in cameras:
        lines += ["[[cameras]]", f'name = "{name}"', f'source = "file:{video}"', "fps = 0"]
        lines += [f'classifier = "{classifier}"', 'anomaly = ""', f"colors.k = {k}"]
    path.write_text("\n".join(lines) + "\n")


def test_a_reload_changes_only_what_changed(
    tmp_path: Path, broker: Mosquitto, receive: Callable[..., Receiver]
) -> None:
    video, out, config = _video(tmp_path / "clip.avi"), tmp_path / "out", tmp_path / "edge.toml"
    model = tmp_path / "digits.tflite"
    for suffix in (".tflite", ".json"):
        shutil.copy(demo.classifier_path().with_suffix(suffix), model.with_suffix(suffix))
    _config(config, broker.url, video, model)
    receiver = receive("edge/shed/availability", "edge/shed/+/result")
    daemon = start_daemon("--config", str(config), "--out", str(out))

    def results_grow(by: int) -> None:
        counts = {camera: len(file_records(out, camera)) for camera in ("a", "b")}
        assert receiver.wait(
            lambda: all(len(file_records(out, c)) >= n + by for c, n in counts.items()), 20
        )

    try:
        results_grow(5)
        config.write_text(config.read_text() + "[[cameras]]\nfps = -1\n")  # invalid
        daemon.send_signal(signal.SIGHUP)
        results_grow(10)
        availability_after_invalid = [m.payload for m in receiver.on("availability")]
        _config(config, broker.url, video, model, b_k=3)  # camera b changes
        os.utime(model.with_suffix(".json"))  # camera a's model file changes, its section not
        daemon.send_signal(signal.SIGHUP)
        results_grow(10)
        availability_after_change = [m.payload for m in receiver.on("availability")]
    finally:
        daemon.terminate()
        _, stderr = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, stderr
    assert "reload failed, keeping the running config" in stderr
    assert availability_after_invalid == availability_after_change == [b"online"]
    assert stderr.count("opened file:") == 3, stderr  # a once, b twice
    assert stderr.count("(camera 'a')") == 2, stderr  # opened, and closed at the end
    assert "reload: restarting b; keeping a" in stderr
    assert "a: models reloaded" in stderr
    for camera in ("a", "b"):
        seqs = [record["seq"] for record in file_records(out, camera)]
        assert seqs == list(range(len(seqs))), camera  # no gap, no repeat, no restart
    b_colors = [len(record["colors"]) for record in file_records(out, "b")]
    assert max(b_colors[-5:]) <= 3  # the new k = 3 is in use
