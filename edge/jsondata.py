"""JSON read as data: only finite numbers.

Python's ``json`` reads ``NaN``, ``Infinity`` and ``1e999`` as floats that no JSON writer may
produce and no check expects (an input shape of ``[Infinity]`` ends in an OverflowError far
from the file). :func:`loads` refuses them where they are read, with a ValueError that says so.
"""

from __future__ import annotations

import json
import math
from typing import Any

from edge.errors import EdgeError


class NonFiniteNumberError(EdgeError, ValueError):
    """The JSON holds NaN, Infinity or a number too large for a float."""


def _constant(name: str) -> Any:
    raise NonFiniteNumberError(f"{name} is not a JSON number")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NonFiniteNumberError(f"{text} is too large for a number")
    return value


def loads(text: str | bytes) -> Any:
    """``json.loads`` that raises ValueError (JSONDecodeError or NonFiniteNumberError) for
    anything but plain JSON with finite numbers."""
    return json.loads(text, parse_constant=_constant, parse_float=_float)
