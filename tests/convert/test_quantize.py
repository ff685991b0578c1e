"""Which layers convert to builtin int8 kernels, and loud failures for those that do not."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from convert.quantize import float_ops, to_tflite
from edge.errors import ModelError

pytestmark = pytest.mark.tf


def _calibration(shape: tuple[int, ...], count: int = 8) -> np.ndarray[Any, Any]:
    return np.random.default_rng(0).random((count, *shape), dtype=np.float32)


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("family", ["classifier", "autoencoder"])
def test_both_families_convert_to_int8_only(family: str, channels: int) -> None:
    from models.families import build_autoencoder, build_classifier

    shape = (16, 16, channels)
    model = build_classifier(shape, 4) if family == "classifier" else build_autoencoder(shape)
    content = to_tflite(model, "int8", _calibration(shape))
    assert float_ops(content) == []


def test_a_binary_classifier_converts_to_int8_only() -> None:
    from models.families import build_classifier

    model = build_classifier((16, 16, 1), 2, binary=True)
    assert model.output_shape == (None, 1)
    assert float_ops(to_tflite(model, "int8", _calibration((16, 16, 1)))) == []


def _with(op: Any) -> Any:
    import keras
    from keras import layers

    inputs = keras.Input((8, 8, 1))
    x = op(layers.Conv2D(4, 3, padding="same", name="conv")(inputs))
    outputs = layers.Dense(3, activation="softmax")(layers.Flatten()(x))
    return keras.Model(inputs, outputs)


def test_an_op_the_converter_rejects_is_named() -> None:
    import keras

    with pytest.raises(ModelError, match=r"tf\.Erf .*no builtin TFLite kernel"):
        to_tflite(_with(keras.ops.erf), "int8", _calibration((8, 8, 1)))


def test_a_layer_left_in_float_is_named() -> None:
    from keras import layers

    model = _with(layers.LayerNormalization(name="norm"))
    with pytest.raises(ModelError, match=r"not fully int8: .* in norm has no int8 kernel"):
        to_tflite(model, "int8", _calibration((8, 8, 1)))


def test_float16_keeps_such_layers() -> None:
    from keras import layers

    content = to_tflite(_with(layers.LayerNormalization()), "float16", _calibration((8, 8, 1)))
    assert len(content) > 0


def test_full_integer_needs_calibration() -> None:
    from models.families import build_classifier

    model = build_classifier((8, 8, 1), 2, depth=1)
    with pytest.raises(ModelError, match="needs calibration images"):
        to_tflite(model, "int8", np.zeros((0, 8, 8, 1), dtype=np.float32))
