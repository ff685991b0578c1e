"""``edge bench``: what this device achieves, measured on the device itself.

It runs the daemon's own stages (:class:`edge.pipeline.Pipeline`) on frames read from a source,
as fast as the source delivers them (files, folders and the demo unpaced and looped), and after
every frame times one bare ``invoke()`` of the same classifier interpreter, so the classify
stage and the interpreter alone are measured side by side under the same load. Publishing is
left out: it costs what the disk or the broker costs, not what this device computes.

``--json`` prints one object with these keys:

    device          {"machine", "cpu", "cpus", "python", "numpy", "opencv", "runtime"}
    model           the classifier bundle's name; ``anomaly``: the autoencoder's, or null
    source, threads, frames   as measured (warm-up frames not counted)
    stages_ms       {"capture"|"colors"|"classify"|"anomaly"|"candidate"|"total": {"p50",
                    "p95", "p99"}}; anomaly is null without --anomaly, candidate without
                    --candidate (it runs in shadow: not in total)
    candidate       with --candidate: {"model", "compared", "agreement", "confusion",
                    "latency_ms"} (edge.shadow), else null
    invoke_ms       {"p50", "p95", "p99"}: the bare interpreter invoke of the classifier
    classify_ratio  classify p50 / invoke p50 (1.0 would be a free pipeline around the model)
    fps             frames per second of wall-clock time (bare invokes not counted)
    fps_per_core    frames per second of this process's CPU time (all its threads)
    rss_mb          {"current", "peak"}: resident memory of this process (peak may be null)
"""

from __future__ import annotations

import argparse
import inspect
import itertools
import json
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edge.commands.args import positive_int
from edge.errors import ConfigError, SourceError, UsageError
from edge.percentiles import summary
from edge.shadow import ShadowTally

if TYPE_CHECKING:
    from edge.frames import Frame
    from edge.pipeline import Pipeline
    from edge.sources import FrameSource

STAGES = ("capture", "colors", "classify", "anomaly", "candidate", "total")
WARMUP_FRAMES = 3
FRAME_TIMEOUT_S = 10.0
PERCENTILES = {"p50": 0.50, "p95": 0.95, "p99": 0.99}  # nearest rank, see edge.percentiles
DEMO = "demo"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", default=DEMO, help="classifier bundle (.tflite) or 'demo' (default)"
    )
    parser.add_argument("--anomaly", help="also run this autoencoder bundle (.tflite) or 'demo'")
    parser.add_argument(
        "--candidate", help="also run this classifier bundle in shadow: agreement and latency"
    )
    parser.add_argument(
        "--source", default=DEMO, help="frame source, e.g. picamera2, v4l2:0, folder:DIR (demo)"
    )
    parser.add_argument(
        "--frames", type=positive_int, default=100, help="frames to measure (default 100)"
    )
    parser.add_argument(
        "--threads", type=positive_int, default=1, help="interpreter threads (default 1)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    from edge.camera import model_size

    unpaced_source(args.source)  # a wrong spec fails before the models load
    pipeline = make_pipeline(args.model, args.anomaly, args.threads, args.candidate)
    source = unpaced_source(args.source, model_size(pipeline.stages))  # as edge run makes it
    with source:
        samples = measure(pipeline, source, args.frames)
    report = make_report(args, pipeline, samples)
    print(json.dumps(report) if args.json else format_report(report), flush=True)
    return 0


# -- measuring -----------------------------------------------------------------------------


@dataclass
class Samples:
    """Per-stage milliseconds of every measured frame, the bare invokes, and the time spent."""

    stages: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STAGES})
    invoke: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    cpu_s: float = 0.0
    shadow: ShadowTally = field(default_factory=ShadowTally)


def measure(pipeline: Pipeline, source: FrameSource, frames: int) -> Samples:
    """Process ``frames`` frames (after a short warm-up), each followed by one bare invoke."""
    samples = Samples()
    for n in range(WARMUP_FRAMES + frames):
        wall, cpu = time.perf_counter(), time.process_time()
        frame, capture_ms = _read(source)
        record = pipeline.process(frame, capture_ms)
        timing = record.timing_ms
        if n < WARMUP_FRAMES:
            _bare_invoke(pipeline)
            continue
        samples.wall_s += time.perf_counter() - wall
        samples.cpu_s += time.process_time() - cpu
        for stage in STAGES:
            value = getattr(timing, stage)
            if value is not None:
                samples.stages[stage].append(float(value))
        samples.invoke.append(_bare_invoke(pipeline))
        samples.shadow = samples.shadow.add(record)
    return samples


def _read(source: FrameSource) -> tuple[Frame, float]:
    start = time.perf_counter()
    while time.perf_counter() - start < FRAME_TIMEOUT_S:
        read_start = time.perf_counter()
        frame = source.read(timeout=FRAME_TIMEOUT_S)
        if frame is not None:  # the work of reading it, without waiting for it
            work = time.perf_counter() - read_start - source.waited
            return frame, max(0.0, work) * 1000.0
    raise SourceError(f"{source.spec}: no frame in {FRAME_TIMEOUT_S:g} s; is the camera busy?")


def _bare_invoke(pipeline: Pipeline) -> float:
    """Milliseconds of one invoke() of the classifier's interpreter, nothing around it."""
    classifier = pipeline.stages.classifier
    if classifier is None:  # pragma: no cover - the bench always has a classifier
        return 0.0
    interpreter = classifier.model.interpreter
    start = time.perf_counter()
    interpreter.invoke()
    return (time.perf_counter() - start) * 1000.0


# -- the parts -----------------------------------------------------------------------------


