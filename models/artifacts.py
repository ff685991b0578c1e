"""The files a trained model carries beside it, for ``edge convert`` to pick up by default.

``MODEL.keras`` is accompanied by ``MODEL.preprocess.json`` (the :class:`Preprocess` it was
trained with) and, for classifiers, ``MODEL.labels.txt`` (one label per line, in output order).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

from edge.errors import ModelError, UsageError
from edge.inference.preprocess import Preprocess

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
