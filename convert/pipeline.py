"""``edge convert`` from start to end: load, inspect, quantize, validate, write, load back.

The bundle's preprocessing is the model's input size and channels plus, in order of
precedence, the command-line options, ``MODEL.preprocess.json`` beside the model, and the
defaults (rgb, crop, zero_one). Labels come from ``--labels`` or ``MODEL.labels.txt``.

The calibration images (a folder, or a list file such as ``MODEL.heldout.txt`` that
``edge train autoencoder`` writes) are all scored for an autoencoder's threshold; at most
``calib_limit`` of them, spread over the set, are the quantizer's representative data. Whether
they were used in training is known from ``MODEL.trained.sha256`` when it is beside the model.
"""

from __future__ import annotations

import logging
import platform
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from convert import report as reports
from convert.keras_model import (
    ModelInfo,
    check_kind,
    float_outputs,
    guess_activation,
    inspect_model,
    load_keras_model,
)
from convert.quantize import Quantization, export_saved_model, to_tflite
from convert.validate import (
    AutoencoderValidation,
    ClassifierValidation,
    check_evaluation,
    size_report,
    validate_autoencoder,
    validate_classifier,
)
from edge.errors import ModelError, UsageError
from edge.images import load_rgb
from edge.inference.anomaly import AnomalyDetector
from edge.inference.bundle import Kind, load_bundle, write_bundle
from edge.inference.classify import SIGMOID_LABELS, Classifier
from edge.inference.model import TFLiteModel
from edge.inference.preprocess import Preprocess
from edge.inference.threshold import DEFAULT_RATE, check_rate, minimum_images
from models import artifacts
from models.datasets import Dataset, LabeledFiles, list_labeled, list_unlabeled, map_images

if TYPE_CHECKING:
    import keras

logger = logging.getLogger(__name__)

PREPROCESS_DEFAULTS = {"color_order": "rgb", "resize": "crop", "normalize": "zero_one"}


@dataclass(frozen=True)
class ConvertOptions:
    model: Path
    kind: Kind
    calib: Path
    output: Path
    labels: Path | None = None
    eval: Path | None = None
    normalize: str | None = None
    color_order: str | None = None
    resize: str | None = None
    quantization: Quantization = "int8"
    false_alarm_rate: float | None = None  # the promise; default DEFAULT_RATE (1%)
    percentile: float | None = None  # the older spelling: a rate of 1 - percentile / 100
    name: str | None = None
    calib_limit: int = 300

    def promised_rate(self) -> float:
        """The false-alarm rate the autoencoder's threshold promises on fresh normal images."""
        if self.false_alarm_rate is not None and self.percentile is not None:
            raise UsageError("give --false-alarm-rate or --percentile, not both")
        if self.percentile is not None:
            if not 0.0 < self.percentile < 100.0:
                raise UsageError(f"--percentile must be in (0, 100), got {self.percentile}")
            return 1.0 - self.percentile / 100.0
        try:
            rate = self.false_alarm_rate
            return check_rate(DEFAULT_RATE if rate is None else rate)
        except ValueError as exc:
            raise UsageError(f"--false-alarm-rate: {exc}") from exc


@dataclass(frozen=True)
class Converted:
    path: Path
    sidecar: Path
    report_image: Path
    meta: dict[str, Any]


def resolve_preprocess(options: ConvertOptions, info: ModelInfo) -> Preprocess:
    """The model's input size with the stored or given color order, resize and normalisation."""
    height, width, channels = info.input_shape
    fields: dict[str, Any] = dict(PREPROCESS_DEFAULTS)
    stored_path = artifacts.preprocess_path(options.model)
    if stored_path.is_file():
        stored = artifacts.read_preprocess(stored_path)
        size = (stored.get("height"), stored.get("width"), stored.get("channels"))
        if size != (height, width, channels):
            raise ModelError(
                f"{stored_path}: preprocessing for {size} does not match the model's "
                f"input {info.input_shape}; delete it or train again"
            )
        fields.update({key: stored[key] for key in PREPROCESS_DEFAULTS if key in stored})
    for key in PREPROCESS_DEFAULTS:
        fields[key] = getattr(options, key) or fields[key]
    try:
        return Preprocess(width=width, height=height, channels=channels, **fields)
    except ValueError as exc:
        raise UsageError(f"invalid preprocessing: {exc}") from exc


