"""How long `make run` takes from a fresh clone to the daemon's first result line.

    .venv/bin/python benchmarks/start.py [--runs 3] [--json OUT]

Each run clones this checkout (its committed HEAD) into a new temporary directory and runs
`make run` there on a pseudo-terminal, as a user would in a terminal: the venv, the install of
the device's dependencies from the package cache (warm after the first run on a machine), the
daemon's start on its embedded default. The time of each command make echoes splits the run
into its phases; the clock stops at the first result line, and the daemon is stopped. The peer
is the same machine's idle state: the load average is reported beside each run. Target: the
median under 60 s. Exits 1 when it is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 60.0
RESULT_LINE = re.compile(rb"^\d\d:\d\d:\d\d\.\d{3} camera ")
PHASES = (("venv", rb" -m venv "), ("install", rb"pip install"), ("daemon", rb"/edge run"))


def _lines(fd: int) -> Any:
    """The lines written to the pseudo-terminal, as they come, with the time of each."""
    buffer = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the other end closed
            return
        if not chunk:
            return
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            yield time.monotonic(), line.rstrip(b"\r")


def one_run(timeout: float = 300.0) -> dict[str, Any]:
    """Seconds from `make run` in a fresh clone to its first result line, and its phases."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    with tempfile.TemporaryDirectory(prefix="edge-start-") as tmp:
        clone = Path(tmp) / "edge-vision"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        load = os.getloadavg()[0]
        primary, secondary = pty.openpty()
        start = time.monotonic()
        proc = subprocess.Popen(
            ["make", "run"], cwd=clone, env=env, stdin=subprocess.DEVNULL,
            stdout=secondary, stderr=secondary, start_new_session=True,
        )  # fmt: skip
        os.close(secondary)
        marks: dict[str, float] = {}
        first = None
        try:
            for when, line in _lines(primary):
                for phase, pattern in PHASES:
                    if pattern in line and phase not in marks:
                        marks[phase] = when - start
                if RESULT_LINE.match(line):
                    first = when - start
                    break
                if when - start > timeout:
                    break
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            os.close(primary)
    if first is None:
        raise SystemExit("make run gave no result line; run it by hand to see why")
    begins = [marks.get(phase) for phase, _ in PHASES] + [first]
    spans = {
        phase: round(end - begin, 2)
        for (phase, _), begin, end in zip(PHASES, begins, begins[1:], strict=False)
        if begin is not None and end is not None
    }
    return {"first_result_s": round(first, 2), "phases_s": spans, "load": round(load, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    runs = []
    for n in range(args.runs):
        runs.append(one_run())
        print(f"run {n + 1}: {json.dumps(runs[-1])}", flush=True)
    found = median(run["first_result_s"] for run in runs)
    print(f"| `make run` in a fresh clone to the first result, median of {args.runs} | "
          f"{found:.1f} s | < {TARGET_S:.0f} s |")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "median_s": found}, indent=2))
    if found >= TARGET_S:
        print(f"MISSED: make run takes {found:.1f} s to its first result (target < 60 s)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
