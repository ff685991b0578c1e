"""Training writes MODEL.keras with its preprocessing and labels, reproducibly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edge.errors import ImageError, UsageError
from edge.inference.preprocess import Preprocess
from models.datasets import DigitsFolders

pytestmark = pytest.mark.tf

GRAY32 = Preprocess(width=32, height=32, channels=1, normalize="zero_one")


@pytest.fixture(scope="module")
def three_digits(tmp_path_factory: pytest.TempPathFactory, digits: DigitsFolders) -> Path:
    """60 training images each of 0, 1 and 7."""
    root = tmp_path_factory.mktemp("three")
    for digit in ("0", "1", "7"):
        (root / digit).mkdir()
        for path in sorted((digits.train / digit).glob("*.png"))[:60]:
            shutil.copy(path, root / digit / path.name)
    return root


def _weights(path: Path) -> list[np.ndarray[Any, Any]]:
    import keras

    return [np.asarray(w) for w in keras.models.load_model(path).get_weights()]


def test_a_classifier_learns_and_is_saved_with_its_sidecars(
    three_digits: Path, tmp_path: Path
) -> None:
    from models.train import TrainOptions, train_classifier

    options = TrainOptions(epochs=6, seed=1, verbose=0)
    result = train_classifier(
        three_digits, tmp_path / "m.keras", GRAY32, options, width=8, dense=16
    )
    assert (result.train_count, result.val_count) == (144, 36)
    assert result.final["val_accuracy"] >= 0.8
    assert (tmp_path / "m.labels.txt").read_text() == "0\n1\n7\n"
    assert json.loads((tmp_path / "m.preprocess.json").read_text()) == GRAY32.as_dict()


@pytest.mark.slow
def test_training_is_reproducible_with_a_seed(three_digits: Path, tmp_path: Path) -> None:
    from models.train import TrainOptions, train_classifier

    options = TrainOptions(epochs=1, seed=3, verbose=0)
    for name in ("a", "b"):
        train_classifier(
            three_digits, tmp_path / f"{name}.keras", GRAY32, options, width=4, dense=0
        )
    for a, b in zip(_weights(tmp_path / "a.keras"), _weights(tmp_path / "b.keras"), strict=True):
        np.testing.assert_array_equal(a, b)


def test_an_autoencoder_learns_to_reconstruct(three_digits: Path, tmp_path: Path) -> None:
    from models.train import TrainOptions, train_autoencoder

    options = TrainOptions(epochs=3, seed=0, verbose=0)
    result = train_autoencoder(three_digits, tmp_path / "ae.keras", GRAY32, options, width=4)
    assert result.history["loss"][-1] < result.history["loss"][0]
    assert result.labels == ()
    assert not (tmp_path / "ae.labels.txt").exists()
    assert (tmp_path / "ae.preprocess.json").is_file()


def test_bad_training_requests(three_digits: Path, tmp_path: Path) -> None:
    from models.train import TrainOptions, train_autoencoder, train_classifier

    minus = Preprocess(width=32, height=32, channels=1, normalize="minus_one_one")
    with pytest.raises(UsageError, match="--normalize zero_one"):
        train_autoencoder(three_digits, tmp_path / "ae.keras", minus)
    with pytest.raises(UsageError, match=r"must end in \.keras"):
        train_classifier(three_digits, tmp_path / "m.h5", GRAY32)
    with pytest.raises(ImageError, match="only label '0'"):
        only_zero = tmp_path / "only"
        shutil.copytree(three_digits / "0", only_zero / "0")
        train_classifier(only_zero, tmp_path / "m.keras", GRAY32)
    with pytest.raises(UsageError, match="--binary needs exactly two labels"):
        train_classifier(three_digits, tmp_path / "m.keras", GRAY32, binary=True)
    with pytest.raises(UsageError, match="--val-split"):
        TrainOptions(val_split=1.0)


def test_a_camera_dataset_trains_on_its_label_folders_only_with_another_merged_in(
    three_digits: Path, tmp_path: Path
) -> None:
    """``<dataset>/<camera>``: unlabelled/ is never trained on; --also merges by label."""
    from models.train import TrainOptions, train_classifier

    camera = tmp_path / "dataset" / "door"
    for folder in ("0", "unlabelled"):
        shutil.copytree(three_digits / "0", camera / folder)
    shutil.copytree(three_digits / "1", camera / "1")
    extra = tmp_path / "extra"
    shutil.copytree(three_digits / "7", extra / "7")
    shutil.copytree(three_digits / "1", extra / "1")
    options = TrainOptions(epochs=1, seed=1, verbose=0)
    result = train_classifier(
        camera, tmp_path / "m.keras", GRAY32, options, also=[extra], width=8, dense=16
    )
    assert result.labels == ("0", "1", "7")
    assert result.train_count + result.val_count == 240  # 60 + 60 + 60 + 60; not unlabelled
    about = json.loads((tmp_path / "m.dataset.json").read_text())
    assert about["images"] == {"0": 60, "1": 120, "7": 60}
    assert about["folders"] == [str(camera.resolve()), str(extra.resolve())]
    assert sum(about["held_out"].values()) == result.val_count
    held_out = (tmp_path / "m.heldout.txt").read_text().splitlines()
    assert len(held_out) == result.val_count
    assert not any("unlabelled" in line for line in held_out)
