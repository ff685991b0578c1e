"""v4l2: and network stream sources: there is no camera here, so the failure paths, for real."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import pytest

from edge.errors import ConfigError, SourceError
from edge.sources import ReconnectingSource, create_source
from edge.sources.stream import redact
from edge.sources.v4l2 import V4L2Source


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize("spec", ["v4l2:/dev/video99", "v4l2:99"])
def test_a_nonexistent_v4l2_device(spec: str) -> None:
    source = create_source(spec)
    with pytest.raises(SourceError, match=r"no such device /dev/video99;"):
        source.open()
    assert not source.is_open


def test_a_path_that_is_not_a_camera(tmp_path: Path) -> None:
    fake_device = tmp_path / "video0"
    fake_device.write_bytes(b"")
    with pytest.raises(SourceError, match=r"cannot open .*video0.*'video' group"):
        V4L2Source(str(fake_device)).open()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"width": -1}, "width must be"),
        ({"fourcc": "MJPEG"}, "four characters"),
        ({"fps": 0}, "fps"),
    ],
)
def test_bad_v4l2_options(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create_source("v4l2:0", **options)


@pytest.mark.parametrize("scheme", ["rtsp", "http"])
def test_a_stream_nobody_serves_fails_fast_with_a_source_error(scheme: str) -> None:
    source = create_source(f"{scheme}://127.0.0.1:{closed_port()}/stream", open_timeout=2.0)
    start = time.monotonic()
    with pytest.raises(SourceError, match="cannot open the stream; check the address"):
        source.open()
    assert time.monotonic() - start < 3.0


def test_a_dead_stream_behind_the_reconnecting_wrapper_goes_offline_without_raising() -> None:
    inner = create_source(f"rtsp://127.0.0.1:{closed_port()}/cam", open_timeout=1.0)
    with ReconnectingSource(inner, backoff_initial=60.0, sleep=lambda _: None) as source:
        assert source.read(timeout=0.0) is None
        assert not source.online
        assert source.last_error is not None and "cannot open the stream" in source.last_error


def test_passwords_never_reach_descriptions() -> None:
    source = create_source("rtsp://admin:hunter2@10.0.0.9:554/stream1")
    assert "hunter2" not in source.describe() and "hunter2" not in repr(source)
    assert source.spec == "rtsp://admin:***@10.0.0.9:554/stream1"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("rtsp://u:p@host/x", "rtsp://u:***@host/x"),
        ("http://host:8080/video", "http://host:8080/video"),
        ("https://:secret@host/a?b=1", "https://:***@host/a?b=1"),
    ],
)
def test_redact(url: str, expected: str) -> None:
    assert redact(url) == expected


@pytest.mark.parametrize(
    ("spec", "options", "message"),
    [
        ("rtsp://", {}, "not a stream URL"),
        ("http://host/x", {"open_timeout": 0}, "open_timeout must be positive"),
        ("http://host/x", {"read_timeout": "1"}, "read_timeout must be a number"),
    ],
)
def test_bad_stream_specs(spec: str, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create_source(spec, **options)
