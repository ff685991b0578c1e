"""What the MQTT publisher needs from the daemon, and the commands it passes back.

    CameraInfo   a camera as Home Assistant discovery describes it (labels, models)
    Counters     a camera's frame counters, for the stats message
    Command      a parsed command from ``<prefix>/<device>/<camera>/set/<name>``
    Control      the daemon side: cameras(), counters(), apply(command)
    StaticControl  a fixed list of cameras that records the commands it gets (tools, tests)

Commands (the payload is UTF-8 text):

    set/pause                  stop processing frames (the camera stays open)
    set/resume                 process frames again
    set/paused                 "true"/"false" (also on/off, 1/0): pause or resume
    set/confidence_threshold   a number in [0, 1]: below it the label is "unknown"
    set/reload                 load the camera's models again from their files
    set/capture                save the next frame for training ([cameras.capture] "command")
    set/promote                the camera's candidate becomes its live classifier
    set/rollback               the live classifier before the last promotion is live again

A command that cannot be parsed raises ``CommandError`` (edge.errors) with what was wrong; the
publisher logs it and carries on.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from edge.errors import CommandError

CommandName = Literal[
    "pause", "resume", "confidence_threshold", "reload", "capture", "promote", "rollback"
]
COMMANDS = ("pause", "resume", "paused", "confidence_threshold", "reload", "capture", "promote",
            "rollback")  # fmt: skip
TRUE, FALSE = frozenset({"true", "on", "1", "yes"}), frozenset({"false", "off", "0", "no"})
MAX_PAYLOAD = 64
SIMPLE: dict[str, CommandName] = {"pause": "pause", "resume": "resume", "reload": "reload",
                                  "capture": "capture", "promote": "promote",
                                  "rollback": "rollback"}  # fmt: skip


@dataclass(frozen=True)
class CameraInfo:
    """A camera as the outside sees it: its name, its classifier's labels, its models."""

    name: str
    labels: tuple[str, ...] = ()
    classifier: str | None = None
    anomaly: str | None = None
    candidate: str | None = None  # the classifier in shadow


@dataclass(frozen=True)
class Counters:
    """A camera's counters since the daemon started."""

    processed: int = 0
    dropped: int = 0
    paused: bool = False
    captures: tuple[int, int] | None = None  # frames saved for training, and dropped (full)


@dataclass(frozen=True)
class Command:
    camera: str
    name: CommandName
    value: float | None = None


class Control(Protocol):
    """The daemon as the MQTT publisher sees it; every method is called from its threads."""

    def cameras(self) -> Sequence[CameraInfo]: ...

    def counters(self) -> Mapping[str, Counters]: ...

    def apply(self, command: Command) -> None:
        """Carry out a command (asynchronously); CommandError if it cannot be."""


@dataclass
class StaticControl:
    """A Control with fixed cameras that keeps the commands it is given, in ``applied``."""

    infos: Sequence[CameraInfo] = ()
    applied: list[Command] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def cameras(self) -> Sequence[CameraInfo]:
        return tuple(self.infos)

    def counters(self) -> Mapping[str, Counters]:
        return {info.name: Counters() for info in self.infos}

    def apply(self, command: Command) -> None:
        if command.camera not in {info.name for info in self.infos}:
            raise CommandError(f"no camera named {command.camera!r}")
        with self._lock:
            self.applied.append(command)


def parse_command(camera: str, name: str, payload: bytes) -> Command:
    """The command sent to ``.../<camera>/set/<name>``; CommandError naming what is wrong."""
    if name not in COMMANDS:
        raise CommandError(f"unknown command {name!r}; commands: {', '.join(COMMANDS)}")
    text = _text(payload)
    if name == "paused":
        return Command(camera, "pause" if _flag(text) else "resume")
    if name == "confidence_threshold":
        return Command(camera, "confidence_threshold", _fraction(text))
    return Command(camera, SIMPLE[name])


def _text(payload: bytes) -> str:
    if len(payload) > MAX_PAYLOAD:
        raise CommandError(f"payload of {len(payload)} bytes; a command takes a short value")
    try:
        return payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise CommandError("payload is not UTF-8 text") from None


def _flag(text: str) -> bool:
    if text.lower() in TRUE | FALSE:
        return text.lower() in TRUE
    raise CommandError(f"expected true or false (on/off, 1/0), got {text!r}")


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise CommandError(f"expected a number in [0, 1], got {text!r}") from None
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise CommandError(f"expected a number in [0, 1], got {text!r}")
    return value
