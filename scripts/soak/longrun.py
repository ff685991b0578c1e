#!/usr/bin/env python3
"""The long run: many frames through the daemon's own loop, watching memory, files and threads.

The daemon's run loop (edge.daemon.Daemon: camera thread, pipeline, publishers) runs in
this process on the demo frames at no frame-rate cap, with both demo models (colors,
classifier, autoencoder) and both publishers: the daily JSONL files and MQTT through the
durable outbox to a real Mosquitto started here. A second client (mosquitto_sub, another
process) counts what the broker delivered. Every ``--sample-every`` frames it records
resident memory (VmRSS), open file descriptors and threads (both from /proc/self). After the
warm-up (the first ``--warmup`` fraction of the frames) RSS may grow by less than
``--rss-limit-mb`` and the descriptors and threads not at all, compared at the end of the
warm-up and at the end of the run (RSS as the median of three samples; descriptors and threads
as the fewest of eleven, since files open for a moment are not leaks). Exits 1 otherwise, or if
a record is missing from the files or from MQTT.

    .venv/bin/python scripts/soak/longrun.py --frames 100000
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from broker import Broker

CAMERA = "camera"
DEVICE = "longrun"
POLL_S = 0.05
DELIVERY_TIMEOUT_S = 120.0


@dataclass
class Sample:
    frames: int
    seconds: float
    rss_kb: int
    fds: int
    threads: int


@dataclass
class Report:
    frames: int = 0
    seconds: float = 0.0
    samples: list[Sample] = field(default_factory=list)
    warmup: dict[str, float] = field(default_factory=dict)
    end: dict[str, float] = field(default_factory=dict)
    growth: dict[str, float] = field(default_factory=dict)
    file_records: int = 0
    mqtt_acknowledged: int = 0
    mqtt_received: int = 0
    outbox_left: int = 0
    violations: list[str] = field(default_factory=list)


def measure(frames: int, started: float) -> Sample:
    status = Path("/proc/self/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return Sample(
        frames=frames,
        seconds=round(time.monotonic() - started, 2),
        rss_kb=int(fields["VmRSS"].split()[0]),
        fds=sum(1 for _ in Path("/proc/self/fd").iterdir()),
        threads=int(fields["Threads"]),
    )


class Sampler(threading.Thread):
    """Samples the process each time the camera has processed another ``every`` frames."""

    def __init__(self, processed: Any, every: int, total: int) -> None:
        super().__init__(name="soak-sampler", daemon=True)
        self.processed = processed  # () -> frames so far
        self.every = every
        self.total = total
        self.samples: list[Sample] = []
        self.started = time.monotonic()
        self.done = threading.Event()

    def run(self) -> None:
        due = self.every
        while not self.done.is_set():
            frames = self.processed()
            if frames >= due:
                self.samples.append(measure(frames, self.started))
                due = (frames // self.every + 1) * self.every
                if len(self.samples) % 10 == 0:
                    last = self.samples[-1]
                    print(
                        f"{frames:7d} frames {last.seconds:7.1f} s  rss {last.rss_kb / 1024:6.1f}"
                        f" MB  fds {last.fds}  threads {last.threads}",
                        flush=True,
                    )
            if frames >= self.total:
                return
            time.sleep(POLL_S)


def median_around(samples: list[Sample], index: int) -> dict[str, float]:
    """RSS as the median of three samples around ``index``; descriptors and threads as the
    fewest in eleven: a file open for a moment (the outbox's journal, latest.json's temporary)
    is not a leak, and a leak raises even the fewest."""
    window = samples[max(0, index - 1) : index + 2]
    wide = samples[max(0, index - 5) : index + 6]
    return {
        "frames": window[len(window) // 2].frames,
        "rss_mb": round(statistics.median(s.rss_kb for s in window) / 1024, 2),
        "fds": min(s.fds for s in wide),
        "threads": min(s.threads for s in wide),
    }


def judge(report: Report, warmup: float, rss_limit_mb: float) -> None:
    samples = report.samples
    if len(samples) < 6:
        report.violations.append(f"only {len(samples)} samples: use more frames")
        return
    start = next(i for i, s in enumerate(samples) if s.frames >= warmup * report.frames)
    report.warmup = median_around(samples, max(1, start))
    report.end = median_around(samples, len(samples) - 2)
    report.growth = {key: round(report.end[key] - report.warmup[key], 2) for key in report.end}
    if rss_limit_mb and report.growth["rss_mb"] >= rss_limit_mb:
        report.violations.append(
            f"resident memory grew {report.growth['rss_mb']} MB after the warm-up "
            f"(limit {rss_limit_mb} MB)"
        )
    for key in ("fds", "threads"):
        if report.growth[key] > 0:
            report.violations.append(f"{key} grew by {report.growth[key]} after the warm-up")


def daemon_args(out: Path, broker: Broker, frames: int) -> argparse.Namespace:
    return argparse.Namespace(
        config=None, source="demo", classifier="demo", anomaly="demo", fps=0.0, out=out,
        mqtt=broker.url, max_frames=frames, quiet=True, verbose=False,
    )  # fmt: skip


def run_daemon_loop(args: argparse.Namespace, report: Report, sample_every: int) -> Any:
    """The daemon's own loop until ``max_frames``; the MQTT publisher it used."""
    from edge.daemon import Daemon, load_run_config
    from edge.service import Notifier, Supervisor

    config = load_run_config(args)
    config = config.model_copy(update={"device": DEVICE})
    daemon = Daemon(config, args, print)
    processed = lambda: sum(w.pipeline.stats.processed for w in daemon.workers)  # noqa: E731
    sampler = Sampler(processed, sample_every, args.max_frames)
    sampler.start()
    daemon.run(Supervisor(Notifier()), threading.Event(), threading.Event())
    worker = daemon.workers[0]
    sampler.done.set()
    sampler.join()
    report.samples = sampler.samples
    report.frames = worker.pipeline.stats.processed
    report.seconds = round(time.monotonic() - sampler.started, 1)
    return next(p for p in daemon.outputs.publishers if p.name == "mqtt")


