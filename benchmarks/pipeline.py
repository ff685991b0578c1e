"""The pipeline's figures, each a ratio or a pair measured side by side in one run.

    .venv/bin/python benchmarks/pipeline.py [--json OUT] [--markdown] [--sizes 96,160,224]
        [--threads 1,2] [--alpha 0.35]

- classify stage / bare invoke: a MobileNetV2 (alpha 0.35, random weights, full int8 with
  inputs normalized 0..1 as ``edge convert`` makes them, built once with TensorFlow and cached
  under benchmarks/.cache/) in a real ``Pipeline``: the classify stage as the pipeline times it
  (crop, resize, quantize, invoke, dequantize, top-k) and a bare ``invoke()`` of the same
  interpreter after each frame, for each size and thread count, on 640x480 frames and on frames
  that carry the picture a Pi camera's ISP delivers at the model's size (``Frame.model_rgb``,
  e.g. 128x96 for 96x96: cropped, not resized); target <= 1.15 on the model's picture at 96x96
  with the daemon's default one thread (the rest is reported beside it).
- int8 against float: the same network's int8 and float TFLite models invoked alternately.
- the device's resize (halvings, then bilinear) against cv2.INTER_AREA, 640x480 to the input.
- the daemon's stages at full speed on the demo (both demo bundles, demo frames unpaced):
  frames per second of wall time and of CPU time (per core); target >= 30 per core.

The daemon's memory is benchmarks/memory.py's one figure (the peak of a real ``edge run`` with
both demo models, and where it goes), not measured here.

Timings are medians over interleaved, repeated runs: machines are noisy. Exits 1 when a target
is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from functools import partial
from itertools import count
from pathlib import Path
from statistics import median
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from mobilenet import FRAME_SIZE, mobilenet  # noqa: E402

from edge.commands.bench import Samples, cpu_name, make_pipeline, measure, unpaced_source  # noqa: E402
from edge.inference.bundle import load_bundle  # noqa: E402

RATIO_TARGET = 1.15
RATIO_JUDGED_AT = (96, 1, "model")  # (input size, threads, picture): the default one thread
FPS_PER_CORE_TARGET = 30.0


# -- in-process measurements -----------------------------------------------------------------


def frames(n: int = 8) -> list[np.ndarray]:
    """Distinct 640x480 frames with some structure (smoothed noise), as a camera gives."""
    import cv2

    rng = np.random.default_rng(1)
    return [
        cv2.GaussianBlur(rng.integers(0, 256, FRAME_SIZE, dtype=np.uint8), (0, 0), 3)
        for _ in range(n)
    ]


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000.0


def isp_size(size: int) -> tuple[int, int]:
    """The picture a Pi 5 camera delivers for a size x size model beside a 640x480 frame."""
    from edge.sources.picamera2 import model_stream_size

    found = model_stream_size((FRAME_SIZE[1], FRAME_SIZE[0]), (size, size), 64)
    assert found is not None
    return found


def classify_vs_invoke(
    bundle: Path, threads: int, rounds: int, picture: str = "frame"
) -> dict[str, float]:
    """Median ms of the classify stage, as the pipeline times it on 640x480 frames (with the
    model's picture beside them when ``picture`` is "model"), and of a bare invoke of the same
    interpreter right after each frame."""
    import cv2

    from edge.config import CameraConfig
    from edge.frames import Frame
    from edge.inference.classify import Classifier
    from edge.inference.colors import ColorTracker
    from edge.pipeline import Pipeline, Stages

    camera = CameraConfig(num_threads=threads)
    classifier = Classifier(load_bundle(bundle), threads)
    tracker = ColorTracker(k=camera.colors.k, size=camera.colors.size)
    pipeline = Pipeline("bench", Stages(camera, tracker, classifier, None), count().__next__)
    images, captured = frames(), np.empty(FRAME_SIZE, np.uint8)
    size = isp_size(classifier.model.preprocess.width)
    pictures = [cv2.resize(image, size, interpolation=cv2.INTER_AREA) for image in images]
    small = np.empty_like(pictures[0])
    stage_ms: list[float] = []
    invoke_ms: list[float] = []
    for n in range(rounds + 10):
        np.copyto(captured, images[n % len(images)])  # the camera writes a new frame
        np.copyto(small, pictures[n % len(images)])
        model_rgb = small if picture == "model" else None
        frame = Frame(
            rgb=captured, camera="bench", seq=n, timestamp=time.time(), model_rgb=model_rgb
        )
        stage = pipeline.process(frame, 0.0).timing_ms.classify
        bare = _timed(classifier.model.interpreter.invoke)
        if n >= 10 and stage is not None:  # after a warm-up
            stage_ms.append(stage)
            invoke_ms.append(bare)
    classify, bare = median(stage_ms), median(invoke_ms)
    return {
        "threads": threads,
        "picture": f"{size[0]}x{size[1]}" if picture == "model" else "640x480",
        "classify_ms": classify,
        "invoke_ms": bare,
        "ratio": classify / bare,
    }


def resize_vs_area(size: int, rounds: int) -> dict[str, float]:
    """Median ms of the device's resize (halvings, then bilinear) and of cv2.INTER_AREA, from
    640x480 frames to the model's input, alternated."""
    import cv2

    from edge.inference.preprocess import FramePreprocessor, Preprocess

    ours = FramePreprocessor(Preprocess(size, size))
    area = np.empty((size, size, 3), np.uint8)
    images = frames()
    times: dict[str, list[float]] = {"halvings_ms": [], "area_ms": []}
    for n in range(rounds + 10):
        crop = images[n % len(images)][:, 80:560]  # the centered 480x480 square
        mine = _timed(partial(ours, images[n % len(images)]))
        theirs = _timed(
            partial(cv2.resize, crop, (size, size), dst=area, interpolation=cv2.INTER_AREA)
        )
        if n >= 10:
            times["halvings_ms"].append(mine)
            times["area_ms"].append(theirs)
    result = {name: median(values) for name, values in times.items()}
    return {**result, "speedup": result["area_ms"] / result["halvings_ms"]}


def int8_vs_float(int8: Path, float_path: Path, threads: int, rounds: int) -> dict[str, float]:
    """Median invoke ms of the int8 and the float model, alternated."""
    from edge.inference.runtime import make_interpreter

    interpreters = {
        "int8": make_interpreter(load_bundle(int8).model_bytes, threads),
        "float": make_interpreter(float_path.read_bytes(), threads),
    }
    times: dict[str, list[float]] = {name: [] for name in interpreters}
    for n in range(rounds + 10):
        for name, interpreter in interpreters.items():
            ms = _timed(interpreter.invoke)
            if n >= 10:
                times[name].append(ms)
    result = {f"{name}_ms": median(values) for name, values in times.items()}
    return {"threads": threads, **result, "speedup": result["float_ms"] / result["int8_ms"]}


def demo_full_speed(frame_count: int) -> dict[str, float]:
    """The daemon's stages on the demo (both bundles, frames unpaced): fps and fps per core."""
    pipeline = make_pipeline("demo", "demo", threads=1)
    with unpaced_source("demo") as source:
        samples: Samples = measure(pipeline, source, frame_count)
    frames_done = len(samples.invoke)
    return {
        "frames": frames_done,
        "fps": frames_done / samples.wall_s,
        "fps_per_core": frames_done / samples.cpu_s,
        "total_ms_p50": median(samples.stages["total"]),
    }


# -- the report ------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    import cv2

    from edge.inference.runtime import backend

    cpu = cpu_name() or platform.machine()
    import importlib.metadata as md

    return {
        "cpu": f"{cpu} ({os.cpu_count()} CPUs)",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "opencv": cv2.__version__,
        "runtime": f"{backend().name} {md.version('ai-edge-litert')}",
        "tensorflow": _version("tensorflow") or _version("tensorflow-cpu") or "-",
    }


def _version(distribution: str) -> str | None:
    import importlib.metadata as md

    try:
        return md.version(distribution)
    except md.PackageNotFoundError:
        return None


def measure_all(args: argparse.Namespace) -> dict[str, Any]:
    models = {size: mobilenet(size, args.alpha) for size in args.sizes}
    runs = [(size, threads) for size in args.sizes for threads in args.threads]
    cases = [(*run, picture) for run in runs for picture in ("frame", "model")]
    ratios: dict[tuple[int, int, str], list[dict[str, Any]]] = {case: [] for case in cases}
    precision: dict[tuple[int, int], list[dict[str, float]]] = {run: [] for run in runs}
    resizing: dict[int, list[dict[str, float]]] = {size: [] for size in args.sizes}
    for _ in range(args.repeats):  # alternate the experiments, then take medians of medians
        for size in args.sizes:
            resizing[size].append(resize_vs_area(size, args.rounds))
        for size, threads, picture in cases:
            ratios[size, threads, picture].append(
                classify_vs_invoke(models[size][0], threads, args.rounds, picture)
            )
        for size, threads in runs:
            int8, float_path = models[size]
            precision[size, threads].append(int8_vs_float(int8, float_path, threads, args.rounds))
    return {
        "machine": machine(),
        "model": f"MobileNetV2 alpha {args.alpha:g}, random weights, 10 classes",
        "classify": [
            {"size": case[0], "judged": case == RATIO_JUDGED_AT, **_medians(ratios[case])}
            for case in cases
        ],
        "int8_vs_float": [{"size": run[0], **_medians(precision[run])} for run in runs],
        "resize": [{"size": size, **_medians(resizing[size])} for size in args.sizes],
        "demo": demo_full_speed(args.demo_frames),
    }


def _medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        key: median(run[key] for run in runs) if isinstance(value, float) else value
        for key, value in runs[0].items()
    }


