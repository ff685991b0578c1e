"""SIGTERM under heavy load: ``edge run`` as a process on the demo frames as fast as they
come (no frame-rate cap), both demo models, files and a real Mosquitto as outputs. It exits 0
within 5 seconds of the signal with everything flushed: every line parses, latest.json is the
last line, the sequence file says where the next run goes on, and every record up to the last
seq is at the broker or, if not yet acknowledged, in the outbox."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from edge.sources.demo import DEMO_FPS

from ..mqtt.support import Receiver, start_daemon, write_config
from ..support.mosquitto import Mosquitto
from ..support.waiting import wait_for
from .support import check_results, user_lines

EXIT_WITHIN_S = 5.0
LOAD_S = 2.0  # how long the daemon runs flat out before the signal


def _outbox_seqs(out: Path) -> set[int]:
    with sqlite3.connect(out / ".mqtt-outbox.sqlite") as db:
        rows = db.execute("SELECT payload FROM outbox WHERE topic LIKE '%/result'").fetchall()
    return {json.loads(row[0])["seq"] for row in rows}


def _lines(out: Path) -> int:
    return sum(len(path.read_bytes().splitlines()) for path in out.glob("camera/*.jsonl"))


@pytest.mark.slow
def test_sigterm_under_heavy_load_exits_0_within_5_s_with_everything_flushed(
    broker: Mosquitto, tmp_path: Path
) -> None:
    receiver = Receiver(broker.port, ["edge/+/+/result"]).start()
    out = tmp_path / "out"
    config = write_config(tmp_path / "edge.toml")
    daemon = start_daemon(
        "--config", str(config), "--source", "demo", "--out", str(out),
        "--mqtt", broker.url, "--fps", "0", "--classifier", "demo", "--anomaly", "demo",
    )  # fmt: skip
    try:
        assert wait_for(lambda: _lines(out) > 0, 20), "the daemon did not start"
        started, first = time.monotonic(), _lines(out)
        time.sleep(LOAD_S)
        daemon.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        _, stderr = daemon.communicate(timeout=30)
        took = time.monotonic() - signalled
        rate = (_lines(out) - first) / (signalled - started)
        results = check_results(out)  # every line parses and validates, none torn
        count = len(results.seqs)
        receiver.wait(lambda: len({r["seq"] for r in receiver.results()}) >= count, 5)
        received = {r["seq"] for r in receiver.results()}
    finally:
        daemon.kill()
        receiver.stop()
    assert daemon.returncode == 0, stderr
    assert took <= EXIT_WITHIN_S, f"took {took:.1f} s to exit after SIGTERM"
    assert not [line for line in user_lines(stderr) if "Traceback" in line], stderr
    assert "received SIGTERM" in stderr
    assert results.seqs == list(range(count))
    assert rate > 3 * DEMO_FPS, "no load: the demo frames were paced, not read flat out"
    assert results.latest == results.records[-1]
    assert (out / "camera" / ".seq").read_text().strip() == str(count)
    kept = _outbox_seqs(out)
    assert received | kept == set(results.seqs), "records lost"
    print(f"\nSIGTERM under load: {rate:.0f} records/s, exit {took:.2f} s after the signal, "
          f"{count} records, {len(received)} at the broker, {len(kept)} in the outbox")  # fmt: skip
