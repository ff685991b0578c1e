"""Exponential backoff: doubling, capped, with a random spread, starting over on reset."""

from __future__ import annotations

import pytest

from edge.backoff import Backoff


def test_backoff_doubles_with_jitter_up_to_the_maximum() -> None:
    backoff = Backoff(1.0, 8.0, spread=(0.75, 1.0))
    delays = [backoff.next() for _ in range(6)]
    for delay, base in zip(delays, [1, 2, 4, 8, 8, 8], strict=True):
        assert 0.75 * base <= delay <= base
    backoff.reset()
    assert backoff.next() <= 1.0


@pytest.mark.parametrize(("fraction", "expected"), [(0.0, 0.9), (0.5, 1.0), (1.0, 1.1)])
def test_the_spread_scales_the_delay(fraction: float, expected: float) -> None:
    backoff = Backoff(1.0, 60.0, spread=(0.9, 1.1), random_fraction=lambda: fraction)
    assert backoff.next() == pytest.approx(expected)
    assert backoff.next() == pytest.approx(2 * expected)


def test_the_delay_never_exceeds_the_maximum() -> None:
    backoff = Backoff(4.0, 4.0, spread=(0.5, 1.5), random_fraction=lambda: 1.0)
    assert [backoff.next() for _ in range(3)] == [4.0, 4.0, 4.0]


def test_without_spread_the_delays_are_exact_and_many_failures_do_not_overflow() -> None:
    backoff = Backoff(0.5, 10.0)
    assert [backoff.next() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0]
    for _ in range(2000):
        backoff.next()
    assert backoff.next() == 10.0 and backoff.failures == 2007


@pytest.mark.parametrize(
    ("initial", "spread", "message"),
    [
        (0.0, (1.0, 1.0), "initial must be a positive number"),
        (1.0, (1.2, 1.1), "spread must be two factors"),
        (1.0, (-0.1, 1.0), "spread must be two factors"),
    ],
)
def test_bad_settings_are_value_errors(
    initial: float, spread: tuple[float, float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Backoff(initial, 10.0, spread=spread)
