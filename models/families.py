"""The two model families: a small CNN classifier and a convolutional autoencoder.

Both use only layers that convert to builtin int8 TFLite kernels (CONV_2D, MAX_POOL_2D,
FULLY_CONNECTED, RESHAPE, TRANSPOSE_CONV, SOFTMAX, LOGISTIC), checked by the conversion tests.
The decoder upsamples with ``Conv2DTranspose``: ``UpSampling2D`` only converts (to TILE and
RESHAPE) when the batch size is fixed, and TRANSPOSE_CONV is a single int8 kernel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras

Shape = tuple[int, int, int]


def _check_shape(input_shape: Shape, depth: int) -> None:
    height, width, channels = input_shape
    factor = 2**depth
    if channels not in (1, 3):
        raise ValueError(f"input channels must be 1 or 3, got {channels}")
    if height < factor or width < factor or height % factor or width % factor:
        raise ValueError(
            f"input {height}x{width} must be a multiple of {factor} to pool {depth} times"
        )


def build_classifier(
    input_shape: Shape = (32, 32, 1),
    num_classes: int = 10,
    depth: int = 2,
    width: int = 16,
    dropout: float = 0.3,
    *,
    dense: int = 64,
    binary: bool = False,
) -> keras.Model:
    """Conv+ReLU and max pooling ``depth`` times (filters doubling), dropout, dense, softmax.

    ``num_classes == 1``, or ``num_classes == 2`` with ``binary=True``, gives one sigmoid output
    (the probability of the second, positive class). ``dense=0`` drops the hidden dense layer.
    """
    import keras
    from keras import layers

    if num_classes < 1 or depth < 1 or width < 1:
        raise ValueError("num_classes, depth and width must be at least 1")
    _check_shape(input_shape, depth)
    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    for level in range(depth):
        filters = width * 2**level
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{level + 1}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{level + 1}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    if dense:
        x = layers.Dense(dense, activation="relu", name="dense")(x)
    sigmoid = num_classes == 1 or (num_classes == 2 and binary)
    outputs = layers.Dense(
        1 if sigmoid else num_classes,
        activation="sigmoid" if sigmoid else "softmax",
        name="probabilities",
    )(x)
    return keras.Model(inputs, outputs, name="classifier")


def build_autoencoder(
    input_shape: Shape = (32, 32, 1),
    width: int = 16,
    bottleneck: int = 32,
    depth: int = 2,
) -> keras.Model:
    """Conv encoder, a ``bottleneck``-wide dense code, and a transposed-conv decoder.

    The output is a sigmoid in [0, 1], so the inputs must be normalized ``zero_one``.
    """
    import keras

    if width < 1 or bottleneck < 1 or depth < 1:
        raise ValueError("width, bottleneck and depth must be at least 1")
    _check_shape(input_shape, depth)
    inputs = keras.Input(shape=input_shape, name="image")
    code = _encoder(inputs, width, bottleneck, depth)
    outputs = _decoder(code, input_shape, width, depth)
    return keras.Model(inputs, outputs, name="autoencoder")


def _encoder(x: keras.KerasTensor, width: int, bottleneck: int, depth: int) -> keras.KerasTensor:
    from keras import layers

    for level in range(depth):
        conv = layers.Conv2D(width * 2**level, 3, padding="same", activation="relu",
                             name=f"enc_conv{level + 1}")  # fmt: skip
        x = layers.MaxPooling2D(2, name=f"enc_pool{level + 1}")(conv(x))
    x = layers.Flatten(name="flatten")(x)
    return layers.Dense(bottleneck, activation="relu", name="bottleneck")(x)


def _decoder(code: keras.KerasTensor, shape: Shape, width: int, depth: int) -> keras.KerasTensor:
    """Back from the code to an image of ``shape``, doubling the size ``depth`` times.

    The first step, a transposed conv from 1x1 to the smallest map, is a dense layer whose int8
    quantization parameters are per channel (not per pixel), which keeps the int8 model small.
    """
    from keras import layers

    height, wide, channels = shape
    small = (height // 2**depth, wide // 2**depth)
    x = layers.Reshape((1, 1, code.shape[-1]), name="code")(code)
    x = layers.Conv2DTranspose(width * 2 ** (depth - 1), small, padding="valid",
                               activation="relu", name="expand")(x)  # fmt: skip
    for level in reversed(range(depth)):
        x = layers.Conv2DTranspose(width * 2**level, 3, strides=2, padding="same",
                                   activation="relu", name=f"dec_up{level + 1}")(x)  # fmt: skip
    return layers.Conv2D(channels, 3, padding="same", activation="sigmoid",
                         name="reconstruction")(x)  # fmt: skip
