"""The shipped demo: the classifier reads the digits shown, the autoencoder flags the photos."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

from edge import demo
from edge.cli import main

from ..support.schema import validate

FRAME_NAME = re.compile(r"^\d+_(digit(?P<digit>\d)|photo)\.png$")


def _truth() -> list[str | None]:
    """The digit shown in each demo frame, in order; None for the photos."""
    names = sorted(p.name for p in demo.frames_dir().glob("*.png"))
    matches = [FRAME_NAME.match(name) for name in names]
    assert all(matches), names
    return [m.group("digit") for m in matches if m]


@pytest.fixture(scope="module")
def demo_records(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, object]]:
    out = tmp_path_factory.mktemp("demo")
    source = f"folder:{demo.frames_dir()}"
    assert main(["run", "--quiet", "--source", source, "--fps", "0", "--out", str(out)]) == 0
    (results,) = (out / "camera").glob("results-*.jsonl")
    return [json.loads(line) for line in results.read_text().splitlines()]


def test_the_demo_has_digits_and_photos() -> None:
    truth = _truth()
    assert len(truth) >= 20
    assert 3 <= truth.count(None) < len(truth) // 2


def test_the_classifier_reads_the_digits(demo_records: list[dict[str, object]]) -> None:
    truth = _truth()
    assert len(demo_records) == len(truth)
    digits = [(r, t) for r, t in zip(demo_records, truth, strict=True) if t is not None]
    correct = sum(r["classification"]["label"] == t for r, t in digits)  # type: ignore[index]
    assert correct / len(digits) >= 0.9


def test_the_autoencoder_flags_the_photos(demo_records: list[dict[str, object]]) -> None:
    flags = [r["anomaly"]["is_anomaly"] for r in demo_records]  # type: ignore[index]
    truth = _truth()
    photos = [f for f, t in zip(flags, truth, strict=True) if t is None]
    digits = [f for f, t in zip(flags, truth, strict=True) if t is not None]
    assert sum(photos) / len(photos) >= 0.8
    assert sum(digits) / len(digits) <= 0.1


def test_every_demo_record_is_valid(demo_records: list[dict[str, object]]) -> None:
    for record in demo_records:
        validate(record)


def test_the_demo_models_on_other_frames_are_named_once_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = f"folder:{demo.frames_dir()}"
    with caplog.at_level(logging.INFO):
        assert main(["run", "--quiet", "--source", source, "--max-frames", "3", "--fps", "0",
                     "--out", str(tmp_path / "a")]) == 0  # fmt: skip
    said = [r.getMessage() for r in caplog.records if r.name == "edge.demo"]
    assert len(said) == 1, said
    assert "classifier and anomaly: the demo models (digits.tflite" in said[0]
    assert "--classifier BUNDLE" in said[0]
    caplog.clear()
    with caplog.at_level(logging.INFO):
        assert main(["run", "--quiet", "--source", "demo", "--max-frames", "1", "--fps", "0",
                     "--out", str(tmp_path / "b")]) == 0  # fmt: skip
    assert not [r for r in caplog.records if r.name == "edge.demo"]  # the demo on its own frames
