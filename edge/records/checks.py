"""The checks behind a result record's values (see edge.records.parts).

Every check takes one value and returns it, normalised, or raises ``RecordError`` whose message
says what was expected and got; ``_at`` puts the key path of the value in front.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, TypeVar

from edge.errors import EdgeError

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
NAME_HINT = "1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit"
NON_EMPTY = re.compile(r".+", re.DOTALL)

T = TypeVar("T")
Check = Callable[[Any], Any]


class RecordError(EdgeError, ValueError):
    """Data that is not a valid result record; ``path`` is the key path, e.g. ``frame.width``.

    An EdgeError (exit code 1 at the command line) and, for readers of records, a ValueError."""

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


def _at(path: str | int, check: Callable[[Any], T], value: object) -> T:
    """``check(value)``, its errors being about the value at ``path`` (a key or a list index)."""
    try:
        return check(value)
    except RecordError as err:
        raise err.within(f"[{path}]" if isinstance(path, int) else path) from None


# --- value checks: each returns the value (normalised) or raises RecordError --------------


def _show(value: object) -> str:
    text = repr(value)
    text = text if len(text) <= 60 else text[:57] + "..."
    plain_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return text if plain_number else f"{text} ({type(value).__name__})"


def _number(value: object, low: float = 0.0, high: float | None = None) -> float:
    top = math.inf if high is None else high
    if type(value) is float and math.isfinite(value) and low <= value <= top:
        return value  # the common case, quickly
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
    if type(value) is int and low <= value and (high is None or value <= high):
        return value  # the common case, quickly
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
    if isinstance(value, tuple):
        return value
    if hasattr(value, "tolist") and not isinstance(value, list):
        value = value.tolist()  # a numpy array
    if not isinstance(value, (list, tuple)):
        raise RecordError("", f"expected a list, got {_show(value)}")
    return tuple(value)


def _mapping(value: object) -> Mapping[Any, Any]:
    if not isinstance(value, Mapping):
        raise RecordError("", f"expected an object, got {_show(value)}")
    return value


def _name(value: object) -> str:
    return _string(value, NAME_PATTERN, NAME_HINT)


def check_name(value: object, what: str = "name") -> str:
    """``value`` if it is a valid device or camera name (safe in file paths and MQTT topics)."""
    return _at(what, _name, value)


def _apply(target: object, checks: tuple[tuple[str, Check], ...]) -> None:
    """Check and normalise the fields of a frozen dataclass in place."""
    for key, check in checks:
        value = getattr(target, key)
        checked = _at(key, check, value)
        if checked is not value:
            object.__setattr__(target, key, checked)


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
        return tuple(_at(index, _freeze, item) for index, item in enumerate(value))
    if not isinstance(value, Mapping):
        raise RecordError("", f"expected a JSON value, got {_show(value)}")
    for key in value:
        if not isinstance(key, str):
            raise RecordError("", f"expected string keys, got {_show(key)}")
    return MappingProxyType({key: _at(key, _freeze, item) for key, item in value.items()})