def resolve_labels(options: ConvertOptions, info: ModelInfo) -> tuple[str, ...]:
    """The labels in output order: two (negative, positive) for a single sigmoid output."""
    if info.kind == "autoencoder":
        return ()
    sigmoid = info.activation == "sigmoid"
    expected = 2 if sigmoid else info.outputs
    beside = artifacts.labels_path(options.model)
    path = options.labels or (beside if beside.is_file() else None)
    if path is None:
        labels = SIGMOID_LABELS if sigmoid else tuple(str(i) for i in range(expected))
        logger.warning("no labels file (--labels or %s): using %s", beside.name, ", ".join(labels))
        return tuple(labels)
    labels = artifacts.read_labels(path)
    if len(labels) != expected:
        what = "2 (negative, positive) for its one sigmoid output" if sigmoid else f"{expected}"
        raise ModelError(
            f"{path}: {len(labels)} labels, but the model needs {what}; "
            "give one label per line, in output order"
        )
    if len(set(labels)) != len(labels):
        raise ModelError(f"{path}: labels are not unique")
    return labels


def calibration_paths(calib: Path) -> list[Path]:
    """The calibration images: every image below a folder, or those a list file names."""
    if calib.is_file():
        return artifacts.read_image_list(calib)
    return list_unlabeled(calib)


def calibration_set(paths: Sequence[Path], preprocess: Preprocess, limit: int) -> Dataset:
    """Up to ``limit`` of the images, evenly spread over them: the quantizer's data."""
    if limit < 1:
        raise UsageError(f"the calibration limit must be at least 1, got {limit}")
    paths = list(paths)
    if len(paths) > limit:
        picks = np.unique(np.linspace(0, len(paths) - 1, limit).round().astype(int))
        paths = [paths[i] for i in picks]
    mapped = map_images(paths, preprocess.to_float, "reading calibration images")
    kept = tuple(paths[i] for i in mapped.kept)
    x = np.stack(mapped.values).astype(np.float32)
    return Dataset(x, None, (), kept, tuple(mapped.skipped))


def used_in_training(model: Path, images: Sequence[Path]) -> int | None:
    """How many of ``images`` the model was trained on, or None when that cannot be known."""
    hashes = artifacts.trained_path(model)
    if not hashes.is_file():
        return None
    trained = artifacts.read_hashes(hashes)
    found = 0
    for image in images:
        try:
            found += artifacts.file_sha256(image) in trained
        except OSError:
            continue  # unreadable: named and skipped when it is scored
    return found


def _say_where_the_threshold_comes_from(
    model: Path, images: int, in_training: int | None, rate: float
) -> None:
    if in_training is None:
        logger.warning(
            "cannot tell whether the %d calibration images were used in training (no %s): "
            "the promised false-alarm rate holds only for images the model did not train on",
            images, artifacts.trained_path(model).name,
        )  # fmt: skip
    elif in_training:
        logger.warning(
            "%d of the %d calibration images were used in training: expect more false alarms "
            "than promised; calibrate on %s", in_training, images,
            artifacts.heldout_path(model).name,
        )  # fmt: skip
    else:
        logger.info("none of the %d calibration images was used in training", images)
    needed = minimum_images(rate)
    if images < needed:
        logger.warning(
            "only %d calibration images: a false-alarm rate of %g needs at least %d; the "
            "threshold is the largest error, which promises only 1/(N+1) = %.3g",
            images, rate, needed, 1.0 / (images + 1),
        )  # fmt: skip


def _with_activation(info: ModelInfo, model: keras.Model, x: np.ndarray[Any, Any]) -> ModelInfo:
    if info.activation is not None:
        return info
    guessed = guess_activation(float_outputs(model, x[:32]))
    logger.warning(
        "the model's last layer does not say its activation; its outputs look like %s", guessed
    )
    return ModelInfo(info.kind, info.input_shape, info.output_shape, guessed)


def _check_output(path: Path) -> Path:
    if path.suffix != ".tflite":
        raise UsageError(
            f"{path}: the bundle's model file must end in .tflite, e.g. -o digits.tflite"
        )
    return path


def _both_models(
    model: keras.Model, quantization: Quantization, calibration: np.ndarray[Any, Any]
) -> tuple[bytes, bytes]:
    """The quantized model and the float one (for the size comparison), from one export."""
    with tempfile.TemporaryDirectory(prefix="edge-convert-") as tmp:
        saved = export_saved_model(model, Path(tmp) / "saved_model")
        quantized = to_tflite(model, quantization, calibration, saved)
        float_bytes = to_tflite(model, "none", calibration, saved)
    return quantized, float_bytes


def versions() -> dict[str, str]:
    from importlib import metadata

    import keras
    import tensorflow as tf

    found = {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
    }
    for dist in ("edge-vision", "numpy", "ai-edge-litert"):
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return found


