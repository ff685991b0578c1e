"""Configuration: strict pydantic models, one per section, loaded from TOML.

Unknown keys are errors that name the key path; every error becomes a ConfigError (exit 78).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import socket
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from edge.brokers import BrokerAddress, parse_mqtt_url, split_urls
from edge.capture import CaptureConfig
from edge.errors import ConfigError, EdgeError, UsageError
from edge.web.config import WebConfig

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

logger = logging.getLogger(__name__)

DEMO = "demo"
OUTBOX_FILE = ".mqtt-outbox.sqlite"
Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]


def _hostname() -> str:
    name = socket.gethostname().split(".")[0] or "edge"
    return "".join(c if c.isalnum() or c in "_.-" else "-" for c in name)[:64]


class Section(BaseModel):
    """Strict: TOML has types, so a value of the wrong type (``top_k = true``, ``fps = "5"``)
    is an error, not silently converted; only arrays become tuples."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class ColorsConfig(Section):
    k: Annotated[int, Field(ge=1, le=16)] = 5
    size: Annotated[
        tuple[Annotated[int, Field(ge=4, le=640)], Annotated[int, Field(ge=4, le=480)]],
        Field(strict=False),
    ] = (64, 48)


class CameraConfig(Section):
    name: Name = "camera"
    source: str = "auto"
    fps: Annotated[float, Field(ge=0, le=240)] = 5.0
    classifier: str = DEMO
    anomaly: str = DEMO
    top_k: Annotated[int, Field(ge=1, le=100)] = 5
    confidence_threshold: Annotated[float, Field(ge=0, le=1)] = 0.0
    smoothing: Annotated[int, Field(ge=1, le=100)] = 1
    roi: Annotated[tuple[float, float, float, float] | None, Field(strict=False)] = None
    num_threads: Annotated[int, Field(ge=1, le=16)] = 1
    stall_timeout: Annotated[float, Field(gt=0, le=3600)] = 10.0
    colors: ColorsConfig = ColorsConfig()
    capture: CaptureConfig = CaptureConfig()
    candidate: str = ""  # a classifier bundle run in shadow beside ``classifier``
    candidate_every: Annotated[int, Field(ge=1, le=10_000)] = 1

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
    snapshot_interval: Seconds = 10.0

    def directory(self) -> Path:
        """The configured dir, else $STATE_DIRECTORY (systemd), else ./edge-results."""
        if self.dir:
            return Path(self.dir).expanduser()
        state = os.environ.get("STATE_DIRECTORY", "").split(":")[0]
        return Path(state) if state else Path("edge-results")


TOPIC_PART = r"^[^#+/\x00][^#+\x00]{0,127}$"
Seconds = Annotated[float, Field(ge=0, le=86400)]
BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


class HomeAssistantOutput(Section):
    enabled: bool = True
    discovery_prefix: Annotated[str, Field(pattern=TOPIC_PART)] = "homeassistant"


class MqttOutput(Section):
    url: str | list[str] = ""  # one broker, or the nodes of a cluster (a list, or "A,B,C")
    client_id: Annotated[str, Field(max_length=128)] = ""
    protocol: Literal["3.1.1", "5"] = "3.1.1"
    qos: Literal[0, 1, 2] = 1
    retain_state: bool = True
    topic_prefix: Annotated[str, Field(pattern=TOPIC_PART)] = "edge"
    keepalive: Annotated[int, Field(ge=5, le=3600)] = 60
    username: str = ""
    password: Annotated[None, Field(exclude=True)] = None  # rejected: see the validator
    password_file: str = ""
    password_env: str = ""
    password_credential: str = ""
    tls_ca: str = ""
    tls_cert: str = ""
    tls_key: str = ""
    tls_insecure: bool = False
    stats_interval: Seconds = 60.0
    publish_on_change: bool = False
    change_color_distance: Annotated[float, Field(ge=0, le=442)] = 40.0
    heartbeat: Seconds = 60.0
    outbox: str = ""
    outbox_max_rows: Annotated[int, Field(ge=1, le=100_000_000)] = 100_000
    inflight: Annotated[int, Field(ge=1, le=1000)] = 20
    reconnect_min: Annotated[float, Field(gt=0, le=3600)] = 1.0
    reconnect_max: Annotated[float, Field(gt=0, le=3600)] = 60.0
    flush_timeout: Seconds = 3.0
    snapshot_interval: Seconds = 30.0
    homeassistant: HomeAssistantOutput = HomeAssistantOutput()

    @field_validator("password", mode="before")
    @classmethod
    def _no_password_in_config(cls, value: object) -> None:
        raise ValueError(
            "the password never goes in the config; give password_file, password_env or "
            "password_credential (a systemd LoadCredential= name)"
        )

    @field_validator("url")
    @classmethod
    def _valid_url(cls, url: str | list[str]) -> str | list[str]:
        addresses = [parse_mqtt_url(one) for one in split_urls(url)]
        if len({(address.tls, address.username) for address in addresses}) > 1:
            raise ValueError(
                "the brokers of one list are the nodes of one cluster: give them all the same "
                "scheme (mqtt:// or mqtts://) and the same USER@"
            )
        return url.strip() if isinstance(url, str) else [one.strip() for one in url]

    @model_validator(mode="after")
    def _consistent(self) -> MqttOutput:
        keys = ("password_file", "password_env", "password_credential")
        sources = [key for key in keys if getattr(self, key)]
        if len(sources) > 1:
            raise ValueError(f"give only one of {', '.join(sources)}")
        if sources and not (self.username or self.address_username()):
            raise ValueError(f"{sources[0]} needs a username (username, or USER@ in the url)")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError("tls_cert and tls_key go together (a client certificate and its key)")
        if self.reconnect_max < self.reconnect_min:
            raise ValueError("reconnect_max must be at least reconnect_min")
        return self

    @property
    def enabled(self) -> bool:
        return bool(self.urls)

    @property
    def urls(self) -> list[str]:
        """The broker URLs, in the order they are tried."""
        return split_urls(self.url)

    def address(self) -> BrokerAddress:
        """The first broker's address (all of them share the scheme and the user name)."""
        return parse_mqtt_url(self.urls[0])

    def address_username(self) -> str:
        return self.address().username if self.enabled else ""

    def outbox_path(self, state_dir: Path) -> Path:
        """The outbox database: ``outbox``, else a hidden file in the state directory."""
        return Path(self.outbox).expanduser() if self.outbox else state_dir / OUTBOX_FILE