def misses(result: dict[str, Any]) -> list[str]:
    found = [
        f"classify stage {row['ratio']:.3f}x the bare invoke at {row['size']}x{row['size']}, "
        f"{row['threads']} thread(s), on a {row['picture']} picture "
        f"(target <= {RATIO_TARGET})"
        for row in result["classify"]
        if row["judged"] and row["ratio"] > RATIO_TARGET
    ]
    per_core = result["demo"]["fps_per_core"]
    if per_core < FPS_PER_CORE_TARGET:
        found.append(f"{per_core:.1f} frames/s per core (target >= {FPS_PER_CORE_TARGET:g})")
    return found


def table(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(figure, value, target) rows."""
    rows = [
        (
            f"classify stage / bare invoke, {r['size']}x{r['size']}, {r['threads']} thread(s), "
            f"from {r['picture']}",
            f"{r['ratio']:.3f} ({r['classify_ms']:.3f} / {r['invoke_ms']:.3f} ms)",
            f"<= {RATIO_TARGET}" if r["judged"] else "",
        )
        for r in result["classify"]
    ]
    rows += [
        (
            f"invoke int8 vs float, {r['size']}x{r['size']}, {r['threads']} thread(s)",
            f"{r['int8_ms']:.3f} vs {r['float_ms']:.3f} ms ({r['speedup']:.2f}x)",
            "",
        )
        for r in result["int8_vs_float"]
    ]
    rows += [
        (
            f"640x480 to {r['size']}x{r['size']}: halvings vs INTER_AREA",
            f"{r['halvings_ms']:.3f} vs {r['area_ms']:.3f} ms ({r['speedup']:.1f}x)",
            "",
        )
        for r in result["resize"]
    ]
    demo = result["demo"]
    rows += [
        ("demo pipeline, frames/s (wall)", f"{demo['fps']:.0f}", ""),
        ("demo pipeline, frames/s per CPU core", f"{demo['fps_per_core']:.0f}", ">= 30"),
    ]
    return rows


def render(result: dict[str, Any], markdown: bool) -> str:
    rows = table(result)
    about = ", ".join(f"{key} {value}" for key, value in result["machine"].items())
    if markdown:
        lines = [f"Model: {result['model']}. Machine: {about}.", ""]
        lines += ["| figure | measured | target |", "|---|---|---|"]
        lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
        return "\n".join(lines)
    width = max(len(a) for a, _, _ in rows)
    lines = [result["model"], about]
    lines += [f"{a:<{width}}  {b:<36} {c}".rstrip() for a, b, c in rows]
    return "\n".join(lines)


def _numbers(text: str) -> list[int]:
    try:
        numbers = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        numbers = []
    if not numbers or min(numbers) < 1:
        raise argparse.ArgumentTypeError(f"expected positive numbers like 1,2, got {text!r}")
    return numbers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the figures here")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument(
        "--sizes", type=_numbers, default=[96, 160, 224], help="model input sizes (96,160,224)"
    )
    parser.add_argument(
        "--threads", type=_numbers, default=[1, 2], help="interpreter threads (1,2)"
    )
    parser.add_argument("--alpha", type=float, default=0.35, help="MobileNetV2 width (0.35)")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved repeats (5)")
    parser.add_argument("--rounds", type=int, default=200, help="frames per repeat (200)")
    parser.add_argument("--demo-frames", type=int, default=600, help="demo frames (600)")
    args = parser.parse_args(argv)
    result = measure_all(args)
    print(render(result, args.markdown))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    missed = misses(result)
    for miss in missed:
        print(f"missed: {miss}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
