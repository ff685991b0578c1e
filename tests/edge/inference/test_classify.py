from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from edge.errors import ModelError
from edge.inference.anomaly import AnomalyDetector
from edge.inference.bundle import load_bundle
from edge.inference.classify import (
    Classifier,
    classified,
    decide,
    select_top,
    softmax,
    to_probabilities,
)
from edge.inference.model import TFLiteModel
from edge.inference.preprocess import Preprocess, quantize
from edge.records import LabelScore

from ...support.tiny import FloatModel


def _images(rng: np.random.Generator, n: int = 24) -> np.ndarray:
    return rng.integers(0, 256, (n, 16, 12, 3), dtype=np.uint8)


def test_input_is_quantized_in_place_exactly_as_the_reference(
    make_bundle: Callable[..., Path], rng: np.random.Generator
) -> None:
    model = TFLiteModel.from_bundle(load_bundle(make_bundle("softmax")))
    for rgb in _images(rng, 4):
        model.set_input(rgb)
        raw = model.interpreter.get_tensor(model.interpreter.get_input_details()[0]["index"])[0]
        expected = quantize(
            model.preprocess.to_float(rgb), model.input.scale, model.input.zero_point, np.int8
        )
        np.testing.assert_array_equal(raw, expected)


@pytest.mark.parametrize("which", ["softmax", "logits", "sigmoid"])
def test_int8_probabilities_follow_the_float_model(
    which: str,
    make_bundle: Callable[..., Path],
    float_models: dict[str, FloatModel],
    tiny_preprocess: Preprocess,
    rng: np.random.Generator,
) -> None:
    float_model = float_models[which]
    classifier = Classifier.from_bundle(make_bundle(which))
    images = _images(rng)
    ours = np.array([classifier.probabilities(i) for i in images])
    floats = float_model.predict(np.stack([tiny_preprocess.to_float(i) for i in images]), verbose=0)
    theirs = np.array([to_probabilities(f, which) for f in floats])
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours.sum(axis=1), 1.0, atol=0.02)
    assert np.max(np.abs(ours - theirs)) < 0.08
    if which != "sigmoid":
        agreement = np.mean(ours.argmax(axis=1) == theirs.argmax(axis=1))
        assert agreement >= 0.8


def test_sigmoid_outputs_are_two_labels(
    make_bundle: Callable[..., Path], rng: np.random.Generator
) -> None:
    result = Classifier.from_bundle(make_bundle("sigmoid")).classify(_images(rng, 1)[0], top_k=5)
    assert {label.label for label in result.top} == {"no", "yes"}
    assert sum(label.score for label in result.top) == pytest.approx(1.0)


def test_classify_returns_top_k_sorted(
    make_bundle: Callable[..., Path], rng: np.random.Generator
) -> None:
    result = Classifier.from_bundle(make_bundle("softmax")).classify(_images(rng, 1)[0], top_k=2)
    assert len(result.top) == 2
    assert result.top[0].score >= result.top[1].score
    assert result.as_dict()["model"] == "tiny"


def test_a_classifier_is_not_an_autoencoder(make_bundle: Callable[..., Path]) -> None:
    with pytest.raises(ModelError, match="not an autoencoder"):
        AnomalyDetector.from_bundle(make_bundle("softmax"))
    with pytest.raises(ModelError, match="not a classifier"):
        Classifier.from_bundle(make_bundle("autoencoder"))


def test_anomaly_score_is_the_reconstruction_error(
    make_bundle: Callable[..., Path],
    float_models: dict[str, FloatModel],
    tiny_preprocess: Preprocess,
    rng: np.random.Generator,
) -> None:
    detector = AnomalyDetector.from_bundle(make_bundle("autoencoder"))
    float_model = float_models["autoencoder"]
    for rgb in _images(rng, 5):
        x = tiny_preprocess.to_float(rgb)
        expected = float(np.mean((float_model.predict(x[None], verbose=0)[0] - x) ** 2))
        score = detector.score(rgb)
        assert score.score == pytest.approx(expected, rel=0.25, abs=2e-3)
        assert score.is_anomaly == (score.score > score.threshold)
        assert score.as_dict()["threshold"] == pytest.approx(0.01)


@pytest.mark.parametrize(
    ("values", "activation", "expected"),
    [
        ([0.1, 0.7, 0.2], "softmax", [0.1, 0.7, 0.2]),
        ([0.0, 0.0], "logits", [0.5, 0.5]),
        ([0.8], "sigmoid", [0.2, 0.8]),
        ([1.5], "sigmoid", [0.0, 1.0]),
    ],
)
def test_to_probabilities(values: list[float], activation: str, expected: list[float]) -> None:
    probs = to_probabilities(np.array(values, dtype=np.float32), activation)
    np.testing.assert_allclose(probs, expected, atol=1e-6)


def test_softmax_is_stable_for_large_logits() -> None:
    probs = softmax(np.array([1000.0, 0.0], dtype=np.float32))
    assert probs[0] == pytest.approx(1.0)
    assert np.isfinite(probs).all()


def test_select_top_and_decide() -> None:
    probs = np.array([0.2, 0.5, 0.3], dtype=np.float32)
    top = select_top(probs, ("a", "b", "c"), 5)
    assert [t.label for t in top] == ["b", "c", "a"]
    with pytest.raises(ValueError, match="top_k"):
        select_top(probs, ("a", "b", "c"), 0)
    assert decide("m", top, 0.4).label == "b"
    assert decide("m", top, 0.6).label == "unknown"
    assert decide("m", (LabelScore("x", 0.9),), 0.0).as_dict()["label"] == "x"


def test_the_decision_is_taken_on_the_exact_probability() -> None:
    probs = np.array([0.4999996, 0.3, 0.2000004], dtype=np.float32)
    result = classified("m", probs, ("a", "b", "c"), 2, 0.5)
    assert result.top[0].score == 0.5  # as the record keeps it
    assert result.label == "unknown"  # 0.4999996 is below the threshold
    assert classified("m", probs, ("a", "b", "c"), 2, 0.4999).label == "a"
