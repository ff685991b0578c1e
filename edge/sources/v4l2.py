"""USB and other V4L2 cameras through OpenCV: ``v4l2:/dev/video0`` or ``v4l2:0``.

A grabber thread reads the camera as fast as it delivers and ``read`` hands on only the newest
frame, so a slow pipeline never works on a backlog.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from edge.errors import ConfigError, SourceError
from edge.sources.base import check_fps, check_target
from edge.sources.capture import OpenCVLiveSource, open_capture

logger = logging.getLogger(__name__)

READ_TIMEOUT_S = 5.0


class V4L2Source(OpenCVLiveSource):
    """A V4L2 camera by device path or index, with optional size, rate and pixel format."""

    def __init__(
        self,
        target: str,
        *,
        camera: str = "camera",
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
        fourcc: str | None = None,
    ) -> None:
        target = check_target(target, "v4l2", "v4l2:/dev/video0")
        super().__init__(f"v4l2:{target}", camera=camera)
        self.device: int | Path = int(target) if target.isdigit() else Path(target)
        self.width, self.height = _check_size(width, "width"), _check_size(height, "height")
        self.fps = check_fps(fps)
        if fourcc is not None and (not isinstance(fourcc, str) or len(fourcc) != 4):
            raise ConfigError(f"fourcc must be four characters like 'MJPG', got {fourcc!r}")
        self.fourcc = fourcc

    @property
    def device_path(self) -> Path:
        return Path(f"/dev/video{self.device}") if isinstance(self.device, int) else self.device

    def _capture(self) -> Any:
        import cv2

        path = self.device_path
        if not path.exists():
            raise SourceError(f"{self.describe()}: no such device {path}; {_found_devices()}")
        target = self.device if isinstance(self.device, int) else str(path)
        capture = open_capture(target, cv2.CAP_V4L2, [], self.describe())
        if capture is None:
            raise SourceError(
                f"{self.describe()}: cannot open {path}; is it a camera, is another program "
                "using it, and may this user read it (the 'video' group)?"
            )
        self._configure(capture)
        return capture

    def _configure(self, capture: Any) -> None:
        """Ask for the pixel format, size and rate (the driver picks the nearest it has)."""
        import cv2

        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        # a camera that stops sending must not hold the grab thread: ask for a bounded read
        # (the V4L2 backend otherwise gives up after its own select() timeout of 10 s)
        if not capture.set(cv2.CAP_PROP_READ_TIMEOUT_MSEC, round(READ_TIMEOUT_S * 1000)):
            logger.debug("%s: the V4L2 backend keeps its own read timeout", self.describe())
        if self.fourcc:
            capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*self.fourcc))
        for prop, value in (
            (cv2.CAP_PROP_FRAME_WIDTH, self.width),
            (cv2.CAP_PROP_FRAME_HEIGHT, self.height),
            (cv2.CAP_PROP_FPS, self.fps),
        ):
            if value is not None:
                capture.set(prop, value)
        logger.info(
            "%s delivers %dx%d at %.1f fps",
            self.describe(),
            capture.get(cv2.CAP_PROP_FRAME_WIDTH),
            capture.get(cv2.CAP_PROP_FRAME_HEIGHT),
            capture.get(cv2.CAP_PROP_FPS),
        )


def _check_size(value: object, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{what} must be a positive number of pixels, got {value!r}")
    return value


def video_devices() -> list[Path]:
    """The /dev/video* nodes, in numeric order."""
    found = Path("/dev").glob("video*")
    numbered = [p for p in found if re.fullmatch(r"video\d+", p.name)]
    return sorted(numbered, key=lambda p: int(p.name.removeprefix("video")))


def _found_devices() -> str:
    devices = video_devices()
    if not devices:
        return "there are no /dev/video* devices (is the camera plugged in?)"
    return "found: " + ", ".join(str(p) for p in devices)
