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
    assert scores["anomaly"]["detection_rate"] >= 0.6  # 30 photos at a 1% false-alarm rate
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


def test_the_sidecar_says_what_the_threshold_promises(
    autoencoder_bundle: Path, autoencoder_model: Path
) -> None:
    from models import artifacts

    anomaly = json.loads(autoencoder_bundle.with_suffix(".json").read_text())["anomaly"]
    calibration = anomaly["calibration"]
    assert anomaly["false_alarm_rate"] == 0.01
    assert calibration["images"] > 60  # every image scored, not only the quantizer's 60
    assert calibration["rank"] == -(-(calibration["images"] + 1) * 99 // 100)
    low, high = calibration["interval_90"]
    assert 0 < low < calibration["expected_false_alarm_rate"] <= 0.01 < high
    # conftest calibrates on train/: the images trained on and the validation split
    trained = artifacts.read_hashes(artifacts.trained_path(autoencoder_model))
    assert calibration["in_training"] == len(trained) < calibration["images"]


def test_train_lists_the_held_out_images_and_convert_uses_them(
    autoencoder_model: Path, tmp_path: Path
) -> None:
    from convert.pipeline import ConvertOptions, convert_model
    from models import artifacts

    heldout = artifacts.read_image_list(artifacts.heldout_path(autoencoder_model))
    trained = artifacts.read_hashes(artifacts.trained_path(autoencoder_model))
    assert heldout
    assert not {artifacts.file_sha256(path) for path in heldout} & trained
    options = ConvertOptions(
        autoencoder_model, "autoencoder", artifacts.heldout_path(autoencoder_model),
        tmp_path / "ae.tflite", calib_limit=20, false_alarm_rate=0.05,
    )  # fmt: skip
    anomaly = convert_model(options).meta["anomaly"]
    assert anomaly["calibration"]["in_training"] == 0
    assert anomaly["calibration"]["images"] == len(heldout)
    assert anomaly["false_alarm_rate"] == 0.05
    bundle = load_bundle(tmp_path / "ae.tflite")
    assert bundle.anomaly is not None
    assert bundle.anomaly.false_alarm_rate == 0.05
    assert bundle.anomaly.calibration_images == len(heldout)
