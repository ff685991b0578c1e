"""Loading a trained Keras model and finding out what it is.

A classifier outputs (batch, classes) through softmax, sigmoid (one output) or no activation
(logits); an autoencoder outputs the shape of its input. Anything else is refused.
"""

from __future__ import annotations

import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from edge.errors import ModelError
from edge.inference.bundle import Kind

if TYPE_CHECKING:
    import keras

logger = logging.getLogger(__name__)

_LOAD_ERRORS = (ValueError, OSError, TypeError, KeyError, zipfile.BadZipFile)


@dataclass(frozen=True)
class ModelInfo:
    """What a model is: kind, image input (height, width, channels), outputs, activation."""

    kind: Kind
    input_shape: tuple[int, int, int]
    output_shape: tuple[int, ...]
    activation: str | None  # softmax, logits, sigmoid, none; None until guessed from outputs

    @property
    def outputs(self) -> int:
        return int(np.prod(self.output_shape))


def load_keras_model(path: str | Path) -> keras.Model:
    """A .keras or .h5 file (safe_mode, no arbitrary code) or a SavedModel directory."""
    import keras

    model_path = Path(path)
    if not model_path.exists():
        raise ModelError(f"{model_path}: no such model file; give the trained .keras file")
    if model_path.is_dir():
        return _load_saved_model(model_path)
    if model_path.suffix == ".keras" and not zipfile.is_zipfile(model_path):
        raise ModelError(
            f"{model_path}: not a .keras file (a .keras model is a zip archive); give the file "
            "that edge train or model.save() wrote"
        )
    try:
        model = keras.models.load_model(model_path, compile=False, safe_mode=True)
    except _LOAD_ERRORS as exc:
        raise ModelError(
            f"{model_path}: not a Keras model that can be loaded ({_load_failure(exc)})"
        ) from exc
    if not isinstance(model, keras.Model):
        raise ModelError(f"{model_path}: holds a {type(model).__name__}, not a Keras model")
    return model


def _load_failure(exc: Exception) -> str:
    """Keras's reason in one line: its innermost cause, or what safe mode refused and why."""
    text = str(exc)
    if "arbitrary code" in text:  # a Lambda layer's Python bytecode, refused by safe mode
        return (
            "it holds a Lambda layer with Python code, which is never loaded (safe mode); "
            "build the model from standard layers, or save the function as a registered layer"
        )
    innermost = text.rsplit("Exception encountered: ", 1)[-1].strip()  # nested errors
    line = innermost.splitlines()[0] if innermost else type(exc).__name__
    return line if len(line) <= 200 else line[:197] + "..."


def _load_saved_model(folder: Path) -> keras.Model:
    """A TensorFlow SavedModel wrapped as an inference-only Keras model."""
    import keras
    import tensorflow as tf

    if not (folder / "saved_model.pb").is_file():
        raise ModelError(f"{folder}: a folder but not a SavedModel (no saved_model.pb)")
    try:
        signature = tf.saved_model.load(str(folder)).signatures["serving_default"]
        layer = keras.layers.TFSMLayer(str(folder), call_endpoint="serving_default")
    except (KeyError, ValueError, OSError) as exc:
        raise ModelError(f"{folder}: cannot load the SavedModel's serving_default ({exc})") from exc
    specs = list(signature.structured_input_signature[1].values())
    if len(specs) != 1:
        raise ModelError(f"{folder}: expected one input, the SavedModel has {len(specs)}")
    inputs = keras.Input(shape=tuple(specs[0].shape[1:]), name="image")
    outputs = layer(inputs)
    if isinstance(outputs, dict):
        if len(outputs) != 1:
            raise ModelError(f"{folder}: expected one output, the SavedModel has {len(outputs)}")
        outputs = next(iter(outputs.values()))
    return keras.Model(inputs, outputs, name=folder.name)


