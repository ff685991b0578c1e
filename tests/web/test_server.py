"""The page's endpoints on a running daemon: content types and contents, MJPEG, /metrics,
/healthz, the token, the listener's address, a port already in use."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from edge.errors import EX_CONFIG

from ..reliability.support import NotifyListener
from ..reliability.test_security import is_loopback, sockets_of
from ..support.schema import validate
from ..support.waiting import wait_for
from .conftest import Daemon

pytestmark = pytest.mark.slow

JPEG_START, JPEG_END = b"\xff\xd8", b"\xff\xd9"


def _jpeg(data: bytes) -> np.ndarray:
    assert data.startswith(JPEG_START) and data.endswith(JPEG_END), data[:8] + data[-8:]
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


def _first_record(running: Daemon) -> dict[str, object]:
    assert wait_for(lambda: json.loads(running.get("/api/status").body)["cameras"]["camera"]
                    ["record"] is not None, 30)  # fmt: skip
    return dict(json.loads(running.get("/api/status").body))


def test_each_endpoint_has_its_content_type_and_content(daemon: Callable[..., Daemon]) -> None:
    running = daemon()
    status = _first_record(running)
    assert set(status) >= {"device", "uptime_s", "cameras", "mqtt", "cpu_temperature_c"}
    camera = status["cameras"]["camera"]  # type: ignore[index]
    assert camera["state"] == "running" and camera["models"]["classifier"] == "digits"
    assert set(camera["stats"]) >= {"processed", "dropped", "latency_ms"}
    validate(camera["record"])

    page = running.get("/")
    assert page.status == 200 and page.content_type == "text/html; charset=utf-8"
    assert b"/static/app.js" in page.body and b"http" not in page.body.split(b"<body>")[1]
    for name, kind in (("app.js", "text/javascript"), ("style.css", "text/css")):
        static = running.get(f"/static/{name}")
        assert static.status == 200 and static.content_type.startswith(kind), name
    assert running.get("/static/../config.py").status == 404

    picture = running.get("/api/cameras/camera/latest.jpg")
    assert picture.status == 200 and picture.content_type == "image/jpeg"
    assert _jpeg(picture.body).shape[1] == 640  # snapshot_width
    assert picture.headers["Cache-Control"] == "no-store"

    history = running.get("/api/cameras/camera/history")
    assert history.content_type == "application/json"
    points = json.loads(history.body)["points"]
    assert points and set(points[0]) == {"t", "colors", "label", "score", "anomaly", "threshold"}

    health = running.get("/healthz")
    assert (health.status, health.body, health.content_type) == (
        200, b"ok\n", "text/plain; charset=utf-8")  # fmt: skip
    assert running.get("/api/cameras/nope/latest.jpg").status == 404
    assert running.get("/nowhere").status == 404
    assert running.stop() == 0


def test_the_mjpeg_stream_yields_successive_jpegs(daemon: Callable[..., Daemon]) -> None:
    running = daemon()
    _first_record(running)
    connection = running.connection()
    connection.request("GET", "/api/cameras/camera/stream.mjpg")
    response = connection.getresponse()
    assert response.status == 200
    assert response.headers["Content-Type"] == "multipart/x-mixed-replace; boundary=frame"
    pictures = []
    for _ in range(4):
        assert response.readline() == b"--frame\r\n"
        headers = {}
        while (line := response.readline()) != b"\r\n":
            key, _, value = line.decode().partition(":")
            headers[key.strip().lower()] = value.strip()
        assert headers["content-type"] == "image/jpeg"
        pictures.append(response.read(int(headers["content-length"])))
        assert response.readline() == b"\r\n"
    connection.close()
    for picture in pictures:
        _jpeg(picture)
    assert len(set(pictures)) == 4  # a new picture per frame
    assert running.stop() == 0


def _metrics(running: Daemon) -> dict[str, list[tuple[dict[str, str], float]]]:
    response = running.get("/metrics")
    assert response.status == 200 and response.content_type.startswith("text/plain")
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(response.body.decode()):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def test_metrics_parse_and_the_counters_grow(daemon: Callable[..., Daemon]) -> None:
    running = daemon()
    _first_record(running)
    first = _metrics(running)
    expected = {"edge_up", "edge_frames_total", "edge_dropped_frames_total", "edge_anomaly_score",
                "edge_stage_latency_seconds_bucket", "edge_stage_latency_seconds_count",
                "edge_fps", "edge_camera_up"}  # fmt: skip
    assert expected <= set(first), sorted(first)
    ((labels, frames),) = first["edge_frames_total"]
    assert labels == {"device": labels["device"], "camera": "camera"} and frames >= 1
    stages = {sample[0]["stage"] for sample in first["edge_stage_latency_seconds_count"]}
    assert stages == {"capture", "colors", "classify", "anomaly", "total"}
    assert wait_for(lambda: _metrics(running)["edge_frames_total"][0][1] > frames + 5, 20)
    assert "edge_mqtt_connected" not in first  # MQTT is off
    assert running.stop() == 0


def test_healthz_turns_503_while_the_camera_stalls(daemon: Callable[..., Daemon]) -> None:
    config = ('[[cameras]]\nsource = "fault:ok*20,hang:6"\nfps = 20.0\nstall_timeout = 1.0\n'
              'classifier = ""\nanomaly = ""\n')  # fmt: skip
    running = daemon(config=config)
    assert wait_for(lambda: running.get("/healthz").status == 200, 20)
    assert wait_for(lambda: running.get("/healthz").status == 503, 20)
    stalled = running.get("/healthz")
    assert stalled.body.startswith(b"camera: no frame for"), stalled.body
    assert wait_for(lambda: running.get("/healthz").status == 200, 30)  # frames again
    assert running.stop() == 0


def test_with_a_token_requests_need_it(daemon: Callable[..., Daemon], tmp_path: Path) -> None:
    token = "Tk-9f3a-web-S3CRET"
    (tmp_path / "token").write_text(token + "\n")
    running = daemon(config=f'[web]\ntoken_file = "{tmp_path / "token"}"\n'
                     '[[cameras]]\nsource = "demo"\nfps = 10.0\n')  # fmt: skip
    for path in ("/", "/api/status", "/metrics", "/healthz", "/api/cameras/camera/latest.jpg"):
        refused = running.get(path)
        assert refused.status == 401, path
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert running.get(path, {"Authorization": "Bearer wrong"}).status == 401
        assert running.get(path, {"Authorization": f"Bearer {token}"}).status in (200, 503)
    assert running.get("/?token=wrong").status == 401
    given = running.get(f"/api/status?token={token}")
    assert given.status == 303 and given.headers["Location"] == "/api/status"
    cookie = given.headers["Set-Cookie"].split(";")[0]
    assert token not in cookie and "HttpOnly" in given.headers["Set-Cookie"]
    assert running.get("/api/status", {"Cookie": cookie}).status == 200
    page = running.get("/", {"Authorization": f"Bearer {token}"}).body
    assert token.encode() not in page
    connection = running.connection()  # the 401 page's form
    connection.request("POST", "/login", body=f"token={token}",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    posted = connection.getresponse()
    assert posted.status == 303 and posted.headers["Location"] == "/"
    assert posted.headers["Set-Cookie"].split(";")[0] == cookie
    connection.close()
    elsewhere = running.get(f"//elsewhere.example?token={token}")
    assert elsewhere.headers["Location"] == "/elsewhere.example"  # never another site
    assert running.stop() == 0
    assert token not in running.log_text()


def test_beyond_loopback_without_a_token_is_a_config_error(daemon: Callable[..., Daemon]) -> None:
    running = daemon("--web", "0.0.0.0:8780", wait=False)
    assert running.process.wait(60) == EX_CONFIG
    (line,) = running.log_text().strip().splitlines()
    assert "web.token_file" in line and "web.token_credential" in line, line


def test_the_listener_is_on_loopback_by_default(daemon: Callable[..., Daemon]) -> None:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", 8780))
        except OSError:
            pytest.skip("port 8780 is taken on this machine")
    running = daemon("--source", "demo", listen=None)  # the default, 127.0.0.1:8780
    assert running.url == "http://127.0.0.1:8780/"
    listeners = [s for s in sockets_of(running.process.pid) if s.listening and s.table != "unix"]
    assert [s.local for s in listeners] == ["127.0.0.1:8780"]
    assert all(is_loopback(s.local) for s in listeners)
    assert running.stop() == 0


def test_a_port_in_use_is_one_line_and_the_cameras_go_on(
    daemon: Callable[..., Daemon], tmp_path: Path
) -> None:
    notify = NotifyListener()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        try:
            running = daemon("--web", f"127.0.0.1:{port}", "--source", "demo", "--fps", "20",
                             env={"NOTIFY_SOCKET": notify.address}, wait=False)  # fmt: skip
            assert wait_for((running.out / "camera" / "latest.json").exists, 60)
            assert wait_for(lambda: any("web page off" in v for _, v in notify.fields("STATUS")))
            time.sleep(0.5)
            assert running.process.poll() is None
            assert running.stop() == 0
        finally:
            notify.close()
    errors = [line for line in running.log_text().splitlines() if "ERROR" in line]
    assert len(errors) == 1 and f"127.0.0.1:{port}" in errors[0], errors
    assert "Traceback" not in running.log_text()
