"""``demo``: the bundled sample frames (``edge.demo.frames_dir()``), looped at a modest rate.

So that a fresh machine without a camera has something to look at. The bundled frames are
decoded by OpenCV, which the daemon loads anyway, rather than by Pillow (about 3 MB more for
the daemon): they are 8-bit PNGs without transparency or EXIF, for which both give the same
pixels (the tests compare every frame). Other frames (``folder``) go through
``edge.images.load_rgb`` like any folder's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

from edge import demo
from edge.errors import ConfigError, EdgeError, SourceError
from edge.images import load_rgb
from edge.sources.folder import FolderSource

logger = logging.getLogger(__name__)

DEMO_FPS = 5.0


class DemoSource(FolderSource):
    """The demo frames, looped at ``fps`` (5 by default); ``folder`` replaces them (tests)."""

    def __init__(
        self,
        target: str = "",
        *,
        camera: str = "camera",
        fps: float | None = DEMO_FPS,
        loop: bool = True,
        folder: str | Path | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if target:
            raise ConfigError(f"the demo source takes no argument: use 'demo', not 'demo:{target}'")
        path = Path(folder) if folder is not None else _frames_dir()
        super().__init__(str(path), camera=camera, loop=loop, fps=fps, clock=clock, sleep=sleep)
        self.spec = "demo"
        self._bundled = folder is None

    def _open(self) -> None:
        try:
            super()._open()
        except SourceError as exc:
            raise SourceError(
                f"the demo frames are missing or unreadable ({exc}); reinstall edge-vision"
            ) from exc

    def describe(self) -> str:
        return f"demo frames in {self.pattern} (camera {self.name!r})"

    def _load(self, path: Path) -> npt.NDArray[np.uint8]:
        return read_bundled_frame(path) if self._bundled else super()._load(path)


def read_bundled_frame(path: Path) -> npt.NDArray[np.uint8]:
    """A bundled frame as RGB through OpenCV; one that is not a plain 8-bit colour image
    (transparency, 16 bits, grey, unreadable) through edge.images.load_rgb."""
    import cv2

    bgr = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if bgr is None or bgr.dtype != np.uint8 or bgr.ndim != 3 or bgr.shape[2] != 3:
        return load_rgb(path)
    cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB, dst=bgr)
    return np.asarray(bgr, dtype=np.uint8)


def _frames_dir() -> Path:
    try:
        return demo.frames_dir()
    except EdgeError as exc:
        raise SourceError(str(exc)) from exc
