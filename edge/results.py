"""The result record: one per processed frame, the contract every reader relies on.

A record is JSON (UTF-8; one object per MQTT message and per line of the JSONL files). Its JSON
Schema ships as ``edge/schema/result.schema.json``; ``schema()`` loads it.

    ResultRecord
    ├── schema          1
    ├── device, camera  1 to 64 letters, digits, _ . - starting with a letter or digit
    ├── seq             integer >= 0, strictly increasing per camera
    ├── ts              capture time, ISO 8601 UTC with milliseconds: 2026-11-24T13:05:07.123Z
    ├── frame           FrameSize      {"width", "height"}
    ├── colors          ColorShare     [{"hex", "rgb", "fraction"}, ...] largest first, sum 1
    ├── classification  Classified     {"model", "top": [LabelScore {"label", "score"}]} or null
    ├── anomaly         AnomalyResult  {"model", "score", "threshold", "is_anomaly"} or null
    ├── timing_ms       Timing         {"capture", "colors", "classify", "anomaly", "total"}
    │                                  milliseconds; classify/anomaly are null when not run
    └── ...             extra top-level keys (e.g. "status"); they never change the above

Bad data raises ``RecordError`` (a ``ValueError``) whose message starts with the key path,
e.g. ``colors[1].fraction: expected a number in [0, 1], got 1.5``.

Readers for scripts: ``read_records()`` (a JSONL file or a results directory),
``last_records()`` (the newest few) and ``follow_records()`` (new records as they are written),
implemented beside the files publisher in ``edge.publishers.filestore``; and
``subscribe_records()`` (records from an MQTT broker), in ``edge.publishers.mqttreader``.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar, cast, runtime_checkable

if TYPE_CHECKING:
    import threading

    from edge.config import MqttOutput

SCHEMA_VERSION = 1
REQUIRED_KEYS = (
    "schema", "device", "camera", "seq", "ts", "frame",
    "colors", "classification", "anomaly", "timing_ms",
)  # fmt: skip
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
NAME_HINT = "1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit"
NON_EMPTY = re.compile(r".+", re.DOTALL)
TS_PATTERN = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})Z", re.ASCII)
TS_HINT = "ISO 8601 UTC with milliseconds like 2026-11-24T13:05:07.123Z"
FRACTION_SUM_TOLERANCE = 0.01
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MAX_TIMESTAMP = 253402300799.999  # 9999-12-31T23:59:59.999Z

T = TypeVar("T")
Check = Callable[[Any], Any]


@runtime_checkable
class SupportsAsDict(Protocol):
    """Anything that gives its record form as a dict (Classification, AnomalyScore, ...)."""

    def as_dict(self) -> Mapping[str, Any]: ...


PartLike = SupportsAsDict | Mapping[str, Any]


class RecordError(ValueError):
    """Data that is not a valid result record; ``path`` is the key path, e.g. ``frame.width``."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}" if path else problem)
        self.path = path
        self.problem = problem

    def within(self, parent: str) -> RecordError:
        """The same error one level down: ``width`` within ``frame`` is ``frame.width``."""
        if not parent:
            return self
        dot = "" if self.path.startswith("[") or not self.path else "."
        return RecordError(f"{parent}{dot}{self.path}", self.problem)


@contextmanager
def _at(path: str) -> Iterator[None]:
    """Errors raised inside are about the value at ``path``."""
    try:
        yield
    except RecordError as err:
        raise err.within(path) from None


# --- value checks: each returns the value (normalised) or raises RecordError --------------


def _show(value: object) -> str:
    text = repr(value)
    text = text if len(text) <= 60 else text[:57] + "..."
    plain_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return text if plain_number else f"{text} ({type(value).__name__})"


