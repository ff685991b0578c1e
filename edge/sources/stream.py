"""Network streams through OpenCV's FFMPEG backend: ``rtsp://``, ``rtsps://``, ``http(s)://``.

Like the V4L2 source, a grabber thread keeps only the newest frame. Open and read timeouts
make a dead camera fail in seconds instead of hanging. Passwords in the URL never reach logs.
"""

from __future__ import annotations

import logging
import math
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from edge.errors import ConfigError, SourceError
from edge.sources.base import check_target
from edge.sources.capture import OpenCVLiveSource, open_capture

logger = logging.getLogger(__name__)

SCHEMES = ("rtsp", "rtsps", "http", "https")


class StreamSource(OpenCVLiveSource):
    """A network video stream (RTSP, HTTP MJPEG, HLS ...) by URL."""

    def __init__(
        self,
        target: str,
        *,
        camera: str = "camera",
        open_timeout: float = 10.0,
        read_timeout: float = 10.0,
    ) -> None:
        url = check_target(target, "stream", "rtsp://camera.local:554/stream1")
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES or not parts.hostname:
            raise ConfigError(f"not a stream URL: {redact(url)!r}; use one of {', '.join(SCHEMES)}")
        super().__init__(redact(url), camera=camera)
        self.url = url
        self.open_timeout = _check_timeout(open_timeout, "open_timeout")
        self.read_timeout = _check_timeout(read_timeout, "read_timeout")

    def _capture(self) -> Any:
        import cv2

        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            round(self.open_timeout * 1000),
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            round(self.read_timeout * 1000),
        ]
        capture = open_capture(self.url, cv2.CAP_FFMPEG, params, self.describe())
        if capture is None:
            raise SourceError(
                f"{self.describe()}: cannot open the stream; check the address, that the camera "
                "is on and reachable from here, and the user name and password"
            )
        return capture


def redact(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _check_timeout(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{what} must be a number of seconds, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{what} must be positive, got {value!r}")
    return float(value)
