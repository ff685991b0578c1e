"""Camera faults: the real daemon (``edge run``, in this process) on a camera that raises, ends,
is unplugged, delivers empty and corrupt frames, changes resolution and hangs. It keeps running,
reports the camera offline, reopens it with backoff and resumes; nothing is lost or torn."""

from __future__ import annotations

import itertools
import logging
import re
from pathlib import Path

import numpy as np
import pytest

from edge.cli import main
from edge.errors import FrameError
from edge.sources import ReconnectingSource, create_source
from edge.sources.capture import bgr_to_rgb
from edge.sources.fault import FaultySource, parse_script

from .support import NotifyListener, check_results

# Each fault comes after some good frames, so every outage is a separate one.
FAULTS = [
    "raise",  # a driver error
    "crash",  # an exception nobody translated
    "empty",  # a 0 x 0 frame
    "corrupt:dtype",  # float pixels
    "corrupt:gray",  # two dimensions
    "corrupt:rgba",  # four channels
    "corrupt:flat",  # one dimension
    "resize:32x24",  # the resolution changes mid-stream ...
    "resize:1x1",
    "resize:640x480",
    "end",  # a live stream that ends
    "unplug:1",  # read fails, then the first open too
    "hang",  # frames stop coming until the camera is reopened
]
OUTAGES = ("raise", "crash", "end", "unplug:1", "hang")
BAD_FRAMES = [fault for fault in FAULTS if fault.startswith(("empty", "corrupt"))]
GOOD_BETWEEN = 4
STALL_TIMEOUT = 0.5  # seconds without a frame before the camera counts as hung


def _config(tmp_path: Path, stall_timeout: float) -> Path:
    path = tmp_path / "edge.toml"
    path.write_text(f"[[cameras]]\nname = 'camera'\nstall_timeout = {stall_timeout}\n")
    return path


def _run(tmp_path: Path, source: str, max_frames: int, *options: str) -> int:
    return main([
        "run", "--quiet", "--config", str(_config(tmp_path, STALL_TIMEOUT)), "--source", source,
        "--out", str(tmp_path / "out"), "--max-frames", str(max_frames),
        "--classifier", "demo", "--anomaly", "demo", *options,
    ])  # fmt: skip


@pytest.mark.slow
def test_the_daemon_survives_every_camera_fault_and_resumes(
    fault_source: str,
    notify: NotifyListener,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    script = ",".join(f"ok*{GOOD_BETWEEN},{fault}" for fault in FAULTS) + f",ok*{GOOD_BETWEEN}"
    good_frames = GOOD_BETWEEN * (len(FAULTS) + 1) + 3  # + one per resize
    with caplog.at_level(logging.INFO):
        assert _run(tmp_path, f"{fault_source}:{script}", good_frames, "--fps", "0") == 0

    results = check_results(tmp_path / "out")
    assert results.seqs == list(range(good_frames))  # every good frame became a record
    sizes = {(r["frame"]["width"], r["frame"]["height"]) for r in results.records}
    assert {(64, 48), (32, 24), (1, 1), (640, 480)} <= sizes
    assert results.latest == results.records[-1]

    messages = [r.getMessage() for r in caplog.records if r.name.startswith("edge.sources")]
    offline = [m for m in messages if " offline (" in m and "retrying in" in m]
    back = [m for m in messages if " is back after " in m]
    assert len(back) == len(OUTAGES), messages
    assert any("simulated raise" in m for m in offline)
    assert any("RuntimeError: simulated driver crash" in m for m in offline)
    assert any("the source ended" in m for m in offline)
    assert any("no camera found (unplugged)" in m for m in offline)
    stalls = [float(found) for m in offline for found in re.findall(r"no frame for ([\d.]+) s", m)]
    assert stalls, offline  # the hang, detected by the stall timeout ...
    assert max(stalls) <= STALL_TIMEOUT + 1.0, stalls  # ... within a bounded time
    unusable = [m for m in messages if "unusable frame" in m]
    assert len(unusable) == 1, unusable  # dropped and counted; one warning, not one per frame
    assert "(1 unusable frame(s) dropped so far)" in unusable[0]
    statuses = [value for _, value in notify.fields("STATUS")]
    assert any("camera: offline (" in status for status in statuses), statuses
    assert notify.fields("READY") and notify.fields("STOPPING")


@pytest.mark.slow
def test_a_blocked_camera_read_stops_the_watchdog_until_frames_flow_again(
    fault_source: str,
    notify: NotifyListener,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "1000000")  # ping every 0.25 s while healthy, 1 s window
    script = "ok*20,block:3,ok*20"
    with caplog.at_level(logging.INFO):
        assert _run(tmp_path, f"{fault_source}:{script}", 40, "--fps", "20") == 0
    pings = [when for when, _ in notify.fields("WATCHDOG")]
    gaps = [b - a for a, b in itertools.pairwise(pings)]
    assert max(gaps) >= 1.5, gaps  # stopped within the window while the read hung ...
    assert gaps.index(max(gaps)) < len(gaps) - 2, gaps  # ... and pinged again afterwards
    assert "no frames processed lately: not pinging the watchdog" in caplog.text
    assert len(check_results(tmp_path / "out").records) == 40


def test_unusable_frames_are_dropped_and_counted_without_reopening() -> None:
    inner = FaultySource("ok,empty,corrupt,corrupt:gray,ok")
    source = ReconnectingSource(inner, stall_timeout=5.0)
    with source:
        frames = [source.read(0.1) for _ in range(5)]
    assert [frame is not None for frame in frames] == [True, False, False, False, True]
    assert source.bad_frames == 3
    assert inner.opens == 1 and source.failures == 0


@pytest.mark.parametrize(
    "pixels",
    [np.zeros((0, 0, 3), np.uint8), np.zeros((4, 4, 2), np.uint8), np.zeros(12, np.uint8)],
)
def test_opencv_frames_it_cannot_convert_are_frame_errors(pixels: np.ndarray) -> None:
    with pytest.raises(FrameError, match="unusable frame from OpenCV"):
        bgr_to_rgb(pixels)


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("ok,explode", "unknown; steps are ok, resize"),
        ("ok*0", "must be a positive number"),
        ("resize:big", "bad argument 'big'"),
        ("block", "bad argument ''"),
        ("corrupt:purple", "corrupt takes one of dtype, gray"),
    ],
)
def test_a_bad_fault_script_is_a_config_error(fault_source: str, script: str, message: str) -> None:
    from edge.errors import ConfigError

    with pytest.raises(ConfigError, match=message):
        create_source(f"{fault_source}:{script}")
    assert parse_script("ok*2, raise") == parse_script("ok,ok,raise")
