"""v4l2: and network stream sources: there is no camera here, so the failure paths, for real."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edge.errors import ConfigError, SourceError
from edge.sources import ReconnectingSource, create_source
from edge.sources.stream import redact
from edge.sources.v4l2 import V4L2Source
from tests.support.mosquitto import free_port


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
    source = create_source(f"{scheme}://127.0.0.1:{free_port()}/stream", open_timeout=2.0)
    start = time.monotonic()
    with pytest.raises(SourceError, match="cannot open the stream; check the address"):
        source.open()
    assert time.monotonic() - start < 3.0


def test_a_dead_stream_behind_the_reconnecting_wrapper_goes_offline_without_raising() -> None:
    inner = create_source(f"rtsp://127.0.0.1:{free_port()}/cam", open_timeout=1.0)
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


class MjpegHandler(BaseHTTPRequestHandler):
    """An HTTP MJPEG camera: the first connection stops sending after 10 frames (and stays
    open); later ones send for as long as the server runs."""

    server: MjpegServer

    def do_GET(self) -> None:
        import cv2

        self.server.connections += 1
        limit = 10 if self.server.connections == 1 else None
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        self.end_headers()
        image = cv2.imencode(".jpg", np.full((48, 64, 3), 200, np.uint8))[1].tobytes()
        sent = 0
        while not self.server.done.is_set() and (limit is None or sent < limit):
            head = f"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {len(image)}\r\n\r\n"
            try:
                self.wfile.write(head.encode() + image + b"\r\n")
            except OSError:
                return
            sent += 1
            time.sleep(0.05)
        self.server.done.wait(30)  # stalled: the connection stays open, nothing more comes

    def log_message(self, format: str, *args: object) -> None:
        pass


class MjpegServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), MjpegHandler)
        self.connections = 0
        self.done = threading.Event()


def test_an_http_mjpeg_stream_that_stops_sending_is_reopened_and_resumes() -> None:
    server = MjpegServer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/stream.mjpg"
    inner = create_source(url, open_timeout=3.0, read_timeout=1.0)
    source = ReconnectingSource(inner, stall_timeout=3.0, backoff_initial=0.2, jitter=0.0)
    frames = 0
    deadline = time.monotonic() + 20
    try:
        with source:
            while (source.reconnects < 1 or frames < 15) and time.monotonic() < deadline:
                frames += source.read(timeout=0.2) is not None
    finally:
        server.done.set()
        server.shutdown()
        server.server_close()
    assert source.reconnects >= 1 and server.connections >= 2
    assert frames >= 15  # frames before the stall, then more from the reopened stream
