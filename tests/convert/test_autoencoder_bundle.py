"""A real int8 conversion of a small digit autoencoder: threshold and anomaly figures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edge.images import list_images, load_rgb
from edge.inference.anomaly import AnomalyDetector
from edge.inference.bundle import load_bundle

pytestmark = [pytest.mark.tf, pytest.mark.slow]  # the module's bundle takes about 18 s


def test_the_sidecar_holds_the_threshold(autoencoder_bundle: Path) -> None:
    bundle = load_bundle(autoencoder_bundle)
    assert bundle.kind == "autoencoder"
    assert bundle.labels == ()
    assert bundle.output_activation == "sigmoid"
    assert bundle.anomaly is not None
    assert bundle.anomaly.percentile == 99.0
    assert bundle.anomaly.metric == "mse"
    report = bundle.meta["validation"]
    assert bundle.anomaly.threshold == report["threshold"]
    assert report["calibration"]["quantized"]["median"] < bundle.anomaly.threshold
    assert bundle.input.shape == bundle.output.shape == (1, 32, 32, 1)


def test_photos_are_flagged_more_than_digits(autoencoder_bundle: Path) -> None:
    scores = json.loads(autoencoder_bundle.with_suffix(".json").read_text())["validation"]["eval"]
    assert scores["roc_auc"] >= 0.9
    assert scores["anomaly"]["detection_rate"] >= 0.7
    assert scores["normal"]["false_alarm_rate"] <= 0.1
    assert abs(scores["roc_auc"] - scores["float_roc_auc"]) <= 0.05


def test_the_detector_scores_on_the_device_path(
    autoencoder_bundle: Path, anomaly_eval: Path
) -> None:
    detector = AnomalyDetector.from_bundle(autoencoder_bundle)

    def mean_score(folder: Path) -> float:
        return float(np.mean([detector.score(load_rgb(p)).score for p in list_images(folder)]))

    assert mean_score(anomaly_eval / "anomaly") > 2 * mean_score(anomaly_eval / "normal")
    assert autoencoder_bundle.with_suffix(".report.png").is_file()
    histogram = autoencoder_bundle.with_suffix(".json")
    counts = json.loads(histogram.read_text())["validation"]["histogram"]["counts"]
    assert set(counts) == {"calibration", "normal", "anomaly"}  # the picture, drawn again
