"""Every user mistake ``edge convert`` can meet is one clear EdgeError naming the problem."""

from __future__ import annotations

import argparse
import logging
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from convert.pipeline import ConvertOptions, calibration_paths, calibration_set, convert_model
from edge.errors import EdgeError, ImageError, ModelError, UsageError
from edge.inference.preprocess import Preprocess
from models.datasets import DigitsFolders

pytestmark = pytest.mark.tf

GRAY8 = Preprocess(width=8, height=8, channels=1)


def _options(model: Path, calib: Path, tmp_path: Path, **changes: Any) -> ConvertOptions:
    fields: dict[str, Any] = {
        "model": model,
        "kind": "classifier",
        "calib": calib,
        "output": tmp_path / "out.tflite",
        "calib_limit": 10,
    }
    return ConvertOptions(**{**fields, **changes})


def _tiny(tmp_path: Path, build: Any, name: str = "tiny.keras") -> Path:
    import keras

    inputs = keras.Input((8, 8, 1))
    model = keras.Model(inputs, build(inputs))
    path = tmp_path / name
    model.save(path)
    return path


def _images(folder: Path, count: int = 4, size: int = 8) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for index in range(count):
        pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{index}.png")
    return folder


def _dense_softmax(inputs: Any) -> Any:
    from keras import layers

    return layers.Dense(3, activation="softmax")(layers.Flatten()(inputs))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing.keras", "no such model file"),
        (lambda p: _write(p / "notes.keras", "not a model"), "not a .keras file"),
        (lambda p: _write(p / "model.h5", "\x89HDF garbage"), "not a Keras model"),
        (lambda p: (p / "folder").mkdir() or p / "folder", "not a SavedModel"),
    ],
)
def test_a_model_file_that_cannot_be_loaded(tmp_path: Path, make: Any, message: str) -> None:
    calib = _images(tmp_path / "calib")
    with pytest.raises(ModelError, match=message):
        convert_model(_options(make(tmp_path), calib, tmp_path))


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_unsafe_lambda_layers_are_refused(tmp_path: Path) -> None:
    from keras import layers

    model = _tiny(tmp_path, lambda x: _dense_softmax(layers.Lambda(lambda t: t * 2)(x)))
    with pytest.raises(ModelError, match=r"not a Keras model.*Lambda"):
        convert_model(_options(model, _images(tmp_path / "calib"), tmp_path))


def test_a_model_that_is_neither_classifier_nor_autoencoder(tmp_path: Path) -> None:
    from keras import layers

    model = _tiny(tmp_path, layers.Conv2D(2, 3, padding="same"))
    with pytest.raises(ModelError, match=r"neither a classifier's .* nor an autoencoder's"):
        convert_model(_options(model, _images(tmp_path / "calib"), tmp_path))


def test_a_classifier_with_a_relu_output_is_refused(tmp_path: Path) -> None:
    from keras import layers

    model = _tiny(tmp_path, lambda x: layers.Dense(3, activation="relu")(layers.Flatten()(x)))
    with pytest.raises(ModelError, match="activation 'relu' is not a classifier's"):
        convert_model(_options(model, _images(tmp_path / "calib"), tmp_path))


def test_the_wrong_kind_says_which_kind(tmp_path: Path) -> None:
    model = _tiny(tmp_path, _dense_softmax)
    with pytest.raises(ModelError, match=r"is a classifier .* use --kind classifier"):
        convert_model(_options(model, _images(tmp_path / "calib"), tmp_path, kind="autoencoder"))


def test_labels_that_do_not_match_the_outputs(tmp_path: Path) -> None:
    model = _tiny(tmp_path, _dense_softmax)
    labels = _write(tmp_path / "labels.txt", "cat\ndog\n")
    with pytest.raises(ModelError, match="2 labels, but the model needs 3"):
        convert_model(_options(model, _images(tmp_path / "calib"), tmp_path, labels=labels))


def test_an_empty_calibration_folder(tmp_path: Path) -> None:
    model = _tiny(tmp_path, _dense_softmax)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ImageError, match="no images found"):
        convert_model(_options(model, tmp_path / "empty", tmp_path))


def test_an_output_that_is_not_tflite(tmp_path: Path) -> None:
    model = _tiny(tmp_path, _dense_softmax)
    with pytest.raises(UsageError, match=r"must end in \.tflite"):
        convert_model(_options(model, _images(tmp_path / "c"), tmp_path, output=tmp_path / "x.bin"))


def test_unreadable_calibration_images_are_named_skipped_and_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    calib = _images(tmp_path / "calib", count=3)
    _write(calib / "broken.png", "not a png")
    with caplog.at_level(logging.WARNING):
        data = calibration_set(calibration_paths(calib), GRAY8, limit=10)
    assert len(data) == 3
    assert [p.name for p in data.skipped] == ["broken.png"]
    assert "broken.png" in caplog.text
    assert "skipped 1 unreadable image(s) of 4" in caplog.text


def test_eval_subfolders_must_be_labels(
    tmp_path: Path, classifier_model: Path, digits: DigitsFolders
) -> None:
    evaluation = tmp_path / "eval"
    _images(evaluation / "3")
    _images(evaluation / "cat")
    options = _options(classifier_model, digits.held_out / "1", tmp_path, eval=evaluation)
    with pytest.raises(ModelError, match="cat are not labels of the model"):
        convert_model(options)


def test_the_cli_runs_and_prints_a_summary(
    tmp_path: Path,
    classifier_model: Path,
    digits: DigitsFolders,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from convert import cli

    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    out = tmp_path / "bundle" / "d.tflite"
    args = parser.parse_args(
        [
            str(classifier_model),
            "--kind",
            "classifier",
            "--calib",
            str(digits.held_out),
            "--calib-limit",
            "20",
            "-o",
            str(out),
            "--quantization",
            "uint8",
            "--name",
            "digits-u8",
        ]
    )
    assert cli.run(args) == 0
    printed = capsys.readouterr().out
    assert "digits-u8: classifier, uint8" in printed
    assert "agreement: " in printed and "of 20 calibration images" in printed
    assert out.with_suffix(".json").is_file()


def test_edge_convert_maps_errors_to_exit_codes(tmp_path: Path) -> None:
    from edge.cli import main

    code = main(
        [
            "convert",
            str(tmp_path / "nope.keras"),
            "--kind",
            "classifier",
            "--calib",
            str(tmp_path),
            "-o",
            str(tmp_path / "x.tflite"),
        ]
    )
    assert code == ModelError.exit_code == EdgeError.exit_code


def test_an_autoencoder_eval_needs_normal_and_anomaly(
    tmp_path: Path, autoencoder_model: Path, anomaly_eval: Path
) -> None:
    evaluation = tmp_path / "eval"
    shutil.copytree(anomaly_eval / "normal", evaluation / "digits")
    options = _options(
        autoencoder_model, anomaly_eval / "normal", tmp_path, kind="autoencoder", eval=evaluation
    )
    with pytest.raises(ModelError, match="normal/ and anomaly/ subfolders, not digits"):
        convert_model(options)
