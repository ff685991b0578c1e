"""ReconnectingSource with a scripted flaky source and an injected clock."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from edge.errors import ConfigError, SourceError
from edge.frames import Frame
from edge.sources import EndOfStream, FrameSource, ReconnectingSource
from edge.sources.picamera2 import Picamera2Source
from edge.sources.picamera2_fake import FakePicamera2

FRAME = "frame"
NOTHING = "nothing"  # read() times out: the timeout passes on the clock
ENDS = "ends"
BREAKS = "breaks"
CANNOT_OPEN = "cannot open"


class ScriptedSource(FrameSource):
    """Each open takes the next session of the script: ``CANNOT_OPEN`` or a list of read results.

    A session that runs out keeps returning NOTHING.
    """

    def __init__(self, script: list[Any], clock: Any, *, live: bool = True) -> None:
        super().__init__("scripted", camera="test")
        self.live = live
        self._sessions = iter(script)
        self._reads: Iterator[str] = iter(())
        self._clock = clock
        self.opens = 0
        self.open_times: list[float] = []

    def _open(self) -> None:
        self.opens += 1
        self.open_times.append(self._clock.now)
        session = next(self._sessions, CANNOT_OPEN)
        if session == CANNOT_OPEN:
            raise SourceError("camera unplugged")
        self._reads = iter(session)

    def _read(self, timeout: float) -> Frame | None:
        step = next(self._reads, NOTHING)
        if step == FRAME:
            return self._frame(np.zeros((4, 4, 3), np.uint8), self._clock.now)
        if step == ENDS:
            raise EndOfStream(self.spec)
        if step == BREAKS:
            raise RuntimeError("driver exploded")
        self._clock.sleep(timeout)
        return None

    def _close(self) -> None:
        pass


def wrap(inner: FrameSource, clock: Any, **options: Any) -> ReconnectingSource:
    settings: dict[str, Any] = {
        "stall_timeout": 5.0,
        "backoff_initial": 1.0,
        "backoff_max": 8.0,
        "jitter": 0.0,
    }
    settings.update(options)
    return ReconnectingSource(inner, clock=clock, sleep=clock.sleep, **settings)


def read_until(
    source: ReconnectingSource, clock: Any, seconds: float, timeout: float = 0.5
) -> list[Frame]:
    frames, end = [], clock.now + seconds
    while clock.now < end:
        frame = source.read(timeout)
        if frame is not None:
            frames.append(frame)
    return frames


def gaps(times: list[float]) -> list[float]:
    return [round(b - a, 6) for a, b in itertools.pairwise(times)]


def test_open_failures_back_off_exponentially_up_to_the_maximum(clock: Any) -> None:
    inner = ScriptedSource([], clock)
    source = wrap(inner, clock)
    source.open()  # never raises
    assert not source.online
    read_until(source, clock, 60.0)
    assert gaps(inner.open_times)[:6] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert source.reopen_attempts == inner.opens - 1 and source.reconnects == 0
    assert source.last_error is not None and "camera unplugged" in source.last_error


def test_recovery_after_failed_opens_and_backoff_starts_over(clock: Any) -> None:
    inner = ScriptedSource([CANNOT_OPEN, CANNOT_OPEN, [FRAME, FRAME, BREAKS], [FRAME]], clock)
    source = wrap(inner, clock)
    source.open()
    frames = read_until(source, clock, 5.0)
    assert len(frames) == 3
    assert gaps(inner.open_times) == [1.0, 2.0, 1.0]  # after frames, the delay starts at 1 s again
    assert source.reconnects == 2 and source.failures == 1
    assert [f.seq for f in frames] == [0, 1, 2] and source.frames_read == 3


def test_a_read_that_raises_takes_the_source_offline_and_read_returns_none(clock: Any) -> None:
    inner = ScriptedSource([[FRAME, BREAKS], [FRAME]], clock)
    with wrap(inner, clock) as source:
        assert source.read(0.1) is not None and source.online
        assert source.read(0.1) is None
        assert not source.online and "RuntimeError: driver exploded" in (source.last_error or "")
        assert read_until(source, clock, 2.0) != []
        assert source.online and source.reconnects == 1


def test_a_stalled_source_is_reopened_after_the_stall_timeout(clock: Any) -> None:
    inner = ScriptedSource([[FRAME], [FRAME]], clock)  # then nothing, forever
    with wrap(inner, clock, stall_timeout=3.0) as source:
        start = clock.now
        assert source.read(1.0) is not None
        while source.online:
            assert source.read(1.0) is None
        assert clock.now - start == pytest.approx(4.0)  # 1 s past the 3 s stall limit
        assert "no frame for" in (source.last_error or "")
        assert read_until(source, clock, 2.0) != [] and inner.opens == 2


def test_a_live_source_that_ends_is_reopened(clock: Any) -> None:
    inner = ScriptedSource([[FRAME, ENDS], [FRAME]], clock)
    with wrap(inner, clock) as source:
        frames = read_until(source, clock, 3.0)
    assert len(frames) == 2 and inner.opens == 2 and source.failures == 1


def test_a_finite_source_that_ends_still_ends(clock: Any) -> None:
    inner = ScriptedSource([[FRAME, ENDS]], clock, live=False)
    with wrap(inner, clock) as source:
        assert source.read(0.1) is not None
        with pytest.raises(EndOfStream):
            source.read(0.1)
    assert not source.live


def test_offline_reads_wait_instead_of_spinning(clock: Any) -> None:
    inner = ScriptedSource([], clock)
    with wrap(inner, clock, backoff_initial=10.0, backoff_max=10.0) as source:
        before = clock.now
        assert source.read(0.5) is None
        assert clock.now - before == pytest.approx(0.5)


@pytest.mark.parametrize(("fraction", "expected"), [(0.0, 0.9), (0.5, 1.0), (1.0, 1.1)])
def test_jitter_spreads_the_delay(clock: Any, fraction: float, expected: float) -> None:
    source = ReconnectingSource(
        ScriptedSource([], clock), backoff_initial=1.0, jitter=0.1, random_fraction=lambda: fraction
    )
    assert source.next_delay() == pytest.approx(expected)


def test_jitter_never_exceeds_the_maximum(clock: Any) -> None:
    source = ReconnectingSource(
        ScriptedSource([], clock),
        backoff_initial=4.0,
        backoff_max=4.0,
        jitter=0.5,
        random_fraction=lambda: 1.0,
    )
    assert source.next_delay() == 4.0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"stall_timeout": 0}, "stall_timeout must be positive"),
        ({"backoff_initial": -1}, "backoff_initial must be positive"),
        ({"backoff_initial": 5, "backoff_max": 1}, "backoff_max must be at least"),
        ({"jitter": 1.0}, "jitter must be between"),
    ],
)
def test_bad_settings(clock: Any, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ReconnectingSource(ScriptedSource([], clock), **options)


def test_a_real_camera_failure_is_survived_and_recovered() -> None:
    """The picamera2 fake's sensor stalls after 3 frames each time (as a loose ribbon cable
    does: picamera2 just waits); the wrapper keeps the frames coming."""

    class Flaky(FakePicamera2):
        stall_after = 3

    source = ReconnectingSource(
        Picamera2Source(fps=50, camera_factory=Flaky),
        backoff_initial=0.01,
        backoff_max=0.02,
        stall_timeout=0.3,
    )
    frames = []
    with source:
        for _ in range(200):
            frame = source.read(timeout=0.2)
            if frame is not None:
                frames.append(frame)
            if len(frames) >= 7:
                break
    assert len(frames) >= 7
    assert source.failures >= 2 and source.reconnects >= 2
