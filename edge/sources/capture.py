"""What the OpenCV live sources (V4L2 cameras, network streams) share: newest-frame capture."""

from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from edge.errors import FrameError, SourceError
from edge.frames import Frame
from edge.sources.grabber import GrabbingSource

logger = logging.getLogger(__name__)

BGR = npt.NDArray[np.uint8]


class OpenCVLiveSource(GrabbingSource[BGR]):
    """A live cv2.VideoCapture read by a grabber thread; ``read`` returns the newest frame."""

    @abstractmethod
    def _capture(self) -> Any:
        """An opened cv2.VideoCapture; raise SourceError saying what to check if it fails."""

    def _open(self) -> None:
        capture = self._capture()
        self._start_grabbing(_reader(capture), capture.release)

    def _to_frame(self, item: BGR, timestamp: float) -> Frame:
        return self._frame(bgr_to_rgb(item), timestamp)


def _reader(capture: Any) -> Callable[[], BGR | None]:
    def grab() -> BGR | None:
        ok, bgr = capture.read()
        if not ok or bgr is None:
            return None
        return np.asarray(bgr, dtype=np.uint8)

    return grab


def bgr_to_rgb(bgr: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """An OpenCV BGR image (or grayscale / BGRA) as a new RGB uint8 array.

    FrameError for an image OpenCV cannot convert (empty, or neither 1, 3 nor 4 channels).
    """
    import cv2

    channels = bgr.shape[2] if bgr.ndim == 3 else 1
    if bgr.size == 0 or bgr.ndim not in (2, 3) or channels not in (1, 3, 4):
        raise FrameError(f"unusable frame from OpenCV: shape {bgr.shape}, dtype {bgr.dtype}")
    if channels == 1:
        bgr = bgr.reshape(bgr.shape[:2])
    if bgr.ndim == 2:
        return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_GRAY2RGB), dtype=np.uint8)
    if bgr.shape[2] == 4:
        return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGRA2RGB), dtype=np.uint8)
    return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)


def open_capture(target: str | int, api: int, params: list[int], what: str) -> Any:
    """cv2.VideoCapture(target, api, params), opened, or SourceError naming ``what``."""
    import cv2

    try:
        capture = cv2.VideoCapture(target, api, params)
    except cv2.error as exc:
        raise SourceError(f"{what}: OpenCV could not open it ({exc})") from exc
    if not capture.isOpened():
        capture.release()
        return None
    return capture
