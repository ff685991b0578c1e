"""The Pi camera as the real picamera2 behaves (the public fake, installed as the ``picamera2``
package): the daemon recovers a stalled sensor in the same process and delivers every frame;
``auto`` passes over a picamera2 that cannot be imported; stall-and-recover cycles leak no
threads or descriptors. And a network stream that stops sending is reopened and resumes."""

from __future__ import annotations

import itertools
import logging
import sys
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from edge.cli import main
from edge.sources import ReconnectingSource
from edge.sources.picamera2 import Picamera2Source
from edge.sources.picamera2_fake import FakePicamera2, Platform, write_package

from .support import check_results

STALL_TIMEOUT = 0.5
FIRST_BACKOFF = 1.0 * 1.1  # ReconnectingSource's backoff_initial with its 10 % jitter


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Put a fake ``picamera2`` package on sys.path for this test (``write_package``)."""

    def put(**options: Any) -> None:
        monkeypatch.delitem(sys.modules, "picamera2", raising=False)
        write_package(tmp_path / "site", **options)
        monkeypatch.syspath_prepend(str(tmp_path / "site"))

    yield put
    sys.modules.pop("picamera2", None)


def run(tmp_path: Path, source: str, frames: int) -> int:
    config = tmp_path / "edge.toml"
    config.write_text(f"[[cameras]]\nname = 'camera'\nstall_timeout = {STALL_TIMEOUT}\n")
    return main([
        "run", "--quiet", "--config", str(config), "--source", source, "--fps", "20",
        "--out", str(tmp_path / "out"), "--max-frames", str(frames),
        "--classifier", "demo", "--anomaly", "demo",
    ])  # fmt: skip


def capture_times(tmp_path: Path) -> list[float]:
    records = check_results(tmp_path / "out").records
    return [datetime.fromisoformat(r["ts"].replace("Z", "+00:00")).timestamp() for r in records]


def test_a_stalled_pi_4_sensor_is_recovered_in_process_and_every_frame_delivered(
    install: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    install(platform=Platform.VC4, stall_after=5)
    with caplog.at_level(logging.INFO):
        assert run(tmp_path, "picamera2", 12) == 0
    assert check_results(tmp_path / "out").seqs == list(range(12))
    times = capture_times(tmp_path)
    gaps = sorted(b - a for a, b in itertools.pairwise(times))
    recoveries = gaps[-2:]  # two stalls: after frame 5 and frame 10
    print(f"recovery after a stall: {', '.join(f'{g:.2f} s' for g in recoveries)}")
    assert max(recoveries) <= STALL_TIMEOUT + FIRST_BACKOFF + 0.5, gaps
    assert caplog.text.count(" is back after ") == 2
    assert "lores 128x96 YUV420" in caplog.text  # the classifier's picture, 64 and up each way


def test_auto_passes_over_a_picamera2_that_cannot_be_imported(
    install: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    install(broken=True)
    with caplog.at_level(logging.INFO):
        assert run(tmp_path, "auto", 3) == 0
    assert check_results(tmp_path / "out").seqs == [0, 1, 2]
    warning = next(r.getMessage() for r in caplog.records if "cannot be imported" in r.getMessage())
    assert "numpy.dtype size changed" in warning and "numpy<2" in warning
    assert "auto: chose demo" in caplog.text


def test_naming_picamera2_with_a_broken_install_is_one_line_with_the_fix(
    install: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install(broken=True)
    assert run(tmp_path, "picamera2", 3) != 0
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and "numpy<2" in lines[0], lines


def test_auto_leaves_a_usb_only_picamera2_to_v4l2_and_runs(
    install: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    webcam = {"Model": "UVC Camera (046d:0825)", "Id": "/base/scb/pcie/usb@0,0-1.2:1.0-046d:0825"}
    install(cameras=(webcam,))
    with caplog.at_level(logging.INFO):
        assert run(tmp_path, "auto", 3) == 0
    assert "(USB webcams are left to V4L2)" in caplog.text


class StallsAfterTwo(FakePicamera2):
    stall_after = 2


def resources() -> tuple[int, int]:
    return threading.active_count(), len(list(Path("/proc/self/fd").iterdir()))


def test_twenty_stall_and_recover_cycles_leak_no_threads_or_descriptors() -> None:
    inner = Picamera2Source(fps=100, camera_factory=StallsAfterTwo)
    source = ReconnectingSource(
        inner, stall_timeout=0.2, backoff_initial=0.02, backoff_max=0.02, jitter=0.0
    )
    after: list[tuple[int, int]] = []
    with source:
        while source.reconnects < 20:
            if source.read(timeout=0.05) is not None and source.reconnects > len(after):
                after.append(resources())
    assert len(after) == 20
    first, last = after[0], after[-1]
    assert last[0] <= first[0] and last[1] <= first[1], after
