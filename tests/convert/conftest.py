"""Shared, session-scoped artifacts for the conversion tests: digits, tiny trained models and
their converted bundles. Trained and converted once, with real TensorFlow."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from edge.inference.preprocess import Preprocess
from models.datasets import DigitsFolders

GRAY32 = Preprocess(width=32, height=32, channels=1, resize="crop", normalize="zero_one")
CALIB_LIMIT = 60


@pytest.fixture(scope="session")
def digits(tmp_path_factory: pytest.TempPathFactory) -> DigitsFolders:
    """scikit-learn's digits as PNGs: train/<digit>/ and held_out/<digit>/."""
    pytest.importorskip("sklearn")
    from models.datasets import write_digits_folder

    return write_digits_folder(tmp_path_factory.mktemp("digits"), size=32, held_out=0.2, seed=0)


@pytest.fixture(scope="session")
def anomaly_eval(tmp_path_factory: pytest.TempPathFactory, digits: DigitsFolders) -> Path:
    """normal/: 80 held-out digits; anomaly/: 30 crops of photos."""
    pytest.importorskip("skimage")
    from models.demo import write_photo_crops

    root = tmp_path_factory.mktemp("anomaly_eval")
    for index, path in enumerate(sorted(digits.held_out.rglob("*.png"))[::4][:80]):
        (root / "normal").mkdir(exist_ok=True)
        shutil.copy(path, root / "normal" / f"{index:03d}.png")
    write_photo_crops(root / "anomaly", 30, seed=1)
    return root


@pytest.fixture(scope="session")
def classifier_model(tmp_path_factory: pytest.TempPathFactory, digits: DigitsFolders) -> Path:
    """A small digit classifier, a few epochs: MODEL.keras with preprocess and labels beside."""
    pytest.importorskip("tensorflow")
    from models.train import TrainOptions, train_classifier

    out = tmp_path_factory.mktemp("classifier") / "digits.keras"
    options = TrainOptions(epochs=4, seed=0, verbose=0)
    train_classifier(digits.train, out, GRAY32, options, width=8, depth=2, dense=32)
    return out


@pytest.fixture(scope="session")
def autoencoder_model(tmp_path_factory: pytest.TempPathFactory, digits: DigitsFolders) -> Path:
    pytest.importorskip("tensorflow")
    from models.train import TrainOptions, train_autoencoder

    out = tmp_path_factory.mktemp("autoencoder") / "digits_ae.keras"
    options = TrainOptions(epochs=8, seed=0, verbose=0)
    train_autoencoder(digits.train, out, GRAY32, options, width=8, depth=2, bottleneck=16)
    return out


@pytest.fixture(scope="session")
def classifier_bundle(classifier_model: Path, digits: DigitsFolders) -> Path:
    """The classifier converted to int8, validated on the held-out digits."""
    from convert.pipeline import ConvertOptions, convert_model

    out = classifier_model.with_suffix(".tflite")
    options = ConvertOptions(
        model=classifier_model,
        kind="classifier",
        calib=digits.train,
        output=out,
        eval=digits.held_out,
        calib_limit=CALIB_LIMIT,
    )
    return convert_model(options).path


@pytest.fixture(scope="session")
def autoencoder_bundle(autoencoder_model: Path, digits: DigitsFolders, anomaly_eval: Path) -> Path:
    from convert.pipeline import ConvertOptions, convert_model

    out = autoencoder_model.with_suffix(".tflite")
    options = ConvertOptions(
        model=autoencoder_model,
        kind="autoencoder",
        calib=digits.train,
        output=out,
        eval=anomaly_eval,
        calib_limit=CALIB_LIMIT,
    )
    return convert_model(options).path
