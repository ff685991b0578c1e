"""Waiting for something another thread or process does, by polling with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0, step: float = 0.02) -> bool:
    """Poll ``predicate`` every ``step`` seconds until it is true or ``timeout`` passed; its
    last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, step: float = 0.02) -> None:
    """``wait_for``, or AssertionError when ``predicate`` is still false after ``timeout``."""
    if not wait_for(predicate, timeout, step):
        raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")