@dataclass(frozen=True)
class _Job:
    """Everything known about a conversion before the model is converted."""

    options: ConvertOptions
    model: keras.Model
    info: ModelInfo
    labels: tuple[str, ...]
    calibration: Dataset  # the quantizer's share of the calibration images
    calib_paths: tuple[Path, ...]  # all of them, scored for an autoencoder's threshold
    in_training: int | None  # how many of them the model trained on, when known
    evaluation: LabeledFiles | None


def _meta(
    job: _Job,
    device: TFLiteModel,
    check: ClassifierValidation | AutoencoderValidation,
    sizes: dict[str, Any],
) -> dict[str, Any]:
    options, info = job.options, job.info
    meta: dict[str, Any] = {
        "name": options.name or options.output.stem,
        "kind": info.kind,
        "labels": list(job.labels),
        "output_activation": info.activation,
        "preprocess": device.preprocess.as_dict(),
        "input": device.input.as_dict(),
        "output": device.output.as_dict(),
    }
    if isinstance(check, AutoencoderValidation):
        stats = check.calibrated.as_dict()
        meta["anomaly"] = {
            "threshold": check.threshold,
            "percentile": 100.0 * (1.0 - check.calibrated.false_alarm_rate),
            "metric": "mse",
            "false_alarm_rate": check.calibrated.false_alarm_rate,
            "calibration": {
                "images": stats["images"],
                "rank": stats["rank"],
                "in_training": job.in_training,
                "expected_false_alarm_rate": stats["expected_false_alarm_rate"],
                "interval_90": stats["interval_90"],
            },
        }
    meta["quantization"] = options.quantization
    meta["validation"] = {**sizes, **check.report}
    meta["source_model"] = options.model.name
    dataset = artifacts.read_dataset(options.model)
    if dataset is not None:
        meta["dataset"] = dataset  # the folders and the images per label it was trained on
    meta["versions"] = versions()
    meta["created"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return meta


def _validate(job: _Job, device: TFLiteModel) -> ClassifierValidation | AutoencoderValidation:
    calibration = job.calibration.paths
    if job.info.kind == "classifier":
        activation = job.info.activation or "logits"  # always set by _with_activation
        return validate_classifier(
            job.model,
            device,
            activation,
            job.labels,
            calibration=calibration,
            evaluation=job.evaluation,
        )
    return validate_autoencoder(
        job.model,
        device,
        job.calib_paths,
        job.evaluation,
        rate=job.options.promised_rate(),
        float_sample=job.calibration.x,
    )


def _prepare(options: ConvertOptions) -> tuple[_Job, Preprocess]:
    """Load and inspect the model and read the images, before any slow step."""
    model = load_keras_model(options.model)
    info = inspect_model(model, options.model.name)
    check_kind(info, options.kind, options.model.name)
    preprocess = resolve_preprocess(options, info)
    evaluation = list_labeled(options.eval) if options.eval else None
    paths = calibration_paths(options.calib)
    calibration = calibration_set(paths, preprocess, options.calib_limit)
    info = _with_activation(info, model, calibration.x)
    labels = resolve_labels(options, info)
    if evaluation is not None:
        check_evaluation(evaluation, info.kind, labels)
    in_training = None
    if info.kind == "autoencoder":
        rate = options.promised_rate()
        in_training = used_in_training(options.model, paths)
        _say_where_the_threshold_comes_from(options.model, len(paths), in_training, rate)
    job = _Job(options, model, info, labels, calibration, tuple(paths), in_training, evaluation)
    return job, preprocess


def load_back(path: Path, kind: Kind, sample: Path) -> str:
    """Load the written bundle as the device does and run it once; what it said, for the log."""
    bundle = load_bundle(path)
    rgb = load_rgb(sample)
    if kind == "classifier":
        top = Classifier(bundle).classify(rgb, top_k=1).top[0]
        return f"{sample.name} -> {top.label} ({top.score:.3f})"
    score = AnomalyDetector(bundle).score(rgb)
    return f"{sample.name} -> error {score.score:.5f} (threshold {score.threshold:.5f})"


def convert_model(options: ConvertOptions) -> Converted:
    """Quantize, validate and write the bundle ``options.output`` (+ sidecar and report image)."""
    out = _check_output(options.output)
    job, preprocess = _prepare(options)
    quantized, float_model = _both_models(job.model, options.quantization, job.calibration.x)
    device = TFLiteModel(quantized, preprocess)
    check = _validate(job, device)
    meta = _meta(job, device, check, size_report(len(quantized), len(float_model)))
    sidecar = write_bundle(out, quantized, meta)
    image = reports.write_report_image(reports.report_path(out), meta)
    logger.info("loaded back: %s", load_back(out, job.info.kind, job.calibration.paths[0]))
    return Converted(out, sidecar, image, meta)
