"""The shipped demo in edge/data/demo/: bundles that hold their promises, and the frames.

No TensorFlow here: the device path only (LiteRT), as on a Raspberry Pi.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from edge import demo
from edge.images import list_images, load_rgb
from edge.inference.anomaly import AnomalyDetector
from edge.inference.bundle import load_bundle
from edge.inference.classify import Classifier
from models.datasets import DigitsFolders

FRAME_NAME = re.compile(r"^\d{3}_(digit\d|photo)\.png$")


def test_both_bundles_load_on_the_device_path() -> None:
    classifier = Classifier.from_bundle(demo.classifier_path())
    detector = AnomalyDetector.from_bundle(demo.autoencoder_path())
    assert classifier.name == "digits"
    assert classifier.labels == tuple(str(d) for d in range(10))
    assert classifier.bundle.preprocess.as_dict() == {
        "width": 32,
        "height": 32,
        "channels": 1,
        "color_order": "rgb",
        "resize": "crop",
        "normalize": "zero_one",
    }
    assert detector.name == "digits_autoencoder"
    assert detector.bundle.preprocess == classifier.bundle.preprocess
    for model in (classifier.model, detector.model):
        assert (model.input.dtype, model.output.dtype) == ("int8", "int8")


def test_the_report_says_int8_is_within_a_point_of_float() -> None:
    scores = load_bundle(demo.classifier_path()).meta["validation"]["eval"]
    assert scores["images"] == 359
    assert abs(scores["float"]["top1"] - scores["quantized"]["top1"]) <= 0.01
    assert scores["quantized"]["top1"] >= 0.93
    assert scores["agreement"] >= 0.98


def test_int8_top1_re_measured_on_the_held_out_digits(digits: DigitsFolders) -> None:
    classifier = Classifier.from_bundle(demo.classifier_path())
    paths = list_images(digits.held_out)
    hits = [classifier.classify(load_rgb(p), top_k=1).top[0].label == p.parent.name for p in paths]
    float_top1 = load_bundle(demo.classifier_path()).meta["validation"]["eval"]["float"]["top1"]
    assert len(paths) == 359
    assert abs(float(np.mean(hits)) - float_top1) <= 0.01


@pytest.mark.parametrize("path", [demo.classifier_path(), demo.autoencoder_path()])
def test_int8_bundles_are_at_most_30_percent_of_float(path: Path) -> None:
    report = load_bundle(path).meta["validation"]
    assert report["tflite_bytes"] == path.stat().st_size
    assert path.stat().st_size <= 0.30 * report["float_tflite_bytes"]
    assert path.with_suffix(".report.png").is_file()


def test_the_autoencoder_report() -> None:
    bundle = load_bundle(demo.autoencoder_path())
    report = bundle.meta["validation"]
    assert bundle.anomaly is not None
    assert bundle.anomaly.threshold == report["threshold"]
    assert report["eval"]["roc_auc"] >= 0.95
    assert report["eval"]["normal"]["false_alarm_rate"] <= 0.05


def test_the_frames() -> None:
    frames = list_images(demo.frames_dir())
    assert 25 <= len(frames) <= 40
    assert all(FRAME_NAME.match(p.name) for p in frames)
    assert sum("_photo" in p.name for p in frames) >= 4
    rgb = load_rgb(frames[0])
    assert rgb.shape == (240, 320, 3)


def test_the_models_on_the_frames() -> None:
    classifier = Classifier.from_bundle(demo.classifier_path())
    detector = AnomalyDetector.from_bundle(demo.autoencoder_path())
    hits, digit_alarms, photo_alarms = [], [], []
    for path in list_images(demo.frames_dir()):
        rgb = load_rgb(path)
        flagged = detector.score(rgb).is_anomaly
        if "_digit" in path.stem:
            hits.append(classifier.classify(rgb, top_k=1).top[0].label == path.stem[-1])
            digit_alarms.append(flagged)
        else:
            photo_alarms.append(flagged)
    assert np.mean(hits) >= 0.85
    assert np.mean(photo_alarms) >= 0.8
    assert np.mean(digit_alarms) <= 0.1


def test_the_demo_stays_small() -> None:
    total = sum(p.stat().st_size for p in demo.demo_dir().rglob("*") if p.is_file())
    assert total < 500_000
