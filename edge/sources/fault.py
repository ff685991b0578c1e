"""A public fake camera that misbehaves on cue: ``fault:SCRIPT``, for tests and fault drills.

It is not in the registry (no user wants it by accident); a test adds it with
``monkeypatch.setitem(SOURCES, "fault", "edge.sources.fault:FaultySource")`` and then runs the
real daemon with ``--source "fault:ok*20,raise,ok*20"``.

The script is a comma-separated list of steps, each ``NAME[:ARG][*COUNT]``, consumed one per
``read``; after the last step the camera delivers good frames for ever (``loop=True`` starts
the script over instead):

    ok              a good frame (two colored halves that change from frame to frame)
    resize:WxH      from now on frames are W x H pixels (then a good frame)
    raise           read raises SourceError, as a driver error translated at the boundary
    crash           read raises RuntimeError, as a third-party error nobody translated
    unplug[:N]      read raises SourceError and the next N opens fail (default 2)
    end             read raises EndOfStream: a live stream that ended
    empty           a frame of 0 x 0 pixels
    corrupt[:KIND]  a frame that is not RGB uint8: KIND dtype (float32, the default), gray
                    (2-D), rgba (4 channels) or flat (1-D bytes)
    hang[:S]        no frame arrives (read waits its timeout and returns None) for S seconds,
                    or until the camera is closed and opened again when S is not given
    block:S         read itself blocks for S seconds, ignoring its timeout (a driver call that
                    hangs), then returns None

``opens``, ``closes`` and ``good_frames`` count what happened.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import NoReturn

import numpy as np
import numpy.typing as npt

from edge.errors import ConfigError, SourceError
from edge.frames import Frame
from edge.pacing import Pacer
from edge.sources.base import EndOfStream, FrameSource, check_flag, check_fps

logger = logging.getLogger(__name__)

ACTIONS = (
    "ok", "resize", "raise", "crash", "unplug", "end", "empty", "corrupt", "hang", "block",
)  # fmt: skip
CORRUPTIONS = ("dtype", "gray", "rgba", "flat")
DEFAULT_SIZE = (64, 48)


@dataclass(frozen=True)
class Step:
    action: str
    arg: str = ""


def parse_script(text: str) -> tuple[Step, ...]:
    """``"ok*3,raise,resize:32x24"`` as steps; ConfigError naming a step that is not one."""
    steps: list[Step] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        body, star, count = part.partition("*")
        action, _, arg = body.partition(":")
        if action not in ACTIONS:
            raise ConfigError(f"fault step {part!r}: unknown; steps are {', '.join(ACTIONS)}")
        if star and not (count.isdigit() and int(count) > 0):
            raise ConfigError(f"fault step {part!r}: the count after * must be a positive number")
        step = Step(action, arg)
        _check_step(step, part)
        steps += [step] * (int(count) if star else 1)
    return tuple(steps)


def _check_step(step: Step, text: str) -> None:
    try:
        if step.action == "resize":
            parse_size(step.arg)
        elif step.action in ("hang", "block") and (step.arg or step.action == "block"):
            if float(step.arg) < 0:
                raise ValueError
        elif step.action == "unplug" and step.arg and int(step.arg) < 0:
            raise ValueError
    except ValueError:
        raise ConfigError(f"fault step {text!r}: bad argument {step.arg!r}") from None
    if step.action == "corrupt" and step.arg and step.arg not in CORRUPTIONS:
        raise ConfigError(f"fault step {text!r}: corrupt takes one of {', '.join(CORRUPTIONS)}")


def parse_size(text: str) -> tuple[int, int]:
    """``"64x48"`` as (width, height); ValueError unless both are positive."""
    width, _, height = text.lower().partition("x")
    size = (int(width), int(height))
    if min(size) < 1:
        raise ValueError(f"size must be positive, got {text!r}")
    return size


class FaultySource(FrameSource):
    """A live camera that follows a fault script; see the module docstring."""

    live = True

    def __init__(
        self,
        target: str,
        *,
        camera: str = "camera",
        fps: float | None = None,
        loop: bool = False,
    ) -> None:
        super().__init__(f"fault:{target}", camera=camera)
        self.script = parse_script(target)
        self.loop = check_flag(loop, "loop")
        self._pacer = Pacer(check_fps(fps))
        self.size = DEFAULT_SIZE
        self.opens = self.closes = self.good_frames = 0
        self._index = 0
        self._failing_opens = 0
        self._hang_until: float | None = None

    def _open(self) -> None:
        if self._failing_opens > 0:
            self._failing_opens -= 1
            raise SourceError(f"{self.describe()}: no camera found (unplugged)")
        self.opens += 1
        self._pacer.reset()

    def _close(self) -> None:
        self.closes += 1
        step = self._step()
        if step is not None and step.action == "hang" and not step.arg:
            self._advance()  # a hung device recovers when it is opened again

    def _step(self) -> Step | None:
        if self._index >= len(self.script) and self.loop and self.script:
            self._index = 0
        return self.script[self._index] if self._index < len(self.script) else None

    def _advance(self) -> None:
        self._index += 1
        self._hang_until = None

    def _read(self, timeout: float) -> Frame | None:
        step = self._step()
        if step is None:
            return self._good(timeout)
        if step.action == "hang":
            return self._hang(step, timeout)
        self._advance()
        if step.action in ("ok", "resize"):
            if step.action == "resize":
                self.size = parse_size(step.arg)
            return self._good(timeout)
        if step.action in ("empty", "corrupt"):
            return self._frame(bad_pixels(step.arg if step.action == "corrupt" else "empty"), 0.0)
        if step.action == "block":
            time.sleep(float(step.arg))
            return None
        return self._fail(step)

    def _fail(self, step: Step) -> NoReturn:
        if step.action == "end":
            raise EndOfStream(self.describe())
        if step.action == "crash":
            raise RuntimeError("simulated driver crash")
        if step.action == "unplug":
            self._failing_opens = int(step.arg) if step.arg else 2
        raise SourceError(f"{self.describe()}: simulated {step.action}")

    def _hang(self, step: Step, timeout: float) -> Frame | None:
        if step.arg:
            now = time.monotonic()
            if self._hang_until is None:
                self._hang_until = now + float(step.arg)
            if now >= self._hang_until:
                self._advance()
                return self._read(timeout)
            timeout = min(timeout, self._hang_until - now)
        time.sleep(timeout)
        return None

    def _good(self, timeout: float) -> Frame | None:
        if not self._pacer.wait(timeout):
            return None
        self.good_frames += 1
        return self._frame(pattern(self.size, self.good_frames), time.time())


def pattern(size: tuple[int, int], n: int) -> npt.NDArray[np.uint8]:
    """Two vertical halves: a fixed red and a color that changes with ``n``."""
    width, height = size
    image = np.empty((height, width, 3), np.uint8)
    image[:, : (width + 1) // 2] = (200, 30, 30)
    image[:, (width + 1) // 2 :] = ((n * 37) % 256, (n * 91) % 256, (n * 53) % 256)
    return image


def bad_pixels(kind: str) -> npt.NDArray[np.uint8]:
    """Pixels a broken driver might hand over; Frame refuses every one of them."""
    arrays: dict[str, npt.NDArray[np.generic]] = {
        "empty": np.zeros((0, 0, 3), np.uint8),
        "dtype": np.zeros((48, 64, 3), np.float32),
        "gray": np.zeros((48, 64), np.uint8),
        "rgba": np.zeros((48, 64, 4), np.uint8),
        "flat": np.zeros(48 * 64 * 3, np.uint8),
    }
    return arrays[kind or "dtype"]  # type: ignore[return-value]  # deliberately wrong
