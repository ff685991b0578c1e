"""A background thread that keeps only the newest frame of a live source.

Cameras and network streams buffer frames; a reader slower than the camera would otherwise
process ever older frames. The grabber reads as fast as the device delivers, replaces the
frame it holds with each new one (counting the replaced ones as dropped), and hands the newest
to the reader. The thread owns the device handle once started: it releases it when it stops,
so a read blocked in the driver never races a release from another thread.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import abstractmethod
from collections.abc import Callable
from typing import Generic, TypeVar

from edge.errors import SourceError
from edge.frames import Frame
from edge.sources.base import FrameSource

logger = logging.getLogger(__name__)

T = TypeVar("T")

STOP_TIMEOUT = 3.0


class Grabber(Generic[T]):
    """Calls ``grab()`` in a thread until it returns None (the device stopped) or raises.

    ``release()`` runs in the thread when it ends, whatever the reason.
    """

    def __init__(
        self, grab: Callable[[], T | None], release: Callable[[], None], what: str
    ) -> None:
        self._grab, self._release, self.what = grab, release, what
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._latest: tuple[T, float] | None = None
        self._fresh = False
        self._finished = False
        self._error: BaseException | None = None
        self.grabbed = 0
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name=f"grab {what}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = STOP_TIMEOUT) -> bool:
        """Ask the thread to stop and wait up to ``timeout``; False if it is stuck in the driver."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._thread.is_alive():
            logger.warning("%s: the capture thread is stuck; leaving it behind", self.what)
            return False
        return True

    def take(self, timeout: float) -> tuple[T, float] | None:
        """The newest (item, capture time) not taken yet, waiting up to ``timeout``; or None.

        Raises SourceError once the thread has ended and nothing new is left.
        """
        with self._cond:
            self._cond.wait_for(lambda: self._fresh or self._finished, timeout)
            if self._fresh and self._latest is not None:
                self._fresh = False
                return self._latest
            if self._finished:
                reason = f": {self._error}" if self._error else ""
                raise SourceError(f"{self.what} stopped delivering frames{reason}") from self._error
            return None

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                item = self._grab()
                if item is None:
                    break
                self._publish(item, time.time())
        except Exception as exc:  # any driver failure: the reader raises it as a SourceError
            logger.debug("%s: capture failed", self.what, exc_info=True)
            self._error = exc
        finally:
            self._finish()

    def _publish(self, item: T, timestamp: float) -> None:
        with self._cond:
            if self._fresh:
                self.dropped += 1
            self._latest = (item, timestamp)
            self._fresh = True
            self.grabbed += 1
            self._cond.notify_all()

    def _finish(self) -> None:
        try:
            self._release()
        except Exception:  # releasing a broken device may fail too; nothing left to do
            logger.debug("%s: release failed", self.what, exc_info=True)
        with self._cond:
            self._finished = True
            self._cond.notify_all()


class GrabbingSource(FrameSource, Generic[T]):
    """A live source whose ``_open`` starts a Grabber; ``read`` converts the newest item."""

    live = True

    def __init__(self, spec: str, *, camera: str = "camera") -> None:
        super().__init__(spec, camera=camera)
        self._grabber: Grabber[T] | None = None

    def _start_grabbing(self, grab: Callable[[], T | None], release: Callable[[], None]) -> None:
        grabber: Grabber[T] = Grabber(grab, release, self.describe())
        self._grabber = grabber
        grabber.start()

    @abstractmethod
    def _to_frame(self, item: T, timestamp: float) -> Frame:
        """Turn what ``grab`` returned into a Frame (in the reader's thread)."""

    def _read(self, timeout: float) -> Frame | None:
        if self._grabber is None:
            raise SourceError(f"{self.describe()} is not open")
        start = time.monotonic()
        taken = self._grabber.take(timeout)
        self.waited = time.monotonic() - start  # converting the frame below is work
        self.dropped = self._grabber.dropped
        return None if taken is None else self._to_frame(*taken)

    def _close(self) -> None:
        if self._grabber is not None:
            self._grabber.stop()
            self._grabber = None
