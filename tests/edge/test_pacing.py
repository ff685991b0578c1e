"""Frame pacing: a fixed rate, no bursts after a late turn, a stop that ends the wait."""

from __future__ import annotations

import threading
import time

import pytest

from edge.pacing import Pacer


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 9))
        self.now += seconds


def test_pacer_caps_the_rate_and_stops() -> None:
    stop = threading.Event()
    pacer = Pacer(50.0, stop=stop)
    start = time.monotonic()
    for _ in range(6):
        assert pacer.wait()
    assert time.monotonic() - start >= 5 / 50 - 0.01
    stop.set()
    assert not pacer.wait()
    assert not Pacer(0, stop=stop).wait()


def test_turns_come_at_the_rate_without_catching_up() -> None:
    clock = FakeClock()
    pacer = Pacer(10.0, clock=clock, sleep=clock.sleep)
    assert pacer.wait(1.0) and clock.slept == []  # the first turn is at once
    assert pacer.wait(1.0) and clock.slept == [0.1]
    clock.now += 5.0  # late by 50 turns: they are not caught up with a burst
    assert pacer.wait(1.0) and pacer.wait(1.0) and clock.slept == [0.1]
    assert pacer.wait(1.0) and clock.slept == [0.1, 0.1]
    assert pacer.wait(1.0) and clock.slept == [0.1, 0.1, 0.1]


def test_a_turn_further_than_the_timeout_is_not_taken() -> None:
    clock = FakeClock()
    pacer = Pacer(1.0, clock=clock, sleep=clock.sleep)
    assert pacer.wait(0.25)
    assert not pacer.wait(0.25) and clock.slept == [0.25]
    pacer.reset()
    assert pacer.wait(0.25) and clock.slept == [0.25]


@pytest.mark.parametrize("fps", [None, 0])
def test_without_a_rate_every_wait_is_a_turn(fps: float | None) -> None:
    clock = FakeClock()
    pacer = Pacer(fps, clock=clock, sleep=clock.sleep)
    assert all(pacer.wait(0.0) for _ in range(100)) and clock.slept == []


def test_a_stop_ends_a_long_wait_at_once() -> None:
    stop = threading.Event()
    pacer = Pacer(0.1, stop=stop)  # a turn every 10 s
    assert pacer.wait()
    threading.Timer(0.05, stop.set).start()
    start = time.monotonic()
    assert not pacer.wait()
    assert time.monotonic() - start < 5.0
