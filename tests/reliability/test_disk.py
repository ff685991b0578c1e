"""A full disk and a read-only output directory under the running daemon (``edge run`` in this
process, files and a real Mosquitto as outputs): MQTT keeps receiving every record, the disk
problem is logged at most once per interval, and writing resumes, untorn, once the disk works.

Records made while the files cannot be written are missing from the files (counted, and the
count logged when writing resumes); MQTT has every one of them. The MQTT outbox lives in the
output directory (the default), so it meets the full disk too.

A read-only file system cannot be made by ``mount -o remount,ro`` while the daemon holds files
open for writing (the kernel answers EBUSY), so the directory is a bind mount that is detached
lazily and replaced by a read-only bind of the same tmpfs: everything opened from then on is
read-only, as after an SD card's emergency remount.
"""

from __future__ import annotations

import logging
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from edge import daemon
from edge.cli import main
from edge.publishers.mqtt.outbox import Outbox

from ..mqtt.support import Receiver, write_config
from ..support.mosquitto import Mosquitto
from ..support.waiting import wait_for
from .support import check_results, fill, tmpfs

INTERVAL = 0.5  # the daemon's throttle interval for a recurring publisher problem, shortened
FPS = 40
DISK_PROBLEM = "files: cannot write results to"
RESUMED = re.compile(r"writing results again; (\d+) record\(s\) could not be written")


@pytest.fixture(autouse=True)
def _short_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(daemon, "LOG_EVERY_S", INTERVAL)


def _run(config: Path, source: str, out: Path, url: str, frames: int) -> int:
    return main([
        "run", "--quiet", "--config", str(config), "--source", source, "--out", str(out),
        "--mqtt", url, "--fps", str(FPS), "--max-frames", str(frames),
    ])  # fmt: skip


def _lines(out: Path) -> int:
    return sum(len(path.read_bytes().splitlines()) for path in out.glob("camera/*.jsonl"))


class Fault(threading.Thread):
    """Breaks the disk once ``before`` records reached the broker, repairs it once ``during``
    more did, and notes when; the daemon runs meanwhile in the main thread."""

    def __init__(
        self, receiver: Receiver, before: int, during: int, brk: Callable[[], object],
        repair: Callable[[], object],
    ) -> None:  # fmt: skip
        super().__init__(name="disk-fault", daemon=True)
        self.receiver, self.before, self.during = receiver, before, during
        self.brk, self.repair = brk, repair
        self.broken_at = self.repaired_at = 0.0
        self.error: BaseException | None = None

    def _received(self) -> int:
        return len(self.receiver.on("/result"))

    def run(self) -> None:
        try:
            assert wait_for(lambda: self._received() >= self.before, 20)
            self.brk()
            self.broken_at = time.monotonic()
            assert wait_for(lambda: self._received() >= self.before + self.during, 20)
            self.repair()
            self.repaired_at = time.monotonic()
        except BaseException as exc:  # reported by the test
            self.error = exc


def _check(
    fault: Fault, receiver: Receiver, out: Path, frames: int, caplog: pytest.LogCaptureFixture
) -> tuple[int, int]:
    """Every record over MQTT, files intact and resumed, the problem logged sparingly;
    (records missing from the files, disk problem lines)."""
    assert fault.error is None, fault.error
    assert receiver.wait(lambda: len({r["seq"] for r in receiver.results()}) >= frames)
    seqs = sorted({r["seq"] for r in receiver.results()})
    assert seqs == list(range(frames)), "MQTT lost records"

    results = check_results(out)  # every line parses and validates, none torn
    assert results.latest == results.records[-1]
    assert results.seqs[-1] == frames - 1, "writing did not resume"
    missing = frames - len(results.seqs)
    assert missing > 0, "the fault should have cost the files some records"
    assert set(results.seqs) <= set(seqs)

    opened = [r for r in caplog.records if r.getMessage().startswith("writing ")]
    assert len(opened) == 1, "the daily file is announced once, not on every reopening"
    problems = [r for r in caplog.records if r.getMessage().startswith(DISK_PROBLEM)]
    outage = fault.repaired_at - fault.broken_at
    assert 1 <= len(problems) <= outage / INTERVAL + 2, [r.getMessage() for r in problems]
    assert all(r.exc_info is None for r in caplog.records if r.levelno >= logging.WARNING)
    resumed = [RESUMED.search(r.getMessage()) for r in caplog.records]
    assert sum(int(found[1]) for found in resumed if found) == missing, "not counted"
    return missing, len(problems)


