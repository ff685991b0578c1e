"""The sd_notify protocol, for real: the daemon talks to a datagram socket the test owns."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge import demo

from ..conftest import REPO

pytestmark = pytest.mark.slow  # every test runs the daemon for 4 to 9 s

WATCHDOG_USEC = 1_000_000  # pings every 0.25 s while healthy


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify"))
    sock.settimeout(0.2)
    yield sock
    sock.close()


def _daemon(tmp_path: Path, sock: socket.socket, *args: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "NOTIFY_SOCKET": sock.getsockname(),
        "WATCHDOG_USEC": str(WATCHDOG_USEC),
    }
    command = [sys.executable, "-m", "edge.cli", "run", "--quiet", "--out", str(tmp_path / "out")]
    return subprocess.Popen([*command, *args], env=env, stderr=subprocess.PIPE, text=True)


def _collect(sock: socket.socket, seconds: float) -> list[tuple[float, str]]:
    """(arrival time, message) for every datagram within ``seconds``."""
    found: list[tuple[float, str]] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            found.append((time.monotonic(), sock.recv(4096).decode()))
        except TimeoutError:
            continue
    return found


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=15)
    assert proc.returncode == 0, stderr
    return stderr


def test_ready_status_and_watchdog_while_frames_flow(
    tmp_path: Path, notify_socket: socket.socket
) -> None:
    proc = _daemon(
        tmp_path, notify_socket, "--source", f"folder:{demo.frames_dir()}", "--fps", "10"
    )
    try:
        messages = _collect(notify_socket, 8.0)
    finally:
        _stop(proc)
    texts = [m for _, m in messages]
    ready = [m for m in texts if "READY=1" in m]
    assert len(ready) == 1, texts
    assert "STATUS=1 camera(s); results in" in ready[0]
    pings = [t for t, m in messages if m == "WATCHDOG=1"]
    assert len(pings) >= 10, texts
    assert any(m.startswith("STATUS=camera: ") and "fps" in m for m in texts), texts
    tail = _collect(notify_socket, 0.5)
    assert any("STOPPING=1" in m for _, m in tail) or any("STOPPING=1" in m for m in texts)


def test_a_stalled_source_stops_the_watchdog(tmp_path: Path, notify_socket: socket.socket) -> None:
    proc = _daemon(tmp_path, notify_socket, "--source", "v4l2:/dev/video97", "--anomaly", "")
    try:
        messages = _collect(notify_socket, 5.0)
    finally:
        _stop(proc)
    texts = [m for _, m in messages]
    assert any("READY=1" in m for m in texts), texts
    assert any("camera: offline" in m for m in texts), texts
    start = messages[0][0]
    late_pings = [t for t, m in messages if m == "WATCHDOG=1" and t - start > 2.5]
    assert late_pings == [], texts


def test_sighup_reloads_without_dropping_a_record(
    tmp_path: Path, notify_socket: socket.socket
) -> None:
    config = tmp_path / "edge.toml"
    frames = f"folder:{demo.frames_dir()}"
    config.write_text(f'[[cameras]]\nsource = "{frames}"\nfps = 10\nclassifier = ""\n')
    proc = _daemon(tmp_path, notify_socket, "--config", str(config))
    try:
        _collect(notify_socket, 2.0)
        config.write_text(f'[[cameras]]\nsource = "{frames}"\nfps = 10\nclassifier = "demo"\n')
        proc.send_signal(signal.SIGHUP)
        messages = [m for _, m in _collect(notify_socket, 3.0)]
    finally:
        _stop(proc)
    reloading = [i for i, m in enumerate(messages) if m.startswith("RELOADING=1")]
    ready = [i for i, m in enumerate(messages) if m.startswith("READY=1")]
    assert reloading and ready and reloading[0] < ready[-1], messages
    records = _records(tmp_path / "out" / "camera")
    assert [r["seq"] for r in records] == list(range(len(records)))
    classified = [r["classification"] is not None for r in records]
    assert classified[0] is False and classified[-1] is True
    assert classified == sorted(classified)  # none before the reload, all after


def test_a_broken_config_on_reload_keeps_the_running_one(
    tmp_path: Path, notify_socket: socket.socket
) -> None:
    config = tmp_path / "edge.toml"
    config.write_text(f'[[cameras]]\nsource = "folder:{demo.frames_dir()}"\nfps = 10\n')
    proc = _daemon(tmp_path, notify_socket, "--config", str(config))
    try:
        _collect(notify_socket, 1.5)
        config.write_text("[[cameras]]\nfps = -1\n")
        proc.send_signal(signal.SIGHUP)
        after = [m for _, m in _collect(notify_socket, 2.5)]
    finally:
        stderr = _stop(proc)
    assert "reload failed, keeping the running config" in stderr
    assert "cameras[0].fps" in stderr
    assert any(m == "WATCHDOG=1" for m in after[-4:]), after


def _records(folder: Path) -> list[dict[str, object]]:
    import json

    lines: list[str] = []
    for path in sorted(folder.glob("results-*.jsonl")):
        lines += path.read_text().splitlines()
    return [json.loads(line) for line in lines]
