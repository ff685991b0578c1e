"""Training the two model families on an image folder, reproducibly.

Images go through :class:`edge.inference.preprocess.Preprocess` (the device's preprocessing), then a
seeded augmentation (small shifts, rotations, zoom and brightness changes) while training.
The model is saved as ``MODEL.keras`` with ``MODEL.preprocess.json`` (and ``MODEL.labels.txt``
for classifiers) beside it, which ``edge convert`` picks up by default. An autoencoder's
validation split is never trained on (Keras only reports its loss: no early stopping, no
choice of epoch): it is the held-out split for the anomaly threshold, listed in
``MODEL.heldout.txt``; the training images' hashes go to ``MODEL.trained.sha256``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from edge.errors import ImageError, UsageError
from edge.inference.preprocess import Preprocess
from models import artifacts
from models.datasets import Dataset, load_labeled, load_unlabeled, warn_about_small_labels

if TYPE_CHECKING:
    import keras
    import tensorflow as tf

logger = logging.getLogger(__name__)

VALUE_RANGES = {"zero_one": (0.0, 1.0), "minus_one_one": (-1.0, 1.0), "none": (0.0, 255.0)}


@dataclass(frozen=True)
class TrainOptions:
    """How to train; the augmentation magnitudes are fractions of the image size or range."""

    epochs: int = 20
    batch_size: int = 32
    val_split: float = 0.2
    seed: int = 0
    learning_rate: float = 2e-3
    augment: bool = True
    shift: float = 0.08
    rotation: float = 0.03
    zoom: float = 0.1
    brightness: float = 0.1
    verbose: int | str = "auto"  # auto: a progress bar on a terminal, else a line per epoch

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise UsageError("epochs and batch size must be at least 1")
        if not 0.0 <= self.val_split < 1.0:
            raise UsageError(f"--val-split must be in [0, 1), got {self.val_split}")


@dataclass(frozen=True)
class TrainResult:
    model_path: Path
    preprocess: Preprocess
    labels: tuple[str, ...]
    train_count: int
    val_count: int
    history: dict[str, list[float]] = field(default_factory=dict)

    @property
    def final(self) -> dict[str, float]:
        """The last epoch's metrics."""
        return {name: values[-1] for name, values in self.history.items() if values}


