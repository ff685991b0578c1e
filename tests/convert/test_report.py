"""The conversion report's picture and summary, drawn from a sidecar alone (no TensorFlow)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from convert import report

pytest.importorskip("matplotlib")

LABELS = ["cat", "dog", "owl"]


def _classifier(k: int = 2) -> dict[str, Any]:
    per_class = {
        "cat": {"images": 10, "float": 0.9, "quantized": 0.8, "gap": 0.1},
        "dog": {"images": 10, "float": 1.0, "quantized": 1.0, "gap": 0.0},
        "owl": {"images": 10, "float": 0.7, "quantized": 0.7, "gap": 0.0},
    }
    scores = {"images": 30, "top_k": k, "float": {"top1": 0.867, "topk": 0.97},
              "quantized": {"top1": 0.833, "topk": 0.96}, "top1_gap": 0.033, "agreement": 0.93,
              "per_class": per_class, "skipped": 0,
              "confusion": [[8, 2, 0], [0, 10, 0], [1, 2, 7]]}  # fmt: skip
    validation = {"tflite_bytes": 20_000, "float_tflite_bytes": 80_000, "size_ratio": 0.25,
                  "calibration": {"images": 40, "skipped": 0, "agreement": 0.95},
                  "eval": scores}  # fmt: skip
    shape = {"shape": [1, 32, 32, 3], "dtype": "int8"}
    return {"name": "pets", "kind": "classifier", "labels": LABELS, "quantization": "int8",
            "input": shape, "validation": validation}  # fmt: skip


def _texts(figure: Any) -> str:
    found = []
    for ax in figure.axes:
        found += [ax.get_xlabel(), ax.get_ylabel(), ax.get_title()]
        found += [text.get_text() for text in ax.texts]
    return "\n".join(found)


def test_the_classifier_picture_has_the_figures_and_the_axes_named(tmp_path: Path) -> None:
    meta = _classifier()
    text = _texts(report.classifier_figure(meta))
    assert "predicted (int8 model)" in text and "true label" in text
    assert "quantized model" not in text
    for figure in (
        "86.7% float, 83.3% int8",
        "+3.3 points",
        "top-2",
        "93.0% of 30 eval",
        "19.5 kB int8, 78.1 kB float (25.0%)",
        "class cat: 90.0% float, 80.0% int8",
    ):
        assert figure in text, figure
    path = report.write_report_image(tmp_path / "pets.report.png", meta)
    with Image.open(path) as picture:
        assert picture.width >= 1200 and picture.height >= 500


def test_the_summary_names_top_k_as_the_sidecar_does() -> None:
    lines = "\n".join(report.summary_lines(_classifier(k=4)))
    assert "top-4: 97.0% float, 96.0% int8" in lines
    assert "top-5" not in lines


def test_without_labeled_images_the_matrix_is_float_against_int8() -> None:
    meta = _classifier()
    del meta["validation"]["eval"]
    meta["validation"]["calibration"]["confusion"] = [[5, 0, 0], [0, 5, 1], [0, 0, 4]]
    text = _texts(report.classifier_figure(meta))
    assert "float model's prediction" in text and "predicted (int8 model)" in text
    assert "edge convert --eval DIR" in text


def test_the_autoencoder_picture_is_the_histogram_with_the_threshold(tmp_path: Path) -> None:
    validation = {"tflite_bytes": 9000, "float_tflite_bytes": 30000, "size_ratio": 0.3,
                  "metric": "mse", "threshold": 0.03, "percentile": 99.0,
                  "calibration": {"images": 50, "skipped": 0,
                                  "quantized": {"mean": 0.011, "median": 0.01, "p90": 0.02,
                                                "p99": 0.03, "max": 0.035},
                                  "float": {"mean": 0.010, "median": 0.01, "p90": 0.02,
                                            "p99": 0.03, "max": 0.034}},
                  "eval": {"normal": {"images": 20, "skipped": 0, "mean_error": 0.012,
                                      "false_alarm_rate": 0.05},
                           "anomaly": {"images": 10, "skipped": 0, "mean_error": 0.09,
                                       "detection_rate": 0.9},
                           "roc_auc": 0.97, "float_roc_auc": 0.98},
                  "histogram": {"edges": [0.0, 0.025, 0.05, 0.075, 0.1],
                                "counts": {"calibration": [45, 5, 0, 0], "normal": [18, 2, 0, 0],
                                           "anomaly": [0, 1, 3, 6]}}}  # fmt: skip
    shape = {"shape": [1, 32, 32, 1], "dtype": "int8"}
    meta = {"name": "parts", "kind": "autoencoder", "labels": [], "quantization": "int8",
            "input": shape, "validation": validation}  # fmt: skip
    figure = report.autoencoder_figure(meta)
    text = _texts(figure)
    for figure_text in (
        "0.03000 (99th percentile of 50",
        "90.0% of 10 anomalies",
        "5.0% of 20 normal",
        "0.970 int8, 0.980 float",
    ):
        assert figure_text in text, figure_text
    legends = [ax.get_legend() for ax in figure.axes]
    legend = [t.get_text() for box in legends if box is not None for t in box.texts]
    assert legend == ["calibration (50)", "normal (20)", "anomaly (10)", "threshold 0.0300"]
    sidecar = tmp_path / "parts.json"
    sidecar.write_text(json.dumps(meta))
    assert report.main([str(sidecar)]) == 0  # drawn again from the sidecar alone
    with Image.open(tmp_path / "parts.report.png") as picture:
        assert picture.width >= 1200