def make_pipeline(
    model: str, anomaly: str | None, threads: int, candidate: str | None = None
) -> Pipeline:
    """The daemon's stages for one camera with these bundles ("demo" for the shipped ones)."""
    from edge.camera import build_stages
    from edge.config import CameraConfig
    from edge.pipeline import Pipeline

    if not model:
        raise UsageError("--model needs a classifier bundle (.tflite) or 'demo'")
    camera = CameraConfig(
        name="bench", num_threads=threads, classifier=model, anomaly=anomaly or "",
        candidate=candidate or "",
    )  # fmt: skip
    stages = build_stages(camera)
    return Pipeline(platform.node() or "device", stages, itertools.count().__next__)


def unpaced_source(spec: str, model: tuple[int, int] | None = None) -> FrameSource:
    """The source, unpaced and looped when it is a file, a folder or the demo; a Pi camera
    also delivers a picture at the classifier's input size ``model``, as under ``edge run``.
    A wrong spec is a UsageError naming --source."""
    from edge.sources import create_source, parse_spec, source_class

    try:
        cls = source_class(parse_spec(spec)[0], spec)
        accepted = inspect.signature(cls).parameters
        options: dict[str, Any] = {}
        if model is not None and "model_size" in accepted:
            options["model_size"] = model
        if not cls.live:
            wanted = {"fps": None, "realtime": False, "loop": True}
            options.update({name: value for name, value in wanted.items() if name in accepted})
        return create_source(spec, camera="bench", **options)
    except ConfigError as exc:
        raise UsageError(f"--source: {exc}") from None


def rss_mb() -> tuple[float | None, float | None]:
    """(current, peak) resident memory of this process in MB, from /proc or getrusage."""
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        status = ""
    found = {
        key: int(value.split()[0]) / 1024.0
        for key, _, value in (line.partition(":") for line in status.splitlines())
        if key in ("VmRSS", "VmHWM")
    }
    if "VmRSS" in found:
        return found["VmRSS"], found.get("VmHWM")
    import resource  # no /proc: only the peak is known (kilobytes on Linux, bytes on macOS)

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return None, peak / (1024.0 * 1024.0 if sys.platform == "darwin" else 1024.0)


# -- the report ----------------------------------------------------------------------------


def _summary(values: list[float]) -> dict[str, float] | None:
    return summary(values, PERCENTILES, digits=4)


def cpu_name() -> str | None:
    """The CPU's model name (x86), or the board's (a Raspberry Pi's "Model"), from /proc/cpuinfo."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip().lower(), value.strip())
    return fields.get("model name") or fields.get("model") or fields.get("hardware")


def _device() -> dict[str, Any]:
    import os

    import cv2
    import numpy as np

    from edge.inference.runtime import backend

    return {
        "machine": platform.machine(),
        "cpu": cpu_name(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "opencv": cv2.__version__,
        "runtime": backend().name,
    }


def make_report(args: argparse.Namespace, pipeline: Pipeline, samples: Samples) -> dict[str, Any]:
    stages = pipeline.stages
    classify, invoke = _summary(samples.stages["classify"]), _summary(samples.invoke)
    ratio = classify["p50"] / invoke["p50"] if classify and invoke and invoke["p50"] > 0 else None
    current, peak = rss_mb()
    frames = len(samples.invoke)
    return {
        "device": _device(),
        "model": stages.classifier.name if stages.classifier else None,
        "anomaly": stages.detector.name if stages.detector else None,
        "source": args.source,
        "threads": args.threads,
        "frames": frames,
        "stages_ms": {stage: _summary(samples.stages[stage]) for stage in STAGES},
        "invoke_ms": invoke,
        "candidate": samples.shadow.as_dict() if samples.shadow.compared else None,
        "classify_ratio": round(ratio, 4) if ratio is not None else None,
        "fps": round(frames / samples.wall_s, 2) if samples.wall_s > 0 else None,
        "fps_per_core": round(frames / samples.cpu_s, 2) if samples.cpu_s > 0 else None,
        "rss_mb": {
            "current": round(current, 1) if current is not None else None,
            "peak": round(peak, 1) if peak is not None else None,
        },
    }


def _row(name: str, values: dict[str, float] | None) -> str:
    if values is None:
        return f"  {name:<12} {'-':>8} {'-':>8} {'-':>8}"
    return f"  {name:<12} {values['p50']:8.3f} {values['p95']:8.3f} {values['p99']:8.3f}"


def _number(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{value:.1f}{unit}"


def format_report(report: dict[str, Any]) -> str:
    device = report["device"]
    anomaly = f" + {report['anomaly']}" if report["anomaly"] else ""
    lines = [
        f"edge bench: {report['model']}{anomaly} on {report['source']}, "
        f"{report['frames']} frames, {report['threads']} thread(s), "
        f"{device['runtime']} on {device['cpu'] or device['machine']} ({device['cpus']} CPUs)",
        f"  {'stage':<12} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}",
    ]
    lines += [_row(stage, report["stages_ms"][stage]) for stage in STAGES]
    lines.append(_row("bare invoke", report["invoke_ms"]))
    shadow = report["candidate"]
    if shadow is not None:
        lines.append(f"  candidate {shadow['model']}: agrees on {shadow['agreement']:.1%} of "
                     f"{shadow['compared']} frames; live -> candidate: "
                     + ", ".join(f"{live}->{cand} {n}" for live, row in shadow["confusion"].items()
                                 for cand, n in row.items()))  # fmt: skip
    ratio = report["classify_ratio"]
    rss = report["rss_mb"]
    lines += [
        f"  classify / bare invoke: {'-' if ratio is None else f'{ratio:.2f}x'}",
        f"  {_number(report['fps'])} frames/s, {_number(report['fps_per_core'])} per CPU core",
        f"  memory: {_number(rss['current'], ' MB')} resident, peak {_number(rss['peak'], ' MB')}",
    ]
    return "\n".join(lines)
