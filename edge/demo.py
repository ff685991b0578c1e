"""Where the shipped demo lives: the digit bundles and the sample frames.

They are data files of the ``models`` package (``models/demo/``), found without importing it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from edge.errors import EdgeError

CLASSIFIER = "digits.tflite"
AUTOENCODER = "digits_autoencoder.tflite"
FRAMES = "frames"


def demo_dir() -> Path:
    spec = importlib.util.find_spec("models")
    if spec is None or not spec.submodule_search_locations:
        raise EdgeError("the demo files are missing: reinstall edge-vision")
    return Path(next(iter(spec.submodule_search_locations))) / "demo"


def classifier_path() -> Path:
    return demo_dir() / CLASSIFIER


def autoencoder_path() -> Path:
    return demo_dir() / AUTOENCODER


def frames_dir() -> Path:
    return demo_dir() / FRAMES
