"""Fixtures of the web tests: a real ``edge run`` with its page, the MQTT brokers of tests/mqtt."""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from ..conftest import REPO
from ..mqtt.conftest import broker, make_broker, receive
from ..support.waiting import wait_for

__all__ = ["Daemon", "broker", "daemon", "make_broker", "receive"]

# The fault camera (edge.sources.fault) is in no registry: the daemon's process adds it.
RUNNER = (
    "import sys; from edge.sources import SOURCES; "
    "SOURCES['fault'] = 'edge.sources.fault:FaultySource'; "
    "from edge.cli import main; sys.exit(main(sys.argv[1:]))"
)
URL_LINE = re.compile(r"live page on (http://\S+)")


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")


@dataclass
class Daemon:
    process: subprocess.Popen[bytes]
    log: Path
    out: Path
    url: str = ""

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_url(self, timeout: float = 60.0) -> str:
        found = wait_for(lambda: bool(URL_LINE.search(self.log_text())), timeout, 0.05)
        assert found, self.log_text()[-3000:]
        match = URL_LINE.search(self.log_text())
        assert match is not None
        self.url = match.group(1)
        return self.url

    def connection(self, timeout: float = 10.0) -> http.client.HTTPConnection:
        parts = urlsplit(self.url)
        return http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)

    def get(self, path: str, headers: dict[str, str] | None = None) -> Response:
        connection = self.connection()
        try:
            connection.request("GET", path, headers=headers or {})
            response = connection.getresponse()
            return Response(response.status, response.headers, response.read())
        finally:
            connection.close()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(60)


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    """Start ``edge run`` (demo frames at 10 fps, the page on a free loopback port unless the
    arguments say otherwise; ``listen=None``: the configured address); every daemon started
    is stopped at the end."""
    started: list[Daemon] = []

    def start(*args: str, config: str = "", env: dict[str, str] | None = None,
              wait: bool = True, listen: str | None = "127.0.0.1:0") -> Daemon:  # fmt: skip
        n = len(started)
        out, log = tmp_path / f"out{n}", tmp_path / f"daemon{n}.log"
        command = [sys.executable, "-c", RUNNER, "run", "--quiet", "--out", str(out)]
        if config:
            (tmp_path / f"edge{n}.toml").write_text(config)
            command += ["--config", str(tmp_path / f"edge{n}.toml")]
        if not any(arg in args for arg in ("--source", "--config")) and not config:
            command += ["--source", "demo", "--fps", "10"]
        if listen is not None and not any(arg in args for arg in ("--web", "--no-web")):
            command += ["--web", listen]
        environment = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
        with log.open("wb") as sink:
            process = subprocess.Popen([*command, *args], env=environment, cwd=tmp_path,
                                       stdout=subprocess.DEVNULL, stderr=sink)  # fmt: skip
        found = Daemon(process, log, out)
        started.append(found)
        if wait:
            found.wait_url()
        return found

    yield start
    for running in started:
        if running.process.poll() is None:
            running.process.kill()
            running.process.wait()
