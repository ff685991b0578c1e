"""What convert reads besides the model: formats, preprocessing and labels, and their defaults."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from convert.keras_model import ModelInfo, inspect_model, load_keras_model
from convert.pipeline import ConvertOptions, convert_model, resolve_labels, resolve_preprocess
from edge.errors import ModelError, UsageError
from edge.inference.bundle import load_bundle
from models import artifacts
from models.datasets import DigitsFolders

pytestmark = pytest.mark.tf

SOFTMAX3 = ModelInfo("classifier", (8, 8, 3), (3,), "softmax")
SIGMOID = ModelInfo("classifier", (8, 8, 3), (1,), "sigmoid")


def _options(tmp_path: Path, **changes: Any) -> ConvertOptions:
    model = tmp_path / "m.keras"
    return ConvertOptions(model, "classifier", tmp_path, tmp_path / "m.tflite", **changes)


def test_preprocessing_defaults_stored_and_given(tmp_path: Path) -> None:
    assert resolve_preprocess(_options(tmp_path), SOFTMAX3).as_dict() == {
        "width": 8, "height": 8, "channels": 3,
        "color_order": "rgb", "resize": "crop", "normalize": "zero_one",
    }  # fmt: skip
    stored = {"width": 8, "height": 8, "channels": 3, "color_order": "bgr", "normalize": "none"}
    artifacts.preprocess_path(tmp_path / "m.keras").write_text(json.dumps(stored))
    preprocess = resolve_preprocess(_options(tmp_path, normalize="minus_one_one"), SOFTMAX3)
    assert (preprocess.color_order, preprocess.normalize) == ("bgr", "minus_one_one")


def test_stored_preprocessing_for_another_size_is_refused(tmp_path: Path) -> None:
    stored = {"width": 32, "height": 32, "channels": 1}
    artifacts.preprocess_path(tmp_path / "m.keras").write_text(json.dumps(stored))
    with pytest.raises(ModelError, match="does not match the model's input"):
        resolve_preprocess(_options(tmp_path), SOFTMAX3)


def test_a_bad_choice_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="normalize must be one of"):
        resolve_preprocess(_options(tmp_path, normalize="half"), SOFTMAX3)


def test_labels_from_the_file_beside_the_model_or_numbered(tmp_path: Path) -> None:
    assert resolve_labels(_options(tmp_path), SOFTMAX3) == ("0", "1", "2")
    assert resolve_labels(_options(tmp_path), SIGMOID) == ("no", "yes")
    artifacts.write_labels(tmp_path / "m.keras", ["red", "green", "blue"])
    assert resolve_labels(_options(tmp_path), SOFTMAX3) == ("red", "green", "blue")
    with pytest.raises(ModelError, match=r"needs 2 \(negative, positive\)"):
        resolve_labels(_options(tmp_path), SIGMOID)


def test_labels_files_in_json_and_with_duplicates(tmp_path: Path) -> None:
    (tmp_path / "l.json").write_text('["a", "b", "c"]')
    assert resolve_labels(_options(tmp_path, labels=tmp_path / "l.json"), SOFTMAX3) == (
        "a",
        "b",
        "c",
    )
    (tmp_path / "d.txt").write_text("a\nb\na\n")
    with pytest.raises(ModelError, match="not unique"):
        resolve_labels(_options(tmp_path, labels=tmp_path / "d.txt"), SOFTMAX3)
    with pytest.raises(UsageError, match="no such labels file"):
        resolve_labels(_options(tmp_path, labels=tmp_path / "none.txt"), SOFTMAX3)


@pytest.mark.parametrize("fmt", ["h5", "saved_model"])
def test_h5_and_saved_models_convert(
    fmt: str, tmp_path: Path, classifier_model: Path, digits: DigitsFolders
) -> None:
    model = load_keras_model(classifier_model)
    if fmt == "h5":
        source = tmp_path / "digits.h5"
        model.save(source)
    else:
        source = tmp_path / "digits_saved"
        model.export(str(source), verbose=False)
    info = inspect_model(load_keras_model(source), source.name)
    assert (info.kind, info.input_shape, info.output_shape) == ("classifier", (32, 32, 1), (10,))
    out = tmp_path / "out.tflite"
    options = ConvertOptions(source, "classifier", digits.held_out / "5", out, calib_limit=8)
    convert_model(options)
    bundle = load_bundle(out)
    assert bundle.output_activation == "softmax"
    assert bundle.labels == tuple(str(d) for d in range(10))
