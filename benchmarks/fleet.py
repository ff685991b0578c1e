"""How many daemons one broker carries: N simulated daemons against one Mosquitto.

    .venv/bin/python benchmarks/fleet.py [--steps 50,100,200,400,800] [--seconds 10]
        [--rate 5] [--workers 2] [--repeats 3] [--json OUT]

Each simulated daemon is what the broker sees of one ``edge run``: its own MQTT connection
(client id ``edge-pi-<n>``), a real result record (about 1 kB, from the demo models) published
``--rate`` times a second at QoS 1 to ``edge/pi-<n>/camera/result`` and again, retained, to
``.../state``, with ``availability`` and a last will. The daemons are spread over ``--workers``
processes, each pacing its publishes evenly; one reader subscribes to ``edge/+/+/result`` (as a
fleet dashboard would) and measures, per message, the delivery latency (send to receipt) and,
per daemon, what never arrived. The broker is a fresh Mosquitto per step (tests.support's).

The fleet grows step by step until a step degrades: a message lost, the 99th percentile of
latency over ``--p99-ms`` (250 ms), or the daemons unable to publish at their rate (the load
generator, on the same machine, is then the limit: reported as such). Machines are noisy: each
step runs ``--repeats`` times (3) and is judged on its median run (a message lost in any run
fails it). N, the figure, is the largest healthy step. Everything here runs on one machine, so
the broker shares its cores with the load generator and the reader: N is a floor for the broker
alone.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import threading
import time
from pathlib import Path
from statistics import quantiles
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.mosquitto import Mosquitto

SETTLE_S = 3.0  # after the last publish, how long late messages may still arrive


def record_payload() -> bytes:
    """A real result record of the demo models, as the daemon publishes it."""
    from tests.support.records import make_record

    return make_record(1).to_json().encode()


def _daemon_clients(port: int, first: int, count: int) -> list[paho.Client]:
    clients = []
    for index in range(first, first + count):
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"edge-pi-{index}")
        client.will_set(f"edge/pi-{index}/availability", "offline", qos=1, retain=True)
        client.max_inflight_messages_set(40)
        client.connect("127.0.0.1", port, keepalive=60)
        client.loop_start()
        client.publish(f"edge/pi-{index}/availability", "online", qos=1, retain=True)
        clients.append(client)
    return clients


def run_daemons(port: int, first: int, count: int, pace: tuple[float, float], out: Any) -> None:
    """One worker process: ``count`` daemons publishing ``rate`` results/s for ``seconds``
    (``pace``)."""
    rate, seconds = pace
    body = record_payload()
    clients = _daemon_clients(port, first, count)
    interval = 1.0 / (rate * count)  # the worker's publishes, evenly spread
    start, sent, late = time.monotonic() + 1.0, 0, 0.0
    total = int(seconds * rate) * count
    for n in range(total):
        due = start + n * interval
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        else:
            late = max(late, now - due)
        client, seq = clients[n % count], n // count
        header = json.dumps([first + n % count, seq, time.time()]).encode()
        payload = header + b"\n" + body
        topic = f"edge/pi-{first + n % count}"
        client.publish(f"{topic}/camera/result", payload, qos=1)
        client.publish(f"{topic}/camera/state", body, qos=1, retain=True)
        sent += 1
    time.sleep(SETTLE_S)
    for client in clients:
        client.disconnect()
        client.loop_stop()
    out.put({"sent": sent, "behind_s": late})


class Reader:
    """The fleet's reader: ``edge/+/+/result``, the latency and the seqs of every message."""

    def __init__(self, port: int) -> None:
        self.latencies: list[float] = []
        self.seen: set[tuple[int, int]] = set()
        self.lock = threading.Lock()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id="fleet-reader")
        self.client.on_message = self._message
        self.client.connect("127.0.0.1", port, keepalive=60)
        self.client.subscribe("edge/+/+/result", qos=1)
        self.client.loop_start()

    def _message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        now = time.time()
        head = bytes(message.payload[: message.payload.index(b"\n")])
        daemon, seq, sent = json.loads(head)
        with self.lock:
            self.latencies.append(now - sent)
            self.seen.add((daemon, seq))

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def step(daemons: int, args: argparse.Namespace) -> dict[str, Any]:
    """One fleet size, ``--repeats`` times: the median run's figures, the loss of all runs."""
    runs = sorted((once(daemons, args) for _ in range(args.repeats)), key=lambda r: r["p99_ms"])
    figures = dict(runs[len(runs) // 2])
    figures["lost"] = sum(run["lost"] for run in runs)
    figures["p99_ms_runs"] = [run["p99_ms"] for run in runs]
    figures["healthy"] = (
        figures["lost"] == 0
        and figures["p99_ms"] <= args.p99_ms
        and figures["generator_behind_s"] < 1.0
    )
    return figures


def once(daemons: int, args: argparse.Namespace) -> dict[str, Any]:
    """One fleet size against a fresh broker: its figures."""
    with tempfile.TemporaryDirectory() as directory:
        broker = Mosquitto(Path(directory), persistence=False, extra=["max_queued_messages 100000"])
        with broker:
            reader = Reader(broker.port)
            time.sleep(0.5)
            results = _run_workers(broker.port, daemons, args)
            reader.stop()
    expected = int(args.seconds * args.rate) * daemons
    latencies = sorted(reader.latencies)
    cuts = quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "daemons": daemons,
        "results_per_s": daemons * args.rate,
        "sent": sum(result["sent"] for result in results),
        "received": len(reader.seen),
        "lost": expected - len(reader.seen),
        "p50_ms": round(cuts[49] * 1000, 1),
        "p99_ms": round(cuts[98] * 1000, 1),
        "generator_behind_s": round(max(result["behind_s"] for result in results), 3),
    }


def _run_workers(port: int, daemons: int, args: argparse.Namespace) -> list[dict[str, Any]]:
    out: multiprocessing.Queue[dict[str, Any]] = multiprocessing.Queue()
    shares = [daemons // args.workers + (i < daemons % args.workers) for i in range(args.workers)]
    firsts = [sum(shares[:i]) for i in range(args.workers)]
    workers = [
        multiprocessing.Process(
            target=run_daemons, args=(port, first, share, (args.rate, args.seconds), out)
        )
        for first, share in zip(firsts, shares, strict=True)
        if share
    ]
    for worker in workers:
        worker.start()
    results = [out.get(timeout=args.seconds + 120) for _ in workers]
    for worker in workers:
        worker.join()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", default="50,100,200,400,800,1200")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=5.0, help="results/s per daemon")
    parser.add_argument("--workers", type=int, default=2, help="load generator processes")
    parser.add_argument("--p99-ms", type=float, default=250.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows, carried = [], 0
    for daemons in (int(value) for value in args.steps.split(",")):
        row = step(daemons, args)
        rows.append(row)
        print(json.dumps(row), flush=True)
        if not row["healthy"]:
            break
        carried = daemons
    print(f"one Mosquitto carried {carried} daemons at {args.rate:g} results/s each")
    if args.json:
        args.json.write_text(json.dumps({"carried": carried, "steps": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
