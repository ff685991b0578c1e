"""``edge convert``: quantize a trained Keras model to an int8 TFLite bundle.

``edge.cli`` calls :func:`add_arguments` and :func:`run`; this module imports no TensorFlow
until :func:`run` needs it.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path

from edge.inference.preprocess import COLOR_ORDERS, NORMALIZATIONS, RESIZE_MODES
from edge.quiet import load_tensorflow

HELP = "quantize a Keras model to an int8 bundle"

logger = logging.getLogger(__name__)

KINDS = ("classifier", "autoencoder")
QUANTIZATIONS = ("int8", "uint8", "float16", "dynamic")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "model", type=Path, metavar="MODEL", help="trained Keras model (.keras, .h5, SavedModel)"
    )
    parser.add_argument("--kind", required=True, choices=KINDS, help="what the model is")
    parser.add_argument(
        "--calib", required=True, type=Path, metavar="DIR|LIST",
        help="calibration images: a folder (any layout) or a file naming one image per line "
        "(an autoencoder's MODEL.heldout.txt: images it did not train on)",
    )  # fmt: skip
    parser.add_argument(
        "-o", "--output", required=True, type=Path, metavar="OUT.tflite",
        help="the bundle to write; OUT.json and OUT.report.png go beside it",
    )  # fmt: skip
    _add_data_arguments(parser.add_argument_group("labels and evaluation"))
    _add_preprocess_arguments(parser.add_argument_group("preprocessing (default: as trained)"))
    _add_conversion_arguments(parser.add_argument_group("conversion"))


def _add_data_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--labels", type=Path, metavar="FILE",
        help="one label per line, in output order (default: MODEL.labels.txt)",
    )  # fmt: skip
    group.add_argument(
        "--eval", type=Path, metavar="DIR",
        help="one subfolder per label (classifier); normal/ and anomaly/ (autoencoder)",
    )  # fmt: skip


def _add_preprocess_arguments(group: argparse._ArgumentGroup) -> None:
    stored = "default: MODEL.preprocess.json, else"
    group.add_argument("--normalize", choices=NORMALIZATIONS, help=f"{stored} zero_one")
    group.add_argument("--color-order", choices=COLOR_ORDERS, help=f"{stored} rgb")
    group.add_argument("--resize", choices=RESIZE_MODES, help=f"{stored} crop")


def _add_conversion_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--quantization", choices=QUANTIZATIONS, default="int8",
        help="int8 (default) or uint8 full-integer; float16 or dynamic range for comparison",
    )  # fmt: skip
    group.add_argument(
        "--false-alarm-rate", type=float, metavar="A",
        help="autoencoder threshold: promise at most this false-alarm rate on fresh normal "
        "images (default 0.01): the ceil((N+1)(1-A))-th smallest of the N calibration errors",
    )  # fmt: skip
    group.add_argument(
        "--percentile", type=float, metavar="P",
        help="the older spelling of --false-alarm-rate (1 - P/100)",
    )  # fmt: skip
    group.add_argument("--name", help="the model's name in results (default: OUT's stem)")
    group.add_argument(
        "--calib-limit", type=int, default=300, metavar="N",
        help="quantize with at most N of the calibration images, spread over them (default "
        "300); an autoencoder's threshold is set on every one of them",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    """Convert as the parsed arguments say; print the summary. EdgeError on bad input."""
    load_tensorflow()
    from convert.pipeline import ConvertOptions, convert_model
    from convert.report import summary_lines

    names = [field.name for field in dataclasses.fields(ConvertOptions)]
    options = ConvertOptions(**{name: getattr(args, name) for name in names})
    options.promised_rate()  # a wrong rate fails before the model is read
    converted = convert_model(options)
    for line in summary_lines(converted.meta):
        print(line)
    print(f"wrote {converted.path}, {converted.sidecar.name} and {converted.report_image.name}")
    return 0
