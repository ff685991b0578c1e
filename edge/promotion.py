"""Which classifier a camera runs live: the configured one, or its candidate once promoted.

``set/promote`` (MQTT, the page, Home Assistant, ``edge models promote``) makes a camera's
``candidate`` its live classifier; ``set/rollback`` returns to the one before. The choice is
kept in the state directory, beside the camera's calibration::

    <state>/<camera>/models.json
    {"camera": "door", "classifier": "/models/door.tflite",       # as the config names them
     "candidate": "/models/door2.tflite",
     "live": "/models/door2.tflite", "previous": "/models/door.tflite",
     "action": "promote", "changed": "2026-11-24T13:05:07Z"}

The daemon reads it when a camera starts and on every reload. It holds while the configuration
names the same ``classifier``: a config that names another one voids it (logged), since the user
chose anew. A candidate that is live runs no more in shadow.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from edge import demo, jsondata
from edge.config import DEMO, CameraConfig

logger = logging.getLogger(__name__)

FILE = "models.json"
Action = Literal["promote", "rollback"]


@dataclass(frozen=True)
class Choice:
    """A camera's classifiers: ``live``, ``candidate`` (in shadow) and ``previous`` (what a
    rollback returns to); ``action`` is the last promote or rollback, None for the config's."""

    live: Path | None
    candidate: Path | None
    previous: Path | None = None
    action: Action | None = None
    changed: str = ""

    def describe(self) -> str:
        if self.action is None:
            return f"live {_name(self.live)} as configured"
        before = f", previous {_name(self.previous)}" if self.previous else ""
        return f"live {_name(self.live)} ({self.action}d {self.changed}){before}"


def _name(path: Path | None) -> str:
    return path.stem if path is not None else "none"


def models_path(state_dir: Path, camera: str) -> Path:
    return state_dir / camera / FILE


def configured(camera: CameraConfig) -> Choice:
    """The classifiers the config names, with no promotion."""
    return Choice(_resolve(camera.classifier), _resolve(camera.candidate))


def _resolve(spec: str) -> Path | None:
    """A classifier bundle's path from a config value: a path, "demo", or "" for none."""
    if not spec:
        return None
    return demo.classifier_path() if spec == DEMO else Path(spec).expanduser()


def choose(camera: CameraConfig, state_dir: Path | None) -> Choice:
    """The camera's classifiers now: the config's, or what ``models.json`` says while it
    holds (same configured classifier, its live bundle still there)."""
    base = configured(camera)
    path = models_path(state_dir, camera.name) if state_dir is not None else None
    saved = _load(path) if path is not None else None
    if saved is None:
        return base
    if saved.get("classifier") != camera.classifier:
        logger.info("%s: the config names another classifier: %s is void", camera.name, path)
        return base
    live = Path(str(saved["live"]))
    if not live.with_suffix(".tflite").exists():
        logger.warning("%s: the promoted model %s is gone; the configured one runs",
                       camera.name, live)  # fmt: skip
        return base
    previous = Path(str(saved["previous"])) if saved.get("previous") else None
    candidate = base.candidate if base.candidate != live else None
    action = saved.get("action") if saved.get("action") in ("promote", "rollback") else None
    return Choice(live, candidate, previous, action, str(saved.get("changed", "")))


def _load(path: Path) -> dict[str, Any] | None:
    try:
        data = jsondata.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        logger.warning("%s: unreadable (%s); the configured models run", path, exc)
        return None
    if not isinstance(data, dict) or not isinstance(data.get("live"), str):
        logger.warning("%s: not a model choice; the configured models run", path)
        return None
    return data


def promoted(choice: Choice) -> Choice:
    """The choice once the candidate is live (the live one kept as ``previous``)."""
    return Choice(choice.candidate, None, choice.live, "promote", _now())


def rolled_back(choice: Choice, camera: CameraConfig) -> Choice:
    """The choice once ``previous`` is live again; the config's candidate back in shadow."""
    candidate = configured(camera).candidate
    back_in_shadow = candidate if candidate != choice.previous else None
    return Choice(choice.previous, back_in_shadow, choice.live, "rollback", _now())


def save(state_dir: Path, camera: CameraConfig, choice: Choice) -> Path:
    """Keep the choice atomically (temporary file, fsync, rename)."""
    path = models_path(state_dir, camera.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"camera": camera.name, "classifier": camera.classifier,
            "candidate": camera.candidate, "live": str(choice.live),
            "previous": str(choice.previous) if choice.previous else None,
            "action": choice.action, "changed": choice.changed}  # fmt: skip
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as file:
        file.write(json.dumps(data, indent=2) + "\n")
        file.flush()
        os.fsync(file.fileno())
    tmp.replace(path)
    return path


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
