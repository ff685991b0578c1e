"""Power cuts and long runs: the scripts of ``make soak`` (scripts/soak/) in a short version,
and the crash window they found: a record appended to the files whose process died before it
reached the MQTT outbox is handed to MQTT again on the next start."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from edge.cli import main
from edge.publishers.files import FilesPublisher
from edge.state import SeqCounter

from ..mqtt.support import REPO, Receiver, write_config
from ..support.mosquitto import MOSQUITTO, Mosquitto
from ..support.records import make_record

SOAK = REPO / "scripts" / "soak"
DEVICE = "pi-test"


def _soak(script: str, tmp_path: Path, *args: str) -> dict[str, Any]:
    if MOSQUITTO is None:
        pytest.skip("needs mosquitto: `make test` installs it")
    summary = tmp_path / "summary.json"
    done = subprocess.run(
        [sys.executable, str(SOAK / script), "--workdir", str(tmp_path / "work"),
         "--json", str(summary), *args],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    found: dict[str, Any] = json.loads(summary.read_text())
    return found


@pytest.mark.slow
def test_the_daemon_killed_at_random_moments_loses_nothing(tmp_path: Path) -> None:
    summary = _soak("powercut.py", tmp_path, "--runs", "5", "--seed", "7")
    assert summary["kills"] == 5
    assert summary["violations"] == []
    assert summary["lost"] == 0
    assert summary["records"] >= 25  # the clean runs alone write 25
    assert summary["mqtt_received"] >= summary["records"]


@pytest.mark.slow
def test_a_long_run_keeps_its_files_and_threads(tmp_path: Path) -> None:
    report = _soak("longrun.py", tmp_path, "--frames", "2000", "--rss-limit-mb", "0")
    assert report["frames"] == 2000
    assert report["growth"]["fds"] <= 0
    assert report["growth"]["threads"] <= 0
    assert report["file_records"] == report["mqtt_received"] == 2000
    assert report["outbox_left"] == 0


@pytest.mark.parametrize(
    ("seq_file", "expected"),
    [
        ("1041", [41, 1041, 1042]),  # a crash: the block reserved ahead is still in the file
        ("42", [42, 43]),  # a clean stop saved the exact next number: nothing to resend
    ],
)
def test_after_a_crash_the_newest_record_goes_to_mqtt_again(
    tmp_path: Path, broker: Mosquitto, receive: Any, seq_file: str, expected: list[int]
) -> None:
    out = tmp_path / "out"
    with FilesPublisher(out) as files:  # the files have seq 41, the outbox never got it
        for seq in (40, 41):
            files.publish(make_record(seq, camera="camera", device=DEVICE))
    (out / "camera" / ".seq").write_text(seq_file)
    receiver: Receiver = receive(f"edge/{DEVICE}/camera/result")
    config = write_config(tmp_path / "edge.toml", device=DEVICE)
    code = main([
        "run", "--quiet", "--config", str(config), "--source", "demo", "--max-frames", "2",
        "--out", str(out), "--mqtt", broker.url, "--classifier", "", "--anomaly", "",
    ])  # fmt: skip
    assert code == 0
    assert receiver.wait(lambda: len(receiver.results()) >= len(expected))
    assert [record["seq"] for record in receiver.results()] == expected


@pytest.mark.parametrize("used", [1, 8, 9, 10, 11, 25])
def test_the_sequence_file_tells_a_crash_from_a_clean_stop(tmp_path: Path, used: int) -> None:
    path = tmp_path / ".seq"
    counter = SeqCounter(path, block=10)
    last = [counter.next() for _ in range(used)][-1]
    after_crash = SeqCounter(path, block=10)  # the first counter never closed
    assert after_crash.next() > last
    assert not after_crash.resumes_after(last)
    counter.close()
    after_stop = SeqCounter(path, block=10)
    assert after_stop.resumes_after(last)
    assert after_stop.next() == last + 1
