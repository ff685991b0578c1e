"""Where the shipped demo lives: the digit bundles and the sample frames.

They are data files of this package (``edge/data/demo/``), so a device install without the
workstation packages has them; ``python -m models.demo`` rebuilds them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from edge.config import CameraConfig

logger = logging.getLogger(__name__)

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


def announce(cameras: Sequence[CameraConfig]) -> None:
    """Say once, at start, which cameras run the demo models on frames of their own: the models
    know handwritten digits only, and nothing else would say so."""
    files = {"classifier": CLASSIFIER, "anomaly": AUTOENCODER}
    for camera in cameras:
        used = [key for key in files if getattr(camera, key) == "demo"]
        if used and camera.source != "demo":
            logger.info(
                "%s: %s: the demo models (%s), which know handwritten digits 0-9 only; give your "
                "own with %s (or in the config; '' for none)",
                camera.name, " and ".join(used), ", ".join(files[key] for key in used),
                " and ".join(f"--{key} BUNDLE" for key in used),
            )  # fmt: skip
