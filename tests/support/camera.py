"""Reading a camera source's first frame and looking at the fake sensor's colour bars."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edge.frames import Frame
from edge.sources import FrameSource


def first_frame(source: FrameSource) -> Frame:
    """The source's first frame (opened and closed around it)."""
    with source:
        frame = source.read(timeout=2.0)
    assert frame is not None
    return frame


def bars(image: Any) -> list[tuple[int, int, int]]:
    """The color at the middle of each of the four vertical bars."""
    height, width = image.shape[:2]
    row = image[height // 2]
    return [tuple(int(v) for v in row[(2 * bar + 1) * width // 8]) for bar in range(4)]  # type: ignore[misc]


def grey_frames(folder: Path, count: int = 6) -> Path:
    """``count`` 40x30 PNG frames in ``folder``, each a flat grey 40 levels above the one
    before: a ``folder:`` source whose frames differ."""
    import cv2
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        cv2.imwrite(str(folder / f"{i}.png"), np.full((30, 40, 3), 40 * i, np.uint8))
    return folder
