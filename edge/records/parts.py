"""The parts of a result record (see edge.records.record), checked by edge.records.checks.

Each part is a frozen dataclass checked once, where it is made: its constructor checks and
normalises the values, ``from_dict`` checks a part's dict form (the JSON) key by key, and a bad
value raises ``RecordError`` whose message starts with the key path of the value. The stages make
the parts from what they compute, through ``ColorShare.from_rgb``,
``LabelScore.from_probability`` and ``AnomalyResult.from_score``; the record takes them as they
are.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, ClassVar, TypeVar, cast

from edge.records.checks import (
    Check,
    RecordError,
    _apply,
    _at,
    _flag,
    _fraction,
    _freeze,
    _integer,
    _items,
    _mapping,
    _millis,
    _number,
    _optional_millis,
    _string,
    _text,
)

SCHEMA_VERSION = 1
REQUIRED_KEYS = (
    "schema", "device", "camera", "seq", "ts", "frame",
    "colors", "classification", "anomaly", "timing_ms",
)  # fmt: skip
OPTIONAL_KEYS = ("candidate",)  # always written; records made before it existed lack it
TS_PATTERN = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})Z", re.ASCII)
TS_HINT = "ISO 8601 UTC with milliseconds like 2026-11-24T13:05:07.123Z"
FRACTION_SUM_TOLERANCE = 0.01
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MAX_TIMESTAMP = 253402300799.999  # 9999-12-31T23:59:59.999Z
SCORE_DECIMALS = 6  # label scores and anomaly scores in a record

P = TypeVar("P", bound="_Part")
T = TypeVar("T")


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
    def from_dict(cls: type[P], value: object) -> P:
        """The part from its dict form, checked; RecordError names the bad key."""
        data, keys = _mapping(value), cls.keys()
        for key in keys:
            if key not in data:
                raise RecordError(key, "missing (a required key)")
        unexpected = sorted(str(key) for key in data if key not in keys + cls.OPTIONAL)
        if unexpected:
            problem = f"unexpected key(s) {', '.join(unexpected)}; expected {', '.join(keys)}"
            raise RecordError("", problem)
        return cls(**{key: data[key] for key in keys + cls.OPTIONAL if key in data})

    @classmethod
    def _made(cls: type[P], **values: object) -> P:
        """The part from values its maker has checked already: no second check."""
        part = object.__new__(cls)
        vars(part).update(values)  # what the frozen __init__ does, field by field
        return part

    def as_dict(self) -> dict[str, Any]:
        data = {key: _plain(getattr(self, key)) for key in self.keys()}
        data.update({k: _plain(v) for k in self.OPTIONAL if (v := getattr(self, k)) is not None})
        return data


def _part(cls: type[P]) -> Callable[[object], P]:
    """The check of a part within a record: the part itself, or its dict form."""
    return lambda value: value if isinstance(value, cls) else cls.from_dict(value)


def _rgb(value: object) -> tuple[int, int, int]:
    items = _items(value)
    if len(items) != 3:
        raise RecordError("", f"expected 3 integers (red, green, blue), got {len(items)} items")
    red, green, blue = (_at(index, _byte, item) for index, item in enumerate(items))
    return red, green, blue


def _byte(value: object) -> int:
    return _integer(value, 0, 255)


_HEX_DIGITS = tuple(f"{byte:02x}" for byte in range(256))


def _hex(rgb: tuple[int, int, int]) -> str:
    return f"#{_HEX_DIGITS[rgb[0]]}{_HEX_DIGITS[rgb[1]]}{_HEX_DIGITS[rgb[2]]}"


@dataclass(frozen=True)
class FrameSize(_Part):
    """The size in pixels of the frame that was processed."""

    CHECKS = (("width", lambda v: _integer(v, 1)), ("height", lambda v: _integer(v, 1)))
    width: int
    height: int


@dataclass(frozen=True)
class ColorShare(_Part):
    """A dominant color and the fraction of the frame it covers; ``hex`` is ``rgb`` as
    lowercase ``#rrggbb``. Made with ``ColorShare.from_rgb((58, 95, 140), 0.41)`` or
    ``ColorShare.from_hex("#3a5f8c", 0.41)``."""

    CHECKS = (("hex", _string), ("rgb", _rgb), ("fraction", _fraction))
    hex: str
    rgb: tuple[int, int, int]
    fraction: float

    def _check_together(self) -> None:
        if self.hex != _hex(self.rgb):
            expected = f"expected {_hex(self.rgb)!r}, the rgb value in lowercase hex"
            raise RecordError("hex", f"{expected}, got {self.hex!r}")

    @classmethod
    def from_rgb(cls, rgb: tuple[int, int, int], fraction: float) -> ColorShare:
        """Raises TypeError for a wrong type, ValueError for a value out of range."""
        checked = _rgb_triple(rgb)
        return cls._made(hex=_hex(checked), rgb=checked, fraction=_share(fraction))

    @classmethod
    def from_hex(cls, hex_color: str, fraction: float) -> ColorShare:
        """``ColorShare.from_hex("#3a5f8c", 0.41)``; the '#' and lowercase are optional."""
        if not isinstance(hex_color, str):
            raise TypeError(f"hex color must be a str, got {type(hex_color).__name__}")
        digits = hex_color.removeprefix("#")
        if len(digits) != 6 or any(c not in "0123456789abcdefABCDEF" for c in digits):
            raise ValueError(f"hex color must look like '#3a5f8c', got {hex_color!r}")
        red, green, blue = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
        return cls.from_rgb((red, green, blue), fraction)

    def as_hex(self) -> str:
        return self.hex


def _rgb_triple(rgb: object) -> tuple[int, int, int]:
    """Three ints 0-255 as plain ints, or TypeError / ValueError."""
    if not isinstance(rgb, tuple) or len(rgb) != 3:
        raise TypeError(f"rgb must be a tuple of 3 ints, got {rgb!r}")
    channels = []
    for channel in rgb:
        if type(channel) is not int and (
            isinstance(channel, bool) or not isinstance(channel, numbers.Integral)
        ):
            raise TypeError(f"rgb values must be ints, got {type(channel).__name__} in {rgb!r}")
        value = int(channel)
        if not 0 <= value <= 255:
            raise ValueError(f"rgb values must be between 0 and 255, got {rgb!r}")
        channels.append(value)
    return channels[0], channels[1], channels[2]


def _share(fraction: object) -> float:
    """A fraction in [0, 1] as a float, or TypeError / ValueError."""
    if type(fraction) is not float and (
        isinstance(fraction, bool) or not isinstance(fraction, numbers.Real)
    ):
        raise TypeError(f"fraction must be a float, got {type(fraction).__name__}")
    value = float(fraction)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"fraction must be between 0 and 1, got {fraction}")
    return value


@dataclass(frozen=True)
class LabelScore(_Part):
    """One label of a classification with its probability."""

    CHECKS = (("label", _string), ("score", _fraction))
    label: str
    score: float

    @classmethod
    def from_probability(cls, label: str, probability: float) -> LabelScore:
        """The label with its probability as the record keeps it (to SCORE_DECIMALS places)."""
        return cls(label, round(probability, SCORE_DECIMALS))


_label_score = _part(LabelScore)


def _all(coerce: Callable[[object], T], value: object, ordered_by: str) -> tuple[T, ...]:
    """A non-empty tuple of parts, largest ``ordered_by`` first."""
    parts: list[T] = []
    before = math.inf
    for index, item in enumerate(_items(value)):
        part = _at(index, coerce, item)
        now = getattr(part, ordered_by)
        if now > before:
            problem = f"expected the largest {ordered_by} first, got {now!r} after {before!r}"
            raise RecordError(f"[{index}].{ordered_by}", problem)
        parts.append(part)
        before = now
    if not parts:
        raise RecordError("", "expected at least one item, got an empty list")
    return tuple(parts)


@dataclass(frozen=True)
class Classified(_Part):
    """A classification: the bundle name and its top labels, most likely first; ``label``,
    when present, is the decision: the top label, or "unknown" below the confidence threshold."""

    CHECKS = (("model", _text), ("top", lambda v: _all(_label_score, v, "score")))
    OPTIONAL = ("label",)
    model: str
    top: tuple[LabelScore, ...]
    label: str | None = None

    def _check_together(self) -> None:
        if self.label is not None:
            _at("label", _text, self.label)


@dataclass(frozen=True)
class CandidateResult(_Part):
    """The candidate classifier's view of the same frame, run in shadow: its bundle name, its
    top labels, its decision ("unknown" below the camera's confidence threshold) and whether
    that decision agrees with the live model's."""

    CHECKS = (
        ("model", _text), ("top", lambda v: _all(_label_score, v, "score")),
        ("label", _text), ("agrees", _flag),
    )  # fmt: skip
    model: str
    top: tuple[LabelScore, ...]
    label: str
    agrees: bool


@dataclass(frozen=True)
class AnomalyResult(_Part):
    """An autoencoder's reconstruction error, its threshold and the verdict."""

    CHECKS = (("model", _text), ("score", _number), ("threshold", _number), ("is_anomaly", _flag))
    model: str
    score: float
    threshold: float
    is_anomaly: bool

    @classmethod
    def from_score(cls, model: str, score: float, threshold: float) -> AnomalyResult:
        """The verdict on the exact score (an anomaly above the threshold); the record keeps
        the score and threshold to SCORE_DECIMALS places."""
        verdict = bool(score > threshold)
        return cls(model, round(score, SCORE_DECIMALS), round(threshold, SCORE_DECIMALS), verdict)


@dataclass(frozen=True)
class Timing(_Part):
    """Milliseconds per stage (to the microsecond); None, null in JSON, for a stage not run.
    ``wait``, when present, is the time spent waiting for the frame, apart from ``capture``
    (the work of reading it) and not in ``total``."""

    CHECKS = (
        ("capture", _millis), ("colors", _millis), ("classify", _optional_millis),
        ("anomaly", _optional_millis), ("total", _millis),
    )  # fmt: skip
    OPTIONAL = ("wait", "candidate")  # records written before they existed have none
    capture: float
    colors: float
    total: float
    classify: float | None = None
    anomaly: float | None = None
    wait: float | None = None
    candidate: float | None = None  # the shadow classifier's work, not in total

    def _check_together(self) -> None:
        for key in self.OPTIONAL:
            if getattr(self, key) is not None:
                object.__setattr__(self, key, _at(key, _millis, getattr(self, key)))


_color_share = _part(ColorShare)


def _colors(value: object) -> tuple[ColorShare, ...]:
    colors = _all(_color_share, value, "fraction")
    total = math.fsum(color.fraction for color in colors)
    if abs(total - 1.0) > FRACTION_SUM_TOLERANCE:
        raise RecordError("", f"expected fractions that sum to 1, got a sum of {total:.4f}")
    return colors


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
        if key in OPTIONAL_KEYS:
            raise RecordError(str(key), "is a record's own key; it cannot also be an extra key")
    return cast("Mapping[str, Any]", _freeze(value))


def _optional(part: type[_Part]) -> Check:
    check = _part(part)
    return lambda value: None if value is None else check(value)