def _report(fault_name: str, frames: int, missing: int, logged: int, fault: Fault) -> None:
    outage = fault.repaired_at - fault.broken_at
    print(f"\n{fault_name}: {frames} records, all over MQTT, {missing} missing from the files, "
          f"the problem logged {logged} time(s) in {outage:.1f} s")  # fmt: skip


@pytest.mark.slow
def test_a_full_disk_keeps_mqtt_complete_and_writing_resumes_when_space_returns(
    fault_source: str,
    broker: Mosquitto,
    receive: Callable[..., Receiver],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    receiver = receive("edge/+/+/result")
    config = write_config(tmp_path / "edge.toml")
    frames = 200
    with tmpfs(tmp_path / "out", "16m") as out:
        filler: list[Path] = []
        fault = Fault(receiver, 40, 70, lambda: filler.append(fill(out)), lambda: _free(filler))
        fault.start()
        with caplog.at_level(logging.INFO):
            assert _run(config, f"{fault_source}:ok", out, broker.url, frames) == 0
        fault.join(5)
        missing, logged = _check(fault, receiver, out, frames, caplog)
    _report("disk full", frames, missing, logged, fault)


def _free(fillers: list[Path]) -> None:
    for filler in fillers:
        filler.unlink()


@contextmanager
def _bind(source: Path, target: Path) -> Iterator[Path]:
    target.mkdir()
    subprocess.run(["mount", "--bind", str(source), str(target)], check=True)
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False, capture_output=True)


def _read_only(disk: Path, out: Path) -> None:
    """``out`` read-only from now on, although the daemon holds files open in it."""
    subprocess.run(["umount", "-l", str(out)], check=True)
    subprocess.run(["mount", "--bind", "-o", "ro", str(disk), str(out)], check=True)


def _writable(out: Path) -> None:
    subprocess.run(["mount", "-o", "remount,bind,rw", str(out)], check=True)


@pytest.mark.slow
def test_a_read_only_output_directory_keeps_mqtt_complete_and_writing_resumes(
    fault_source: str,
    broker: Mosquitto,
    receive: Callable[..., Receiver],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    receiver = receive("edge/+/+/result")
    config = write_config(tmp_path / "edge.toml")
    frames = 200
    with tmpfs(tmp_path / "disk", "4m") as disk, _bind(disk, tmp_path / "out") as out:
        fault = Fault(receiver, 40, 70, lambda: _read_only(disk, out), lambda: _writable(out))
        fault.start()
        with caplog.at_level(logging.INFO):
            assert _run(config, f"{fault_source}:ok", out, broker.url, frames) == 0
        fault.join(5)
        missing, logged = _check(fault, receiver, out, frames, caplog)
        assert any("Read-only file system" in r.getMessage() for r in caplog.records)
    _report("read-only", frames, missing, logged, fault)


def test_the_outbox_holds_results_in_memory_while_its_disk_is_full_and_stores_them_after(
    tmp_path: Path,
) -> None:
    with tmpfs(tmp_path / "disk", "256k") as disk:
        outbox = Outbox(disk / "outbox.sqlite")
        outbox.add("t", b"stored", 1)
        filler = fill(disk)
        for n in range(40):  # more than a WAL page can take
            outbox.add("t", b"%d" % n + b"x" * 2000, 1)
        assert outbox.disk_problem is not None and outbox.held > 0
        messages = outbox.after(0, 100)
        assert [m.payload[:3] for m in messages[:3]] == [b"sto", b"0xx", b"1xx"]
        ids = [m.id for m in messages]
        assert ids == sorted(ids) and len(ids) == 41 == len(outbox)
        for message in messages[:11]:  # delivered meanwhile: held ones and a stored one
            outbox.remove(message.id)
        assert [m.id for m in outbox.after(0, 100)] == ids[11:]
        filler.unlink()
        outbox.add("t", b"after", 1)
        assert outbox.disk_problem is None and outbox.held == 0
        outbox.close()
        again = Outbox(disk / "outbox.sqlite")
        try:
            kept = again.after(0, 100)
        finally:
            again.close()
    assert [m.id for m in kept] == [*ids[11:], ids[-1] + 1]
    assert kept[-1].payload == b"after"
