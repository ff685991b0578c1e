"""The conversion report: a short readable summary and an image beside the bundle.

Classifiers get the quantized model's confusion matrix (true labels against its predictions;
against the float model's when there are no labeled images). Autoencoders get the histogram
of reconstruction errors with the threshold line, normal against anomaly when given.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from convert.validate import AutoencoderValidation, ClassifierValidation

if TYPE_CHECKING:
    from matplotlib.figure import Figure

logger = logging.getLogger(__name__)


def report_path(tflite_path: str | Path) -> Path:
    return Path(tflite_path).with_suffix(".report.png")


def _figure(width: float, height: float) -> Figure:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=80, layout="constrained")


def confusion_figure(check: ClassifierValidation, labels: Sequence[str], title: str) -> Figure:
    size = len(labels)
    fig = _figure(max(3.5, 0.45 * size + 1.5), max(3.0, 0.45 * size + 1.2))
    ax = fig.add_subplot()
    ax.imshow(check.confusion, cmap="Blues")
    for (row, col), count in np.ndenumerate(check.confusion):
        if count:
            dark = count > check.confusion.max() / 2
            ax.text(
                col,
                row,
                str(count),
                ha="center",
                va="center",
                fontsize=7,
                color="white" if dark else "black",
            )
    ax.set_xticks(range(size), labels, fontsize=7)
    ax.set_yticks(range(size), labels, fontsize=7)
    ax.set_xlabel("quantized model")
    ax.set_ylabel("true label" if check.rows == "true" else "float model")
    ax.set_title(title, fontsize=9)
    return fig


def histogram_figure(check: AutoencoderValidation, title: str) -> Figure:
    fig = _figure(5.0, 3.0)
    ax = fig.add_subplot()
    groups = [
        ("calibration", check.calibration),
        ("normal", check.normal),
        ("anomaly", check.anomaly),
    ]
    present = [(name, errors) for name, errors in groups if errors is not None]
    top = max(float(errors.max()) for _, errors in present)
    bins = np.linspace(0.0, max(top, check.threshold) * 1.05, 40).tolist()
    for name, errors in present:
        ax.hist(errors, bins=bins, alpha=0.55, label=f"{name} ({len(errors)})")
    ax.axvline(
        check.threshold, color="red", linestyle="--", label=f"threshold {check.threshold:.4f}"
    )
    ax.set_xlabel("reconstruction error (MSE)")
    ax.set_ylabel("images")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    return fig


def write_report_image(
    path: Path,
    check: ClassifierValidation | AutoencoderValidation,
    labels: Sequence[str],
    name: str,
) -> Path:
    if isinstance(check, ClassifierValidation):
        fig = confusion_figure(check, labels, f"{name}: quantized model")
    else:
        fig = histogram_figure(check, f"{name}: reconstruction errors")
    fig.savefig(path)
    logger.info("wrote %s", path)
    return path


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _pct2(value: float) -> str:
    return f"{100 * value:.2f}%"


def summary_lines(meta: dict[str, Any]) -> list[str]:
    """A few lines saying what was converted and how the quantized model compares."""
    report = meta["validation"]
    lines = [
        f"{meta['name']}: {meta['kind']}, {meta['quantization']}, input {meta['input']['shape']} "
        f"{meta['input']['dtype']}, {report['tflite_bytes']} bytes "
        f"({_pct(report['size_ratio'])} of float {report['float_tflite_bytes']})"
    ]
    if meta["kind"] == "classifier":
        return lines + _classifier_lines(report)
    return [*lines, *_anomaly_lines(report), _training_line(meta["anomaly"]["calibration"])]


def _training_line(calibration: dict[str, Any]) -> str:
    """Whether the promise holds: only for calibration images the model did not train on."""
    used, images = calibration.get("in_training"), calibration["images"]
    if used is None:
        return "unknown whether the calibration images were used in training (no hashes)"
    if used:
        return f"{used} of {images} calibration images were used in training: more false alarms"
    return f"none of the {images} calibration images was used in training"


def _classifier_lines(report: dict[str, Any]) -> list[str]:
    calib = report["calibration"]
    lines = [
        f"agreement with float on {calib['images']} calibration images: {_pct(calib['agreement'])}"
    ]
    scores = report.get("eval")
    if scores:
        f, q, k = scores["float"], scores["quantized"], scores["top_k"]
        lines.append(
            f"eval on {scores['images']} images: top-1 float {_pct(f['top1'])}, "
            f"quantized {_pct(q['top1'])} (gap {100 * scores['top1_gap']:+.1f} points); "
            f"top-{k} {_pct(f['top5'])} / {_pct(q['top5'])}; "
            f"agreement {_pct(scores['agreement'])}"
        )
        worst = max(scores["per_class"].items(), key=lambda item: item[1]["gap"])
        if worst[1]["gap"] > 0:
            lines.append(f"largest per-class drop: {worst[0]} ({100 * worst[1]['gap']:.1f} points)")
    return lines


def _anomaly_lines(report: dict[str, Any]) -> list[str]:
    calib = report["calibration"]
    low, high = calib["interval_90"]
    skipped = f", {calib['skipped']} unreadable skipped" if calib.get("skipped") else ""
    float_mean = f", float {calib['float']['mean']:.5f}" if "float" in calib else ""
    lines = [
        f"threshold {report['threshold']:.5f} = error {calib['rank']} of {calib['images']} "
        f"calibration images in order{skipped} (mean quantized "
        f"{calib['quantized']['mean']:.5f}{float_mean})",
        f"promised false-alarm rate {_pct(report['false_alarm_rate'])} on fresh normal images: "
        f"expected {_pct2(calib['expected_false_alarm_rate'])}, 90% interval {_pct2(low)} to "
        f"{_pct2(high)}",
    ]
    scores = report.get("eval", {})
    if "anomaly" in scores:
        lines.append(
            f"detection rate {_pct(scores['anomaly']['detection_rate'])} on "
            f"{scores['anomaly']['images']} anomaly images"
        )
    if "normal" in scores:
        lines.append(
            f"false alarms {_pct(scores['normal']['false_alarm_rate'])} on "
            f"{scores['normal']['images']} normal images"
        )
    if "roc_auc" in scores:
        lines.append(f"ROC AUC {scores['roc_auc']:.3f} (float model {scores['float_roc_auc']:.3f})")
    return lines
