"""Shared fixtures: small real models converted with real TensorFlow, and image helpers."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from edge.inference.bundle import TensorSpec, write_bundle
from edge.inference.preprocess import Preprocess

REPO = Path(__file__).resolve().parent.parent


def convert_keras(model: Any, preprocess: Preprocess, quantize: bool = True) -> bytes:
    """Full-integer quantization of a Keras model with random calibration images."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    shape = (preprocess.height, preprocess.width, 3)

    def representative() -> Iterator[list[np.ndarray]]:
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
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=model_bytes)
    interpreter.allocate_tensors()
    return {
        "name": "tiny",
        "preprocess": preprocess.as_dict(),
        "input": TensorSpec.from_detail(interpreter.get_input_details()[0]).as_dict(),
        "output": TensorSpec.from_detail(interpreter.get_output_details()[0]).as_dict(),
        **meta,
    }


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


BundleFactory = Callable[..., Path]


@pytest.fixture(scope="session")
def tiny_preprocess() -> Preprocess:
    return Preprocess(width=8, height=8, channels=3, resize="stretch", normalize="zero_one")


@pytest.fixture(scope="session")
def tiny_models(tiny_preprocess: Preprocess) -> dict[str, tuple[Any, bytes]]:
    """Keras models and their int8 TFLite bytes, converted once per session."""
    pytest.importorskip("tensorflow")
    models = {
        "softmax": tiny_classifier(3, "softmax"),
        "logits": tiny_classifier(3, "logits"),
        "sigmoid": tiny_classifier(1, "sigmoid"),
        "autoencoder": tiny_autoencoder(),
    }
    return {name: (m, convert_keras(m, tiny_preprocess)) for name, m in models.items()}


@pytest.fixture
def make_bundle(
    tmp_path: Path, tiny_models: dict[str, tuple[Any, bytes]], tiny_preprocess: Preprocess
) -> BundleFactory:
    """Write a bundle of one of the tiny models into tmp_path; keyword arguments override
    sidecar fields."""

    def factory(which: str = "softmax", **overrides: Any) -> Path:
        _, model_bytes = tiny_models[which]
        if which == "autoencoder":
            meta = {
                "kind": "autoencoder",
                "labels": [],
                "output_activation": "none",
                "anomaly": {"threshold": 0.01, "percentile": 99.0, "metric": "mse"},
            }
        else:
            labels = ["no", "yes"] if which == "sigmoid" else ["red", "green", "blue"]
            meta = {"kind": "classifier", "labels": labels, "output_activation": which}
        path = tmp_path / f"{which}.tflite"
        write_bundle(
            path, model_bytes, bundle_meta(model_bytes, tiny_preprocess, **{**meta, **overrides})
        )
        return path

    return factory


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
