"""A real int8 conversion of a small digit classifier, checked the way the device runs it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edge.images import list_images, load_rgb
from edge.inference.bundle import load_bundle
from edge.inference.classify import Classifier
from edge.inference.model import TFLiteModel
from models.datasets import DigitsFolders

pytestmark = [pytest.mark.tf, pytest.mark.slow]  # the module's bundle takes about 5 s


def _validation(bundle: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(bundle.with_suffix(".json").read_text())["validation"]
    return report


def test_int8_agrees_with_float_on_held_out_digits(classifier_bundle: Path) -> None:
    scores = _validation(classifier_bundle)["eval"]
    assert scores["images"] == 359
    assert scores["agreement"] >= 0.95
    assert abs(scores["top1_gap"]) <= 0.03
    assert scores["quantized"]["top1"] >= 0.85
    assert scores["quantized"]["topk"] >= scores["quantized"]["top1"]
    assert "top5" not in scores["quantized"]  # the key does not name a k the sidecar may not use
    assert set(scores["per_class"]) == {str(d) for d in range(10)}


def test_the_sidecar_says_what_the_device_needs(classifier_bundle: Path) -> None:
    bundle = load_bundle(classifier_bundle)
    assert bundle.kind == "classifier"
    assert bundle.labels == tuple(str(d) for d in range(10))
    assert bundle.output_activation == "softmax"
    assert bundle.preprocess.as_dict() == {
        "width": 32,
        "height": 32,
        "channels": 1,
        "color_order": "rgb",
        "resize": "crop",
        "normalize": "zero_one",
    }
    assert bundle.anomaly is None
    assert bundle.meta["quantization"] == "int8"
    assert {"tensorflow", "keras", "edge-vision"} <= set(bundle.meta["versions"])
    dataset = bundle.meta["dataset"]  # which images, how many per label (edge train's)
    assert set(dataset["images"]) == set(bundle.labels)
    assert all(count > 0 for count in dataset["held_out"].values())


def test_tensor_details_match_the_model(classifier_bundle: Path) -> None:
    bundle = load_bundle(classifier_bundle)
    model = TFLiteModel(bundle.model_bytes, bundle.preprocess)
    assert model.input == bundle.input
    assert model.output == bundle.output
    assert bundle.input.shape == (1, 32, 32, 1)
    assert (bundle.input.dtype, bundle.output.dtype) == ("int8", "int8")
    assert bundle.output.shape == (1, 10)


def test_classify_gives_probabilities(classifier_bundle: Path, digits: DigitsFolders) -> None:
    classifier = Classifier.from_bundle(classifier_bundle)
    rgb = load_rgb(next(iter(list_images(digits.held_out / "3"))))
    assert classifier.probabilities(rgb).sum() == pytest.approx(1.0, abs=0.02)
    result = classifier.classify(rgb, top_k=5)
    assert len(result.top) == 5
    assert [t.score for t in result.top] == sorted((t.score for t in result.top), reverse=True)


def test_the_device_path_reproduces_the_report(
    classifier_bundle: Path, digits: DigitsFolders
) -> None:
    classifier = Classifier.from_bundle(classifier_bundle)
    paths = list_images(digits.held_out)
    hits = [classifier.classify(load_rgb(p), top_k=1).top[0].label == p.parent.name for p in paths]
    assert np.mean(hits) == pytest.approx(
        _validation(classifier_bundle)["eval"]["quantized"]["top1"]
    )


def test_sizes_and_report_image(classifier_bundle: Path) -> None:
    report = _validation(classifier_bundle)
    assert report["tflite_bytes"] == classifier_bundle.stat().st_size
    assert report["size_ratio"] < 0.4
    image = classifier_bundle.with_suffix(".report.png")
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    with Image.open(image) as picture:
        assert picture.width >= 1200 and picture.height >= 500  # reads on a laptop
