"""Configuration: strict pydantic models, one per section, loaded from TOML.

Unknown keys are errors that name the key path; every error becomes a ConfigError (exit 78).
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from edge.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

logger = logging.getLogger(__name__)

DEMO = "demo"
Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]


def _hostname() -> str:
    name = socket.gethostname().split(".")[0] or "edge"
    return "".join(c if c.isalnum() or c in "_.-" else "-" for c in name)[:64]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColorsConfig(Section):
    k: Annotated[int, Field(ge=1, le=16)] = 5
    size: tuple[Annotated[int, Field(ge=4, le=640)], Annotated[int, Field(ge=4, le=480)]] = (64, 48)


class CameraConfig(Section):
    name: Name = "camera"
    source: str = "auto"
    fps: Annotated[float, Field(ge=0, le=240)] = 5.0
    classifier: str = DEMO
    anomaly: str = DEMO
    top_k: Annotated[int, Field(ge=1, le=100)] = 5
    confidence_threshold: Annotated[float, Field(ge=0, le=1)] = 0.0
    smoothing: Annotated[int, Field(ge=1, le=100)] = 1
    roi: tuple[float, float, float, float] | None = None
    num_threads: Annotated[int, Field(ge=1, le=16)] = 1
    stall_timeout: Annotated[float, Field(gt=0, le=3600)] = 10.0
    colors: ColorsConfig = ColorsConfig()

    @field_validator("source")
    @classmethod
    def _source_not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("source must not be empty; use 'auto' to pick a camera")
        return value.strip()

    @field_validator("roi")
    @classmethod
    def _roi_inside_frame(
        cls, roi: tuple[float, float, float, float] | None
    ) -> tuple[float, float, float, float] | None:
        if roi is None:
            return None
        x, y, w, h = roi
        if not (0 <= x < 1 and 0 <= y < 1 and 0 < w <= 1 - x and 0 < h <= 1 - y):
            raise ValueError("roi is [x, y, width, height] as fractions of the frame, inside it")
        return roi


class FilesOutput(Section):
    enabled: bool = True
    dir: str = ""
    retention_days: Annotated[int, Field(ge=0, le=3650)] = 7

    def directory(self) -> Path:
        """The configured dir, else $STATE_DIRECTORY (systemd), else ./edge-results."""
        if self.dir:
            return Path(self.dir).expanduser()
        state = os.environ.get("STATE_DIRECTORY", "").split(":")[0]
        return Path(state) if state else Path("edge-results")


class OutputsConfig(Section):
    files: FilesOutput = FilesOutput()
    console: bool = False


class Config(Section):
    device: Name = Field(default_factory=_hostname)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    cameras: list[CameraConfig] = Field(default_factory=lambda: [CameraConfig()], min_length=1)
    outputs: OutputsConfig = OutputsConfig()

    @model_validator(mode="after")
    def _unique_camera_names(self) -> Config:
        names = [camera.name for camera in self.cameras]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"camera names must be unique, repeated: {', '.join(duplicates)}")
        return self


def _key_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def _describe(exc: ValidationError, origin: str) -> str:
    parts = []
    for error in exc.errors():
        message = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
        message = message.removeprefix("Value error, ")
        parts.append(f"{_key_path(error['loc'])}: {message}")
    return f"{origin}: " + "; ".join(parts)


def parse_config(data: dict[str, Any], origin: str = "config") -> Config:
    """Validate a config mapping; errors name the key path."""
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, origin)) from exc


def load_config(path: str | Path) -> Config:
    """Read and validate a TOML config file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such config file; `edge config default` prints one") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config ({exc})") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
    return parse_config(data, str(path))


def with_overrides(config: Config, **overrides: Any) -> Config:
    """The config with command-line values (those not None) applied to every camera."""
    camera_keys = {
        k: v for k, v in overrides.items() if v is not None and k in CameraConfig.model_fields
    }
    data = config.model_dump()
    for camera in data["cameras"]:
        camera.update(camera_keys)
    if overrides.get("out") is not None:
        data["outputs"]["files"]["dir"] = str(overrides["out"])
        data["outputs"]["files"]["enabled"] = True
    return parse_config(data, "command line")


DEFAULT_TOML = """\
# edge-vision configuration. Every key is optional; shown here with its default.
# Check a file with:  edge config validate FILE

# device = "<host name>"      # device id in every result record and MQTT topic
log_level = "info"             # debug, info, warning, error

# One [[cameras]] table per camera; each runs in its own thread with its own interpreter.
[[cameras]]
name = "camera"                # used in file paths and topics: letters, digits, _ . -
source = "auto"                # auto, picamera2[:N], v4l2:/dev/video0, file:PATH, folder:DIR,
                               # rtsp://..., http://..., demo
fps = 5.0                      # frame-rate cap; 0 processes frames as fast as they come
classifier = "demo"            # a classifier bundle (.tflite beside its .json), "demo", or ""
anomaly = "demo"               # an autoencoder bundle, "demo", or "" for none
top_k = 5                      # labels per classification
confidence_threshold = 0.0     # a top score below this is reported as "unknown"
smoothing = 1                  # average the probabilities over the last N frames
# roi = [0.25, 0.25, 0.5, 0.5] # region of interest: x, y, width, height as fractions
num_threads = 1                # interpreter threads for this camera
stall_timeout = 10.0           # seconds without a frame before the camera is reopened

[cameras.colors]
k = 5                          # dominant colors per frame
size = [64, 48]                # K-means runs on pixels downsampled to this size

[outputs]
console = false                # a short line per result on the terminal

[outputs.files]
enabled = true
dir = ""                       # default: $STATE_DIRECTORY under systemd, else ./edge-results
retention_days = 7             # daily files older than this are removed; 0 keeps them all
"""


def default_config() -> Config:
    return parse_config(tomllib.loads(DEFAULT_TOML), "default config")
