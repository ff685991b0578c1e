"""Still images as frames: ``folder:DIR`` (recursively) or ``folder:GLOB``, in sorted order.

Unreadable images are logged and skipped. Played once (then ``EndOfStream``) or looped, at
``fps`` frames per second or as fast as the reader takes them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from edge.errors import ImageError, SourceError
from edge.frames import Frame
from edge.images import IMAGE_SUFFIXES, list_images, load_rgb
from edge.pacing import Pacer
from edge.sources.base import EndOfStream, FrameSource, check_flag, check_fps, check_target

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

logger = logging.getLogger(__name__)

GLOB_CHARACTERS = frozenset("*?[")


class FolderSource(FrameSource):
    """Images of a folder or glob pattern, sorted by path, replayed as frames."""

    live = False

    def __init__(
        self,
        target: str,
        *,
        camera: str = "camera",
        loop: bool = False,
        fps: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        target = check_target(target, "folder", "folder:/data/frames")
        super().__init__(f"folder:{target}", camera=camera)
        self.pattern = target
        self.loop = check_flag(loop, "loop")
        self.fps = check_fps(fps)
        self._pacer = Pacer(self.fps, clock=clock, sleep=sleep)
        self.paths: list[Path] = []
        self._next = 0
        self._read_this_pass = 0

    def _open(self) -> None:
        self.paths = find_images(self.pattern, self.describe())
        self._next = 0
        self._read_this_pass = 0
        self._pacer.reset()
        logger.info("%s: %d images", self.describe(), len(self.paths))

    def _read(self, timeout: float) -> Frame | None:
        paced = self._pacer.wait(timeout)
        self.waited = self._pacer.waited
        if not paced:
            return None
        while True:
            path = self._advance()
            try:
                rgb = self._load(path)
            except ImageError as exc:
                logger.warning("%s: skipped %s", self.describe(), exc)
                continue
            self._read_this_pass += 1
            return self._frame(rgb, time.time())

    def _load(self, path: Path) -> npt.NDArray[np.uint8]:
        """The image at ``path`` as RGB (edge.images.load_rgb); ImageError if unreadable."""
        return load_rgb(path)

    def _advance(self) -> Path:
        """The next path to try; wraps around when looping, else EndOfStream at the end."""
        if self._next >= len(self.paths):
            if not self.loop:
                raise EndOfStream(self.describe())
            if self._read_this_pass == 0:
                raise SourceError(
                    f"{self.describe()}: none of its {len(self.paths)} images is readable"
                )
            self._next, self._read_this_pass = 0, 0
        path = self.paths[self._next]
        self._next += 1
        return path

    def _close(self) -> None:
        self.paths = []


def find_images(pattern: str, what: str) -> list[Path]:
    """Image files of a folder (recursively) or a glob pattern, sorted; SourceError if none."""
    root = Path(pattern).expanduser()
    if GLOB_CHARACTERS & set(pattern):
        matches = _glob(root)
        paths = sorted(p for p in matches if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    elif root.is_dir():
        paths = list_images(root)
    else:
        raise SourceError(f"{what}: no such folder {root}")
    if not paths:
        suffixes = ", ".join(sorted(IMAGE_SUFFIXES))
        raise SourceError(f"{what}: no images found (looked for {suffixes})")
    return paths


def _glob(pattern: Path) -> list[Path]:
    """Paths matching ``pattern`` (``**`` spans folders): the fixed leading folders, globbed."""
    parts = pattern.parts
    first = next(i for i, part in enumerate(parts) if GLOB_CHARACTERS & set(part))
    base = Path(*parts[:first]) if first else Path()
    return list(base.glob(str(Path(*parts[first:]))))
