"""The quantized model against the float one, on the same images.

The float side is the Keras model on :meth:`Preprocess.to_float` inputs; the quantized side is
:class:`edge.inference.model.TFLiteModel` on the RGB images, the device's path. The report is
plain JSON for the bundle's sidecar; :func:`summary_lines` makes it readable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from convert.keras_model import float_outputs
from edge.errors import ModelError
from edge.inference.anomaly import reconstruction_error
from edge.inference.classify import to_probabilities
from edge.inference.model import TFLiteModel
from edge.inference.threshold import DEFAULT_RATE, Calibration, calibrate
from models.datasets import LabeledFiles, map_images

if TYPE_CHECKING:
    import keras

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]
AUTOENCODER_EVAL = ("anomaly", "normal")
HISTOGRAM_BINS = 40


@dataclass(frozen=True)
class Paired:
    """Float inputs and the device's results for the readable images among ``paths``."""

    x: FloatArray
    device: FloatArray
    kept: list[int]
    skipped: list[Path]


@dataclass(frozen=True)
class ClassifierValidation:
    report: dict[str, Any]
    confusion: IntArray  # rows: true labels (or the float model's), columns: quantized model's
    rows: str


@dataclass(frozen=True)
class AutoencoderValidation:
    report: dict[str, Any]
    calibrated: Calibration
    calibration: npt.NDArray[np.float64]  # the int8 model's errors, as the device computes them
    normal: FloatArray | None = None
    anomaly: FloatArray | None = None

    @property
    def threshold(self) -> float:
        return self.calibrated.threshold


def run_device(
    paths: Sequence[Path],
    device: TFLiteModel,
    fn: Callable[[npt.NDArray[np.uint8]], Any],
    desc: str,
) -> Paired:
    """``fn(rgb)`` on the device path and the float input, for every readable image."""
    mapped = map_images(paths, lambda rgb: (device.preprocess.to_float(rgb), fn(rgb)), desc)
    x = np.stack([pair[0] for pair in mapped.values]).astype(np.float32)
    results = np.asarray([pair[1] for pair in mapped.values], dtype=np.float32)
    return Paired(x, results, mapped.kept, mapped.skipped)


def topk_accuracy(probabilities: FloatArray, targets: IntArray, k: int) -> float:
    top = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]
    return float(np.mean(np.any(top == targets[:, None], axis=1)))


def roc_auc(negatives: FloatArray, positives: FloatArray) -> float:
    """P(score of a positive > score of a negative), ties counting half (Mann-Whitney U)."""
    if len(negatives) == 0 or len(positives) == 0:
        raise ValueError("ROC AUC needs both negatives and positives")
    neg = np.sort(np.asarray(negatives, dtype=np.float64))
    below = np.searchsorted(neg, positives, side="left")
    at_or_below = np.searchsorted(neg, positives, side="right")
    return float(np.sum(below + 0.5 * (at_or_below - below)) / (len(neg) * len(positives)))


def confusion_matrix(rows: IntArray, columns: IntArray, size: int) -> IntArray:
    matrix = np.zeros((size, size), dtype=np.int64)
    np.add.at(matrix, (rows, columns), 1)
    return matrix


def size_report(quantized: int, float_bytes: int) -> dict[str, Any]:
    return {
        "tflite_bytes": quantized,
        "float_tflite_bytes": float_bytes,
        "size_ratio": round(quantized / float_bytes, 4),
    }


# -- classifiers -----------------------------------------------------------------------------


def _probabilities(outputs: FloatArray, activation: str) -> FloatArray:
    return np.stack([to_probabilities(row, activation) for row in outputs]).astype(np.float32)


def eval_targets(files: LabeledFiles, labels: Sequence[str]) -> IntArray:
    """The eval images' label indexes in the model's labels; unknown subfolders are an error."""
    unknown = [label for label in files.labels if label not in labels]
    if unknown:
        raise ModelError(
            f"{files.root}: subfolder(s) {', '.join(unknown)} are not labels of the model "
            f"({', '.join(labels[:12])}{', ...' if len(labels) > 12 else ''}); "
            "name the --eval subfolders after the labels"
        )
    index = {label: labels.index(label) for label in files.labels}
    return np.asarray([index[files.labels[t]] for t in files.targets], dtype=np.int64)


