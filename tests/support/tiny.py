"""The tiny Keras models of the tests and their conversion with real TensorFlow.

``tests/data/make_bundles.py`` turns them into the bundles shipped in ``tests/data/bundles``,
which the device tests load without TensorFlow. TensorFlow and Keras are imported inside the
functions that need them, so this module imports where they are not installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from edge.inference.bundle import TensorSpec
from edge.inference.preprocess import Preprocess

BUNDLES = Path(__file__).resolve().parents[1] / "data" / "bundles"
CLASSIFIERS = ("softmax", "logits", "sigmoid")
KINDS = (*CLASSIFIERS, "autoencoder")
NAME = "tiny"
PREPROCESS = Preprocess(width=8, height=8, channels=3, resize="stretch", normalize="zero_one")


def convert_keras(model: Any, preprocess: Preprocess, quantize: bool = True) -> bytes:
    """Full-integer quantization of a Keras model with random calibration images."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    shape = (preprocess.height, preprocess.width, 3)

    def representative() -> Iterator[list[npt.NDArray[np.float32]]]:
        for _ in range(16):
            rgb = rng.integers(0, 256, shape, dtype=np.uint8)
            yield [preprocess.to_float(rgb)[None]]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if quantize:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    return bytes(converter.convert())


def bundle_meta(model_bytes: bytes, preprocess: Preprocess, **meta: Any) -> dict[str, Any]:
    """The sidecar fields read from the converted model's own tensor details."""
    from edge.inference.runtime import make_interpreter

    interpreter = make_interpreter(model_bytes)
    return {
        "name": NAME,
        "preprocess": preprocess.as_dict(),
        "input": TensorSpec.from_detail(interpreter.get_input_details()[0]).as_dict(),
        "output": TensorSpec.from_detail(interpreter.get_output_details()[0]).as_dict(),
        **meta,
    }


def kind_meta(which: str) -> dict[str, Any]:
    """The sidecar fields that say what a tiny model is: kind, labels, activation, threshold."""
    if which == "autoencoder":
        return {
            "kind": "autoencoder",
            "labels": [],
            "output_activation": "none",
            "anomaly": {"threshold": 0.01, "percentile": 99.0, "metric": "mse"},
        }
    labels = ["no", "yes"] if which == "sigmoid" else ["red", "green", "blue"]
    return {"kind": "classifier", "labels": labels, "output_activation": which}


def tiny_classifier(outputs: int, activation: str) -> Any:
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, activation="relu")(inputs)
    x = keras.layers.Flatten()(x)
    keras_activation = {"logits": None, "softmax": "softmax", "sigmoid": "sigmoid"}[activation]
    return keras.Model(inputs, keras.layers.Dense(outputs, activation=keras_activation)(x))


def tiny_autoencoder() -> Any:
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.UpSampling2D()(x)
    return keras.Model(inputs, keras.layers.Conv2D(3, 3, padding="same", activation="sigmoid")(x))


def tiny_model(which: str) -> Any:
    """The Keras model of one of ``KINDS``, with the same weights on every call."""
    if which == "autoencoder":
        return tiny_autoencoder()
    return tiny_classifier(1 if which == "sigmoid" else 3, which)


class FloatModel:
    """A tiny model's float TFLite conversion, run by the device's interpreter: the float
    model's outputs (Keras' own to about 1e-6) where TensorFlow is not installed."""

    def __init__(self, model_bytes: bytes) -> None:
        from edge.inference.runtime import make_interpreter

        self.interpreter = make_interpreter(model_bytes)
        self.input = self.interpreter.get_input_details()[0]["index"]
        self.output = self.interpreter.get_output_details()[0]["index"]

    @classmethod
    def shipped(cls, which: str) -> FloatModel:
        return cls((BUNDLES / f"{which}-float.tflite").read_bytes())

    def predict(self, batch: npt.NDArray[np.float32], verbose: int = 0) -> npt.NDArray[np.float32]:
        """One output row per input row, as ``keras.Model.predict`` returns them."""
        rows = []
        for x in batch:
            self.interpreter.set_tensor(self.input, x[None].astype(np.float32))
            self.interpreter.invoke()
            rows.append(np.array(self.interpreter.get_tensor(self.output)[0], dtype=np.float32))
        return np.stack(rows)
