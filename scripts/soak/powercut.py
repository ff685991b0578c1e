#!/usr/bin/env python3
"""The power-cut loop: ``edge run`` killed with SIGKILL at random moments, again and again.

Each run is a real daemon (the demo frames at a fast frame rate, both demo models, results to
files and to a real Mosquitto started here, through the durable outbox), killed after a random
delay (seeded; the seed is printed, ``--seed`` repeats a sequence). After every kill:

- every new JSONL line parses and is a valid record (the JSON Schema and the project's reader),
  the files end with a newline and never shrank (a kill never tears or loses a written line);
- latest.json parses, is a valid record, and is one of the two newest lines;
- the outbox opens and passes ``PRAGMA integrity_check``, and is never moved aside as corrupt;
- seq strictly increases: within a run by one, and a run continues exactly at the number the
  sequence file had reserved before it started (the SeqCounter block reservation: a crash may
  skip numbers, never repeat one); the gaps are reported;
- the daemon printed no traceback.

At the end two clean runs (stopped by --max-frames) drain the outbox and must continue without
a gap, and a plain paho subscriber that listened from the start must have received every seq
that the files hold: records lost = 0. Prints a summary; exits 1 on any violation.

    .venv/bin/python scripts/soak/powercut.py --runs 60
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from broker import Broker, ResultCounter

CAMERA = "camera"
DEVICE = "powercut"
CLEAN_FRAMES = (20, 5)  # the two clean runs at the end
DRAIN_TIMEOUT_S = 60.0
CLEAN_RUN_TIMEOUT_S = 120.0


@dataclass
class Summary:
    seed: int
    runs: int = 0
    kills: int = 0
    records: int = 0  # JSONL lines checked
    outbox_checks: int = 0
    records_per_run: list[int] = field(default_factory=list)
    restart_gaps: list[int] = field(default_factory=list)  # numbers skipped at each restart
    resent: int = 0  # newest records handed to MQTT again after a crash
    latest_behind: int = 0  # kills that left latest.json one record behind the files
    stale_temporaries: int = 0  # latest.json temporaries left by kills (swept after an hour)
    mqtt_received: int = 0
    mqtt_duplicates: int = 0
    mqtt_only: int = 0  # seqs the broker got that the files lack (a kill between the two)
    lost: int = -1  # seqs in the files that never reached the broker
    violations: list[str] = field(default_factory=list)


class Results:
    """The results directory as checked so far: what was read, where each file ended."""

    def __init__(self, out: Path, summary: Summary) -> None:
        from tests.support.schema import VALIDATOR

        self.directory = out / CAMERA
        self.outbox = out / ".mqtt-outbox.sqlite"
        self.summary = summary
        self.validator = VALIDATOR
        self.offsets: dict[Path, int] = {}
        self.seqs: list[int] = []

    def violation(self, message: str) -> None:
        self.summary.violations.append(message)
        print(f"  VIOLATION: {message}", flush=True)

    def reserved(self) -> int | None:
        """What the sequence file holds now: where the next run must start."""
        path = self.directory / ".seq"
        return int(path.read_text().strip()) if path.exists() else None

    def new_records(self) -> list[dict[str, Any]]:
        """The records appended since the last call, each checked; violations noted."""
        found: list[dict[str, Any]] = []
        for path in sorted(self.directory.glob("results-*.jsonl")):
            data = path.read_bytes()
            start = self.offsets.get(path, 0)
            if len(data) < start:
                self.violation(f"{path.name} shrank from {start} to {len(data)} bytes")
                start = len(data)
            if data and not data.endswith(b"\n"):
                self.violation(f"{path.name}: a torn last line: {data[-80:]!r}")
            for number, line in enumerate(data[start:].splitlines(), 1):
                record = self.check_line(line, f"{path.name}: new line {number}")
                if record is not None:
                    found.append(record)
            self.offsets[path] = len(data)
        self.summary.records += len(found)
        return found

    def check_line(self, line: bytes, where: str) -> dict[str, Any] | None:
        import jsonschema

        from edge.records import RecordError, ResultRecord

        try:
            record: dict[str, Any] = json.loads(line)
            self.validator.validate(record)
            ResultRecord.from_json(line)
        except (ValueError, RecordError, jsonschema.ValidationError) as exc:
            self.violation(f"{where}: not a record ({exc}): {line[:120]!r}")
            return None
        return record

    def check_seqs(self, seqs: list[int], reserved: int | None, restarted: bool) -> None:
        """A run's seqs: consecutive, starting exactly where the sequence file pointed."""
        if not seqs:
            return
        for before, after in itertools.pairwise(seqs):
            if after != before + 1:
                self.violation(f"seq {before} followed by {after} within one run")
        start = reserved or 0
        if seqs[0] != start:
            self.violation(f"the run started at seq {seqs[0]}, the sequence file said {start}")
        if self.seqs:
            if seqs[0] <= self.seqs[-1]:
                self.violation(f"seq {seqs[0]} after {self.seqs[-1]}: repeated or going back")
            elif restarted:
                self.summary.restart_gaps.append(seqs[0] - self.seqs[-1] - 1)
        self.seqs.extend(seqs)

    def check_latest(self) -> None:
        path = self.directory / "latest.json"
        if not path.exists():
            if self.seqs:
                self.violation("latest.json is missing although records were written")
            return
        record = self.check_line(path.read_bytes(), "latest.json")
        if record is None:
            return
        if record["seq"] not in self.seqs[-2:]:
            self.violation(f"latest.json has seq {record['seq']}, the files end {self.seqs[-2:]}")
        elif record["seq"] != self.seqs[-1]:
            self.summary.latest_behind += 1

    def check_outbox(self) -> int:
        """The outbox's integrity, opened as sqlite does and as the daemon does; its depth."""
        from edge.publishers.mqtt.outbox import Outbox

        if not self.outbox.exists():
            return 0
        db = sqlite3.connect(self.outbox)
        try:
            verdict = db.execute("PRAGMA integrity_check").fetchall()
        finally:
            db.close()
        if verdict != [("ok",)]:
            self.violation(f"outbox integrity_check: {verdict}")
        outbox = Outbox(self.outbox)
        try:
            depth = len(outbox)
        finally:
            outbox.close()
        aside = list(self.outbox.parent.glob(f"{self.outbox.name}.corrupt-*"))
        if aside:
            self.violation(f"the outbox was found corrupt and moved aside: {aside[0].name}")
        self.summary.outbox_checks += 1
        return depth


