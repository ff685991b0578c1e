"""The result record: one per processed frame, the contract every reader relies on.

A record is JSON (UTF-8; one object per MQTT message and per line of the JSONL files). Its JSON
Schema ships as ``edge/records/result.schema.json``; ``schema()`` loads it.

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
    ├── candidate       CandidateResult {"model", "top", "label", "agrees"}: the shadow
    │                                  classifier's (a camera's ``candidate``), or null; always
    │                                  written, missing only in records made before it existed
    └── ...             extra top-level keys (e.g. "status"); they never change the above

Bad data raises ``RecordError`` (a ``ValueError``) whose message starts with the key path,
e.g. ``colors[1].fraction: expected a number in [0, 1], got 1.5``.

The readers live beside it: ``edge.records.files`` and ``edge.records.mqtt``; ``edge.records``
gathers the public names.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any, ClassVar

from edge.records.checks import (
    NAME_PATTERN,
    Check,
    RecordError,
    _apply,
    _at,
    _integer,
    _mapping,
    _name,
    _number,
    _show,
    check_name,
)
from edge.records.parts import (
    EPOCH,
    MAX_TIMESTAMP,
    OPTIONAL_KEYS,
    REQUIRED_KEYS,
    SCHEMA_VERSION,
    TS_HINT,
    TS_PATTERN,
    AnomalyResult,
    CandidateResult,
    Classified,
    ColorShare,
    FrameSize,
    LabelScore,
    Timing,
    _colors,
    _extra,
    _optional,
    _Part,
    _part,
    _plain,
)

__all__ = [
    "NAME_PATTERN", "AnomalyResult", "CandidateResult", "Classified", "ColorShare",
    "FrameSize", "LabelScore", "RecordError", "ResultRecord", "Timing", "check_name",
    "format_ts", "parse_ts", "schema",
]  # fmt: skip

OWN_KEYS = frozenset(REQUIRED_KEYS + OPTIONAL_KEYS)

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
    ``ts`` is its ISO 8601 form. ``create()`` builds one from parts made already (the
    pipeline's), ``from_dict()`` and ``from_json()`` from data, checked.
    """

    SCHEMA: ClassVar[int] = SCHEMA_VERSION
    CHECKS: ClassVar[tuple[tuple[str, Check], ...]] = (
        ("device", _name), ("camera", _name), ("seq", _integer), ("timestamp", _timestamp),
        ("frame", _part(FrameSize)), ("colors", _colors),
        ("classification", _optional(Classified)), ("anomaly", _optional(AnomalyResult)),
        ("timing_ms", _part(Timing)), ("candidate", _optional(CandidateResult)),
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
    candidate: CandidateResult | None = None
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
        frame: FrameSize,
        colors: Iterable[ColorShare],
        timing_ms: Timing,
        classification: Classified | None = None,
        anomaly: AnomalyResult | None = None,
        candidate: CandidateResult | None = None,
        **extra: Any,
    ) -> ResultRecord:
        """A record from parts made, and so checked, already: they are taken as they are, and
        only how the colors fit together is checked (largest first, fractions summing to 1).
        Keyword arguments beyond the required keys become extra keys."""
        values = {
            "device": _at("device", _name, device),
            "camera": _at("camera", _name, camera),
            "seq": _at("seq", _integer, seq),
            "timestamp": _at("timestamp", _timestamp, timestamp),
            "frame": _given("frame", FrameSize, frame),
            "colors": _given_colors(colors),
            "classification": _given("classification", Classified, classification, optional=True),
            "anomaly": _given("anomaly", AnomalyResult, anomaly, optional=True),
            "timing_ms": _given("timing_ms", Timing, timing_ms),
            "candidate": _given("candidate", CandidateResult, candidate, optional=True),
            "extra": _extra(extra),
        }
        record = object.__new__(cls)
        vars(record).update(values)  # checked above: what the frozen __init__ does
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
        for key in ("frame", "colors", "classification", "anomaly", "timing_ms", "candidate"):
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
        return cls(  # checked by __post_init__: the parts from their dict forms
            device=data["device"],
            camera=data["camera"],
            seq=data["seq"],
            timestamp=parse_ts(data["ts"]),
            frame=data["frame"],
            colors=data["colors"],
            classification=data["classification"],
            anomaly=data["anomaly"],
            timing_ms=data["timing_ms"],
            candidate=data.get("candidate"),
            extra={key: value for key, value in data.items() if key not in OWN_KEYS},
        )

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


def _given(key: str, part: type[_Part], value: object, *, optional: bool = False) -> object:
    """``value`` if it is a ``part`` (checked when it was made), else TypeError."""
    if isinstance(value, part) or (optional and value is None):
        return value
    name = part.__name__
    article = "an" if name[0] in "AEIOU" else "a"
    raise TypeError(f"{key} must be {article} {name}, got {_show(value)}; see {name}.from_dict()")


def _given_colors(colors: Iterable[ColorShare]) -> tuple[ColorShare, ...]:
    shares = tuple(colors)
    for share in shares:
        _given("colors", ColorShare, share)
    return _at("colors", _colors, shares)  # largest first, summing to 1


def _reject_constant(name: str) -> Any:
    raise RecordError("", f"not valid JSON ({name} is not a JSON number)")


@cache
def _schema_text() -> str:
    return resources.files("edge.records").joinpath("result.schema.json").read_text("utf-8")


def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a result record, a fresh copy per call."""
    loaded: dict[str, Any] = json.loads(_schema_text())
    return loaded
