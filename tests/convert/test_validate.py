"""The report's arithmetic, without TensorFlow."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from convert.keras_model import guess_activation
from convert.validate import (
    classifier_scores,
    confusion_matrix,
    distribution,
    eval_targets,
    roc_auc,
    topk_accuracy,
)
from edge.errors import ModelError
from models.datasets import LabeledFiles


@pytest.mark.parametrize(
    ("negatives", "positives", "expected"),
    [
        ([0.1, 0.2], [0.3, 0.4], 1.0),
        ([0.3, 0.4], [0.1, 0.2], 0.0),
        ([0.5, 0.5], [0.5, 0.5], 0.5),
        ([0.1, 0.3], [0.2, 0.4], 0.75),
        ([0.1, 0.2, 0.2], [0.2], 2 / 3),
    ],
)
def test_roc_auc_by_hand(negatives: list[float], positives: list[float], expected: float) -> None:
    neg, pos = np.array(negatives, np.float32), np.array(positives, np.float32)
    assert roc_auc(neg, pos) == pytest.approx(expected)


def test_roc_auc_equals_the_pairwise_definition() -> None:
    rng = np.random.default_rng(3)
    neg = rng.integers(0, 20, 300).astype(np.float32)
    pos = rng.integers(5, 25, 200).astype(np.float32)
    pairs = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    assert roc_auc(neg, pos) == pytest.approx(pairs.mean())


def test_roc_auc_needs_both_groups() -> None:
    with pytest.raises(ValueError, match="both"):
        roc_auc(np.array([], np.float32), np.array([1.0], np.float32))


def test_topk_and_confusion() -> None:
    p = np.array([[0.6, 0.3, 0.1], [0.2, 0.3, 0.5], [0.1, 0.5, 0.4]], np.float32)
    y = np.array([0, 1, 2])
    assert topk_accuracy(p, y, 1) == pytest.approx(1 / 3)
    assert topk_accuracy(p, y, 2) == pytest.approx(1.0)
    assert confusion_matrix(y, np.argmax(p, axis=1), 3).tolist() == [
        [1, 0, 0],
        [0, 0, 1],
        [0, 1, 0],
    ]


def test_classifier_scores_gap_agreement_and_per_class() -> None:
    float_p = np.eye(3, dtype=np.float32)[[0, 1, 2, 2]]
    quant_p = np.eye(3, dtype=np.float32)[[0, 1, 1, 2]]
    scores = classifier_scores(float_p, quant_p, np.array([0, 1, 2, 2]), ["a", "b", "c"])
    assert scores["float"]["top1"] == 1.0
    assert scores["quantized"]["top1"] == 0.75
    assert scores["top1_gap"] == pytest.approx(0.25)
    assert scores["agreement"] == 0.75
    assert scores["per_class"]["c"] == {"images": 2, "float": 1.0, "quantized": 0.5, "gap": 0.5}
    assert scores["top_k"] == 3


def test_eval_targets_map_folders_to_model_labels() -> None:
    files = LabeledFiles(Path("eval"), (Path("a"), Path("b")), (0, 1), ("cat", "dog"))
    assert eval_targets(files, ["bird", "cat", "dog"]).tolist() == [1, 2]
    with pytest.raises(ModelError, match="dog are not labels"):
        eval_targets(files, ["bird", "cat"])


@pytest.mark.parametrize(
    ("outputs", "expected"),
    [
        ([[0.2, 0.8], [0.5, 0.5]], "softmax"),
        ([[0.9], [0.1]], "sigmoid"),
        ([[2.0, -1.0], [0.3, 0.1]], "logits"),
        ([[0.2, 0.2], [0.1, 0.1]], "logits"),
    ],
)
def test_guess_activation(outputs: list[list[float]], expected: str) -> None:
    assert guess_activation(np.array(outputs, np.float32)) == expected


def test_distribution() -> None:
    stats = distribution(np.arange(101, dtype=np.float32))
    assert (stats["median"], stats["p90"], stats["max"]) == (50.0, 90.0, 100.0)
