"""Frames saved for training: which frames, the layout, the bounded queue, the daemon's side."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.capture import CaptureConfig, Capturer, capture_name, prune
from edge.cli import main
from edge.config import parse_config
from edge.errors import ConfigError
from tests.support.camera import grey_frames

from ..support.records import make_record
from ..support.schema import validate

RGB = np.full((24, 32, 3), (200, 40, 40), np.uint8)


def _capturer(tmp_path: Path, **settings: object) -> Capturer:
    return Capturer("front", CaptureConfig.model_validate(settings), tmp_path / "dataset")


def _unlabelled(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "dataset" / "front" / "unlabelled").glob("*.jpg"))


def test_low_confidence_and_label_change_frames_are_saved_with_their_record(
    tmp_path: Path,
) -> None:
    capturer = _capturer(tmp_path, when=["low_confidence", "label_change"], min_gap=0.0)
    labels = ["cat", "cat", "unknown", "unknown", "dog", "dog"]
    queued = [capturer.consider(RGB, make_record(seq, label=label))
              for seq, label in enumerate(labels)]  # fmt: skip
    capturer.close()
    assert queued == [False, False, True, True, True, False]
    pictures = _unlabelled(tmp_path)
    assert len(pictures) == 3 == capturer.saved
    about = json.loads(pictures[0].with_suffix(".json").read_text())
    assert about["why"] == ["low_confidence", "label_change"]
    assert about["label"] == "unknown"
    validate(about["record"])
    assert about["record"]["seq"] == 2
    image = cv2.imread(str(pictures[0]))
    assert image is not None
    assert image.shape == (24, 32, 3)
    assert abs(int(image[5, 5, 2]) - 200) < 10  # red stays red: RGB in, a true JPEG out
    assert not [p for p in pictures[0].parent.iterdir() if p.name.startswith(".")]


def test_min_gap_holds_back_triggers_but_not_a_command(tmp_path: Path) -> None:
    capturer = _capturer(tmp_path, when=["anomaly", "command"], min_gap=3600.0)
    assert capturer.consider(RGB, make_record(1, anomaly=True))
    assert not capturer.consider(RGB, make_record(2, anomaly=True))
    assert not capturer.consider(RGB, make_record(3, anomaly=False))
    capturer.request()
    assert capturer.consider(RGB, make_record(4, anomaly=False))
    capturer.close()
    whys = [json.loads(p.with_suffix(".json").read_text())["why"] for p in _unlabelled(tmp_path)]
    assert whys == [["anomaly"], ["command"]]


def test_a_full_queue_drops_captures_and_counts_them_while_frames_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import edge.capture as capture_module

    release = threading.Event()
    writer = capture_module.write_capture

    def slow_disk(folder: Path, capture: capture_module.Capture) -> Path:
        release.wait(10)
        return writer(folder, capture)

    monkeypatch.setattr(capture_module, "write_capture", slow_disk)
    capturer = _capturer(tmp_path, when=["low_confidence"], min_gap=0.0)
    results = [capturer.consider(RGB, make_record(seq, label="unknown")) for seq in range(40)]
    release.set()
    capturer.close()
    assert capturer.dropped > 0
    assert results.count(True) + capturer.dropped == 40
    assert len(_unlabelled(tmp_path)) == results.count(True) == capturer.saved


def test_the_oldest_unlabelled_go_first(tmp_path: Path) -> None:
    folder = tmp_path / "u"
    folder.mkdir()
    for seq in range(5):
        name = capture_name(make_record(seq, timestamp=1795957507.0 + seq))
        (folder / f"{name}.jpg").write_bytes(b"x")
        (folder / f"{name}.json").write_text("{}")
    assert prune(folder, 3) == 2
    kept = sorted(p.name for p in folder.glob("*.jpg"))
    assert len(kept) == 3 and kept[0].endswith("000000002.jpg")
    assert len(list(folder.glob("*.json"))) == 3


@pytest.mark.parametrize(
    ("capture", "message"),
    [
        ({"when": ["sometimes"]}, "cameras[0].capture.when[0]"),
        ({"interval": 0}, "cameras[0].capture.interval"),
        ({"max_images": 0}, "cameras[0].capture.max_images"),
        ({"every": 3}, "cameras[0].capture.every: unknown key"),
    ],
)
def test_bad_capture_settings_name_their_key(capture: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_config({"cameras": [{"capture": capture}]})


def test_the_daemon_saves_low_confidence_frames_of_a_folder(
    tmp_path: Path, make_bundle: Callable[..., Path]
) -> None:
    frames = grey_frames(tmp_path / "frames")
    config = tmp_path / "edge.toml"
    config.write_text(f"""
[[cameras]]
name = "door"
source = "folder:{frames}"
fps = 0.0
classifier = "{make_bundle("softmax")}"
anomaly = ""
confidence_threshold = 0.99
roi = [0.0, 0.0, 0.5, 0.5]
[cameras.capture]
when = ["low_confidence"]
min_gap = 0.0
[outputs]
console = false
""")
    out = tmp_path / "out"
    assert main(["run", "--quiet", "--config", str(config), "--out", str(out), "--no-web"]) == 0
    pictures = sorted((out / "dataset" / "door" / "unlabelled").glob("*.jpg"))
    assert len(pictures) == 6
    first = cv2.imread(str(pictures[0]))
    assert first is not None and first.shape == (15, 20, 3)  # the region of interest
    record = json.loads(pictures[-1].with_suffix(".json").read_text())["record"]
    assert record["camera"] == "door" and record["classification"]["label"] == "unknown"


@pytest.mark.slow
def test_kill_9_leaves_no_half_picture(tmp_path: Path) -> None:
    """A daemon saving every frame is killed hard, again and again: every picture in the
    dataset is whole, every JSON beside one parses."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from ..conftest import REPO
    from ..support.waiting import wait_for

    config = tmp_path / "edge.toml"
    config.write_text("""
[[cameras]]
name = "door"
source = "demo"
fps = 0.0
anomaly = ""
[cameras.capture]
when = ["interval"]
interval = 0.001
min_gap = 0.0
[outputs]
console = false
""")
    folder = tmp_path / "out" / "dataset" / "door" / "unlabelled"
    for kill in range(3):
        process = subprocess.Popen(
            [sys.executable, "-m", "edge.cli", "run", "--quiet", "--config", str(config),
             "--out", str(tmp_path / "out"), "--no-web"],
            cwd=REPO, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(REPO)},
        )  # fmt: skip
        wanted = 20 * (kill + 1)
        assert wait_for(lambda: len(list(folder.glob("*.json"))) >= wanted, 60)  # noqa: B023
        time.sleep(0.05 * kill)
        process.send_signal(signal.SIGKILL)
        process.wait()
    pictures = sorted(folder.glob("*.jpg"))
    assert len(pictures) >= 60
    for picture in pictures:
        image = cv2.imread(str(picture))
        assert image is not None and image.shape[2] == 3, picture
        about = picture.with_suffix(".json")
        if about.exists():
            json.loads(about.read_text())
