"""Helpers of the reliability tests: an sd_notify listener, a small tmpfs, checks of the results
directory that every fault must leave intact, and stderr as a user sees it."""

from __future__ import annotations

import itertools
import json
import os
import re
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from edge.publishers.mqtt.outbox import Outbox
from edge.records import ResultRecord

from ..support.schema import validate

FAULT_SOURCE = "edge.sources.fault:FaultySource"

# Lines third-party libraries print straight to fd 2, that no setting of ours turns off:
# TensorFlow's start-up banner (absl, before its logging is initialised) and LiteRT's one-time
# note that it created the XNNPACK delegate.
THIRD_PARTY_NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\)"
    r"|[IW]\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ \S+:\d+\]"
    r"|INFO: Created TensorFlow Lite XNNPACK delegate for CPU\.$)"
)


def user_lines(stderr: str) -> list[str]:
    """The stderr lines a user reads on a terminal (what a progress bar overwrote with ``\r``
    is gone), without the third-party noise above."""
    shown = (raw.rsplit("\r", 1)[-1].rstrip() for raw in stderr.split("\n"))
    return [line for line in shown if line and not THIRD_PARTY_NOISE.match(line)]


# -- sd_notify ----------------------------------------------------------------------------------


@dataclass
class NotifyListener:
    """A datagram socket standing in for systemd: keeps every sd_notify message with its time."""

    address: str = field(default_factory=lambda: f"@edge-test-{uuid.uuid4().hex[:12]}")
    messages: list[tuple[float, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind("\0" + self.address[1:])
        self._sock.settimeout(0.1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="notify-listener", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._sock.recv(4096)
            except TimeoutError:
                continue
            self.messages.append((time.monotonic(), data.decode()))

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._sock.close()

    def fields(self, key: str) -> list[tuple[float, str]]:
        """(time, value) of every ``KEY=value`` line received."""
        found = []
        for when, message in list(self.messages):
            for line in message.splitlines():
                name, _, value = line.partition("=")
                if name == key:
                    found.append((when, value))
        return found


# -- a small file system that can fill up ----------------------------------------------------------


@contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted on ``path`` (root only), unmounted afterwards."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        import pytest

        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True)


def remount(path: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(path)], check=True)


def fill(directory: Path) -> Path:
    """Fill the file system of ``directory`` to the last byte; the filler file's path."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for chunk in (1 << 16, 4096, 512, 1):
            try:
                while True:
                    os.write(fd, b"\0" * chunk)
            except OSError:
                continue
    finally:
        os.close(fd)
    return filler


# -- what every fault must leave intact ------------------------------------------------------------


@dataclass
class Results:
    """A camera's results directory, checked: every line a valid record, latest.json too."""

    records: list[dict[str, Any]]
    latest: dict[str, Any] | None
    files: list[Path]

    @property
    def seqs(self) -> list[int]:
        return [int(record["seq"]) for record in self.records]


def check_results(out: Path, camera: str = "camera") -> Results:
    """Every JSONL line parses and validates, every file ends with a newline, latest.json is a
    record; AssertionError saying which line is not."""
    directory = out / camera
    files = sorted(directory.glob("results-*.jsonl"))
    records: list[dict[str, Any]] = []
    for path in files:
        data = path.read_bytes()
        assert not data or data.endswith(b"\n"), f"{path}: torn last line {data[-80:]!r}"
        for number, line in enumerate(data.splitlines(), 1):
            try:
                record = json.loads(line)
                validate(record)
                ResultRecord.from_dict(record)
            except (ValueError, jsonschema.ValidationError) as exc:
                raise AssertionError(f"{path}:{number}: not a record: {exc}: {line!r}") from exc
            records.append(record)
    latest_path = directory / "latest.json"
    latest = None
    if latest_path.exists():
        latest = json.loads(latest_path.read_bytes())
        validate(latest)
    return Results(records, latest, files)


def increasing(seqs: list[int]) -> bool:
    return all(a < b for a, b in itertools.pairwise(seqs))


def outbox_depth(path: Path) -> int:
    """Open the outbox as the daemon would (so it must open) and count what it holds."""
    outbox = Outbox(path)
    try:
        return len(outbox)
    finally:
        outbox.close()
