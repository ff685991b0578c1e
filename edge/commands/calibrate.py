"""``edge calibrate``: set a camera's anomaly threshold from frames of its own scene.

The scene a camera sees is never quite the training set. With the daemon stopped (a camera
opens once), ``edge calibrate --camera door --frames 300`` reads 300 frames from the camera's
configured source at its frame rate, scores them with its autoencoder exactly as the daemon
does (region of interest included) and keeps the threshold that promises the false-alarm rate
on frames like these (edge.inference.threshold) in ``<state>/<camera>/calibration.json``
(edge.calibration). Every frame must be normal: what it sees now is what counts as normal.
"""

from __future__ import annotations

import argparse
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from edge.commands.args import name, pick_camera, positive_int
from edge.errors import SourceError, UsageError
from edge.inference.threshold import DEFAULT_RATE, check_rate, minimum_images

if TYPE_CHECKING:
    from edge.config import CameraConfig, Config
    from edge.inference.anomaly import AnomalyDetector

logger = logging.getLogger(__name__)

PROGRESS_STEPS = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--camera", type=name, help="the camera to calibrate (default: the only one)"
    )
    parser.add_argument(
        "--frames", type=positive_int, required=True, metavar="N",
        help=f"normal frames to score (at least {minimum_images(DEFAULT_RATE)} for a 1%% rate)",
    )  # fmt: skip
    parser.add_argument(
        "--config", type=Path, help="TOML config file (default: the embedded default)"
    )
    parser.add_argument(
        "--false-alarm-rate", type=float, default=DEFAULT_RATE, metavar="A",
        help="promise at most this false-alarm rate on normal frames (default 0.01)",
    )  # fmt: skip


def _config(path: Path | None) -> Config:
    from edge.config import default_config, load_config

    return load_config(path) if path else default_config()


def _detector(camera: CameraConfig) -> AnomalyDetector:
    from edge import demo
    from edge.camera import resolve_model
    from edge.inference.anomaly import AnomalyDetector

    path = resolve_model(camera.anomaly, demo.autoencoder_path)
    if path is None:
        raise UsageError(
            f'camera {camera.name} has no autoencoder (anomaly = ""): nothing to calibrate'
        )
    return AnomalyDetector.from_bundle(path, camera.num_threads)


def score_frames(camera: CameraConfig, detector: AnomalyDetector, frames: int) -> list[float]:
    """The detector's score of ``frames`` frames from the camera's source, as the daemon
    scores them; fewer when a file or folder ends first."""
    from edge.camera import source_options
    from edge.pipeline import crop_roi
    from edge.sources import EndOfStream, create_source

    scores: list[float] = []
    step = max(1, frames // PROGRESS_STEPS)
    source = create_source(camera.source, camera=camera.name, **source_options(camera))
    with source:
        while len(scores) < frames:
            try:
                frame = source.read(timeout=camera.stall_timeout)
            except EndOfStream:
                logger.warning("%s ended after %d frames", camera.source, len(scores))
                break
            if frame is None:
                raise SourceError(f"{camera.source}: no frame in {camera.stall_timeout:g} s")
            scores.append(detector.score(crop_roi(frame.rgb, camera.roi)).score)
            if len(scores) % step == 0:
                logger.info("scored %d of %d frames", len(scores), frames)
    return scores


def run(args: argparse.Namespace) -> int:
    """Calibrate the camera and write its calibration file; print what it promises."""
    from edge import calibration
    from edge.inference.bundle import sha256_bytes
    from edge.inference.threshold import calibrate

    try:
        rate = check_rate(args.false_alarm_rate)
    except ValueError as exc:
        raise UsageError(f"--false-alarm-rate: {exc}") from exc
    config = _config(args.config)
    camera = pick_camera(config, args.camera)
    detector = _detector(camera)
    scores = score_frames(camera, detector, args.frames)
    if not scores:
        raise SourceError(f"{camera.source}: no frame to calibrate on")
    if len(scores) < minimum_images(rate):
        logger.warning(
            "only %d frames: a false-alarm rate of %g needs at least %d; the threshold is the "
            "largest score", len(scores), rate, minimum_images(rate),
        )  # fmt: skip
    found = calibration.CameraCalibration(
        camera.name, calibrate(scores, rate), detector.name,
        sha256_bytes(detector.bundle.model_bytes), camera.source,
        datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )  # fmt: skip
    path = calibration.calibration_path(config.outputs.files.directory(), camera.name)
    calibration.save(path, found)
    print(f"{camera.name}: {len(scores)} frames of {camera.source} scored with {detector.name}")
    print(f"{found.calibration.describe()}; the bundle's threshold: {detector.threshold:.5f}")
    print(f"wrote {path}: used from the daemon's next start or reload")
    return 0
