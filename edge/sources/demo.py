"""``demo``: the bundled sample frames (``edge.demo.frames_dir()``), looped at a modest rate.

So that a fresh machine without a camera has something to look at.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from edge import demo
from edge.errors import ConfigError, EdgeError, SourceError
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

    def _open(self) -> None:
        try:
            super()._open()
        except SourceError as exc:
            raise SourceError(
                f"the demo frames are missing or unreadable ({exc}); reinstall edge-vision"
            ) from exc

    def describe(self) -> str:
        return f"demo frames in {self.pattern} (camera {self.name!r})"


def _frames_dir() -> Path:
    try:
        return demo.frames_dir()
    except EdgeError as exc:
        raise SourceError(str(exc)) from exc
