"""A dataset of captured frames, as ``edge label`` reads and changes it (edge.capture writes it).

    <dataset>/<camera>/unlabelled/<name>.jpg + <name>.json   waiting for a label
    <dataset>/<camera>/<label>/<name>.jpg (+ .json)           labelled: what edge train reads

Labelling is moving a picture (and its JSON) from ``unlabelled/`` into a label's folder; from a
shell ``mv`` does the same. ``Dataset`` also takes one camera's folder (one that holds
``unlabelled/``) as a dataset of that one camera.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge.capture import UNLABELLED
from edge.errors import UsageError

logger = logging.getLogger(__name__)

LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
PICTURE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}\.jpg$")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


@dataclass(frozen=True)
class Pending:
    """An unlabelled picture: its file name, the model's guess and its confidence, and why
    it was captured."""

    name: str
    guess: str | None
    confidence: float | None
    why: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "guess": self.guess, "confidence": self.confidence,
                "why": list(self.why)}  # fmt: skip


def check_label(label: str) -> str:
    """A label usable as a folder name; UsageError saying why not."""
    if not LABEL.fullmatch(label) or label == UNLABELLED:
        raise UsageError(
            f"label {label!r}: use 1 to 64 letters, digits, _ . - (not {UNLABELLED!r})"
        )
    return label


class Dataset:
    """The cameras of a dataset folder and their pictures."""

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise UsageError(f"{root}: no such folder; capture frames with [cameras.capture]")
        self.root = root

    def cameras(self) -> dict[str, Path]:
        """Each camera's folder by name (the root itself when it is one camera's folder)."""
        if (self.root / UNLABELLED).is_dir():
            return {self.root.name: self.root}
        return {
            path.name: path
            for path in sorted(self.root.iterdir())
            if path.is_dir() and not path.name.startswith(".") and (path / UNLABELLED).is_dir()
        }

    def folder(self, camera: str) -> Path:
        found = self.cameras().get(camera)
        if found is None:
            raise UsageError(f"no camera {camera!r} in {self.root}")
        return found

    def labels(self, camera: str) -> dict[str, int]:
        """The labels of a camera (its folders but ``unlabelled``) and their picture counts."""
        folder = self.folder(camera)
        return {
            path.name: _count(path)
            for path in sorted(folder.iterdir())
            if path.is_dir() and path.name != UNLABELLED and LABEL.fullmatch(path.name)
        }

    def pending(self, camera: str) -> list[Pending]:
        """The unlabelled pictures, most uncertain (lowest confidence) first."""
        folder = self.folder(camera) / UNLABELLED
        found = [_pending(path) for path in folder.glob("*.jpg") if PICTURE.fullmatch(path.name)]
        return sorted(found, key=lambda p: (p.confidence or 0.0, p.name))

    def picture(self, camera: str, name: str) -> Path:
        """An unlabelled picture's path; UsageError for a name that is not one."""
        path = self.folder(camera) / UNLABELLED / name
        if not PICTURE.fullmatch(name) or not path.is_file():
            raise UsageError(f"no unlabelled picture {name!r} of camera {camera!r}")
        return path

    def label(self, camera: str, name: str, label: str) -> Path:
        """Move a picture (and its JSON) into the label's folder, made if new; its new path."""
        path = self.picture(camera, name)
        target = self.folder(camera) / check_label(label)
        target.mkdir(exist_ok=True)
        about = path.with_suffix(".json")
        if about.exists():
            about.replace(target / about.name)
        path.replace(target / path.name)
        logger.info("%s/%s -> %s", camera, name, label)
        return target / path.name

    def delete(self, camera: str, name: str) -> None:
        path = self.picture(camera, name)
        path.with_suffix(".json").unlink(missing_ok=True)
        path.unlink()
        logger.info("%s/%s deleted", camera, name)


def _count(folder: Path) -> int:
    return sum(1 for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def _pending(path: Path) -> Pending:
    try:
        about = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        about = {}
    if not isinstance(about, dict):
        about = {}
    guess, confidence = _top_label(about) or about.get("label"), about.get("confidence")
    why = about.get("why")
    why = why if isinstance(why, list) else []
    return Pending(
        path.name,
        guess if isinstance(guess, str) else None,
        float(confidence) if isinstance(confidence, (int, float)) else None,
        tuple(str(reason) for reason in why),
    )


def _top_label(about: dict[str, Any]) -> str | None:
    """The model's most likely label (the guess even when its decision was "unknown")."""
    record = about.get("record")
    classified = record.get("classification") if isinstance(record, dict) else None
    try:
        return str(classified["top"][0]["label"]) if classified else None
    except (KeyError, IndexError, TypeError):
        return None
