"""A camera's own anomaly threshold, set on the device from frames of its scene.

``edge calibrate`` scores frames the user says are normal with the camera's autoencoder and
keeps the order-statistic threshold (edge.inference.threshold) in the state directory::

    <state>/<camera>/calibration.json
    {"camera": "door", "threshold": 0.0312, "false_alarm_rate": 0.01, "images": 300,
     "rank": 298, "expected_false_alarm_rate": 0.00997, "interval_90": [0.0027, 0.0208],
     "bundle": "door_ae", "bundle_sha256": "...", "source": "picamera2",
     "created": "2026-11-24T13:05:07Z"}

The daemon reads it when a camera starts and on every reload; the bundle and its hash stay
untouched. It names the bundle's sha256: for another bundle it is void (logged, and the
bundle's own threshold is used) until ``edge calibrate`` runs again.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from edge import jsondata
from edge.inference.threshold import Calibration

if TYPE_CHECKING:
    from edge.inference.anomaly import AnomalyDetector
    from edge.inference.bundle import Bundle

logger = logging.getLogger(__name__)

FILE = "calibration.json"
Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class CameraCalibration:
    """A threshold set on the device for one camera and one bundle."""

    camera: str
    calibration: Calibration
    bundle: str
    bundle_sha256: str
    source: str
    created: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "camera": self.camera,
            **self.calibration.as_dict(),
            "bundle": self.bundle,
            "bundle_sha256": self.bundle_sha256,
            "source": self.source,
            "created": self.created,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CameraCalibration:
        """KeyError, TypeError or ValueError when a field is missing or wrong."""
        low, high = (float(x) for x in data["interval_90"])
        calibration = Calibration(
            threshold=_finite(data["threshold"]),
            images=int(data["images"]),
            rank=int(data["rank"]),
            false_alarm_rate=_finite(data["false_alarm_rate"]),
            expected_rate=_finite(data["expected_false_alarm_rate"]),
            interval=(low, high),
        )
        return cls(
            str(data["camera"]), calibration, str(data["bundle"]), str(data["bundle_sha256"]),
            str(data.get("source", "")), str(data.get("created", "")),
        )  # fmt: skip


def _finite(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError(f"expected a number >= 0, got {value!r}")
    return float(value)


def calibration_path(state_dir: Path, camera: str) -> Path:
    return state_dir / camera / FILE


def save(path: Path, calibration: CameraCalibration) -> Path:
    """Write atomically (temporary file, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as file:
        file.write(json.dumps(calibration.as_dict(), indent=2) + "\n")
        file.flush()
        os.fsync(file.fileno())
    tmp.replace(path)
    return path


def load(path: Path) -> CameraCalibration | None:
    """The calibration in ``path``, None when there is none; ValueError when unreadable."""
    try:
        data = jsondata.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: unreadable ({exc})") from exc
    try:
        if not isinstance(data, dict):
            raise TypeError("not a JSON object")
        return CameraCalibration.from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path}: invalid calibration ({exc})") from exc


Verdict = tuple[Status, str, "CameraCalibration | None"]


def check(state_dir: Path, camera: str, bundle: Bundle) -> Verdict | None:
    """What a camera's calibration file means for this bundle: the status, a line saying so,
    and the calibration when it applies (None: there is no file)."""
    path = calibration_path(state_dir, camera)
    try:
        found = load(path)
    except ValueError as exc:
        return "warn", f"{exc}; the bundle's threshold is used", None
    if found is None:
        return None
    if found.bundle_sha256 != bundle.meta.get("tflite_sha256"):
        return (
            "warn",
            (
                f"{path} was set for another bundle ({found.bundle}, sha256 "
                f"{found.bundle_sha256[:12]}...): ignored, the bundle's threshold is used; "
                f"run edge calibrate --camera {camera} again"
            ),
            None,
        )
    rate = found.calibration.false_alarm_rate
    return (
        "ok",
        (
            f"threshold {found.calibration.threshold:.5f} from {found.calibration.images} frames "
            f"of {found.source or 'the camera'} (promised false-alarm rate {100 * rate:g}%), "
            f"in {path}"
        ),
        found,
    )


def apply(detector: AnomalyDetector, state_dir: Path, camera: str) -> None:
    """Give the detector the camera's calibrated threshold when one is set for its bundle."""
    verdict = check(state_dir, camera, detector.bundle)
    if verdict is None:
        return
    _status, detail, found = verdict
    if found is None:
        logger.warning("%s: %s", camera, detail)
        return
    logger.info("%s: anomaly %s (the bundle's: %.5f)", camera, detail, detector.threshold)
    detector.threshold = found.calibration.threshold
