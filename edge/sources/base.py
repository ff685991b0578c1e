"""FrameSource, the interface every frame source implements, and what sources share."""

from __future__ import annotations

import logging
import math
from abc import ABC, abstractmethod
from types import TracebackType
from typing import ClassVar, TypeVar

import numpy as np
import numpy.typing as npt

from edge.errors import ConfigError, FrameError, SourceError
from edge.frames import Frame

logger = logging.getLogger(__name__)

DEFAULT_READ_TIMEOUT = 1.0

SourceT = TypeVar("SourceT", bound="FrameSource")


class EndOfStream(Exception):  # noqa: N818 - named like StopIteration, which it resembles
    """A finite source (a file or folder played once) has delivered its last frame.

    Not an error: ``edge run --max-frames`` and batch runs stop on it. Live sources never
    raise it; a camera that stops is a ``SourceError``.
    """


class FrameSource(ABC):
    """A camera or other frame source: open it, read frames, close it.

    Use it as a context manager (``with source: ...``) or call ``open()`` and ``close()``;
    a closed source can be opened again (``ReconnectingSource`` does that).

    ``read(timeout)`` waits up to ``timeout`` seconds for a frame newer than the last one it
    returned and returns it as a ``Frame``, or ``None`` when nothing new arrived in time. It
    raises ``EndOfStream`` when a finite source is exhausted and ``SourceError`` when the
    source failed.

    Attributes: ``name`` (the camera name frames carry), ``spec`` (the source string),
    ``live`` (a camera or stream, as opposed to a file or folder), ``frames_read`` (frames
    handed out), ``dropped`` (frames the source had but replaced with newer ones) and
    ``waited`` (seconds the last ``read`` spent waiting for its frame: a file or folder played
    at its own rate, a camera's next frame; the rest of the read is work).
    """

    announce: ClassVar[bool] = True  # log open and close; wrappers leave it to the source

    live: bool = True

    def __init__(self, spec: str, *, camera: str = "camera") -> None:
        if not isinstance(camera, str) or not camera:
            raise ConfigError(f"camera name must be a non-empty string, got {camera!r}")
        self.spec = spec
        self.name = camera
        self.frames_read = 0
        self.dropped = 0
        self.waited = 0.0
        self._is_open = False

    @property
    def is_open(self) -> bool:
        return self._is_open

    def describe(self) -> str:
        """What this source is, for logs and status: e.g. ``v4l2:/dev/video0 (camera 'door')``."""
        return f"{self.spec} (camera {self.name!r})"

    def open(self) -> None:
        """Open the device, file or stream; raise SourceError with what to do if it fails."""
        if self._is_open:
            return
        self._open()
        self._is_open = True
        if self.announce:
            logger.info("opened %s", self.describe())

    def close(self) -> None:
        """Release the device; safe to call more than once."""
        if not self._is_open:
            return
        self._is_open = False
        self._close()
        if self.announce:
            logger.info("closed %s", self.describe())

    def read(self, timeout: float = DEFAULT_READ_TIMEOUT) -> Frame | None:
        """The next new frame, or None if none arrived within ``timeout`` seconds."""
        if not self._is_open:
            raise SourceError(f"{self.describe()} is not open: open() it or use it in a with block")
        self.waited = 0.0
        return self._read(max(0.0, timeout))

    def __enter__(self: SourceT) -> SourceT:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()}>"

    def _frame(
        self,
        rgb: npt.NDArray[np.uint8],
        timestamp: float,
        lores: npt.NDArray[np.uint8] | None = None,
        model_rgb: npt.NDArray[np.uint8] | None = None,
    ) -> Frame:
        """A Frame with this source's camera name and its own running count as ``seq``.

        Pixels that are not an RGB uint8 image (empty, another dtype or shape) raise FrameError:
        the frame is unusable, the source is not broken.
        """
        try:
            frame = Frame(
                rgb=rgb,
                camera=self.name,
                seq=self.frames_read,
                timestamp=timestamp,
                lores=lores,
                model_rgb=model_rgb,
            )
        except (TypeError, ValueError) as exc:
            raise FrameError(f"{self.describe()}: unusable frame ({exc})") from exc
        self.frames_read += 1
        return frame

    @abstractmethod
    def _open(self) -> None: ...

    @abstractmethod
    def _read(self, timeout: float) -> Frame | None: ...

    @abstractmethod
    def _close(self) -> None: ...


def check_fps(fps: object, what: str = "fps") -> float | None:
    """``fps`` as a positive float, or None for "as fast as possible"; ConfigError otherwise."""
    if fps is None:
        return None
    if isinstance(fps, bool) or not isinstance(fps, (int, float)):
        raise ConfigError(f"{what} must be a number of frames per second, got {fps!r}")
    if not math.isfinite(fps) or fps <= 0:
        raise ConfigError(f"{what} must be a positive number, got {fps!r}")
    return float(fps)


def check_flag(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{what} must be true or false, got {value!r}")
    return value


def check_target(target: str, scheme: str, example: str) -> str:
    if not isinstance(target, str) or not target.strip():
        raise ConfigError(f"the {scheme} source needs a target, e.g. {example!r}")
    return target.strip()
