from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from edge.service import Notifier, Supervisor, watchdog_interval


def test_outside_systemd_notifying_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notifier = Notifier()
    assert not notifier.enabled
    assert notifier.ready("x") is False


def test_abstract_socket_addresses(tmp_path: Path) -> None:
    name = f"edge-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(2)
        notifier = Notifier("@" + name)
        assert notifier.status("hello")
        assert sock.recv(100) == b"STATUS=hello"
        notifier.close()


@pytest.mark.parametrize(
    ("usec", "pid", "expected"),
    [
        ("", "", None),
        ("0", "", None),
        ("4000000", "", 2.0),
        ("4000000", "1", None),
        ("x", "", None),
    ],
)
def test_watchdog_interval(
    monkeypatch: pytest.MonkeyPatch, usec: str, pid: str, expected: float | None
) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", usec)
    monkeypatch.setenv("WATCHDOG_PID", pid)
    assert watchdog_interval() == expected


class Camera:
    def __init__(self, progress: float, idle: bool = False, alive: bool = True) -> None:
        self.camera_name, self._progress, self._idle, self._alive = "cam", progress, idle, alive

    def is_alive(self) -> bool:
        return self._alive

    def progress(self) -> float:
        return self._progress

    def describe(self) -> str:
        return "1.0 fps"

    def idle(self) -> bool:
        return self._idle


def test_health_needs_recent_frames_from_every_active_camera(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "2000000")  # window: 2 s
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    supervisor = Supervisor(Notifier(""), clock=lambda: 100.0)
    assert supervisor.healthy([Camera(99.0), Camera(98.5)])
    assert not supervisor.healthy([Camera(99.0), Camera(97.0)])
    assert supervisor.healthy([Camera(99.0), Camera(50.0, idle=True)])
    assert supervisor.healthy([Camera(50.0, alive=False)])
    assert supervisor.status([Camera(99.0)], ["broker away"]) == "cam: 1.0 fps; broker away"
