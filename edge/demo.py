"""Where the shipped demo lives: the digit bundles and the sample frames.

They are data files of this package (``edge/data/demo/``), so a device install without the
workstation packages has them; ``python -m models.demo`` rebuilds them.
"""

from __future__ import annotations

from pathlib import Path

CLASSIFIER = "digits.tflite"
AUTOENCODER = "digits_autoencoder.tflite"
FRAMES = "frames"


def demo_dir() -> Path:
    return Path(__file__).resolve().parent / "data" / "demo"


def classifier_path() -> Path:
    return demo_dir() / CLASSIFIER


def autoencoder_path() -> Path:
    return demo_dir() / AUTOENCODER


def frames_dir() -> Path:
    return demo_dir() / FRAMES
