"""Image folders through the device's preprocessing, and the digits folder."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edge.errors import ImageError
from edge.images import list_images, load_rgb
from edge.inference.preprocess import Preprocess
from models.datasets import (
    Dataset,
    DigitsFolders,
    list_labeled,
    load_labeled,
    load_unlabeled,
    render_digit,
    split_digits,
    warn_about_small_labels,
)

GRAY16 = Preprocess(width=16, height=16, channels=1, normalize="zero_one")


def _image(path: Path, value: int = 128, size: tuple[int, int] = (20, 24)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((*size, 3), value, dtype=np.uint8)).save(path)
    return path


def test_labels_are_the_sorted_subfolders(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    _image(tmp_path / "zebra" / "a.png")
    _image(tmp_path / "ant" / "b.png")
    _image(tmp_path / "ant" / "nested" / "c.jpg")
    _image(tmp_path / "loose.png")
    (tmp_path / "empty").mkdir()
    with caplog.at_level(logging.WARNING):
        files = list_labeled(tmp_path)
    assert files.labels == ("ant", "zebra")
    assert [(p.name, t) for p, t in zip(files.paths, files.targets, strict=True)] == [
        ("b.png", 0),
        ("c.jpg", 0),
        ("a.png", 1),
    ]
    assert "ignored 1 image(s) outside the label subfolders" in caplog.text


def test_images_go_through_the_device_preprocessing(tmp_path: Path) -> None:
    path = _image(tmp_path / "one" / "x.png", value=51)
    _image(tmp_path / "two" / "y.png", value=204)
    data = load_labeled(tmp_path, GRAY16)
    assert data.x.shape == (2, 16, 16, 1)
    assert data.x.dtype == np.float32
    assert data.y is not None and data.y.tolist() == [0, 1]
    np.testing.assert_array_equal(data.x[0], GRAY16.to_float(load_rgb(path)))
    assert data.x[0].max() == pytest.approx(0.2)


def test_unreadable_images_are_named_skipped_and_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _image(tmp_path / "good.png")
    (tmp_path / "bad.jpg").write_bytes(b"not a jpeg")
    with caplog.at_level(logging.WARNING):
        data = load_unlabeled(tmp_path, GRAY16)
    assert len(data) == 1
    assert [p.name for p in data.skipped] == ["bad.jpg"]
    assert data.y is None
    assert "bad.jpg" in caplog.text


@pytest.mark.parametrize(
    ("setup", "loader", "message"),
    [
        (lambda p: None, load_unlabeled, "no images found"),
        (lambda p: (p / "sub").mkdir(), load_labeled, "no label subfolders with images"),
        (lambda p: _image(p / "loose.png"), load_labeled, "no label subfolders"),
        (lambda p: (p / "x.png").write_text("?"), load_unlabeled, "none of the 1 image"),
    ],
)
def test_folders_without_usable_images(
    tmp_path: Path,
    setup: Callable[[Path], object],
    loader: Callable[[Path, Preprocess], Dataset],
    message: str,
) -> None:
    setup(tmp_path)
    with pytest.raises(ImageError, match=message):
        loader(tmp_path, GRAY16)


def test_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="no such folder"):
        load_unlabeled(tmp_path / "nope", GRAY16)


def test_render_digit_is_dark_ink_on_light_paper() -> None:
    values = np.zeros((8, 8))
    values[2:6, 3:5] = 16
    image = render_digit(values, 32)
    assert image.shape == (32, 32)
    assert image.dtype == np.uint8
    assert image[0, 0] == 255
    assert image[16, 16] < 20


def test_the_split_is_stratified_and_seeded() -> None:
    targets = np.repeat(np.arange(4), 50)
    mask = split_digits(targets, 0.2, seed=5)
    assert [int(mask[targets == d].sum()) for d in range(4)] == [10, 10, 10, 10]
    assert np.array_equal(mask, split_digits(targets, 0.2, seed=5))
    assert not np.array_equal(mask, split_digits(targets, 0.2, seed=6))


def test_the_digits_folder(digits: DigitsFolders) -> None:
    train, held_out = list_labeled(digits.train), list_labeled(digits.held_out)
    assert train.labels == held_out.labels == tuple(str(d) for d in range(10))
    assert len(train.paths) + len(held_out.paths) == 1797
    assert len(held_out.paths) == 359
    assert not {p.name for p in train.paths} & {p.name for p in held_out.paths}
    rgb = load_rgb(list_images(digits.train / "0")[0])
    assert rgb.shape == (32, 32, 3)
    assert rgb[0, 0].min() > 200


def test_hidden_empty_and_tiny_label_folders(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for index in range(12):
        _image(tmp_path / "cat" / f"{index}.png")
    _image(tmp_path / "dog" / "0.png")
    _image(tmp_path / "dog" / "1.png")
    _image(tmp_path / ".thumbs" / "0.png")
    (tmp_path / "bird").mkdir()
    with caplog.at_level(logging.WARNING):
        data = load_labeled(tmp_path, GRAY16)
        assert caplog.records == []  # said only once the data is known to be usable
        warn_about_small_labels(tmp_path, data)
    assert data.labels == ("cat", "dog")
    messages = [record.getMessage() for record in caplog.records]
    assert any("empty label folder(s): bird" in message for message in messages)
    assert any("few images in dog (2)" in message for message in messages)
    assert not any("cat" in message or "thumbs" in message for message in messages)


def test_a_camera_dataset_lists_its_labels_but_never_unlabelled(tmp_path: Path) -> None:
    for folder in ("cat", "dog", "unlabelled"):
        (tmp_path / folder).mkdir()
        Image.new("RGB", (4, 4)).save(tmp_path / folder / "a.jpg")
    (tmp_path / "cat" / "a.json").write_text("{}")  # a capture's record beside it
    files = list_labeled(tmp_path)
    assert files.labels == ("cat", "dog")
    assert len(files.paths) == 2
