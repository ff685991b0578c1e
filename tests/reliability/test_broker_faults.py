"""Brokers that misbehave, under the real daemon (``edge run`` as a process, files and MQTT):

- one that accepts the TCP connection and never sends CONNACK: the daemon keeps writing its
  files, reports the broker away, gives up on the silent connection after ``keepalive`` seconds
  and tries again, exits 0 on SIGTERM, and its outbox keeps every record for later;
- a proxy in front of a real Mosquitto that cuts every connection after a short time, many
  times: every record reaches the broker in the end, in order, none lost. Delivery is QoS 1,
  at least once (edge.publishers.mqtt.publisher), so repeats are allowed and dropped by
  (camera, seq).
"""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ..mqtt.support import Receiver, file_records, start_daemon, write_config
from ..support.mosquitto import Mosquitto
from ..support.waiting import wait_for
from .netfaults import FlappingProxy, SilentBroker, looped_frames
from .support import NotifyListener, outbox_depth, user_lines

EXIT_WITHIN_S = 5.0


def _args(config: Path, frames: Path, out: Path, url: str, fps: int) -> list[str]:
    return [
        "--config", str(config), "--source", f"folder:{frames}", "--out", str(out),
        "--mqtt", url, "--fps", str(fps),
    ]  # fmt: skip


def _outbox_seqs(out: Path) -> list[int]:
    with sqlite3.connect(out / ".mqtt-outbox.sqlite") as db:
        rows = db.execute("SELECT payload FROM outbox WHERE topic LIKE '%/result' ORDER BY id")
        return [json.loads(row[0])["seq"] for row in rows]


def _stop(daemon: Any) -> tuple[float, str]:
    """SIGTERM, then (seconds until it exited, stderr)."""
    daemon.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    _, stderr = daemon.communicate(timeout=30)
    return time.monotonic() - signalled, stderr


@pytest.mark.slow
def test_a_broker_that_never_answers_costs_nothing_and_sigterm_still_exits_cleanly(
    notify: NotifyListener, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    config = write_config(tmp_path / "edge.toml", keepalive=5, flush_timeout=2.0)
    frames = looped_frames(tmp_path / "frames", 2000)
    with SilentBroker() as silent:
        daemon = start_daemon(*_args(config, frames, out, silent.url, 25))
        try:
            away = lambda: any("broker away" in v for _, v in notify.fields("STATUS"))  # noqa: E731
            assert wait_for(away, 15), notify.messages
            # paho gives up on a connection without CONNACK after keepalive seconds; then retry
            assert wait_for(lambda: silent.connections >= 2, 15), "no second attempt"
            assert wait_for(lambda: len(file_records(out)) >= 40, 15)  # the files go on meanwhile
            took, stderr = _stop(daemon)
        finally:
            daemon.kill()
        assert silent.received > 0  # it did send a CONNECT
    assert daemon.returncode == 0, stderr
    assert took <= EXIT_WITHIN_S, f"took {took:.1f} s to exit after SIGTERM"
    lines = user_lines(stderr)
    assert not [line for line in lines if "Traceback" in line], stderr
    assert any("no MQTT answer" in line for line in lines), stderr
    records = file_records(out)
    seqs = [record["seq"] for record in records]
    assert seqs == list(range(len(seqs)))
    assert _outbox_seqs(out) == seqs, "the outbox should keep every record for later"
    assert outbox_depth(out / ".mqtt-outbox.sqlite") == len(seqs)
    print(f"\nsilent broker: {silent.connections} connection(s) without an answer, "
          f"{len(seqs)} records kept in the outbox, exit {took:.2f} s after SIGTERM")  # fmt: skip


@pytest.mark.slow
def test_a_broker_that_keeps_dropping_the_connection_gets_every_record_in_the_end(
    make_broker: Callable[..., Mosquitto], notify: NotifyListener, tmp_path: Path
) -> None:
    broker = make_broker()
    receiver = Receiver(broker.port, ["edge/+/+/result", "edge/+/stats"]).start()
    out = tmp_path / "out"
    count = 150
    config = write_config(tmp_path / "edge.toml", flush_timeout=10.0, stats_interval=0.3)
    frames = looped_frames(tmp_path / "frames", count)
    try:
        with FlappingProxy(broker.port, life=0.3) as proxy:
            daemon = start_daemon(*_args(config, frames, out, proxy.url, 30))
            try:
                _, stderr = daemon.communicate(timeout=60)
            finally:
                daemon.kill()
        cuts = proxy.cuts
        assert daemon.returncode == 0, stderr
        assert not [line for line in user_lines(stderr) if "Traceback" in line], stderr
        seqs = [record["seq"] for record in file_records(out)]
        assert seqs == list(range(count))
        assert receiver.wait(lambda: {r["seq"] for r in receiver.results()} >= set(seqs), 10)
        results = receiver.results()
        stats = [message.json() for message in receiver.on("/stats")]
    finally:
        receiver.stop()
    unique = list(dict.fromkeys(result["seq"] for result in results))
    assert unique == seqs, "lost or out of order"
    assert outbox_depth(out / ".mqtt-outbox.sqlite") == 0
    assert cuts >= 8, f"only {cuts} cut(s): not flapping"
    assert max(s["mqtt"]["reconnects"] for s in stats) >= 3  # reported in its stats
    statuses = [value for _, value in notify.fields("STATUS")]
    assert any("broker away" in status for status in statuses), statuses
    print(f"\nflapping broker: {cuts} cuts, {count} records, {len(results)} received, "
          f"{len(results) - len(unique)} repeats, 0 lost")  # fmt: skip
