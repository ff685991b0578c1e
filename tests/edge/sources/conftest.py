"""Shared helpers for the frame source tests: real image files and a fake clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

Image = npt.NDArray[np.uint8]


class FakeClock:
    """A monotonic clock that only moves when something sleeps on it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def solid(rgb: tuple[int, int, int], width: int = 64, height: int = 48) -> Image:
    return np.full((height, width, 3), rgb, np.uint8)


@pytest.fixture
def write_png() -> Callable[[Path, tuple[int, int, int]], Path]:
    """Write a solid-color PNG with Pillow (RGB, as the file format stores it)."""
    from PIL import Image as PILImage

    def write(path: Path, rgb: tuple[int, int, int]) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        PILImage.fromarray(solid(rgb)).save(path)
        return path

    return write


@pytest.fixture(autouse=True)
def _no_fake_camera_left_open() -> Iterator[None]:
    """Every picamera2 fake a test opened is closed again (as a Pi camera must be)."""
    from edge.sources.picamera2_fake import open_cameras

    yield
    left = open_cameras()
    for cam in left:
        cam.close()
    assert not left, f"{len(left)} fake camera(s) left open"