def write_config(path: Path, broker: Broker) -> None:
    path.write_text(
        f'device = "{DEVICE}"\n'
        "[outputs.mqtt]\n"
        f'url = "{broker.url}"\n'
        'client_id = "powercut"\n'
        "reconnect_min = 0.05\nreconnect_max = 0.5\nstats_interval = 1.0\n"
        "flush_timeout = 30.0\n"
    )


def daemon(config: Path, out: Path, fps: float, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "edge.cli", "run", "--quiet", "--config", str(config)]
    command += ["--source", "demo", "--classifier", "demo", "--anomaly", "demo"]
    command += ["--fps", str(fps), "--out", str(out), *extra]
    with log.open("wb") as stderr:
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)


def check_log(log: Path, results: Results) -> None:
    text = log.read_text(errors="replace")
    if "Traceback" in text:
        results.violation(f"{log.name}: the daemon printed a traceback")
    results.summary.resent += text.count("to MQTT after a crash")


def check_reservation(results: Results) -> None:
    """After a kill the sequence file is at least two ahead of the last record (a clean stop
    leaves it exactly one ahead: that is how the next run tells them apart)."""
    reserved = results.reserved()
    if results.seqs and (reserved is None or reserved < results.seqs[-1] + 2):
        results.violation(
            f"after a kill the sequence file says {reserved}, last seq {results.seqs[-1]}"
        )


def kill_run(number: int, delay: float, args: argparse.Namespace, results: Results) -> None:
    reserved = results.reserved()
    log = args.workdir / "logs" / f"run{number:03d}.log"
    process = daemon(args.workdir / "edge.toml", args.workdir / "out", args.fps, log)
    try:
        process.wait(delay)
        results.violation(f"run {number}: the daemon exited by itself ({process.returncode})")
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
        results.summary.kills += 1
    results.summary.runs += 1
    records = results.new_records()
    results.check_seqs([int(r["seq"]) for r in records], reserved, restarted=number > 1)
    results.check_latest()
    depth = results.check_outbox()
    check_log(log, results)
    check_reservation(results)
    results.summary.records_per_run.append(len(records))
    print(
        f"run {number:3d}: killed after {delay:.2f} s, {len(records):4d} new records, "
        f"outbox {depth}, seq file {results.reserved()}",
        flush=True,
    )


