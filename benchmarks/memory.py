"""The daemon's peak memory with both demo models, and where it goes, import by import.

    .venv/bin/python benchmarks/memory.py [--json OUT] [--frames 30]

- peak: VmHWM (from /proc/<pid>/status) of a real ``edge run`` process alone (the embedded
  default: the demo source, the demo classifier and autoencoder, results to files, the page
  on a free port) after it has written ``--frames`` records; target < 90 MB. Beside it, the
  same after the page, its picture and /metrics were fetched once (what a visit or a
  Prometheus scrape adds).
- breakdown: a fresh process doing what the daemon does, step by step (the interpreter, NumPy,
  OpenCV, LiteRT, pydantic, the config, the command line, the two models, the publishers, the
  page's server, 20 frames, one annotated snapshot), with the resident size after each step,
  split into anonymous memory and pages of mapped files (shared libraries); its last row, the
  rest, is what the daemon's peak adds to that one-thread process: its threads (a camera's,
  the page's, the snapshots'), with their stacks and buffers. The file part depends on the
  page cache (how the kernel mapped the library files), so it differs a little between
  installs.

Exits 1 when the target is missed.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET_MB = 90.0

STEPS = r"""
import json, sys
def status():
    lines = open("/proc/self/status").read().splitlines()
    fields = dict(l.split(":", 1) for l in lines if ":" in l)
    return {k: int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "RssAnon", "RssFile")}
steps = [("python", status())]
def step(name):
    steps.append((name, status()))
import numpy; step("numpy")
import cv2; step("opencv")
import ai_edge_litert.interpreter; step("LiteRT")
import pydantic; step("pydantic")
from edge.config import default_config
config = default_config(); step("edge.config + default config")
from edge.cli import build_parser
build_parser().parse_args(["run", "--source", "demo"]); step("command line (edge run)")
from edge.camera import build_stages
stages = build_stages(config.cameras[0]); step("both demo models")
import edge.daemon, edge.publishers.files, edge.records.files; step("daemon, publishers")
import edge.web.server; step("the page's server (http.server, ssl)")
from edge.pipeline import Pipeline
from edge.sources import create_source
from itertools import count
pipeline = Pipeline("bench", stages, count().__next__)
with create_source("demo", camera="bench", fps=None) as source:
    for _ in range(20):
        frame = source.read(timeout=5.0)
        record = pipeline.process(frame, 0.0)
step("20 frames")
from edge.web.annotate import annotate, encode_jpeg
encode_jpeg(annotate(frame.rgb, record, config.web.snapshot_width)); step("an annotated snapshot")
print(json.dumps(steps))
"""


def _status(pid: int) -> dict[str, float]:
    text = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    keys = ("VmHWM", "VmRSS", "RssAnon", "RssFile")
    return {key: int(fields[key].split()[0]) / 1024.0 for key in keys}


def _records(out: Path) -> int:
    return sum(len(p.read_bytes().splitlines()) for p in out.glob("*/results-*.jsonl"))


def daemon_peak(frames: int, visit: bool = False, timeout: float = 120.0) -> dict[str, float]:
    """VmHWM of ``edge run`` (embedded default, demo source) after ``frames`` records; with
    ``visit``, after its page, a picture and /metrics were fetched once as well."""
    with tempfile.TemporaryDirectory(prefix="edge-memory-") as out:
        command = [sys.executable, "-m", "edge.cli", "run", "--source", "demo", "--quiet"]
        log = Path(out) / "daemon.log"
        with log.open("wb") as stderr:
            proc = subprocess.Popen(
                [*command, "--out", out, "--web", "127.0.0.1:0"],
                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr,
            )  # fmt: skip
        try:
            deadline = time.monotonic() + timeout
            while _records(Path(out)) < frames:
                if proc.poll() is not None or time.monotonic() > deadline:
                    tail = log.read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"edge run wrote no {frames} records:\n{tail}")
                time.sleep(0.1)
            if visit:
                _visit(log.read_text(errors="replace"))
            return _status(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def _visit(log: str) -> None:
    """Fetch the page, its status, a picture and /metrics (twice) from the daemon's page."""
    found = re.search(r"live page on (http://\S+/)", log)
    if found is None:
        raise RuntimeError(f"edge run serves no page:\n{log[-2000:]}")
    for path in ("", "api/status", "api/cameras/camera/latest.jpg", "metrics", "metrics"):
        with urllib.request.urlopen(found.group(1) + path, timeout=10) as response:
            response.read()
    time.sleep(0.5)


def breakdown() -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-c", STEPS], cwd=ROOT, capture_output=True, text=True, check=True,
        timeout=120,
    )  # fmt: skip
    steps = json.loads(done.stdout.strip().splitlines()[-1])
    rows, before = [], None
    for name, now in steps:
        delta = {key: now[key] - (before[key] if before else 0.0) for key in now}
        rows.append({"step": name, "after": now, "added": delta})
        before = now
    return rows


def table(peak: dict[str, float], visited: dict[str, float], rows: list[dict[str, Any]]) -> str:
    lines = [
        "| step | adds MB (anonymous + files) | resident after, MB |",
        "|---|---|---|",
    ]
    for row in rows:
        added = row["added"]
        lines.append(
            f"| {row['step']} | {added['VmRSS']:.1f} ({added['RssAnon']:.1f} + "
            f"{added['RssFile']:.1f}) | {row['after']['VmRSS']:.1f} |"
        )
    rest = peak["VmHWM"] - rows[-1]["after"]["VmRSS"]
    lines.append(f"| the rest: `edge run`'s threads (camera, page, snapshots) | {rest:.1f} | |")
    lines.append(
        f"| **`edge run` peak (VmHWM), both demo models** | anonymous {peak['RssAnon']:.1f}, "
        f"files {peak['RssFile']:.1f} | **{peak['VmHWM']:.1f}** (target < {TARGET_MB:g}) |"
    )
    lines.append(
        f"| the same after its page, a picture and /metrics were fetched once | anonymous "
        f"{visited['RssAnon']:.1f}, files {visited['RssFile']:.1f} | {visited['VmHWM']:.1f} |"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--frames", type=int, default=30, help="records before measuring")
    args = parser.parse_args()
    peak = daemon_peak(args.frames)
    visited = daemon_peak(args.frames, visit=True)
    rows = breakdown()
    if args.json:
        figures = {"peak": peak, "visited": visited, "steps": rows}
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    print(table(peak, visited, rows))
    if peak["VmHWM"] >= TARGET_MB:
        print(f"MISSED: edge run peaks at {peak['VmHWM']:.1f} MB (target < {TARGET_MB:g} MB)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
