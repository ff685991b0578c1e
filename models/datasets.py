"""Image folders as float arrays, through exactly the preprocessing the device uses.

Classifier folders hold one subfolder per label: labels are the sorted subfolder names, hidden
ones and a camera dataset's ``unlabelled/`` (edge.capture) left out;
:func:`warn_about_small_labels` names empty ones and those with fewer than ``FEW_IMAGES``
images. Autoencoder folders hold any images. Unreadable images are named in the log, skipped
and counted. :func:`write_digits_folder` writes scikit-learn's handwritten digits
as such a folder.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np
import numpy.typing as npt

from edge.capture import UNLABELLED
from edge.errors import ImageError
from edge.images import IMAGE_SUFFIXES, list_images, load_rgb
from edge.inference.preprocess import Preprocess

logger = logging.getLogger(__name__)

T = TypeVar("T")
FloatArray = npt.NDArray[np.float32]
FEW_IMAGES = 10  # a label with fewer images is named in a warning


@dataclass(frozen=True)
class LabeledFiles:
    """The images of a classifier folder with the index of each one's label."""

    root: Path
    paths: tuple[Path, ...]
    targets: tuple[int, ...]
    labels: tuple[str, ...]
    empty: tuple[str, ...] = ()  # label folders without images


@dataclass(frozen=True)
class Dataset:
    """Preprocessed images (N, height, width, channels), their targets when labeled."""

    x: FloatArray
    y: npt.NDArray[np.int64] | None
    labels: tuple[str, ...]
    paths: tuple[Path, ...]
    skipped: tuple[Path, ...]
    empty_labels: tuple[str, ...] = ()  # label folders without images, left out

    def __len__(self) -> int:
        return len(self.paths)


@dataclass(frozen=True)
class Mapped(Generic[T]):
    """What :func:`map_images` made of the readable images, and which it skipped."""

    values: list[T]
    kept: list[int]
    skipped: list[Path]


def _check_folder(folder: str | Path) -> Path:
    root = Path(folder)
    if not root.is_dir():
        raise ImageError(f"{root}: no such folder; give a folder of images")
    return root


def list_unlabeled(folder: str | Path) -> list[Path]:
    """Every image below ``folder``; an error when there is none."""
    root = _check_folder(folder)
    paths = list_images(root)
    if not paths:
        suffixes = ", ".join(sorted(IMAGE_SUFFIXES))
        raise ImageError(f"{root}: no images found ({suffixes}); put some images in it")
    return paths


def list_labeled(folder: str | Path, *more: str | Path) -> LabeledFiles:
    """The images in the label subfolders of ``folder`` (and of ``more`` folders, merged by
    label name); loose top-level images and a camera dataset's ``unlabelled/`` are ignored."""
    roots = [_check_folder(one) for one in (folder, *more)]
    counts: dict[str, int] = {}
    for root in roots:
        for label, count in _label_counts(root).items():
            counts[label] = counts.get(label, 0) + count
    counts = dict(sorted(counts.items()))
    labels = tuple(label for label, count in counts.items() if count)
    if not labels:
        raise ImageError(
            f"{roots[0]}: no label subfolders with images; put the images of each label in "
            "a subfolder named after the label"
        )
    paths: list[Path] = []
    targets: list[int] = []
    for index, label in enumerate(labels):
        found = [path for root in roots for path in list_images(root / label)]
        paths += found
        targets += [index] * len(found)
    empty = tuple(label for label, count in counts.items() if not count)
    return LabeledFiles(roots[0], tuple(paths), tuple(targets), labels, empty)


