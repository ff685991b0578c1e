"""The daemon on a clustered broker: a real three-node RabbitMQ cluster (MQTT plugin) on loopback,
started and stopped here (tests.support.rabbitmq), the daemon a real process given all three
nodes (``--mqtt A,B,C``), a subscriber on node C, and node A killed mid-run.

What the files output wrote is the truth: every record reaches the subscriber (by seq), and the
retained state is on the node the daemon moved to. The figures (records sent, received, lost,
time to fail over) are printed (``pytest -s``). `make test` installs rabbitmq-server; without it
(or Erlang) these tests are skipped with the reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from edge.records.mqtt import subscribe_records

from ..support.rabbitmq import RabbitCluster, missing
from ..support.waiting import wait_until
from .support import REPO, Receiver, file_records, start_daemon, write_config

pytestmark = pytest.mark.slow

FRAMES = 300
FPS = 20  # a 15 s run: node A dies after about 4 s of it
DEVICE, CAMERA = "pi-test", "camera"
STATE = f"edge/{DEVICE}/{CAMERA}/state"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RabbitCluster]:
    reason = missing()
    if reason is not None:
        pytest.skip(reason)
    with RabbitCluster(tmp_path_factory.mktemp("rabbitmq")) as started:
        yield started


def _run_args(config: Path, frames: Path, out: Path, urls: list[str]) -> list[str]:
    return [
        "--config", str(config), "--source", f"folder:{frames}", "--out", str(out),
        "--mqtt", ",".join(urls), "--fps", str(FPS), "--max-frames", str(FRAMES),
        "--classifier", "demo", "--anomaly", "",
    ]  # fmt: skip


def _newest_seq(receiver: Receiver) -> int:
    return max((message.json()["seq"] for message in receiver.on("/result")), default=-1)


def _fail_over(cluster: RabbitCluster, receiver: Receiver) -> float:
    """Kill node A while results flow; seconds until a newer record reaches the subscriber."""
    wait_until(lambda: len(receiver.on("/result")) >= 80, 30)
    cluster.kill("a")
    killed, before = time.monotonic(), _newest_seq(receiver)
    wait_until(lambda: _newest_seq(receiver) > before + 1, 30, step=0.005)
    return time.monotonic() - killed


def test_a_node_killed_mid_run_loses_nothing(
    cluster: RabbitCluster, frames: Callable[[int], Path], tmp_path: Path
) -> None:
    a, b, c = cluster.nodes["a"], cluster.nodes["b"], cluster.nodes["c"]
    receiver = Receiver(c.mqtt_port, ["edge/+/+/result"], client_id="test-on-c").start()
    out = tmp_path / "out"
    config = write_config(tmp_path / "edge.toml", device=DEVICE, reconnect_max=1.0)
    daemon = start_daemon(*_run_args(config, frames(FRAMES), out, cluster.urls))
    try:
        try:
            failover_s = _fail_over(cluster, receiver)
        except AssertionError as exc:
            daemon.kill()
            raise AssertionError(
                f"no record after the failover:\n{daemon.communicate()[1]}"
            ) from exc
        _, stderr = daemon.communicate(timeout=60)
        assert daemon.returncode == 0, stderr
        expected = [record["seq"] for record in file_records(out, CAMERA)]
        assert len(expected) == FRAMES
        receiver.wait(lambda: {r["seq"] for r in receiver.results()} >= set(expected), 20)
    finally:
        daemon.kill()
        receiver.stop()
    assert "connected as" in stderr and f"failing over to {b.url}" in stderr, stderr
    received = [result["seq"] for result in receiver.results()]  # schema-checked
    lost = sorted(set(expected) - set(received))
    print(
        f"\nRabbitMQ cluster, node A ({a.url}) killed mid-run: {len(expected)} records sent, "
        f"{len(received)} received on node C ({len(received) - len(set(received))} repeats), "
        f"{len(lost)} lost; a newer record reached node C {failover_s:.2f} s after the kill"
    )
    assert not lost, f"lost: {lost[:20]}"
    _check_retained_state(b.url, expected[-1])


def _check_retained_state(url: str, last_seq: int) -> None:
    """The newest record is retained on the node the daemon moved to: read with the project's
    reader (an exact-topic subscription) and with `edge tail`; a wildcard gets nothing there."""
    latest = list(
        subscribe_records(url, device=DEVICE, camera=CAMERA, latest=True, idle_timeout=2.0)
    )
    assert [record.seq for record in latest] == [last_seq]
    tail = subprocess.run(
        [sys.executable, "-m", "edge.cli", "tail", "--mqtt", url, "--device", DEVICE,
         "--camera", CAMERA, "--no-follow", "--json"],
        capture_output=True, text=True, timeout=30, env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )  # fmt: skip
    assert tail.returncode == 0, tail.stderr
    assert f'"seq": {last_seq}' in tail.stdout or f'"seq":{last_seq}' in tail.stdout
    wildcard = list(subscribe_records(url, latest=True, idle_timeout=1.5))
    assert wildcard == [], "RabbitMQ 3.10 was expected to serve no retained message to a wildcard"
