"""Brokers that misbehave on the network, for the broker-fault tests: one that accepts the
TCP connection and never answers, and a proxy in front of a real broker that cuts every
connection after a short time. Both count what they did."""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from pathlib import Path
from typing import TypeVar

from edge import demo

from ..support.mosquitto import free_port

_S = TypeVar("_S", bound="_Server")


class _Server(threading.Thread):
    """A loopback TCP listener on a free port; ``handle`` runs per connection in a thread."""

    def __init__(self, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.port = free_port()
        self.connections = 0
        self._halt = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.settimeout(0.05)
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, client: socket.socket) -> None:
        with client:
            self.handle(client)

    def handle(self, client: socket.socket) -> None:
        raise NotImplementedError

    def __enter__(self: _S) -> _S:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._halt.set()
        self.join()
        for thread in self._threads:
            thread.join(2)
        self._listener.close()


class SilentBroker(_Server):
    """Accepts connections and reads what the client sends (its CONNECT), never answering."""

    def __init__(self) -> None:
        super().__init__("silent-broker")
        self.received = 0

    def handle(self, client: socket.socket) -> None:
        client.settimeout(0.05)
        while not self._halt.is_set():
            try:
                data = client.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            self.received += len(data)


class FlappingProxy(_Server):
    """Forwards to a broker on ``port`` and cuts each connection ``life`` seconds after it
    was accepted, for as long as it runs."""

    def __init__(self, port: int, life: float) -> None:
        super().__init__("flapping-proxy")
        self.target, self.life = port, life
        self.cuts = 0

    def handle(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target), timeout=2)
        except OSError:
            return
        with upstream:
            if self._pump(client, upstream, time.monotonic() + self.life):
                self.cuts += 1
            with contextlib.suppress(OSError):  # a reset, not a polite close
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")

    def _pump(self, client: socket.socket, upstream: socket.socket, deadline: float) -> bool:
        """Copy both ways until the deadline (True: cut) or either side closes (False)."""
        peers = {client: upstream, upstream: client}
        while not self._halt.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            readable, _, _ = select.select(list(peers), [], [], min(left, 0.05))
            for sock in readable:
                try:
                    data = sock.recv(65536)
                    if not data:
                        return False
                    peers[sock].sendall(data)
                except OSError:
                    return False
        return False


def looped_frames(folder: Path, count: int) -> Path:
    """A folder of ``count`` frames: links to the shipped demo frames, over and over."""
    folder.mkdir()
    images = sorted(demo.frames_dir().glob("*.png"))
    for n in range(count):
        (folder / f"{n:05d}.png").symlink_to(images[n % len(images)])
    return folder
