"""A recurring problem is logged at most once per interval, with the count held back."""

from __future__ import annotations

import logging

import pytest

from edge.throttle import ThrottledLog

logger = logging.getLogger("tests.throttle")


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == logger.name]


def test_each_key_is_logged_once_per_interval_with_the_count_held_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    throttle = ThrottledLog(logger, 60.0, clock=clock)
    with caplog.at_level(logging.WARNING, logger.name):
        assert throttle.warning("disk", "%s: cannot write", "out")
        assert not throttle.warning("disk", "%s: cannot write", "out")
        assert throttle.warning("broker", "broker away")  # another key: at once
        clock.now += 30
        assert not throttle.warning("disk", "%s: cannot write", "out")
        clock.now += 30
        assert throttle.warning("disk", "%s: cannot write again", "out")
    assert messages(caplog) == [
        "out: cannot write",
        "broker away",
        "out: cannot write again (2 more since the last report)",
    ]


def test_the_level_and_the_logger_are_the_callers(caplog: pytest.LogCaptureFixture) -> None:
    throttle = ThrottledLog(logger, 60.0)
    with caplog.at_level(logging.DEBUG, logger.name):
        throttle.error("a", "failed %d times", 3)
        throttle.log(logging.INFO, "b", "fine")
    assert [(r.name, r.levelno) for r in caplog.records] == [
        (logger.name, logging.ERROR),
        (logger.name, logging.INFO),
    ]


def test_reset_reports_at_once_again(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    throttle = ThrottledLog(logger, 60.0, clock=clock)
    with caplog.at_level(logging.WARNING, logger.name):
        throttle.warning("a", "one")
        throttle.warning("b", "two")
        throttle.reset("a")
        assert throttle.warning("a", "one")
        assert not throttle.warning("b", "two")
        throttle.reset()
        assert throttle.warning("b", "two")
    assert messages(caplog) == ["one", "two", "one", "two"]


def test_a_zero_interval_logs_everything_and_a_negative_one_is_refused() -> None:
    throttle = ThrottledLog(logger, 0.0)
    assert all(throttle.warning("a", "again") for _ in range(3))
    with pytest.raises(ValueError, match="interval must be"):
        ThrottledLog(logger, -1.0)