def classifier_scores(
    float_p: FloatArray, quant_p: FloatArray, targets: IntArray, labels: Sequence[str]
) -> dict[str, Any]:
    """Top-1 and top-k of both models, their gap and agreement, and per-class accuracies."""
    k = min(5, len(labels))
    float_top1, quant_top1 = topk_accuracy(float_p, targets, 1), topk_accuracy(quant_p, targets, 1)
    hits_f = np.argmax(float_p, axis=1) == targets
    hits_q = np.argmax(quant_p, axis=1) == targets
    per_class = {}
    for index in np.unique(targets):
        members = targets == index
        f, q = float(hits_f[members].mean()), float(hits_q[members].mean())
        per_class[labels[index]] = {
            "images": int(members.sum()),
            "float": f,
            "quantized": q,
            "gap": f - q,
        }
    return {
        "images": len(targets),
        "top_k": k,
        "float": {"top1": float_top1, "topk": topk_accuracy(float_p, targets, k)},
        "quantized": {"top1": quant_top1, "topk": topk_accuracy(quant_p, targets, k)},
        "top1_gap": float_top1 - quant_top1,
        "agreement": float(np.mean(np.argmax(float_p, axis=1) == np.argmax(quant_p, axis=1))),
        "per_class": per_class,
    }


def validate_classifier(
    model: keras.Model,
    device: TFLiteModel,
    activation: str,
    labels: Sequence[str],
    *,
    calibration: Sequence[Path],
    evaluation: LabeledFiles | None,
) -> ClassifierValidation:
    """Agreement on the calibration images; accuracies too when labeled eval images are given."""
    calib = run_device(calibration, device, device.run, "checking on calibration images")
    calib_f = _probabilities(float_outputs(model, calib.x), activation)
    calib_q = _probabilities(calib.device, activation)
    pred_f, pred_q = np.argmax(calib_f, axis=1), np.argmax(calib_q, axis=1)
    report: dict[str, Any] = {
        "calibration": {
            "images": len(calib.kept),
            "skipped": len(calib.skipped),
            "agreement": float(np.mean(pred_f == pred_q)),
        }
    }
    if evaluation is None:  # rows: the float model's predictions, columns: the int8 model's
        confusion = confusion_matrix(pred_f, pred_q, len(labels))
        report["calibration"]["confusion"] = confusion.tolist()
        return ClassifierValidation(report, confusion, "float")
    targets = eval_targets(evaluation, labels)
    paired = run_device(evaluation.paths, device, device.run, "evaluating")
    y = targets[paired.kept]
    quant_p = _probabilities(paired.device, activation)
    scores = classifier_scores(
        _probabilities(float_outputs(model, paired.x), activation), quant_p, y, labels
    )
    report["eval"] = {**scores, "skipped": len(paired.skipped)}
    confusion = confusion_matrix(y, np.argmax(quant_p, axis=1), len(labels))
    report["eval"]["confusion"] = confusion.tolist()
    return ClassifierValidation(report, confusion, "true")


# -- autoencoders ----------------------------------------------------------------------------


def distribution(errors: npt.NDArray[np.floating[Any]]) -> dict[str, float]:
    p50, p90, p99 = np.percentile(errors, [50, 90, 99])
    return {
        "mean": float(errors.mean()),
        "median": float(p50),
        "p90": float(p90),
        "p99": float(p99),
        "max": float(errors.max()),
    }


def _float_errors(model: keras.Model, x: FloatArray) -> FloatArray:
    reconstruction = float_outputs(model, x)
    return np.asarray(np.mean(np.square(reconstruction - x), axis=(1, 2, 3)), dtype=np.float32)


def _errors(paths: Sequence[Path], device: TFLiteModel, desc: str) -> Paired:
    return run_device(paths, device, lambda rgb: reconstruction_error(device, rgb), desc)


def calibration_errors(
    paths: Sequence[Path], device: TFLiteModel
) -> tuple[npt.NDArray[np.float64], int]:
    """The int8 model's error on every readable calibration image, and how many were skipped."""
    mapped = map_images(
        paths, lambda rgb: reconstruction_error(device, rgb), "scoring calibration images"
    )
    if not mapped.values:
        raise ModelError("no readable calibration image to set the anomaly threshold on")
    return np.asarray(mapped.values, dtype=np.float64), len(mapped.skipped)


