"""The two model families: shapes and output activations (int8 conversion: tests/convert)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.tf


@pytest.mark.parametrize(
    ("num_classes", "binary", "outputs", "activation"),
    [
        (10, False, 10, "softmax"),
        (2, False, 2, "softmax"),
        (2, True, 1, "sigmoid"),
        (1, False, 1, "sigmoid"),
    ],
)
def test_classifier_outputs(num_classes: int, binary: bool, outputs: int, activation: str) -> None:
    from convert.keras_model import output_activation
    from models.families import build_classifier

    model = build_classifier((32, 32, 3), num_classes, binary=binary)
    assert model.output_shape == (None, outputs)
    assert output_activation(model) == activation


def test_classifier_depth_doubles_the_filters() -> None:
    from models.families import build_classifier

    model = build_classifier((32, 32, 1), depth=3, width=8, dense=0)
    convs = [layer.filters for layer in model.layers if layer.name.startswith("conv")]
    assert convs == [8, 16, 32]
    assert not any(layer.name == "dense" for layer in model.layers)


@pytest.mark.parametrize("shape", [(32, 32, 1), (32, 48, 3), (16, 16, 1)])
def test_autoencoder_reconstructs_its_input_shape(shape: tuple[int, int, int]) -> None:
    from convert.keras_model import inspect_model
    from models.families import build_autoencoder

    model = build_autoencoder(shape, width=8, bottleneck=12)
    assert model.output_shape == (None, *shape)
    assert model.get_layer("bottleneck").units == 12
    info = inspect_model(model, "ae")
    assert (info.kind, info.activation) == ("autoencoder", "sigmoid")


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ((30, 32, 1), "multiple of 4"),
        ((32, 32, 2), "channels must be 1 or 3"),
        ((2, 2, 1), "multiple of 4"),
    ],
)
def test_bad_input_shapes(shape: tuple[int, int, int], message: str) -> None:
    from models.families import build_autoencoder, build_classifier

    for build in (build_classifier, build_autoencoder):
        with pytest.raises(ValueError, match=message):
            build(shape)
