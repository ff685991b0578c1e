"""The pure parts of the MQTT publisher: topics, publish-on-change, commands, stats."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from edge.control import CameraInfo, Command, StaticControl, parse_command
from edge.errors import CommandError
from edge.publishers.mqtt.stats import StatsCollector, cpu_temperature
from edge.publishers.mqtt.topics import ChangeFilter, Topics, decision
from edge.records import (
    ResultRecord,
)

from ....support.records import make_record

TOPICS = Topics("edge", "pi")


def record(seq: int = 0, **changes: Any) -> ResultRecord:
    """The tests' record with one color, (10, 20, 30), and no anomaly stage in its timings."""
    timing = {"capture": 1, "colors": 2, "classify": 3, "anomaly": None, "total": 6}
    return make_record(seq, **{"rgb": (10, 20, 30), "timing_ms": timing, **changes})


def test_topics() -> None:
    assert TOPICS.availability == "edge/pi/availability"
    assert TOPICS.stats == "edge/pi/stats"
    assert TOPICS.result("front") == "edge/pi/front/result"
    assert TOPICS.state("front") == "edge/pi/front/state"
    assert TOPICS.commands == "edge/pi/+/set/+"
    assert TOPICS.command("front", "pause") == "edge/pi/front/set/pause"


@pytest.mark.parametrize(
    ("topic", "parsed"),
    [
        ("edge/pi/front/set/pause", ("front", "pause")),
        ("edge/pi/front/set/", None),
        ("edge/pi/front/get/pause", None),
        ("edge/pi2/front/set/pause", None),
        ("edge/pi/front/set/pause/extra", None),
        ("other/pi/front/set/pause", None),
    ],
)
def test_command_topics(topic: str, parsed: tuple[str, str] | None) -> None:
    assert TOPICS.parse_command(topic) == parsed


def test_decision_is_the_label_else_the_top_label() -> None:
    assert decision(record(label="3")) == "3"
    assert decision(record(label=None)) is None


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("changed", "sent"),
    [
        ({}, False),
        ({"label": "3"}, True),
        ({"anomaly": True}, True),
        ({"rgb": (20, 30, 40)}, False),  # distance 17: within 40
        ({"rgb": (60, 20, 30)}, True),  # distance 50
        ({"camera": "yard"}, True),  # another camera's first record
    ],
)
def test_change_filter(changed: dict[str, object], sent: bool) -> None:
    wanted = ChangeFilter(color_distance=40.0, heartbeat=0.0, clock=Clock())
    assert wanted.wanted(record(0))
    assert wanted.wanted(record(1, **changed)) is sent


def test_change_filter_heartbeat_and_reference() -> None:
    clock = Clock()
    wanted = ChangeFilter(color_distance=40.0, heartbeat=10.0, clock=clock)
    assert wanted.wanted(record(0))
    clock.now = 9.9
    assert not wanted.wanted(record(1, rgb=(20, 30, 40)))  # 17 away
    assert not wanted.wanted(record(2, rgb=(30, 40, 50)))  # 35 from the last *sent* one
    assert wanted.wanted(record(3, rgb=(45, 55, 65)))  # 61 away
    clock.now = 19.8
    assert not wanted.wanted(record(4, rgb=(45, 55, 65)))
    clock.now = 20.0
    assert wanted.wanted(record(5, rgb=(45, 55, 65)))  # the heartbeat, 10 s after the last


@pytest.mark.parametrize(
    ("name", "payload", "command"),
    [
        ("pause", b"", Command("c", "pause")),
        ("resume", b"anything", Command("c", "resume")),
        ("paused", b"ON", Command("c", "pause")),
        ("paused", b" false\n", Command("c", "resume")),
        ("confidence_threshold", b"0.5", Command("c", "confidence_threshold", 0.5)),
        ("confidence_threshold", b"1", Command("c", "confidence_threshold", 1.0)),
        ("reload", b"reload", Command("c", "reload")),
        ("capture", b"capture", Command("c", "capture")),
        ("promote", b"", Command("c", "promote")),
        ("rollback", b"PRESS", Command("c", "rollback")),
    ],
)
def test_good_commands(name: str, payload: bytes, command: Command) -> None:
    assert parse_command("c", name, payload) == command


@pytest.mark.parametrize(
    ("name", "payload", "message"),
    [
        ("explode", b"", "unknown command 'explode'; commands: pause, resume"),
        ("paused", b"maybe", "expected true or false"),
        ("confidence_threshold", b"high", "expected a number in [0, 1], got 'high'"),
        ("confidence_threshold", b"-0.1", "expected a number in [0, 1]"),
        ("confidence_threshold", b"nan", "expected a number in [0, 1]"),
        ("confidence_threshold", b"\xff", "not UTF-8"),
        ("reload", b"x" * 100, "payload of 100 bytes"),
    ],
)
def test_bad_commands(name: str, payload: bytes, message: str) -> None:
    with pytest.raises(CommandError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_command("c", name, payload)


def test_static_control() -> None:
    control = StaticControl([CameraInfo("front")])
    control.apply(Command("front", "pause"))
    with pytest.raises(CommandError, match="no camera named 'yard'"):
        control.apply(Command("yard", "pause"))
    assert control.applied == [Command("front", "pause")]
    assert set(control.counters()) == {"front"}


def test_cpu_temperature(tmp_path: Path) -> None:
    zone = tmp_path / "temp"
    zone.write_text("51234\n")
    assert cpu_temperature(zone) == 51.2
    assert cpu_temperature(tmp_path / "missing") is None
    zone.write_text("n/a")
    assert cpu_temperature(zone) is None


def test_stats_snapshot_covers_the_interval() -> None:
    stats = StatsCollector("pi")
    for seq in range(10):
        stats.add(record(seq))
    first = stats.snapshot({}, {"outbox": {"depth": 0}})
    camera = first["cameras"]["front"]
    assert camera["fps"] > 0
    assert camera["latency_ms"]["total"] == {"p50": 6.0, "p95": 6.0, "max": 6.0}
    assert camera["latency_ms"]["anomaly"] is None
    assert first["outbox"] == {"depth": 0}
    second = stats.snapshot({}, {})
    assert second["cameras"] == {}  # nothing since the first


def test_stats_count_captures_and_keep_the_candidates_tally() -> None:
    from edge.control import Counters

    from ....support.records import make_record

    stats = StatsCollector("pi")
    candidate = {"model": "m2", "top": [{"label": "7", "score": 0.9}], "label": "7",
                 "agrees": True}  # fmt: skip
    for seq in range(4):
        stats.add(make_record(seq, candidate=candidate if seq % 2 else None))
    counters = {"front": Counters(4, 0, False, (3, 1)), "back": Counters(2)}
    first = stats.snapshot(counters, {})
    assert first["cameras"]["front"]["captures"] == {"saved": 3, "dropped": 1}
    assert "captures" not in first["cameras"]["back"]  # it captures nothing
    assert first["cameras"]["front"]["candidate"]["compared"] == 2
    assert first["cameras"]["front"]["candidate"]["agreement"] == 1.0
    later = stats.snapshot(counters, {})  # the tally is kept: since the candidate was loaded
    assert later["cameras"]["front"]["candidate"]["compared"] == 2
