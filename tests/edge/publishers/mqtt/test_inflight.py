"""The messages in flight: registered, acknowledged (also before registration), limited."""

from __future__ import annotations

import threading

import pytest

from edge.publishers.mqtt.inflight import InFlight


def test_results_in_flight_are_limited() -> None:
    flight = InFlight(3)
    assert flight.room() == 3
    assert not flight.sent(1, 101)
    assert not flight.sent(2, None)  # not a result (state, stats): not counted
    assert flight.room() == 2 and flight.rows == 1
    assert flight.waiting(1) and flight.waiting(2)
    assert flight.acknowledged(1) == (True, 101)
    assert flight.acknowledged(2) == (True, None)
    assert flight.room() == 3 and flight.rows == 0
    assert not flight.waiting(1)


def test_an_early_acknowledgement_is_reported_when_the_message_is_registered() -> None:
    flight = InFlight(3)
    assert flight.acknowledged(7) == (False, None)
    assert flight.sent(7, 107)  # already delivered: not registered
    assert flight.rows == 0 and not flight.waiting(7)
    assert not flight.sent(7, 108)  # paho reuses the id later: a new message


def test_after_a_reconnect_newer_results_wait_for_the_resent_ones() -> None:
    flight = InFlight(5)
    flight.sent(1, 101)
    flight.sent(2, 102)
    flight.reconnected()
    assert flight.room() == 0
    flight.acknowledged(1)
    assert flight.room() == 0
    flight.acknowledged(2)
    assert flight.room() == 5
    flight.reconnected()  # nothing in flight: nothing to wait for
    assert flight.room() == 5


def test_two_threads_keep_the_count_right() -> None:
    flight = InFlight(1000)

    def send() -> None:
        for mid in range(500):
            flight.sent(mid, mid)

    def acknowledge() -> None:
        for mid in range(500):
            flight.acknowledged(mid)

    threads = [threading.Thread(target=send), threading.Thread(target=acknowledge)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert flight.rows == 0 and flight.room() == 1000
    assert not any(flight.waiting(mid) for mid in range(500))


@pytest.mark.parametrize("limit", [0, -1, True, 2.5])
def test_a_bad_limit_is_a_value_error(limit: object) -> None:
    with pytest.raises(ValueError, match="limit must be a positive integer"):
        InFlight(limit)  # type: ignore[arg-type]
