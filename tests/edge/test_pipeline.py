from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from edge.config import CameraConfig
from edge.frames import Frame
from edge.inference.classify import Classifier
from edge.inference.colors import ColorTracker
from edge.pipeline import Pipeline, Smoother, Stages, crop_roi
from edge.records import ResultRecord, schema


def test_crop_roi_takes_the_fractions_of_the_frame() -> None:
    rgb = np.arange(100 * 200 * 3, dtype=np.uint8).reshape(100, 200, 3)
    assert crop_roi(rgb, None) is rgb
    part = crop_roi(rgb, (0.5, 0.25, 0.25, 0.5))
    assert part.shape == (50, 50, 3)
    np.testing.assert_array_equal(part, rgb[25:75, 100:150])
    assert crop_roi(rgb, (0.0, 0.0, 0.001, 0.001)).shape == (1, 1, 3)


def test_smoother_averages_the_last_n() -> None:
    smoother = Smoother(2)
    a, b, c = (np.array(v, dtype=np.float32) for v in ([1, 0], [0, 1], [0, 1]))
    np.testing.assert_allclose(smoother.update(a), [1, 0])
    np.testing.assert_allclose(smoother.update(b), [0.5, 0.5])
    np.testing.assert_allclose(smoother.update(c), [0, 1])


def _pipeline(camera: CameraConfig, classifier: Classifier | None) -> Pipeline:
    counter = iter(range(100))
    stages = Stages(camera, ColorTracker(k=3), classifier, None)
    return Pipeline("dev", stages, lambda: next(counter))


def _frame(rgb: np.ndarray, lores: np.ndarray | None = None) -> Frame:
    return Frame(rgb=rgb, camera="cam", seq=0, timestamp=1_700_000_000.5, lores=lores)


@pytest.mark.parametrize(("threshold", "unknown"), [(0.0, False), (1.0, True)])
def test_confidence_threshold_decides_the_label(
    make_bundle: Callable[..., Path], threshold: float, unknown: bool
) -> None:
    camera = CameraConfig(name="cam", confidence_threshold=threshold, top_k=2)
    pipeline = _pipeline(camera, Classifier.from_bundle(make_bundle("softmax")))
    record = pipeline.process(_frame(np.full((30, 40, 3), 90, np.uint8)), capture_ms=1.0)
    jsonschema.validate(record.as_dict(), schema())
    data = record.as_dict()["classification"]
    assert len(data["top"]) == 2
    assert (data["label"] == "unknown") == unknown
    assert ResultRecord.from_dict(record.as_dict()) == record


def test_the_record_has_the_frame_timings_and_colors() -> None:
    rgb = np.zeros((30, 40, 3), np.uint8)
    rgb[:, :10] = (255, 0, 0)
    record = _pipeline(CameraConfig(name="cam"), None).process(_frame(rgb), capture_ms=2.5)
    data = record.as_dict()
    jsonschema.validate(data, schema())
    assert data["frame"] == {"width": 40, "height": 30}
    assert data["ts"] == "2023-11-14T22:13:20.500Z"
    assert [c["hex"] for c in data["colors"]] == ["#000000", "#ff0000"]
    assert data["colors"][1]["fraction"] == pytest.approx(0.25)
    assert data["timing_ms"]["capture"] == 2.5
    assert data["timing_ms"]["classify"] is None
    assert data["timing_ms"]["total"] >= data["timing_ms"]["colors"]


def test_colors_use_the_low_resolution_stream_and_the_roi() -> None:
    rgb = np.zeros((30, 40, 3), np.uint8)
    lores = np.full((6, 8, 3), 200, np.uint8)
    data = _pipeline(CameraConfig(name="cam"), None).process(_frame(rgb, lores), 0.0).as_dict()
    assert [c["hex"] for c in data["colors"]] == ["#c8c8c8"]
    camera = CameraConfig(name="cam", roi=(0.0, 0.0, 0.5, 0.5))
    rgb[:15, :20] = (0, 0, 255)
    data = _pipeline(camera, None).process(_frame(rgb, lores), 0.0).as_dict()
    assert [c["hex"] for c in data["colors"]] == ["#0000ff"]
