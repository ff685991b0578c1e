"""A video file through OpenCV: ``file:PATH``.

Played at the file's own frame rate (``realtime=True``, the default) or as fast as the reader
takes frames; the end of the file is ``EndOfStream`` unless ``loop`` is set.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edge.errors import SourceError
from edge.frames import Frame
from edge.pacing import Pacer
from edge.sources.base import EndOfStream, FrameSource, check_flag, check_target
from edge.sources.capture import bgr_to_rgb

logger = logging.getLogger(__name__)

FALLBACK_FPS = 25.0  # for files that do not say their rate


class FileSource(FrameSource):
    """Frames of a video file, converted from OpenCV's BGR to RGB."""

    live = False

    def __init__(
        self,
        target: str,
        *,
        camera: str = "camera",
        loop: bool = False,
        realtime: bool = True,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        target = check_target(target, "file", "file:/data/clip.mp4")
        super().__init__(f"file:{target}", camera=camera)
        self.path = Path(target).expanduser()
        self.loop = check_flag(loop, "loop")
        self.realtime = check_flag(realtime, "realtime")
        self._clock, self._sleep = clock, sleep
        self._pacer = Pacer(None)
        self._capture: Any = None
        self._read_this_pass = 0
        self.fps = 0.0

    def _open(self) -> None:
        self._capture = self._open_capture()
        self.fps = _file_fps(self._capture)
        self._pacer = Pacer(
            self.fps if self.realtime else None, clock=self._clock, sleep=self._sleep
        )
        self._read_this_pass = 0

    def _open_capture(self) -> Any:
        import cv2

        if not self.path.is_file():
            raise SourceError(f"{self.describe()}: no such file {self.path}")
        capture = cv2.VideoCapture(str(self.path))
        if not capture.isOpened():
            capture.release()
            raise SourceError(f"{self.describe()}: OpenCV cannot decode {self.path}")
        return capture

    def _read(self, timeout: float) -> Frame | None:
        paced = self._pacer.wait(timeout)
        self.waited = self._pacer.waited
        if not paced:
            return None
        ok, bgr = self._capture.read()
        if not ok and self.loop and self._read_this_pass > 0:
            self._rewind()
            ok, bgr = self._capture.read()
        if not ok or bgr is None:
            if self._read_this_pass == 0 and self.frames_read == 0:
                raise SourceError(f"{self.describe()}: the file has no readable frames")
            raise EndOfStream(self.describe())
        self._read_this_pass += 1
        return self._frame(bgr_to_rgb(bgr), time.time())

    def _rewind(self) -> None:
        """Start the file over (reopening works for every container, seeking does not)."""
        logger.debug("%s: looping", self.describe())
        self._capture.release()
        self._capture = self._open_capture()
        self._read_this_pass = 0

    def _close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None


def _file_fps(capture: Any) -> float:
    import cv2

    fps = float(capture.get(cv2.CAP_PROP_FPS))
    if not math.isfinite(fps) or not 0.0 < fps <= 1000.0:
        logger.info("the file does not say its frame rate; playing it at %.0f fps", FALLBACK_FPS)
        return FALLBACK_FPS
    return fps
