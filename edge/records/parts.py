"""The parts of a result record and the checks behind them (see edge.records.record).

Every check returns the value, normalised, or raises ``RecordError`` whose message starts with
the key path of the bad value.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar, cast, runtime_checkable

if TYPE_CHECKING:
    pass

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
    """Milliseconds per stage (to the microsecond); None, null in JSON, for a stage not run.
    ``wait``, when present, is the time spent waiting for the frame, apart from ``capture``
    (the work of reading it) and not in ``total``."""

    CHECKS = (
        ("capture", _millis), ("colors", _millis), ("classify", _optional_millis),
        ("anomaly", _optional_millis), ("total", _millis),
    )  # fmt: skip
    OPTIONAL = ("wait",)  # records written before it existed have none
    capture: float
    colors: float
    total: float
    classify: float | None = None
    anomaly: float | None = None
    wait: float | None = None

    def _check_together(self) -> None:
        if self.wait is not None:
            with _at("wait"):
                object.__setattr__(self, "wait", _millis(self.wait))


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
