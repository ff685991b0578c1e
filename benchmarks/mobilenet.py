"""A MobileNetV2 for the benchmarks: random weights, full int8 and float TFLite, built once
with TensorFlow and cached under benchmarks/.cache/ (an int8 bundle and a float .tflite).

The building runs in a child process (``python benchmarks/mobilenet.py SIZE ALPHA CLASSES
NORMALIZE``), so that TensorFlow, its threads and its memory never share a process with what
is measured."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / ".cache"
FRAME_SIZE = (480, 640, 3)
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from edge.inference.bundle import TensorSpec, write_bundle  # noqa: E402
from edge.inference.preprocess import Preprocess  # noqa: E402


def _convert(model: Any, preprocess: Preprocess, quantize: bool) -> bytes:
    """The project's own conversion (convert.quantize), calibrated on random 640x480 frames and
    a black and a white one (the full range of pixel values, as real photos have)."""
    from convert.quantize import to_tflite

    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, FRAME_SIZE, dtype=np.uint8) for _ in range(16)]
    frames += [np.zeros(FRAME_SIZE, np.uint8), np.full(FRAME_SIZE, 255, np.uint8)]  # as photos
    calibration = np.stack([preprocess.to_float(frame) for frame in frames])
    with contextlib.redirect_stdout(io.StringIO()):  # the converter lists every tensor
        return to_tflite(model, "int8" if quantize else "none", calibration)


def mobilenet(
    size: int, alpha: float, classes: int = 10, normalize: str = "zero_one"
) -> tuple[Path, Path]:
    """The int8 bundle and the float .tflite of a MobileNetV2, built once and cached; inputs
    normalized as ``edge convert`` does by default (0..1)."""
    stem = CACHE / f"mobilenetv2_{alpha:g}_{size}_{normalize}"
    int8, float_path = Path(f"{stem}.tflite"), Path(f"{stem}_float.tflite")  # alpha 0.35: a dot
    if not (int8.exists() and int8.with_suffix(".json").exists() and float_path.exists()):
        command = [sys.executable, __file__, str(size), f"{alpha:g}", str(classes), normalize]
        subprocess.run(command, check=True)
    return int8, float_path


def build(size: int, alpha: float, classes: int, normalize: str) -> None:
    """Build and cache the two models (what :func:`mobilenet` runs in a child process)."""
    stem = CACHE / f"mobilenetv2_{alpha:g}_{size}_{normalize}"
    int8, float_path = Path(f"{stem}.tflite"), Path(f"{stem}_float.tflite")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    from ai_edge_litert.interpreter import Interpreter

    print(f"building MobileNetV2 alpha {alpha:g} {size}x{size} (once)...", file=sys.stderr)
    keras.utils.set_random_seed(0)
    model = keras.applications.MobileNetV2(
        input_shape=(size, size, 3), alpha=alpha, weights=None, classes=classes
    )
    preprocess = Preprocess(size, size, 3, resize="crop", normalize=normalize)  # type: ignore[arg-type]
    model_bytes = _convert(model, preprocess, quantize=True)
    interpreter = Interpreter(model_content=model_bytes)
    interpreter.allocate_tensors()
    meta = {
        "name": stem.name,
        "kind": "classifier",
        "labels": [f"class{i}" for i in range(classes)],
        "output_activation": "softmax",
        "preprocess": preprocess.as_dict(),
        "input": TensorSpec.from_detail(interpreter.get_input_details()[0]).as_dict(),
        "output": TensorSpec.from_detail(interpreter.get_output_details()[0]).as_dict(),
    }
    float_path.parent.mkdir(parents=True, exist_ok=True)
    float_path.write_bytes(_convert(model, preprocess, quantize=False))
    write_bundle(int8, model_bytes, meta)


if __name__ == "__main__":
    build(int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