def _label_counts(root: Path) -> dict[str, int]:
    """Images per label subfolder of ``root`` (``unlabelled/`` and hidden ones left out)."""
    loose = [p for p in root.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    if loose:
        logger.warning("%s: ignored %d image(s) outside the label subfolders", root, len(loose))
    return {
        p.name: len(list_images(p))
        for p in sorted(root.iterdir())
        if p.is_dir() and not p.name.startswith(".") and p.name != UNLABELLED
    }


def map_images(
    paths: Sequence[Path], fn: Callable[[npt.NDArray[np.uint8]], T], desc: str = "images"
) -> Mapped[T]:
    """``fn(rgb)`` for every readable image, with a progress bar; unreadable ones are skipped
    (each named in the log), and ImageError (one line, naming the first) if none is readable."""
    from tqdm import tqdm

    mapped: Mapped[T] = Mapped([], [], [])
    problems: list[ImageError] = []
    for index, path in enumerate(tqdm(paths, desc=desc, unit="img", leave=False, disable=None)):
        try:
            rgb = load_rgb(path)
        except ImageError as exc:
            problems.append(exc)
            mapped.skipped.append(path)
            continue
        mapped.values.append(fn(rgb))
        mapped.kept.append(index)
    if not mapped.values:
        example = f", e.g. {problems[0]}" if problems else ""
        raise ImageError(f"none of the {len(paths)} image(s) could be read{example}")
    for problem in problems:
        logger.warning("skipped %s", problem)
    if mapped.skipped:
        logger.warning("skipped %d unreadable image(s) of %d", len(mapped.skipped), len(paths))
    return mapped


def _to_dataset(
    paths: Sequence[Path],
    targets: Sequence[int] | None,
    labels: tuple[str, ...],
    preprocess: Preprocess,
    desc: str,
) -> Dataset:
    mapped = map_images(paths, preprocess.to_float, desc)
    x = np.stack(mapped.values).astype(np.float32, copy=False)
    y = None if targets is None else np.asarray([targets[i] for i in mapped.kept], dtype=np.int64)
    kept = tuple(paths[i] for i in mapped.kept)
    return Dataset(x, y, labels, kept, tuple(mapped.skipped))


def load_labeled(folder: str | Path, preprocess: Preprocess, *more: str | Path) -> Dataset:
    """A classifier folder (one subfolder per label; ``more`` merged in) as preprocessed float
    arrays."""
    files = list_labeled(folder, *more)
    data = _to_dataset(files.paths, files.targets, files.labels, preprocess, files.root.name)
    return replace(data, empty_labels=files.empty)


def warn_about_small_labels(folder: str | Path, data: Dataset) -> None:
    """Name the empty label folders, and the labels with fewer than FEW_IMAGES images."""
    if data.empty_labels:
        empty = ", ".join(data.empty_labels)
        logger.warning(
            "%s: skipped %d empty label folder(s): %s", folder, len(data.empty_labels), empty
        )
    if data.y is None:
        return
    counts: list[int] = np.bincount(data.y, minlength=len(data.labels)).tolist()
    tiny = [(label, n) for label, n in zip(data.labels, counts, strict=True) if n < FEW_IMAGES]
    if tiny:
        listed = ", ".join(f"{label} ({n})" for label, n in tiny)
        logger.warning(
            "%s: few images in %s; a label needs %d or more to be learned well",
            folder, listed, FEW_IMAGES,
        )  # fmt: skip


def load_unlabeled(folder: str | Path, preprocess: Preprocess) -> Dataset:
    """Any images below ``folder`` as preprocessed float arrays (for autoencoders)."""
    paths = list_unlabeled(folder)
    return _to_dataset(paths, None, (), preprocess, Path(folder).name)


# -- scikit-learn's handwritten digits as an image folder ----------------------------------


@dataclass(frozen=True)
class DigitsFolders:
    train: Path
    held_out: Path


def render_digit(values: npt.NDArray[np.floating[Any]], size: int) -> npt.NDArray[np.uint8]:
    """One 8x8 digit (ink 0..16) as dark ink on light paper, upscaled smoothly to size x size."""
    import cv2

    paper = 255.0 - np.asarray(values, dtype=np.float32).reshape(8, 8) * (255.0 / 16.0)
    big = cv2.resize(paper, (size, size), interpolation=cv2.INTER_CUBIC)
    return np.clip(np.rint(big), 0, 255).astype(np.uint8)


def split_digits(
    targets: npt.NDArray[np.int64], held_out: float = 0.2, seed: int = 0
) -> npt.NDArray[np.bool_]:
    """A deterministic stratified split: True for the held-out images."""
    if not 0.0 < held_out < 1.0:
        raise ValueError(f"held_out must be between 0 and 1, got {held_out}")
    rng = np.random.default_rng(seed)
    mask = np.zeros(len(targets), dtype=bool)
    for digit in np.unique(targets):
        members = rng.permutation(np.flatnonzero(targets == digit))
        mask[members[: round(len(members) * held_out)]] = True
    return mask


def write_digits_folder(
    out_dir: str | Path, size: int = 32, held_out: float = 0.2, seed: int = 0
) -> DigitsFolders:
    """Write load_digits as PNGs: ``out_dir/train/<digit>/`` and ``out_dir/held_out/<digit>/``.

    File names are the images' indexes in load_digits; the split is seeded and stratified.
    """
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    targets = np.asarray(digits.target, dtype=np.int64)
    mask = split_digits(targets, held_out, seed)
    root = Path(out_dir)
    folders = DigitsFolders(root / "train", root / "held_out")
    for index, (values, digit) in enumerate(zip(digits.images, targets, strict=True)):
        folder = (folders.held_out if mask[index] else folders.train) / str(digit)
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(render_digit(values, size), "L").save(folder / f"{index:04d}.png")
    logger.info("wrote %d digits to %s (%d held out)", len(targets), root, int(mask.sum()))
    return folders
