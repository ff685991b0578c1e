"""One camera's loop: take the newest frame, run the stages, time them, publish the record."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from edge.frames import Frame
from edge.inference.classify import classified
from edge.records.parts import (
    AnomalyResult,
    CandidateResult,
    Classified,
    ColorShare,
    FrameSize,
    Timing,
)
from edge.records.record import ResultRecord

if TYPE_CHECKING:
    from edge.config import CameraConfig
    from edge.inference.anomaly import AnomalyDetector
    from edge.inference.classify import Classifier
    from edge.inference.colors import ColorTracker

logger = logging.getLogger(__name__)


def crop_roi(
    rgb: npt.NDArray[np.uint8], roi: tuple[float, float, float, float] | None
) -> npt.NDArray[np.uint8]:
    """The region of interest (x, y, width, height as fractions) of a frame, as a view."""
    if roi is None:
        return rgb
    h, w = rgb.shape[:2]
    x0, y0 = int(roi[0] * w), int(roi[1] * h)
    x1, y1 = max(x0 + 1, int((roi[0] + roi[2]) * w)), max(y0 + 1, int((roi[1] + roi[3]) * h))
    return rgb[y0:y1, x0:x1]


class Smoother:
    """The mean of the last N probability vectors."""

    def __init__(self, frames: int) -> None:
        self._window: deque[npt.NDArray[np.float32]] = deque(maxlen=frames)

    def update(self, probabilities: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        if self._window.maxlen == 1:  # no smoothing
            return probabilities
        self._window.append(probabilities)
        if len(self._window) == 1:
            return probabilities
        mean: npt.NDArray[np.float32] = np.mean(np.stack(self._window), axis=0, dtype=np.float32)
        return mean


@dataclass
class Stats:
    """Counters of one camera, read by the status line and the stats publisher."""

    processed: int = 0
    started: float = field(default_factory=time.monotonic)
    last_frame: float = 0.0
    latency_ms: deque[float] = field(default_factory=lambda: deque(maxlen=200))
    frame_times: deque[float] = field(default_factory=lambda: deque(maxlen=50))

    def frame_done(self, total_ms: float) -> None:
        self.processed += 1
        self.last_frame = time.monotonic()
        self.frame_times.append(self.last_frame)
        self.latency_ms.append(total_ms)

    def fps(self) -> float:
        """Frames per second over the last (up to) 50 frames."""
        if len(self.frame_times) < 2:
            return 0.0
        span = self.frame_times[-1] - self.frame_times[0]
        return (len(self.frame_times) - 1) / span if span > 0 else 0.0


class Stages:
    """The per-frame work of one camera: colors, classification, anomaly score, and the
    candidate classifier in shadow (on every ``candidate_every``-th frame)."""

    def __init__(
        self,
        camera: CameraConfig,
        tracker: ColorTracker,
        classifier: Classifier | None,
        detector: AnomalyDetector | None,
        candidate: Classifier | None = None,
    ) -> None:
        self.camera = camera
        self.tracker = tracker
        self.classifier = classifier
        self.detector = detector
        self.candidate = candidate
        self._smoother = Smoother(camera.smoothing)
        self._candidate_smoother = Smoother(camera.smoothing)
        self._frames = 0

    def colors(self, frame: Frame) -> tuple[ColorShare, ...]:
        use_lores = frame.lores is not None and self.camera.roi is None
        image = frame.lores if use_lores and frame.lores is not None else frame.rgb
        return self.tracker.update(crop_roi(image, self.camera.roi))

    def model_picture(self, frame: Frame, rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        """What the classifier is given: the frame's picture at the model's size when the
        source delivers one that covers the input (and no region of interest is set), else
        ``rgb``."""
        small, classifier = frame.model_rgb, self.classifier
        if small is None or classifier is None or self.camera.roi is not None:
            return rgb
        p = classifier.model.preprocess
        return small if small.shape[0] >= p.height and small.shape[1] >= p.width else rgb

    def classify(self, rgb: npt.NDArray[np.uint8]) -> Classified | None:
        classifier, camera = self.classifier, self.camera
        if classifier is None:
            return None
        top_k, threshold = camera.top_k, camera.confidence_threshold
        if camera.smoothing == 1:
            return classifier.top(rgb, top_k, threshold)
        probabilities = self._smoother.update(classifier.probabilities(rgb))
        return classified(classifier.name, probabilities, classifier.labels, top_k, threshold)

    def anomaly(self, rgb: npt.NDArray[np.uint8]) -> AnomalyResult | None:
        return None if self.detector is None else self.detector.score(rgb)

    def shadow(self, rgb: npt.NDArray[np.uint8], live: Classified | None) -> CandidateResult | None:
        """The candidate's decision on the frame and whether the live model's is the same;
        None without a candidate or on a frame it skips."""
        candidate, camera = self.candidate, self.camera
        self._frames += 1
        if candidate is None or (self._frames - 1) % camera.candidate_every:
            return None
        probabilities = self._candidate_smoother.update(candidate.probabilities(rgb))
        made = classified(candidate.name, probabilities, candidate.labels, camera.top_k,
                          camera.confidence_threshold)  # fmt: skip
        label = decision(made)
        agrees = live is not None and decision(live) == label
        return CandidateResult(candidate.name, made.top, label, agrees)

    def swap(self, classifier: Classifier | None, candidate: Classifier | None) -> None:
        """Other classifiers, live and in shadow, from the next frame on (a promotion)."""
        self.classifier, self.candidate = classifier, candidate
        self._smoother = Smoother(self.camera.smoothing)
        self._candidate_smoother = Smoother(self.camera.smoothing)
        self._frames = 0


def decision(classification: Classified) -> str:
    """The decided label: ``label`` when set ("unknown" below the threshold), else the top."""
    return classification.label or classification.top[0].label


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000.0, 3)


class Pipeline:
    """Turns frames into result records for one camera."""

    def __init__(self, device: str, stages: Stages, next_seq: Callable[[], int]) -> None:
        self.device = device
        self.stages = stages
        self.next_seq = next_seq
        self.stats = Stats()

    def process(
        self, frame: Frame, capture_ms: float, wait_ms: float | None = None
    ) -> ResultRecord:
        start = time.perf_counter()
        colors = self.stages.colors(frame)
        colors_ms = _ms(start)
        rgb = crop_roi(frame.rgb, self.stages.camera.roi)
        t = time.perf_counter()
        classification = self.stages.classify(self.stages.model_picture(frame, rgb))
        classify_ms = _ms(t)
        t = time.perf_counter()
        anomaly = self.stages.anomaly(rgb)
        anomaly_ms = _ms(t)
        t = time.perf_counter()
        candidate = self.stages.shadow(rgb, classification)
        candidate_ms = _ms(t)
        timing = Timing(
            capture=round(capture_ms, 3),
            colors=colors_ms,
            classify=classify_ms if classification is not None else None,
            anomaly=anomaly_ms if anomaly is not None else None,
            total=round(max(0.0, capture_ms + _ms(start) - candidate_ms), 3),  # the live work
            wait=round(wait_ms, 3) if wait_ms is not None else None,
            candidate=candidate_ms if candidate is not None else None,
        )
        self.stats.frame_done(timing.total)
        return ResultRecord.create(
            device=self.device,
            camera=frame.camera,
            seq=self.next_seq(),
            timestamp=frame.timestamp,
            frame=FrameSize(frame.width, frame.height),
            colors=colors,
            classification=classification,
            anomaly=anomaly,
            timing_ms=timing,
            candidate=candidate,
        )