class OutputsConfig(Section):
    files: FilesOutput = FilesOutput()
    mqtt: MqttOutput = MqttOutput()
    console: bool = True


class Config(Section):
    device: Name = Field(default_factory=_hostname)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    cameras: list[CameraConfig] = Field(default_factory=lambda: [CameraConfig()], min_length=1)
    outputs: OutputsConfig = OutputsConfig()
    web: WebConfig = WebConfig()

    def mqtt_client_id(self) -> str:
        """``outputs.mqtt.client_id``, else one derived from the device and its camera names:
        stable across restarts, different for two daemons with different cameras."""
        if self.outputs.mqtt.client_id:
            return self.outputs.mqtt.client_id
        names = "\0".join([self.device, *sorted(camera.name for camera in self.cameras)])
        digest = hashlib.sha256(names.encode("utf-8")).hexdigest()[:8]
        return f"edge-{self.device[:40]}-{digest}"

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
        # a quoted TOML key may hold anything, a newline too
        key = repr(part) if isinstance(part, str) and not BARE_KEY.fullmatch(part) else part
        path += f"[{key}]" if isinstance(key, int) else (f".{key}" if path else str(key))
    return path or "(top level)"


def _errors(exc: ValidationError) -> list[tuple[str, str]]:
    """Each error as (key path, message)."""
    found = []
    for error in exc.errors():
        message = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
        found.append((_key_path(error["loc"]), message.removeprefix("Value error, ")))
    return found


def parse_config(data: dict[str, Any], origin: str = "config") -> Config:
    """Validate a config mapping; errors name the key path (the first one's in ``key``)."""
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        errors = _errors(exc)
        text = f"{origin}: " + "; ".join(f"{key}: {message}" for key, message in errors)
        raise ConfigError(text, key=errors[0][0], reason=errors[0][1]) from exc


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
    if overrides.get("mqtt") is not None:
        data["outputs"]["mqtt"]["url"] = str(overrides["mqtt"])
    if overrides.get("out") is not None:
        data["outputs"]["files"]["dir"] = str(overrides["out"])
        data["outputs"]["files"]["enabled"] = True
    if overrides.get("web") is not None:
        data["web"].update(listen=str(overrides["web"]), enabled=True)
    if overrides.get("no_web"):
        data["web"]["enabled"] = False
    try:
        return parse_config(data, "command line")
    except ConfigError as exc:
        raise command_line_error(exc, overrides) from exc


OVERRIDE_FLAGS = {  # a key path (a camera's key without its cameras[N].) -> its flag
    **{key: f"--{key}" for key in ("source", "classifier", "anomaly", "fps")},
    "outputs.mqtt.url": "--mqtt",
    "outputs.files.dir": "--out",
    "web.listen": "--web",
}


def command_line_error(error: ConfigError, overrides: dict[str, Any]) -> EdgeError:
    """A problem with a value given on the command line (``overrides``, as for
    :func:`with_overrides`) as a UsageError naming its flag (exit 2); any other as it is."""
    flag = OVERRIDE_FLAGS.get(re.sub(r"^cameras\[\d+\]\.", "", error.key), "")
    if overrides.get(flag.removeprefix("--")) is None:
        return error
    return UsageError(f"{flag}: {error.reason}")


# The commented default that `edge config default` prints: parsed, it is the built-in default
# (tests/edge/test_config.py holds the two equal).
DEFAULT_TOML = (Path(__file__).parent / "data" / "default.toml").read_text(encoding="utf-8")


def default_config() -> Config:
    return parse_config(tomllib.loads(DEFAULT_TOML), "default config")
