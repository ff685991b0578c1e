"""Keras model to TFLite: full-integer post-training quantization, or float for comparison.

The model is exported as a SavedModel with a fixed batch of one (what the device runs; it also
keeps every shape static, which some layers, e.g. ``UpSampling2D``, need to convert), then
converted with a representative dataset of calibration images preprocessed exactly as on the
device. An op without an int8 kernel fails the conversion with the op and the layer named,
whether the converter rejects it or silently leaves it in float.
"""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from edge.errors import ModelError
from edge.quiet import native_stderr

if TYPE_CHECKING:
    import keras

logger = logging.getLogger(__name__)

Quantization = Literal["int8", "uint8", "float16", "dynamic", "none"]
QUANTIZATIONS: tuple[Quantization, ...] = ("int8", "uint8", "float16", "dynamic")
FULL_INTEGER = ("int8", "uint8")

_UNSUPPORTED_OP = re.compile(r"'(tf\.\w+)' op is neither a custom op nor a flex op")
_OP_LOCATION = re.compile(r'loc\(callsite\(fused\["(\w+):", "([^"@]+)')


def export_saved_model(model: keras.Model, folder: Path) -> Path:
    """The model as a SavedModel whose one signature takes a batch of one image."""
    import tensorflow as tf

    shape = (1, *tuple(model.inputs[0].shape[1:]))
    signature = [tf.TensorSpec(shape, tf.float32, name="image")]
    model.export(str(folder), format="tf_saved_model", input_signature=signature, verbose=False)
    return folder


def _converter(
    saved_model: Path, quantization: Quantization, calibration: npt.NDArray[np.float32]
) -> Any:
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model))
    if quantization == "none":
        return converter
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantization == "float16":
        converter.target_spec.supported_types = [tf.float16]
    elif quantization in FULL_INTEGER:
        converter.representative_dataset = lambda: _representative(calibration)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        io_type = tf.int8 if quantization == "int8" else tf.uint8
        converter.inference_input_type = io_type
        converter.inference_output_type = io_type
    return converter


def _representative(
    calibration: npt.NDArray[np.float32],
) -> Iterator[list[npt.NDArray[np.float32]]]:
    from tqdm import tqdm

    for x in tqdm(calibration, desc="calibrating", unit="img", leave=False, disable=None):
        yield [x[None].astype(np.float32)]


def to_tflite(
    model: keras.Model,
    quantization: Quantization,
    calibration: npt.NDArray[np.float32],
    saved_model: Path | None = None,
) -> bytes:
    """Convert; ``saved_model`` reuses an export from :func:`export_saved_model`."""
    if quantization in FULL_INTEGER and len(calibration) == 0:
        raise ModelError("full-integer quantization needs calibration images; give --calib DIR")
    with tempfile.TemporaryDirectory(prefix="edge-convert-") as tmp:
        folder = saved_model or export_saved_model(model, Path(tmp) / "saved_model")
        converter = _converter(folder, quantization, calibration)
        try:
            with native_stderr():  # "fully_quantize: 0, inference_type: 6, ..."
                content = bytes(converter.convert())
        except _converter_errors() as exc:
            raise translate_converter_error(exc, quantization) from exc
    if quantization in FULL_INTEGER:
        check_fully_quantized(content, model)
    what = "float32" if quantization == "none" else quantization
    logger.info("converted to %s TFLite: %d bytes", what, len(content))
    return content


def _converter_errors() -> tuple[type[Exception], ...]:
    from tensorflow.lite.python.convert_phase import ConverterError

    return (ConverterError, ValueError, RuntimeError, OSError)


def translate_converter_error(exc: Exception, quantization: str) -> ModelError:
    """The converter's long MLIR error as one line naming the ops and layers it refused."""
    text = str(exc)
    ops = sorted(set(_UNSUPPORTED_OP.findall(text)))
    places = sorted({path.rsplit("/", 1)[0] for _op, path in _OP_LOCATION.findall(text)})
    if ops:
        where = f" in {', '.join(places)}" if places else ""
        return ModelError(
            f"cannot convert to {quantization} TFLite: {', '.join(ops)}{where} has no builtin "
            "TFLite kernel; replace that layer or op"
        )
    first = next((line for line in text.splitlines() if "error" in line.lower()), text[:200])
    return ModelError(f"the TFLite converter failed ({type(exc).__name__}): {first.strip()[:300]}")


def _analysis_interpreter(content: bytes) -> Any:
    """An interpreter without delegates, so every op of the graph is listed as converted."""
    try:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
    except ImportError:
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter  # noqa: N806 - the same class from another package
        OpResolverType = tf.lite.experimental.OpResolverType  # noqa: N806
    return Interpreter(
        model_content=content,
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )


def float_ops(content: bytes) -> list[tuple[str, str]]:
    """(op, output tensor) for every op left computing in float32, apart from DEQUANTIZE."""
    interpreter = _analysis_interpreter(content)
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    found: list[tuple[str, str]] = []
    for op in interpreter._get_ops_details():
        outputs = [tensors[i] for i in op["outputs"] if i >= 0]
        floats = [t["name"] for t in outputs if np.dtype(t["dtype"]) == np.float32]
        if floats and op["op_name"] != "DEQUANTIZE":
            found.append((str(op["op_name"]), str(floats[0])))
    return found


def layers_named_in(model: keras.Model, tensor_names: list[str]) -> list[str]:
    """The model's layers whose names appear as a path component of the tensor names."""
    names = []
    for layer in model.layers:
        pattern = re.compile(rf"(^|/){re.escape(layer.name)}(_\d+)?(/|$)")
        if any(pattern.search(name) for name in tensor_names):
            names.append(layer.name)
    return names


def check_fully_quantized(content: bytes, model: keras.Model) -> None:
    """Refuse a model the converter left partly in float (ops without an int8 kernel)."""
    leftovers = float_ops(content)
    if not leftovers:
        return
    ops = sorted({op for op, _ in leftovers})
    layers = layers_named_in(model, [name for _, name in leftovers])
    where = ", ".join(layers) if layers else ", ".join(sorted({n for _, n in leftovers})[:3])
    raise ModelError(
        f"not fully int8: {', '.join(ops)} in {where} has no int8 kernel and stayed float; "
        "replace that layer (or convert with --quantization float16 or dynamic)"
    )