def validate_autoencoder(
    model: keras.Model,
    device: TFLiteModel,
    calibration: Sequence[Path],
    evaluation: LabeledFiles | None,
    *,
    rate: float = DEFAULT_RATE,
    float_sample: FloatArray | None = None,
) -> AutoencoderValidation:
    """The threshold by the order statistic of every calibration image's error (see
    edge.inference.threshold) for the promised false-alarm ``rate``; detection figures on eval.
    The float model's errors are taken on ``float_sample`` (float inputs) when given."""
    errors, skipped = calibration_errors(calibration, device)
    calibrated = calibrate(errors, rate)
    stats = calibrated.as_dict()
    report: dict[str, Any] = {
        "metric": "mse",
        "threshold": calibrated.threshold,
        "percentile": 100.0 * (1.0 - rate),
        "false_alarm_rate": rate,
        "calibration": {
            **{key: value for key, value in stats.items() if key != "threshold"},
            "skipped": skipped,
            "quantized": distribution(errors),
        },
    }
    if float_sample is not None and len(float_sample):
        report["calibration"]["float"] = distribution(_float_errors(model, float_sample))
    groups = _eval_groups(evaluation, device) if evaluation is not None else {}
    if evaluation is not None:
        report["eval"] = detection_report(groups, calibrated.threshold, model)
    normal, anomaly = _device_errors(groups, "normal"), _device_errors(groups, "anomaly")
    report["histogram"] = histogram(
        calibrated.threshold, calibration=errors, normal=normal, anomaly=anomaly
    )
    return AutoencoderValidation(report, calibrated, errors, normal, anomaly)


def histogram(threshold: float, **groups: npt.NDArray[np.floating[Any]] | None) -> dict[str, Any]:
    """The int8 model's errors per group as counts over shared bins, for the report image."""
    present = {name: errors for name, errors in groups.items() if errors is not None}
    top = max([threshold, *(float(errors.max()) for errors in present.values())])
    edges = np.linspace(0.0, top * 1.05 or 1.0, HISTOGRAM_BINS + 1)
    counts = {name: np.histogram(np.clip(errors, 0.0, edges[-1]), edges)[0].tolist()
              for name, errors in present.items()}  # fmt: skip
    return {"edges": edges.tolist(), "counts": counts}


def check_evaluation(files: LabeledFiles, kind: str, labels: Sequence[str]) -> None:
    """Refuse, before any slow step, eval subfolders that do not fit the model."""
    if kind == "classifier":
        eval_targets(files, labels)
        return
    unknown = [label for label in files.labels if label not in AUTOENCODER_EVAL]
    if unknown:
        raise ModelError(
            f"{files.root}: for an autoencoder --eval holds normal/ and anomaly/ subfolders, "
            f"not {', '.join(unknown)}"
        )


def _eval_groups(files: LabeledFiles, device: TFLiteModel) -> dict[str, Paired]:
    check_evaluation(files, "autoencoder", ())
    groups = {}
    for index, label in enumerate(files.labels):
        paths = [p for p, t in zip(files.paths, files.targets, strict=True) if t == index]
        groups[label] = _errors(paths, device, f"scoring {label} images")
    return groups


def _device_errors(groups: dict[str, Paired], label: str) -> FloatArray | None:
    return groups[label].device if label in groups else None


def detection_report(
    groups: dict[str, Paired], threshold: float, model: keras.Model
) -> dict[str, Any]:
    """Detection and false-alarm rates at the threshold; ROC AUC when both groups are there."""
    report: dict[str, Any] = {}
    for label, rate in (("normal", "false_alarm_rate"), ("anomaly", "detection_rate")):
        if label in groups:
            errors = groups[label].device
            report[label] = {
                "images": len(errors),
                "skipped": len(groups[label].skipped),
                "mean_error": float(errors.mean()),
                rate: float(np.mean(errors > threshold)),
            }
    if len(groups) == 2:
        report["roc_auc"] = roc_auc(groups["normal"].device, groups["anomaly"].device)
        report["float_roc_auc"] = roc_auc(
            _float_errors(model, groups["normal"].x), _float_errors(model, groups["anomaly"].x)
        )
    return report