def _number(value: object, low: float = 0.0, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise RecordError("", f"expected a number, got {_show(value)}")
    try:
        number = float(value)
    except OverflowError:  # an integer too large for a float
        number = math.inf
    if not math.isfinite(number):
        raise RecordError("", f"expected a finite number, got {_show(value)}")
    if number < low or (high is not None and number > high):
        expected = f"in [{low:g}, {high:g}]" if high is not None else f">= {low:g}"
        raise RecordError("", f"expected a number {expected}, got {number!r}")
    return number


def _integer(value: object, low: int = 0, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise RecordError("", f"expected an integer, got {_show(value)}")
    number = int(value)
    if number < low or (high is not None and number > high):
        expected = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise RecordError("", f"expected an integer {expected}, got {number}")
    return number


def _string(value: object, pattern: re.Pattern[str] | None = None, hint: str = "") -> str:
    if not isinstance(value, str):
        raise RecordError("", f"expected a string, got {_show(value)}")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise RecordError(
                "", f"expected UTF-8 text, got {value!r} (a lone surrogate)"
            ) from None
    if pattern is not None and not pattern.fullmatch(value):
        raise RecordError("", f"expected {hint}, got {value!r}")
    return value


def _text(value: object) -> str:
    return _string(value, NON_EMPTY, "a non-empty string")


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise RecordError("", f"expected true or false, got {_show(value)}")
    return value


def _fraction(value: object) -> float:
    return _number(value, 0.0, 1.0)


def _millis(value: object) -> float:
    return round(_number(value), 3)


def _optional_millis(value: object) -> float | None:
    return None if value is None else _millis(value)


def _items(value: object) -> tuple[object, ...]:
    if hasattr(value, "tolist") and not isinstance(value, (list, tuple)):
        value = value.tolist()  # a numpy array
    if not isinstance(value, (list, tuple)):
        raise RecordError("", f"expected a list, got {_show(value)}")
    return tuple(value)


def _mapping(value: object) -> Mapping[Any, Any]:
    if isinstance(value, SupportsAsDict) and not isinstance(value, Mapping):
        value = value.as_dict()
    if not isinstance(value, Mapping):
        raise RecordError("", f"expected an object, got {_show(value)}")
    return value


def _name(value: object) -> str:
    return _string(value, NAME_PATTERN, NAME_HINT)


def check_name(value: object, what: str = "name") -> str:
    """``value`` if it is a valid device or camera name (safe in file paths and MQTT topics)."""
    with _at(what):
        return _name(value)


def _apply(target: object, checks: tuple[tuple[str, Check], ...]) -> None:
    """Check and normalise the fields of a frozen dataclass in place."""
    for key, check in checks:
        with _at(key):
            object.__setattr__(target, key, check(getattr(target, key)))


# --- the parts of a record ------------------------------------------------------------------


class _Part:
    """A frozen sub-object of the record; CHECKS name its JSON keys (all required) in order."""

    CHECKS: ClassVar[tuple[tuple[str, Check], ...]]
    OPTIONAL: ClassVar[tuple[str, ...]] = ()  # keys that may be missing (None), after CHECKS

    def __post_init__(self) -> None:
        _apply(self, self.CHECKS)
        self._check_together()

    def _check_together(self) -> None:
        """Checks that involve more than one key."""

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(key for key, _ in cls.CHECKS)

    @classmethod
    def coerce(cls, value: object) -> Any:
        """``value`` as this part: the part itself, a dict, or anything with ``as_dict()``."""
        if isinstance(value, cls):
            return value
        data, keys = _mapping(value), cls.keys()
        for key in keys:
            if key not in data:
                raise RecordError(key, "missing (a required key)")
        unexpected = sorted(str(key) for key in data if key not in keys + cls.OPTIONAL)
        if unexpected:
            problem = f"unexpected key(s) {', '.join(unexpected)}; expected {', '.join(keys)}"
            raise RecordError("", problem)
        return cls(**{key: data[key] for key in keys + cls.OPTIONAL if key in data})

    def as_dict(self) -> dict[str, Any]:
        data = {key: _plain(getattr(self, key)) for key in self.keys()}
        data.update({k: _plain(v) for k in self.OPTIONAL if (v := getattr(self, k)) is not None})
        return data


def _rgb(value: object) -> tuple[int, int, int]:
    items = _items(value)
    if len(items) != 3:
        raise RecordError("", f"expected 3 integers (red, green, blue), got {len(items)} items")
    channels = []
    for index, item in enumerate(items):
        with _at(f"[{index}]"):
            channels.append(_integer(item, 0, 255))
    return channels[0], channels[1], channels[2]


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


@dataclass(frozen=True)
class FrameSize(_Part):
    """The size in pixels of the frame that was processed."""

    CHECKS = (("width", lambda v: _integer(v, 1)), ("height", lambda v: _integer(v, 1)))
    width: int
    height: int


@dataclass(frozen=True)
class ColorShare(_Part):
    """A dominant color and the fraction of the frame it covers."""

    CHECKS = (("hex", _string), ("rgb", _rgb), ("fraction", _fraction))
    hex: str
    rgb: tuple[int, int, int]
    fraction: float

    def _check_together(self) -> None:
        if self.hex != _hex(self.rgb):
            expected = f"expected {_hex(self.rgb)!r}, the rgb value in lowercase hex"
            raise RecordError("hex", f"{expected}, got {self.hex!r}")

    @classmethod
    def from_rgb(cls, rgb: Iterable[int], fraction: float) -> ColorShare:
        with _at("rgb"):
            checked = _rgb(tuple(rgb))
        return cls(_hex(checked), checked, fraction)


@dataclass(frozen=True)
class LabelScore(_Part):
    """One label of a classification with its probability."""

    CHECKS = (("label", _string), ("score", _fraction))
    label: str
    score: float


def _all(coerce: Callable[[object], T], value: object, ordered_by: str) -> tuple[T, ...]:
    """A non-empty tuple of parts, largest ``ordered_by`` first."""
    parts: list[T] = []
    for index, item in enumerate(_items(value)):
        with _at(f"[{index}]"):
            parts.append(coerce(item))
        now, before = (getattr(part, ordered_by) for part in (parts[-1], parts[max(index - 1, 0)]))
        if now > before:
            problem = f"expected the largest {ordered_by} first, got {now!r} after {before!r}"
            raise RecordError(f"[{index}].{ordered_by}", problem)
    if not parts:
        raise RecordError("", "expected at least one item, got an empty list")
    return tuple(parts)


@dataclass(frozen=True)
class Classified(_Part):
    """A classification: the bundle name and its top labels, most likely first; ``label``,
    when present, is the decision: the top label, or "unknown" below the confidence threshold."""

    CHECKS = (("model", _text), ("top", lambda v: _all(LabelScore.coerce, v, "score")))
    OPTIONAL = ("label",)
    model: str
    top: tuple[LabelScore, ...]
    label: str | None = None

    def _check_together(self) -> None:
        if self.label is not None:
            with _at("label"):
                _text(self.label)


@dataclass(frozen=True)
class AnomalyResult(_Part):
    """An autoencoder's reconstruction error, its threshold and the verdict."""

    CHECKS = (("model", _text), ("score", _number), ("threshold", _number), ("is_anomaly", _flag))
    model: str
    score: float
    threshold: float
    is_anomaly: bool


@dataclass(frozen=True)
class Timing(_Part):
    """Milliseconds per stage (to the microsecond); None, null in JSON, for a stage not run."""

    CHECKS = (
        ("capture", _millis), ("colors", _millis), ("classify", _optional_millis),
        ("anomaly", _optional_millis), ("total", _millis),
    )  # fmt: skip
    capture: float
    colors: float
    total: float
    classify: float | None = None
    anomaly: float | None = None


def _colors(value: object) -> tuple[ColorShare, ...]:
    colors = _all(ColorShare.coerce, value, "fraction")
    total = math.fsum(color.fraction for color in colors)
    if abs(total - 1.0) > FRACTION_SUM_TOLERANCE:
        raise RecordError("", f"expected fractions that sum to 1, got a sum of {total:.4f}")
    return colors


def _freeze(value: object) -> object:
    """A JSON value as immutable data: objects become read-only mappings, lists tuples."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return _number(value, -math.inf)
    if isinstance(value, (list, tuple)):
        return tuple(_freeze_at(f"[{index}]", item) for index, item in enumerate(value))
    if not isinstance(value, (Mapping, SupportsAsDict)):
        raise RecordError("", f"expected a JSON value, got {_show(value)}")
    data = _mapping(value)
    for key in data:
        if not isinstance(key, str):
            raise RecordError("", f"expected string keys, got {_show(key)}")
    return MappingProxyType({key: _freeze_at(key, item) for key, item in data.items()})


def _freeze_at(path: str, value: object) -> object:
    with _at(path):
        return _freeze(value)


def _plain(value: object) -> Any:
    """The JSON form of frozen data."""
    if isinstance(value, _Part):
        return value.as_dict()
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value


def _extra(value: object) -> Mapping[str, Any]:
    for key in _mapping(value):
        if key in REQUIRED_KEYS:
            raise RecordError(str(key), "is a required key; it cannot also be an extra key")
    return cast("Mapping[str, Any]", _freeze(value))


def _optional(part: type[_Part]) -> Check:
    return lambda value: None if value is None else part.coerce(value)


# --- time -----------------------------------------------------------------------------------


def format_ts(timestamp: float) -> str:
    """Seconds since the epoch as ISO 8601 UTC with milliseconds: 2026-11-24T13:05:07.123Z."""
    seconds, millis = divmod(round(timestamp * 1000), 1000)
    moment = EPOCH.replace(tzinfo=None) + timedelta(seconds=seconds)
    return f"{moment.isoformat(timespec='seconds')}.{millis:03d}Z"


def parse_ts(text: object) -> float:
    """The epoch seconds of a ``ts`` string (the inverse of ``format_ts``)."""
    match = TS_PATTERN.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise RecordError("ts", f"expected {TS_HINT}, got {_show(text)}")
    year, month, day, hour, minute, second, millis = (int(group) for group in match.groups())
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
    except ValueError as exc:
        raise RecordError("ts", f"expected a real date and time, got {text!r} ({exc})") from None
    return ((moment - EPOCH) // timedelta(seconds=1) * 1000 + millis) / 1000


def _timestamp(value: object) -> float:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise RecordError("", "expected an aware datetime (with tzinfo), got a naive one")
        value = value.timestamp()
    number = _number(value)
    if number > MAX_TIMESTAMP:
        raise RecordError(
            "", f"expected seconds since the epoch before the year 10000, got {number!r}"
        )
    return round(number * 1000) / 1000  # to the millisecond, as serialised


# --- the record -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ResultRecord:
    """One processed frame's results; checked on construction, immutable.

    ``timestamp`` is the capture time in seconds since the epoch, kept to the millisecond;
    ``ts`` is its ISO 8601 form. ``create()`` builds one from the pipeline's objects.
    """

    SCHEMA: ClassVar[int] = SCHEMA_VERSION
    CHECKS: ClassVar[tuple[tuple[str, Check], ...]] = (
        ("device", _name), ("camera", _name), ("seq", _integer), ("timestamp", _timestamp),
        ("frame", FrameSize.coerce), ("colors", _colors),
        ("classification", _optional(Classified)), ("anomaly", _optional(AnomalyResult)),
        ("timing_ms", Timing.coerce),
    )  # fmt: skip
    device: str
    camera: str
    seq: int
    timestamp: float
    frame: FrameSize
    colors: tuple[ColorShare, ...]
    classification: Classified | None
    anomaly: AnomalyResult | None
    timing_ms: Timing
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), hash=False)

    def __post_init__(self) -> None:
        _apply(self, self.CHECKS)
        object.__setattr__(self, "extra", _extra(self.extra))  # top-level keys: no path prefix

    @classmethod
    def create(
        cls,
        *,
        device: str,
        camera: str,
        seq: int,
        timestamp: float | datetime,
        frame: PartLike,
        colors: Iterable[PartLike],
        timing_ms: PartLike,
        classification: PartLike | None = None,
        anomaly: PartLike | None = None,
        **extra: Any,
    ) -> ResultRecord:
        """A record from the pipeline's objects (anything with ``as_dict()``) or plain dicts;
        keyword arguments beyond the required keys become extra keys."""
        parts = (frame, tuple(colors), classification, anomaly, timing_ms, extra)
        build: Any = cls
        record: ResultRecord = build(device, camera, seq, timestamp, *parts)
        return record

    @property
    def ts(self) -> str:
        return format_ts(self.timestamp)

    @property
    def time(self) -> datetime:
        """The capture time as an aware UTC datetime."""
        return EPOCH + timedelta(milliseconds=round(self.timestamp * 1000))

    def as_dict(self) -> dict[str, Any]:
        record: dict[str, Any] = {"schema": self.SCHEMA, "device": self.device}
        record.update(camera=self.camera, seq=self.seq, ts=self.ts)
        for key in ("frame", "colors", "classification", "anomaly", "timing_ms"):
            record[key] = _plain(getattr(self, key))
        record.update(_plain(self.extra))
        return record

    def to_json(self) -> str:
        """Compact one-line JSON (no NaN); encode it as UTF-8 to write or send it."""
        return json.dumps(
            self.as_dict(), ensure_ascii=False, separators=(",", ":"), allow_nan=False
        )

    @classmethod
    def from_dict(cls, data: object) -> ResultRecord:
        """A record from its dict form, checked; raises RecordError naming the key path."""
        data = _mapping(data)
        for key in REQUIRED_KEYS:
            if key not in data:
                raise RecordError(key, "missing (a required key)")
        version = data["schema"]
        if isinstance(version, bool) or version != SCHEMA_VERSION:
            raise RecordError("schema", f"expected {SCHEMA_VERSION}, got {_show(version)}")
        fields = {key: data[key] for key in REQUIRED_KEYS if key not in ("schema", "ts")}
        extra = {key: value for key, value in data.items() if key not in REQUIRED_KEYS}
        build: Any = cls
        record: ResultRecord = build(**fields, timestamp=parse_ts(data["ts"]), extra=extra)
        return record

    @classmethod
    def from_json(cls, text: str | bytes) -> ResultRecord:
        """A record from JSON text; raises RecordError for bad JSON or a bad record."""
        try:
            decoded = text.decode("utf-8") if isinstance(text, (bytes, bytearray)) else text
            data = json.loads(decoded, parse_constant=_reject_constant)
        except UnicodeDecodeError as exc:
            raise RecordError("", f"not UTF-8 text ({exc})") from None
        except json.JSONDecodeError as exc:
            raise RecordError("", f"not valid JSON ({exc})") from None
        except RecursionError:
            raise RecordError("", "not a result record (JSON nested too deeply)") from None
        return cls.from_dict(data)


def _reject_constant(name: str) -> Any:
    raise RecordError("", f"not valid JSON ({name} is not a JSON number)")


@cache
def _schema_text() -> str:
    return resources.files("edge").joinpath("schema/result.schema.json").read_text("utf-8")


def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a result record, a fresh copy per call."""
    loaded: dict[str, Any] = json.loads(_schema_text())
    return loaded


# --- readers (implemented in edge.publishers.filestore, beside the files publisher) ---------


def read_records(path: str | Path) -> Iterator[ResultRecord]:
    """Every record of a JSONL file, or of a results directory (one camera's or all cameras').

    Records come in capture order, cameras merged; lines that are not records are logged and
    skipped. A missing path raises FileNotFoundError at once.
    """
    from edge.publishers import filestore

    return filestore.read_records(path)


def last_records(
    out_dir: str | Path, camera: str | None = None, count: int = 10
) -> list[ResultRecord]:
    """The newest ``count`` records under a results directory (all cameras or one), oldest first."""
    from edge.publishers import filestore

    return filestore.last_records(out_dir, camera, count)


def follow_records(
    out_dir: str | Path,
    camera: str | None = None,
    poll: float = 0.5,
    stop: threading.Event | None = None,
) -> Iterator[ResultRecord]:
    """Records appended to a results directory from now on, until ``stop`` is set.

    The files' current ends are taken at this call (not at the first ``next()``); new day files
    and new cameras are picked up; a partial last line waits for its newline.
    """
    from edge.publishers import filestore

    return filestore.RecordFollower(out_dir, camera).records(poll, stop)


# --- MQTT reader (implemented in edge.publishers.mqttreader, paho imported there) ---------


def subscribe_records(
    url: str | None = None,
    *,
    prefix: str | None = None,
    device: str = "+",
    camera: str = "+",
    latest: bool = False,
    settings: MqttOutput | None = None,
    stop: threading.Event | None = None,
    idle_timeout: float | None = None,
) -> Iterator[ResultRecord]:
    """Records published to a broker from now on (``latest``: each camera's retained newest
    first), until ``stop`` is set or none arrived for ``idle_timeout`` seconds.

    ``url`` is ``mqtt://HOST[:PORT]`` or ``mqtts://...``; ``settings``, an ``[outputs.mqtt]``
    section (``load_config(path).outputs.mqtt``), gives the URL, prefix, credentials and TLS
    files when they are not passed here. ``device`` and ``camera`` narrow the subscription
    (``+`` is any). Repeats of a ``(device, camera, seq)`` (MQTT delivers at least once) are
    dropped. Raises PublishError (at the first ``next()``) when the broker cannot be reached
    or refuses the connection; ConfigError for a bad URL.
    """
    from edge.publishers import mqttreader

    broker = mqttreader.reader_broker(url, settings)
    topic_prefix = prefix or (settings.topic_prefix if settings is not None else "edge")
    filters = mqttreader.topic_filters(topic_prefix, device, camera, latest)
    return mqttreader.subscribe_records(broker, filters, stop=stop, idle_timeout=idle_timeout)
