"""A real Mosquitto for the tests and the soak scripts: one process on a free loopback port,
from a config generated in its own directory (never the system service); it can be stopped
and started again on the same port, and is a context manager.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

MOSQUITTO = shutil.which("mosquitto") or (
    "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
)
START_TIMEOUT_S = 10.0


def free_port() -> int:
    """A port free on 127.0.0.1 for a server the test starts, chosen below the kernel's range of
    ephemeral ports: a port the kernel hands out (``bind(0)``) can be taken by any process's
    next outgoing connection before the server binds it (RabbitMQ then fails to start with
    ``dist_port_already_used``); one below that range is taken only by an explicit bind."""
    low = _ephemeral_low()
    for _ in range(100):
        port = _RANDOM.randrange(PORTS_FROM, low) if low > PORTS_FROM + 1000 else 0
        if port in _GIVEN:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            port = int(sock.getsockname()[1])
        _GIVEN.add(port)
        return port
    raise RuntimeError("no free port found on 127.0.0.1")


PORTS_FROM = 10000
_RANDOM = random.SystemRandom()  # the tests may seed the random module
_GIVEN: set[int] = set()


def _ephemeral_low() -> int:
    """The first port of the kernel's ephemeral range (0 when it cannot be read)."""
    try:
        text = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text(encoding="ascii")
        return int(text.split()[0])
    except (OSError, ValueError, IndexError):
        return 0


@dataclass
class TlsFiles:
    ca: Path
    cert: Path
    key: Path
    client_cert: Path
    client_key: Path


class Mosquitto:
    """One mosquitto process on 127.0.0.1:``port`` with a config written to ``directory``."""

    def __init__(
        self,
        directory: Path,
        *,
        tls: TlsFiles | None = None,
        require_certificate: bool = False,
        users: dict[str, str] | None = None,
        persistence: bool = True,
        extra: Sequence[str] = (),
    ) -> None:
        """``persistence``: sessions and retained messages survive a restart; ``extra``: more
        lines of mosquitto.conf."""
        self.directory = directory
        self.persistence = persistence
        self.extra = list(extra)
        self.port = free_port()
        self.tls = tls
        self.require_certificate = require_certificate
        self.users = users
        self.log = directory / "mosquitto.log"
        self.process: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"{'mqtts://localhost' if self.tls else 'mqtt://127.0.0.1'}:{self.port}"

    def config(self) -> str:
        lines = [
            f"listener {self.port} 127.0.0.1",
            "user root" if os.geteuid() == 0 else "",
            f"log_dest file {self.log}",
            "log_type all",
            f"allow_anonymous {'false' if self.users else 'true'}",
            *self.extra,
        ]
        if self.persistence:
            lines += ["persistence true", f"persistence_location {self.directory}/"]
            lines.append("autosave_interval 1")
        if self.users:
            lines.append(f"password_file {self._password_file()}")
        if self.tls:
            lines += [
                f"cafile {self.tls.ca}",
                f"certfile {self.tls.cert}",
                f"keyfile {self.tls.key}",
            ]
            lines.append(f"require_certificate {str(self.require_certificate).lower()}")
        return "\n".join(line for line in lines if line) + "\n"

    def _password_file(self) -> Path:
        path = self.directory / "passwords"
        path.write_text("")
        for user, password in (self.users or {}).items():
            subprocess.run(["mosquitto_passwd", "-b", str(path), user, password], check=True)
        path.chmod(0o600)
        return path

    def start(self) -> None:
        if self.process is not None:
            raise RuntimeError("mosquitto is already running")
        conf = self.directory / "mosquitto.conf"
        conf.write_text(self.config())
        if MOSQUITTO is None:
            raise RuntimeError("needs mosquitto: `make mosquitto` installs it")
        self.process = subprocess.Popen(
            [MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                stderr = self.process.stderr.read() if self.process.stderr else b""
                raise RuntimeError(f"mosquitto exited: {stderr!r}; see {self.log}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"mosquitto did not listen on {self.port} within {START_TIMEOUT_S} s")

    def stop(self) -> None:
        """SIGTERM (mosquitto saves its sessions), SIGKILL if it lingers."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if process.stderr is not None:
            process.stderr.close()

    def __enter__(self) -> Mosquitto:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
