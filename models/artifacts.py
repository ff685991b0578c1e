"""The files a trained model carries beside it, for ``edge convert`` to pick up by default.

``MODEL.keras`` is accompanied by ``MODEL.preprocess.json`` (the :class:`Preprocess` it was
trained with) and, for classifiers, ``MODEL.labels.txt`` (one label per line, in output order).
An autoencoder also gets ``MODEL.heldout.txt``, the images it did not train on (one path per
line: ``edge convert --calib MODEL.heldout.txt`` sets the threshold on them), and
``MODEL.trained.sha256``, the images it trained on in ``sha256sum`` format, by which
``edge convert`` tells whether its calibration images were used in training. A classifier gets
``MODEL.heldout.txt`` too (its validation images) and ``MODEL.dataset.json``: the folders it
was trained on and the images per label, trained on and held out, which ``edge convert`` puts
in the bundle as ``dataset``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edge.errors import ModelError, UsageError
from edge.inference.preprocess import Preprocess

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from models.datasets import Dataset

logger = logging.getLogger(__name__)


def _stem(model_path: str | Path) -> Path:
    path = Path(model_path)
    return path.with_suffix("") if path.suffix in (".keras", ".h5") else path


def preprocess_path(model_path: str | Path) -> Path:
    stem = _stem(model_path)
    return stem.with_name(stem.name + ".preprocess.json")


def labels_path(model_path: str | Path) -> Path:
    stem = _stem(model_path)
    return stem.with_name(stem.name + ".labels.txt")


def heldout_path(model_path: str | Path) -> Path:
    stem = _stem(model_path)
    return stem.with_name(stem.name + ".heldout.txt")


def dataset_path(model_path: str | Path) -> Path:
    stem = _stem(model_path)
    return stem.with_name(stem.name + ".dataset.json")


def write_dataset(
    model_path: str | Path,
    folders: Sequence[str | Path],
    data: Dataset,
    train: npt.NDArray[np.int64],
    val: npt.NDArray[np.int64],
) -> Path:
    """Where a classifier's images came from and how many per label it trained on and held
    out: ``{"folders": [...], "images": {label: n}, "trained": {...}, "held_out": {...}}``."""
    targets: Sequence[int] = [int(t) for t in data.y] if data.y is not None else []

    def per_label(indices: Sequence[int]) -> dict[str, int]:
        counts = dict.fromkeys(data.labels, 0)
        for index in indices:
            counts[data.labels[targets[index]]] += 1
        return counts

    about = {"folders": [str(Path(folder).resolve()) for folder in folders],
             "images": per_label(range(len(data))), "trained": per_label(list(train)),
             "held_out": per_label(list(val))}  # fmt: skip
    path = dataset_path(model_path)
    path.write_text(json.dumps(about, indent=2) + "\n", encoding="utf-8")
    return path


def read_dataset(model_path: str | Path) -> dict[str, Any] | None:
    """What ``write_dataset`` kept beside the model; None when there is nothing (or junk)."""
    try:
        about = json.loads(dataset_path(model_path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return about if isinstance(about, dict) else None


def trained_path(model_path: str | Path) -> Path:
    stem = _stem(model_path)
    return stem.with_name(stem.name + ".trained.sha256")


def write_image_list(path: Path, images: Sequence[Path]) -> Path:
    """One absolute path per line."""
    path.write_text("".join(f"{image.resolve()}\n" for image in images), encoding="utf-8")
    return path


def read_image_list(path: str | Path) -> list[Path]:
    """The images a list file names, one per line; relative ones are below the file's folder."""
    list_file = Path(path)
    try:
        lines = list_file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{list_file}: cannot read the image list ({exc})") from exc
    images = [list_file.parent / line.strip() for line in lines if line.strip()]
    if not images:
        raise UsageError(f"{list_file}: names no images; give one image path per line")
    return images


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_hashes(path: Path, images: Sequence[Path]) -> Path:
    """``sha256sum`` format: the hash, two spaces, the absolute path."""
    lines = (f"{file_sha256(image)}  {image.resolve()}\n" for image in images)
    path.write_text("".join(lines), encoding="utf-8")
    return path


def read_hashes(path: Path) -> frozenset[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"{path}: cannot read the training images' hashes ({exc})") from exc
    return frozenset(line.split()[0] for line in lines if line.strip())


def write_preprocess(model_path: str | Path, preprocess: Preprocess) -> Path:
    path = preprocess_path(model_path)
    path.write_text(json.dumps(preprocess.as_dict(), indent=2) + "\n", encoding="utf-8")
    return path


def read_preprocess(path: str | Path) -> dict[str, object]:
    """The preprocessing fields stored in ``path`` (checked later against the model)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: cannot read the preprocessing ({exc})") from exc
    if not isinstance(data, dict):
        raise ModelError(f"{path}: expected a JSON object with the preprocessing fields")
    return data


def write_labels(model_path: str | Path, labels: Sequence[str]) -> Path:
    path = labels_path(model_path)
    path.write_text("".join(f"{label}\n" for label in labels), encoding="utf-8")
    return path


def read_labels(path: str | Path) -> tuple[str, ...]:
    """One label per non-empty line (a JSON list of strings is accepted too)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise UsageError(f"{path}: no such labels file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"{path}: cannot read the labels ({exc})") from exc
    if text.lstrip().startswith("["):
        try:
            return tuple(str(label) for label in json.loads(text))
        except json.JSONDecodeError as exc:
            raise ModelError(f"{path}: not a JSON list of labels ({exc})") from exc
    labels = tuple(line.strip() for line in text.splitlines() if line.strip())
    if not labels:
        raise ModelError(f"{path}: no labels in it; write one label per line")
    return labels