def _image_input(model: keras.Model, name: str) -> tuple[int, int, int]:
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ModelError(
            f"{name}: has {len(model.inputs)} input(s) and {len(model.outputs)} output(s); "
            "a classifier or autoencoder has one of each"
        )
    shape = tuple(model.inputs[0].shape[1:])
    if len(shape) != 3 or None in shape or shape[2] not in (1, 3):
        raise ModelError(
            f"{name}: input shape {list(shape)} is not an image (height, width, 1 or 3 channels)"
        )
    return int(shape[0]), int(shape[1]), int(shape[2])


def inspect_model(model: keras.Model, name: str) -> ModelInfo:
    """Classifier or autoencoder, from the output shape and the output activation."""
    input_shape = _image_input(model, name)
    output_shape = tuple(int(n) if n is not None else -1 for n in model.outputs[0].shape[1:])
    if output_shape == input_shape:
        activation = output_activation(model)
        return ModelInfo(
            "autoencoder",
            input_shape,
            output_shape,
            "sigmoid" if activation == "sigmoid" else "none",
        )
    if len(output_shape) != 1 or output_shape[0] < 1:
        raise ModelError(
            f"{name}: output shape {list(output_shape)} is neither a classifier's (classes,) "
            f"nor an autoencoder's (its input shape {list(input_shape)})"
        )
    info = ModelInfo("classifier", input_shape, output_shape, None)
    activation = output_activation(model)
    return info if activation is None else _classifier_activation(info, activation, name)


def _classifier_activation(info: ModelInfo, activation: str, name: str) -> ModelInfo:
    outputs = info.outputs
    if activation == "linear":
        activation = "logits"
    if activation not in ("softmax", "sigmoid", "logits"):
        raise ModelError(
            f"{name}: output activation {activation!r} is not a classifier's "
            "(softmax, a single sigmoid, or none for logits)"
        )
    if activation == "sigmoid" and outputs != 1:
        raise ModelError(
            f"{name}: {outputs} sigmoid outputs (multi-label) are not supported; "
            "use softmax, or one sigmoid output for yes/no"
        )
    if activation == "softmax" and outputs < 2:
        raise ModelError(f"{name}: a softmax over {outputs} output is always 1; use a sigmoid")
    return ModelInfo(info.kind, info.input_shape, info.output_shape, activation)


def output_activation(model: keras.Model) -> str | None:
    """The name of the activation that makes the model's output, None when it cannot be told."""
    import keras

    history = getattr(model.outputs[0], "_keras_history", None)
    operation = history[0] if history else model.layers[-1]
    if isinstance(operation, keras.layers.Softmax):
        return "softmax"
    function = getattr(operation, "activation", None)
    if function is not None:
        return str(getattr(function, "__name__", keras.activations.serialize(function)))
    op_name = type(operation).__name__.lower()
    if op_name in ("softmax", "sigmoid"):
        return op_name
    logger.info("cannot tell the output activation of %s", type(operation).__name__)
    return None


def guess_activation(outputs: npt.NDArray[np.float32]) -> str:
    """For models whose last layer does not say: softmax, sigmoid or logits from the values."""
    in_unit = bool(np.all(outputs >= -1e-4) and np.all(outputs <= 1 + 1e-4))
    if in_unit and outputs.shape[-1] == 1:
        return "sigmoid"
    if in_unit and np.allclose(outputs.sum(axis=-1), 1.0, atol=1e-3):
        return "softmax"
    return "logits"


def check_kind(info: ModelInfo, kind: str, name: str) -> None:
    if info.kind != kind:
        raise ModelError(
            f"{name}: is {'an' if info.kind == 'autoencoder' else 'a'} {info.kind} "
            f"(output shape {list(info.output_shape)}), not {kind!r}; use --kind {info.kind}"
        )


def float_outputs(model: keras.Model, x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """The float model's outputs for a batch of preprocessed inputs."""
    result: Any = model.predict(x, batch_size=64, verbose=0)
    return np.asarray(result, dtype=np.float32)