def count_file_records(out: Path) -> int:
    return sum(path.read_bytes().count(b"\n") for path in (out / CAMERA).glob("results-*.jsonl"))


def subscriber(port: int, log: Path) -> subprocess.Popen[bytes]:
    """mosquitto_sub printing one line (the payload's length) per result delivered."""
    command = ["mosquitto_sub", "-p", str(port), "-h", "127.0.0.1", "-q", "1", "-i", "soak-sub"]
    command += ["-t", f"edge/{DEVICE}/{CAMERA}/result", "-F", "%l"]
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    time.sleep(0.5)  # subscribed before the first result
    return process


def wait_received(log: Path, expected: int) -> int:
    deadline = time.monotonic() + DELIVERY_TIMEOUT_S
    while time.monotonic() < deadline:
        received = log.read_bytes().count(b"\n")
        if received >= expected:
            return received
        time.sleep(0.2)
    return log.read_bytes().count(b"\n")


def soak(args: argparse.Namespace) -> Report:
    report = Report()
    out = args.workdir / "out"
    with Broker(args.workdir / "broker") as broker:
        received_log = args.workdir / "received.txt"
        listener = subscriber(broker.port, received_log)
        try:
            mqtt = run_daemon_loop(daemon_args(out, broker, args.frames), report, args.sample_every)
            report.mqtt_received = wait_received(received_log, report.frames)
        finally:
            listener.terminate()
            listener.wait()
    report.mqtt_acknowledged = mqtt.counts["sent"]
    report.outbox_left = len(mqtt.outbox)
    report.file_records = count_file_records(out)
    for what, count in (
        ("records in the files", report.file_records),
        ("results acknowledged by the broker", report.mqtt_acknowledged),
        ("results received by the subscriber", report.mqtt_received),
    ):
        if count < report.frames:
            report.violations.append(f"{what}: {count}, expected {report.frames}")
    judge(report, args.warmup, args.rss_limit_mb)
    return report


def print_report(report: Report) -> None:
    rate = report.frames / report.seconds if report.seconds else 0.0
    print(f"\nlong run: {report.frames} frames in {report.seconds:.0f} s ({rate:.0f} fps)")
    print(f"  after warm-up ({report.warmup.get('frames', 0):.0f} frames): {report.warmup}")
    print(f"  at the end: {report.end}")
    print(f"  growth: {report.growth}")
    print(
        f"  records: files {report.file_records}, MQTT acknowledged {report.mqtt_acknowledged},"
        f" received {report.mqtt_received}, outbox left {report.outbox_left}"
    )
    print(f"  violations: {len(report.violations)}")
    for violation in report.violations:
        print(f"    {violation}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--frames", type=int, default=100_000, help="default 100000")
    parser.add_argument("--sample-every", type=int, default=0, help="default frames/200")
    parser.add_argument("--warmup", type=float, default=0.1, help="fraction (default 0.1)")
    parser.add_argument(
        "--rss-limit-mb", type=float, default=5.0, help="allowed growth (default 5; 0: no check)"
    )
    parser.add_argument("--workdir", type=Path, default=None, help="kept; default a temp dir")
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = parser.parse_args(argv)
    if args.frames < 100 or not 0 < args.warmup < 0.9:
        parser.error("--frames must be at least 100 and --warmup between 0 and 0.9")
    args.sample_every = args.sample_every or max(1, args.frames // 200)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    keep = args.workdir is not None
    args.workdir = args.workdir or Path(tempfile.mkdtemp(prefix="edge-longrun-"))
    print(f"long run: {args.frames} frames, in {args.workdir}", flush=True)
    report = soak(args)
    print_report(report)
    if args.json is not None:
        args.json.write_text(json.dumps(asdict(report), indent=1) + "\n")
    if report.violations:
        print(f"kept for inspection: {args.workdir}")
        return 1
    if not keep:
        shutil.rmtree(args.workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