def clean_run(name: str, frames: int, args: argparse.Namespace, results: Results) -> None:
    reserved = results.reserved()
    log = args.workdir / "logs" / f"{name}.log"
    out = args.workdir / "out"
    process = daemon(args.workdir / "edge.toml", out, args.fps, log, "--max-frames", str(frames))
    try:
        code = process.wait(CLEAN_RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        code = process.wait()
    results.summary.runs += 1
    if code != 0:
        results.violation(f"{name}: exit code {code}, expected 0 (see {log})")
    records = results.new_records()
    results.check_seqs([int(r["seq"]) for r in records], reserved, restarted=False)
    results.check_latest()
    check_log(log, results)
    if len(records) != frames:
        results.violation(f"{name}: {len(records)} records, expected {frames}")
    print(f"{name}: {len(records)} records, outbox {results.check_outbox()}", flush=True)


def check_delivery(counter: ResultCounter, results: Results) -> None:
    """Every seq in the files reached the broker (at least once)."""
    written = set(results.seqs)
    counter.wait_for(lambda: written <= set(counter.received(CAMERA)), DRAIN_TIMEOUT_S)
    received = counter.received(CAMERA)
    summary = results.summary
    summary.mqtt_received = len(received)
    summary.mqtt_duplicates = len(received) - len(set(received))
    summary.mqtt_only = len(set(received) - written)
    lost = sorted(written - set(received))
    summary.lost = len(lost)
    if lost:
        results.violation(f"{len(lost)} record(s) in the files never reached MQTT: {lost[:20]}")
    if counter.bad:
        results.violation(f"{len(counter.bad)} MQTT result(s) were not records: {counter.bad[0]}")


def report(summary: Summary, elapsed: float) -> None:
    gaps = summary.restart_gaps
    per_run = summary.records_per_run
    print(f"\npower-cut loop, seed {summary.seed}: {elapsed:.0f} s")
    print(f"  runs {summary.runs}, killed with SIGKILL {summary.kills}")
    print(
        f"  records checked {summary.records} (per killed run: min {min(per_run, default=0)}, "
        f"max {max(per_run, default=0)}); outbox checks {summary.outbox_checks}"
    )
    if gaps:
        print(
            f"  seq gaps at restarts: {len(gaps)}, skipped {min(gaps)}..{max(gaps)} numbers "
            f"(mean {sum(gaps) / len(gaps):.0f}; the sequence file reserves blocks ahead)"
        )
    print(
        f"  latest.json one behind after {summary.latest_behind} kill(s); "
        f"{summary.stale_temporaries} latest.json temporaries left"
    )
    print(
        f"  MQTT: {summary.mqtt_received} received, {summary.mqtt_duplicates} duplicates "
        f"(at least once), {summary.mqtt_only} only on MQTT; records lost: {summary.lost}"
    )
    print(f"  newest record resent to MQTT after {summary.resent} crash restart(s)")
    print(f"  violations: {len(summary.violations)}")
    for violation in summary.violations[:20]:
        print(f"    {violation}")


def run(args: argparse.Namespace) -> Summary:
    summary = Summary(seed=args.seed)
    rng = random.Random(args.seed)
    (args.workdir / "logs").mkdir(parents=True, exist_ok=True)
    results = Results(args.workdir / "out", summary)
    with Broker(args.workdir / "broker") as broker:
        write_config(args.workdir / "edge.toml", broker)
        counter = ResultCounter(broker.port).start()
        try:
            for number in range(1, args.runs + 1):
                kill_run(number, rng.uniform(args.min_delay, args.max_delay), args, results)
            for number, frames in enumerate(CLEAN_FRAMES, 1):
                clean_run(f"clean{number}", frames, args, results)
            check_delivery(counter, results)
        finally:
            counter.stop()
    summary.stale_temporaries = len(list(results.directory.glob(".latest.json.*.tmp")))
    return summary


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=60, help="daemons to kill (default 60)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the kill delays")
    parser.add_argument("--fps", type=float, default=200.0, help="frame-rate cap (default 200)")
    parser.add_argument("--min-delay", type=float, default=0.2, help="seconds (default 0.2)")
    parser.add_argument("--max-delay", type=float, default=3.0, help="seconds (default 3.0)")
    parser.add_argument("--workdir", type=Path, default=None, help="kept; default a temp dir")
    parser.add_argument("--json", type=Path, default=None, help="also write the summary here")
    args = parser.parse_args(argv)
    if args.runs < 1 or not 0 < args.min_delay <= args.max_delay:
        parser.error("--runs must be at least 1 and 0 < --min-delay <= --max-delay")
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1 << 31)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    keep = args.workdir is not None
    args.workdir = args.workdir or Path(tempfile.mkdtemp(prefix="edge-powercut-"))
    print(f"power-cut loop: {args.runs} runs, seed {args.seed}, in {args.workdir}", flush=True)
    start = time.monotonic()
    summary = run(args)
    report(summary, time.monotonic() - start)
    if args.json is not None:
        args.json.write_text(json.dumps(asdict(summary), indent=1) + "\n")
    if summary.violations:
        print(f"kept for inspection: {args.workdir}")
        return 1
    if not keep:
        shutil.rmtree(args.workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
