"""The classify stage on the source's picture at the model's size, and the camera asking for it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from edge.camera import model_size, source_options
from edge.config import CameraConfig
from edge.frames import Frame
from edge.inference.classify import Classifier
from edge.inference.colors import ColorTracker
from edge.pipeline import Pipeline, Stages
from edge.records.parts import Classified


class SpyClassifier(Classifier):
    """A real classifier that remembers the pictures it was given."""

    seen: list[np.ndarray]

    def probabilities(self, rgb: np.ndarray) -> np.ndarray:
        self.seen.append(rgb)
        return super().probabilities(rgb)

    def top(self, rgb: np.ndarray, top_k: int, threshold: float) -> Classified:
        self.seen.append(rgb)
        return super().top(rgb, top_k, threshold)


def _stages(camera: CameraConfig, bundle: Path) -> tuple[Stages, SpyClassifier]:
    classifier = SpyClassifier.from_bundle(bundle)
    assert isinstance(classifier, SpyClassifier)
    classifier.seen = []
    return Stages(camera, ColorTracker(k=3), classifier, None), classifier


def _frame(model_rgb: np.ndarray | None) -> Frame:
    rgb = np.zeros((48, 64, 3), np.uint8)
    return Frame(rgb=rgb, camera="cam", seq=0, timestamp=0.0, model_rgb=model_rgb)


@pytest.mark.parametrize(
    ("roi", "picture", "used"),
    [
        (None, (8, 8), "model"),  # the softmax bundle's input is 8x8
        (None, (12, 8), "model"),  # covers it: the stage stretches it without the frame
        (None, (6, 6), "frame"),  # smaller than the input: the frame is better
        ((0.0, 0.0, 0.5, 0.5), (8, 8), "frame"),  # a region of interest is of the frame
    ],
)
def test_the_classify_stage_takes_the_models_picture_when_it_serves(
    make_bundle: Callable[..., Path],
    roi: tuple[float, float, float, float] | None,
    picture: tuple[int, int],
    used: str,
) -> None:
    camera = CameraConfig(name="cam", roi=roi)
    stages, classifier = _stages(camera, make_bundle("softmax"))
    small = np.full((picture[1], picture[0], 3), 200, np.uint8)
    frame = _frame(small)
    record = Pipeline("dev", stages, iter(range(10)).__next__).process(frame, 0.0)
    assert record.classification is not None
    assert (classifier.seen[-1] is small) == (used == "model")
    if used == "model":  # the same answer as the picture through the plain path
        expected = Classifier.from_bundle(make_bundle("softmax")).probabilities(small.copy())
        np.testing.assert_allclose(
            np.array([t.score for t in record.classification.top]),
            np.sort(expected)[::-1][: len(record.classification.top)],
            atol=1e-6,
        )


def test_the_camera_asks_a_pi_camera_for_the_classifiers_size(
    make_bundle: Callable[..., Path],
) -> None:
    camera = CameraConfig(name="cam", source="picamera2")
    stages, _ = _stages(camera, make_bundle("softmax"))
    assert model_size(stages) == (8, 8)
    assert source_options(camera, (8, 8))["model_size"] == (8, 8)
    assert "model_size" in source_options(camera.model_copy(update={"source": "auto"}), (8, 8))
    assert "model_size" not in source_options(camera.model_copy(update={"source": "demo"}), (8, 8))
    with_roi = camera.model_copy(update={"roi": (0.0, 0.0, 0.5, 0.5)})
    assert model_size(_stages(with_roi, make_bundle("softmax"))[0]) is None
