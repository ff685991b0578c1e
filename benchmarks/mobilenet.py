"""A MobileNetV2 for the benchmarks: random weights, full int8 and float TFLite, built once
with TensorFlow and cached under benchmarks/.cache/ (an int8 bundle and a float .tflite)."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / ".cache"
FRAME_SIZE = (480, 640, 3)
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from edge.bundle import write_bundle  # noqa: E402
from edge.preprocess import Preprocess  # noqa: E402


def _tensor(detail: dict[str, Any]) -> dict[str, Any]:
    scale, zero_point = detail["quantization"]
    return {
        "shape": [int(n) for n in detail["shape"]],
        "dtype": np.dtype(detail["dtype"]).name,
        "scale": float(scale),
        "zero_point": int(zero_point),
    }


def _convert(model: Any, preprocess: Preprocess, quantize: bool) -> bytes:
    import tensorflow as tf

    rng = np.random.default_rng(0)

    def calibration() -> Iterator[list[np.ndarray]]:
        for _ in range(16):
            frame = rng.integers(0, 256, FRAME_SIZE, dtype=np.uint8)
            yield [preprocess.to_float(frame)[None]]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if quantize:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = calibration
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    with contextlib.redirect_stdout(io.StringIO()):  # the converter lists every tensor
        return bytes(converter.convert())


def mobilenet(size: int, alpha: float, classes: int = 10) -> tuple[Path, Path]:
    """The int8 bundle and the float .tflite of a MobileNetV2, built once and cached."""
    stem = CACHE / f"mobilenetv2_{alpha:g}_{size}"
    int8, float_path = stem.with_suffix(".tflite"), Path(f"{stem}_float.tflite")
    if int8.exists() and int8.with_suffix(".json").exists() and float_path.exists():
        return int8, float_path
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    from ai_edge_litert.interpreter import Interpreter

    print(f"building MobileNetV2 alpha {alpha:g} {size}x{size} (once)...", file=sys.stderr)
    keras.utils.set_random_seed(0)
    model = keras.applications.MobileNetV2(
        input_shape=(size, size, 3), alpha=alpha, weights=None, classes=classes
    )
    preprocess = Preprocess(size, size, 3, resize="crop", normalize="minus_one_one")
    model_bytes = _convert(model, preprocess, quantize=True)
    interpreter = Interpreter(model_content=model_bytes)
    interpreter.allocate_tensors()
    meta = {
        "name": stem.name,
        "kind": "classifier",
        "labels": [f"class{i}" for i in range(classes)],
        "output_activation": "softmax",
        "preprocess": preprocess.as_dict(),
        "input": _tensor(interpreter.get_input_details()[0]),
        "output": _tensor(interpreter.get_output_details()[0]),
    }
    float_path.parent.mkdir(parents=True, exist_ok=True)
    float_path.write_bytes(_convert(model, preprocess, quantize=False))
    write_bundle(int8, model_bytes, meta)
    return int8, float_path
