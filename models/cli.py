"""``edge train``: train a classifier or an autoencoder on a folder of images.

``edge.cli`` calls :func:`add_arguments` and :func:`run`; this module imports no TensorFlow
until :func:`run` needs it.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edge.errors import UsageError
from edge.inference.preprocess import COLOR_ORDERS, NORMALIZATIONS, RESIZE_MODES, Preprocess
from edge.quiet import load_tensorflow

if TYPE_CHECKING:
    from models.train import TrainResult

HELP = "train a classifier or an autoencoder"

logger = logging.getLogger(__name__)


def image_size(text: str) -> tuple[int, int]:
    """``32`` or ``48x32`` (width x height) as (width, height)."""
    parts = text.lower().split("x")
    try:
        numbers = [int(part) for part in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must be N or WxH, got {text!r}") from None
    if len(numbers) not in (1, 2) or min(numbers) < 1:
        raise argparse.ArgumentTypeError(
            f"size must be N or WxH with positive numbers, got {text!r}"
        )
    return (numbers[0], numbers[-1])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=("classifier", "autoencoder"), help="what to train")
    parser.add_argument(
        "data_dir",
        type=Path,
        metavar="DATA_DIR",
        help="images: one subfolder per label (classifier) or any (autoencoder)",
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        type=Path,
        metavar="MODEL.keras",
        help="the model to write; MODEL.preprocess.json (and .labels.txt) beside",
    )
    parser.add_argument(
        "--also", type=Path, action="append", default=[], metavar="DIR",
        help="classifier: another folder of label subfolders to train on too (repeatable)",
    )  # fmt: skip
    _add_input_arguments(parser)
    _add_training_arguments(parser)
    _add_family_arguments(parser)


def _add_input_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("input (what the device will do to each frame)")
    group.add_argument(
        "--size",
        type=image_size,
        default=(32, 32),
        metavar="N|WxH",
        help="model input size (default 32)",
    )
    group.add_argument("--grayscale", action="store_true", help="one channel instead of RGB")
    group.add_argument(
        "--normalize",
        choices=NORMALIZATIONS,
        default="zero_one",
        help="pixel scaling (default zero_one; autoencoders need zero_one)",
    )
    group.add_argument("--color-order", choices=COLOR_ORDERS, default="rgb")
    group.add_argument(
        "--resize",
        choices=RESIZE_MODES,
        default="crop",
        help="center-crop to the aspect ratio (default) or stretch",
    )


def _add_training_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("training")
    group.add_argument("--epochs", type=int, default=20, help="default 20")
    group.add_argument("--batch-size", type=int, default=32, help="default 32")
    group.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    group.add_argument(
        "--val-split",
        type=float,
        default=0.2,
        help="fraction held out for validation (default 0.2)",
    )
    group.add_argument("--learning-rate", type=float, default=2e-3, help="Adam's (default 0.002)")
    group.add_argument(
        "--no-augment", action="store_true", help="no random shifts, rotations, zoom and brightness"
    )


def _add_family_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model")
    group.add_argument("--filters", type=int, default=16, help="filters of the first conv (16)")
    group.add_argument("--depth", type=int, default=2, help="conv + pool blocks (default 2)")
    group.add_argument(
        "--dense",
        type=int,
        default=64,
        help="classifier: hidden dense units, 0 for none (default 64)",
    )
    group.add_argument("--dropout", type=float, default=0.3, help="classifier (default 0.3)")
    group.add_argument(
        "--binary", action="store_true", help="classifier with two labels: one sigmoid output"
    )
    group.add_argument(
        "--bottleneck", type=int, default=32, help="autoencoder: width of the code (default 32)"
    )


def _model_args(args: argparse.Namespace) -> dict[str, Any]:
    shared = {"width": args.filters, "depth": args.depth}
    if args.kind == "classifier":
        return {**shared, "dense": args.dense, "dropout": args.dropout}
    return {**shared, "bottleneck": args.bottleneck}


def _preprocess(args: argparse.Namespace) -> Preprocess:
    width, height = args.size
    try:
        return Preprocess(
            width=width,
            height=height,
            channels=1 if args.grayscale else 3,
            color_order=args.color_order,
            resize=args.resize,
            normalize=args.normalize,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


def _train(args: argparse.Namespace) -> TrainResult:
    from models.train import TrainOptions, train_autoencoder, train_classifier

    options = TrainOptions(
        epochs=args.epochs, batch_size=args.batch_size, val_split=args.val_split,
        seed=args.seed, learning_rate=args.learning_rate, augment=not args.no_augment,
    )  # fmt: skip
    paths = (args.data_dir, args.output, _preprocess(args), options)
    if args.kind == "classifier":
        return train_classifier(*paths, binary=args.binary, also=args.also, **_model_args(args))
    if args.also:
        raise UsageError("--also merges label folders: it is for a classifier")
    return train_autoencoder(*paths, **_model_args(args))


def run(args: argparse.Namespace) -> int:
    """Train as the parsed arguments say and print what came out. EdgeError on bad input."""
    load_tensorflow()
    result = _train(args)
    metrics = ", ".join(f"{name} {value:.4f}" for name, value in result.final.items())
    article = "an" if args.kind == "autoencoder" else "a"
    labels = f" and {len(result.labels)} labels" if result.labels else ""
    print(f"trained {article} {args.kind} on {result.train_count} images "
          f"({result.val_count} for validation): {metrics}")  # fmt: skip
    print(f"wrote {result.model_path} with its preprocessing{labels}")
    calib = args.data_dir
    if args.kind == "autoencoder":
        from models.artifacts import heldout_path

        calib = heldout_path(result.model_path)
        print(f"{calib} lists the {result.val_count} images held out for the threshold")
    print(f"next: edge convert {result.model_path} --kind {args.kind} --calib {calib} "
          f"-o {result.model_path.with_suffix('.tflite')}")  # fmt: skip
    return 0