def split_indices(
    count: int, val_split: float, seed: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Seeded (train, validation) indices; at least one training image."""
    order = np.random.default_rng(seed).permutation(count).astype(np.int64)
    n_val = min(round(count * val_split), count - 1)
    return order[n_val:], order[:n_val]


def make_augmenter(options: TrainOptions, preprocess: Preprocess) -> keras.Sequential:
    """Seeded random shifts, rotations, zoom and brightness, as Keras preprocessing layers."""
    import keras
    from keras import layers

    seed = options.seed
    return keras.Sequential(
        [
            layers.RandomTranslation(options.shift, options.shift, fill_mode="nearest", seed=seed),
            layers.RandomRotation(options.rotation, fill_mode="nearest", seed=seed + 1),
            layers.RandomZoom(options.zoom, options.zoom, fill_mode="nearest", seed=seed + 2),
            layers.RandomBrightness(
                options.brightness, value_range=VALUE_RANGES[preprocess.normalize], seed=seed + 3
            ),
        ],
        name="augment",
    )


def _pipeline(
    x: npt.NDArray[np.float32],
    y: npt.NDArray[Any],
    options: TrainOptions,
    augmenter: keras.Sequential | None,
    reconstruct: bool = False,
) -> tf.data.Dataset:
    """Batches of (input, target); the augmented input is also the target when reconstructing."""
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices((x, y))
    if augmenter is not None:
        data = data.shuffle(len(x), seed=options.seed, reshuffle_each_iteration=True)
    data = data.batch(options.batch_size)
    if augmenter is not None:
        data = data.map(lambda a, b: (augmenter(a, training=True), b))
    if reconstruct:
        data = data.map(lambda a, _b: (a, a))
    return data.prefetch(2)


def _verbosity(verbose: int | str) -> int | str:
    if verbose != "auto":
        return verbose
    return 1 if sys.stdout.isatty() else 2


def _fit(
    model: keras.Model,
    data: Dataset,
    y: npt.NDArray[Any],
    options: TrainOptions,
    preprocess: Preprocess,
    *,
    reconstruct: bool = False,
) -> tuple[dict[str, list[float]], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The history, and the indices trained on and held out for validation."""
    train, val = split_indices(len(data), options.val_split, options.seed)
    augmenter = make_augmenter(options, preprocess) if options.augment else None
    fit_data = _pipeline(data.x[train], y[train], options, augmenter, reconstruct)
    val_data = _pipeline(data.x[val], y[val], options, None, reconstruct) if len(val) else None
    logger.info("training on %d images, validating on %d", len(train), len(val))
    history = model.fit(
        fit_data,
        validation_data=val_data,
        epochs=options.epochs,
        verbose=_verbosity(options.verbose),
    )
    metrics = {name: [float(v) for v in values] for name, values in history.history.items()}
    return metrics, train, val


def _seed(seed: int) -> None:
    import keras

    keras.utils.set_random_seed(seed)


def _check_output(path: str | Path) -> Path:
    out = Path(path)
    if out.suffix != ".keras":
        raise UsageError(f"{out}: the model file must end in .keras, e.g. -o digits.keras")
    out.parent.mkdir(parents=True, exist_ok=True)
    return out


def train_classifier(
    data_dir: str | Path,
    out: str | Path,
    preprocess: Preprocess,
    options: TrainOptions | None = None,
    *,
    binary: bool = False,
    also: Sequence[str | Path] = (),
    **model_args: Any,
) -> TrainResult:
    """Train :func:`models.families.build_classifier` on one subfolder per label (of
    ``data_dir`` and the ``also`` folders, merged by label)."""
    from models.families import build_classifier

    options = options or TrainOptions()
    out = _check_output(out)
    data = load_labeled(data_dir, preprocess, *also)
    targets = data.y if data.y is not None else np.zeros(len(data), dtype=np.int64)
    if len(data.labels) < 2:
        raise ImageError(f"{data_dir}: found only label {data.labels[0]!r}; a classifier needs two")
    if binary and len(data.labels) != 2:
        raise UsageError(f"--binary needs exactly two labels, {data_dir} has {len(data.labels)}")
    warn_about_small_labels(data_dir, data)
    _seed(options.seed)
    model = _build(
        build_classifier, data.x.shape[1:], len(data.labels), binary=binary, **model_args
    )
    sigmoid = model.output_shape[-1] == 1
    y = targets.astype(np.float32)[:, None] if sigmoid else targets
    model.compile(
        optimizer=_optimizer(options),
        loss="binary_crossentropy" if sigmoid else "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history, train, val = _fit(model, data, y, options, preprocess)
    _save(model, out, preprocess, data.labels)
    artifacts.write_image_list(artifacts.heldout_path(out), [data.paths[i] for i in sorted(val)])
    artifacts.write_dataset(out, [data_dir, *also], data, train, val)
    return TrainResult(out, preprocess, data.labels, len(train), len(val), history)


def train_autoencoder(
    data_dir: str | Path,
    out: str | Path,
    preprocess: Preprocess,
    options: TrainOptions | None = None,
    **model_args: Any,
) -> TrainResult:
    """Train :func:`models.families.build_autoencoder` to reconstruct the images below data_dir."""
    from models.families import build_autoencoder

    options = options or TrainOptions()
    if preprocess.normalize != "zero_one":
        raise UsageError(
            f"the autoencoder's sigmoid output is in [0, 1]: use --normalize zero_one, "
            f"not {preprocess.normalize}"
        )
    out = _check_output(out)
    data = load_unlabeled(data_dir, preprocess)
    _seed(options.seed)
    model = _build(build_autoencoder, data.x.shape[1:], **model_args)
    model.compile(optimizer=_optimizer(options), loss="mse")
    dummy = np.zeros(len(data), dtype=np.float32)
    history, train, val = _fit(model, data, dummy, options, preprocess, reconstruct=True)
    _save(model, out, preprocess, ())
    _save_split(out, data, train, val)
    return TrainResult(out, preprocess, (), len(train), len(val), history)


def _save_split(
    out: Path, data: Dataset, train: npt.NDArray[np.int64], val: npt.NDArray[np.int64]
) -> None:
    """The held-out images (for the threshold) and the hashes of those trained on."""
    heldout = artifacts.write_image_list(
        artifacts.heldout_path(out), [data.paths[i] for i in sorted(val)]
    )
    artifacts.write_hashes(artifacts.trained_path(out), [data.paths[i] for i in sorted(train)])
    logger.info("%d held-out images for the anomaly threshold listed in %s", len(val), heldout)


def _build(builder: Callable[..., keras.Model], *args: Any, **kwargs: Any) -> keras.Model:
    """The model, or a UsageError saying which setting does not fit (size, depth ...)."""
    try:
        return builder(*args, **kwargs)
    except ValueError as exc:
        raise UsageError(f"cannot build the model: {exc}") from exc


def _optimizer(options: TrainOptions) -> keras.optimizers.Optimizer:
    import keras

    return keras.optimizers.Adam(learning_rate=options.learning_rate)


def _save(model: keras.Model, out: Path, preprocess: Preprocess, labels: tuple[str, ...]) -> None:
    model.save(out)
    artifacts.write_preprocess(out, preprocess)
    if labels:
        artifacts.write_labels(out, labels)
    logger.info("saved %s with its preprocessing%s", out, " and labels" if labels else "")
