"""Frames saved for training: a camera's ``[cameras.capture]`` and the thread that writes them.

    when        which frames: low_confidence (the decision is "unknown"), anomaly,
                label_change, interval, command (MQTT set/capture, the page's button)
    interval    seconds between two "interval" captures
    min_gap     seconds between two captures of any kind ("command" ignores it)
    max_images  unlabelled images kept per camera; beyond it the oldest go first
    dir         the dataset; default <out>/dataset

The layout is the contract (``edge label`` and ``edge train`` read it)::

    <dataset>/<camera>/unlabelled/<ts>-<seq>.jpg   the frame (its region of interest if set)
    <dataset>/<camera>/unlabelled/<ts>-<seq>.json  {"record": {...}, "why": [...], ...}
    <dataset>/<camera>/<label>/...                 labelled (moved there by edge label or mv)

The camera's thread only decides and hands the frame on (``Capturer.consider``): a bounded
queue to a writer thread, and when the queue is full the capture is dropped and counted; a
frame never waits. Each file is written to a hidden temporary and renamed into place, the JSON
after the JPEG: a kill -9 leaves no half picture, at worst a picture without its JSON.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from edge.records.record import ResultRecord

logger = logging.getLogger(__name__)

UNLABELLED = "unlabelled"
QUEUE_SIZE = 8
Reason = Literal["low_confidence", "anomaly", "label_change", "interval", "command"]
Seconds = Annotated[float, Field(ge=0, le=86400)]


class CaptureConfig(BaseModel):
    """A camera's ``[cameras.capture]``; off (``when = []``) by default."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    when: Annotated[tuple[Reason, ...], Field(strict=False)] = ()
    interval: Annotated[float, Field(gt=0, le=86400)] = 600.0
    min_gap: Seconds = 10.0
    max_images: Annotated[int, Field(ge=1, le=1_000_000)] = 1000
    dir: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.when)

    def directory(self, out_dir: Path) -> Path:
        """The dataset: ``dir``, else ``<out>/dataset``."""
        return Path(self.dir).expanduser() if self.dir else out_dir / "dataset"


@dataclass(frozen=True)
class Capture:
    """One frame to save, and why."""

    rgb: npt.NDArray[np.uint8]
    record: ResultRecord
    why: tuple[Reason, ...]


def decision(record: ResultRecord) -> str | None:
    """The record's decided label (the top label, or "unknown"), None without a classifier."""
    classified = record.classification
    if classified is None:
        return None
    return classified.label or classified.top[0].label


class Capturer:
    """Decides, on the camera's thread, which frames to keep; a writer thread saves them."""

    def __init__(self, camera: str, config: CaptureConfig, dataset: Path) -> None:
        self.camera = camera
        self.config = config
        self.folder = dataset / camera / UNLABELLED
        self.saved = 0
        self.dropped = 0
        self._requested = threading.Event()
        self._last_capture = -float("inf")
        self._last_interval = time.monotonic()
        self._last_label: str | None = None
        self._queue: queue.Queue[Capture | None] = queue.Queue(QUEUE_SIZE)
        self._writer = threading.Thread(target=self._write_all, name=f"capture-{camera}")
        self._writer.daemon = True
        self._writer.start()

    def request(self) -> None:
        """Capture the next frame (the ``command`` trigger), whatever ``min_gap`` says."""
        self._requested.set()

    def consider(self, rgb: npt.NDArray[np.uint8], record: ResultRecord) -> bool:
        """Hand the frame to the writer if a trigger fires; True when it was queued."""
        why = self._reasons(record)
        if not why:
            return False
        self._last_capture = time.monotonic()
        try:
            self._queue.put_nowait(Capture(rgb, record, why))
        except queue.Full:
            self.dropped += 1
            logger.debug("%s: capture queue full, frame %d not saved", self.camera, record.seq)
            return False
        return True

    def _reasons(self, record: ResultRecord) -> tuple[Reason, ...]:
        when, now = self.config.when, time.monotonic()
        label = decision(record)
        found: list[Reason] = []
        if "command" in when and self._requested.is_set():
            self._requested.clear()
            return ("command",)
        if "low_confidence" in when and label == "unknown":
            found.append("low_confidence")
        if "anomaly" in when and record.anomaly is not None and record.anomaly.is_anomaly:
            found.append("anomaly")
        if "label_change" in when and self._last_label is not None and label != self._last_label:
            found.append("label_change")
        self._last_label = label
        if "interval" in when and now - self._last_interval >= self.config.interval:
            self._last_interval = now
            found.append("interval")
        if now - self._last_capture < self.config.min_gap:
            return ()
        return tuple(found)

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued (for up to ``timeout`` seconds), then stop the writer."""
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            logger.warning("%s: captures still queued at close were not saved", self.camera)
            return
        self._writer.join(timeout)
        logger.info("%s: %d frame(s) saved for training in %s, %d dropped (the writer was "
                    "behind)", self.camera, self.saved, self.folder, self.dropped)  # fmt: skip

    def _write_all(self) -> None:
        while (capture := self._queue.get()) is not None:
            try:
                write_capture(self.folder, capture)
                self.saved += 1
                prune(self.folder, self.config.max_images)
            except OSError as exc:
                logger.warning("%s: cannot save a capture in %s: %s", self.camera, self.folder, exc)


def capture_name(record: ResultRecord) -> str:
    """``<ts>-<seq>``: sorts by time, safe on every file system (no colons)."""
    stamp = record.ts.replace("-", "").replace(":", "").replace(".", "")
    return f"{stamp}-{record.seq:09d}"


def write_capture(folder: Path, capture: Capture) -> Path:
    """The JPEG then its JSON, each through a hidden temporary and a rename; the JPEG's path."""
    from edge.web.annotate import encode_jpeg

    folder.mkdir(parents=True, exist_ok=True)
    name = capture_name(capture.record)
    jpeg = encode_jpeg(capture.rgb[:, :, ::-1])
    record = capture.record
    about = {"record": record.as_dict(), "why": list(capture.why),
             "label": decision(record), "confidence": confidence(record)}  # fmt: skip
    _atomic(folder / f"{name}.jpg", jpeg)
    _atomic(folder / f"{name}.json", json.dumps(about, indent=1).encode("utf-8"))
    return folder / f"{name}.jpg"


def confidence(record: ResultRecord) -> float | None:
    """The top score of the record's classification (None without a classifier)."""
    classified = record.classification
    return classified.top[0].score if classified is not None else None


def _atomic(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    temporary.replace(path)


def prune(folder: Path, keep: int) -> int:
    """Remove the oldest unlabelled captures (and their JSON) beyond ``keep``; how many."""
    pictures = sorted(folder.glob("*.jpg"))
    extra = pictures[: max(0, len(pictures) - keep)]
    for picture in extra:
        picture.unlink(missing_ok=True)
        picture.with_suffix(".json").unlink(missing_ok=True)
    return len(extra)
