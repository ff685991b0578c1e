"""The daemon against a broker that goes away: nothing lost, nothing out of order.

The daemon runs as a real process (``edge run --mqtt URL``) on a folder of frames with the
demo models; the broker is stopped in the middle of the run and started again on the same port.
What the files output wrote is the truth: every one of those records must arrive over MQTT,
exactly once after dropping repeats, in seq order. The figures are printed (``pytest -s``).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ..support.mosquitto import Mosquitto
from ..support.waiting import wait_until
from .support import Receiver, file_records, start_daemon, write_config

RUN_TIMEOUT_S = 60


def _run_args(config: Path, frames: Path, out: Path, url: str, count: int) -> list[str]:
    return [
        "--config", str(config), "--source", f"folder:{frames}", "--out", str(out),
        "--mqtt", url, "--fps", "40", "--max-frames", str(count),
        "--classifier", "demo", "--anomaly", "demo",
    ]  # fmt: skip


def _check_delivery(expected: list[dict[str, Any]], receiver: Receiver) -> dict[str, int]:
    """Every expected seq arrived, in order after dropping repeats; the figures."""
    results = receiver.results()  # schema-checked
    unique: list[int] = []
    for result in results:
        if result["seq"] not in unique:
            unique.append(result["seq"])
    wanted = [record["seq"] for record in expected]
    assert unique == wanted, f"missing: {sorted(set(wanted) - set(unique))[:20]}"
    for result in results:
        assert result == expected[wanted.index(result["seq"])]  # the same record, byte for byte
    return {
        "produced": len(wanted),
        "received": len(results),
        "duplicates": len(results) - len(unique),
        "lost": len(set(wanted) - set(unique)),
    }


def _outbox_rows(out: Path) -> int:
    with sqlite3.connect(out / ".mqtt-outbox.sqlite") as db:
        return int(db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])


@pytest.mark.slow
def test_a_broker_outage_in_the_middle_of_a_run_loses_nothing(
    make_broker: Callable[..., Mosquitto], frames: Callable[[int], Path], tmp_path: Path
) -> None:
    broker = make_broker()
    receiver = Receiver(broker.port, ["edge/+/+/result"], persistent=True).start()
    out = tmp_path / "out"
    config = write_config(tmp_path / "edge.toml")
    daemon = start_daemon(*_run_args(config, frames(200), out, broker.url, 200))
    try:
        wait_until(lambda: len(receiver.on("/result")) >= 40, 30)
        broker.stop()
        down_at = time.time()
        time.sleep(1.5)  # the daemon goes on: about 60 frames while the broker is away
        up_at = time.time()
        broker.start()
        _, stderr = daemon.communicate(timeout=RUN_TIMEOUT_S)
        assert daemon.returncode == 0, stderr
        expected = file_records(out)
        assert len(expected) == 200
        assert receiver.wait(lambda: len({r["seq"] for r in receiver.results()}) >= 200, 20)
    finally:
        daemon.kill()
        receiver.stop()
    during = [r for r in expected if down_at <= _epoch(r["ts"]) <= up_at]
    assert len(during) >= 10, "the outage should cover records"
    figures = _check_delivery(expected, receiver)
    print(f"\noutage mid-run: {figures}, {len(during)} records made while the broker was away")
    assert figures["lost"] == 0
    assert _outbox_rows(out) == 0


@pytest.mark.slow
def test_a_daemon_restarted_while_the_broker_is_down_loses_nothing(
    make_broker: Callable[..., Mosquitto], frames: Callable[[int], Path], tmp_path: Path
) -> None:
    broker = make_broker()
    receiver = Receiver(broker.port, ["edge/+/+/result"], persistent=True).start()
    out = tmp_path / "out"
    config = write_config(tmp_path / "edge.toml", flush_timeout=0.5)
    folder = frames(80)
    first = start_daemon(*_run_args(config, folder, out, broker.url, 80))
    second = first
    try:
        wait_until(lambda: len(receiver.on("/result")) >= 15, 30)
        broker.stop()
        _, stderr = first.communicate(timeout=RUN_TIMEOUT_S)
        assert first.returncode == 0, stderr
        kept = _outbox_rows(out)
        assert kept >= 20, "the first run should end with results in its outbox"
        second = start_daemon(*_run_args(config, folder, out, broker.url, 80))
        wait_until(lambda: len(file_records(out)) >= 100, 30)
        broker.start()
        _, stderr = second.communicate(timeout=RUN_TIMEOUT_S)
        assert second.returncode == 0, stderr
        expected = file_records(out)
        assert len(expected) == 160
        wanted = {r["seq"] for r in expected}
        assert receiver.wait(lambda: {r["seq"] for r in receiver.results()} >= wanted, 20)
    finally:
        first.kill()
        second.kill()
        receiver.stop()
    seqs = [r["seq"] for r in expected]
    assert seqs == sorted(seqs) and seqs[80] > seqs[79]  # seq continues after the restart
    figures = _check_delivery(expected, receiver)
    print(f"\ndaemon restarted during the outage: {figures}, {kept} kept in the outbox across it")
    assert figures["lost"] == 0
    assert _outbox_rows(out) == 0


def _epoch(ts: str) -> float:
    from edge.records import parse_ts

    return parse_ts(ts)
