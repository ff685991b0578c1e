"""The pure parts of the MQTT publisher: topics, publish-on-change, commands, stats, backoff."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.control import (
    CameraInfo,
    Command,
    CommandError,
    StaticControl,
    parse_command,
)
from edge.publishers.mqtt.client import Backoff
from edge.publishers.mqtt.stats import StatsCollector, cpu_temperature, percentile, summary
from edge.publishers.mqtt.topics import ChangeFilter, Topics, decision
from edge.records import (
    AnomalyResult,
    Classified,
    ColorShare,
    FrameSize,
    LabelScore,
    ResultRecord,
    Timing,
)

TOPICS = Topics("edge", "pi")


def record(
    seq: int = 0,
    *,
    label: str | None = "7",
    rgb: tuple[int, int, int] = (10, 20, 30),
    anomaly: bool | None = False,
    camera: str = "front",
) -> ResultRecord:
    return ResultRecord.create(
        device="pi",
        camera=camera,
        seq=seq,
        timestamp=0.0,
        frame=FrameSize(4, 4),
        colors=[ColorShare.from_rgb(rgb, 1.0)],
        classification=None if label is None else Classified("m", (LabelScore(label, 0.9),), label),
        anomaly=None if anomaly is None else AnomalyResult("a", 0.1, 0.2, is_anomaly=anomaly),
        timing_ms=Timing(capture=1, colors=2, classify=3, anomaly=None, total=6),
    )


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
    assert wanted.wanted(record(1, **changed)) is sent  # type: ignore[arg-type]


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


def test_percentiles() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.95) == 95.0
    assert percentile([3.0], 0.95) == 3.0
    assert summary([]) is None
    assert summary([2.0, 1.0, 3.0]) == {"p50": 2.0, "p95": 3.0, "max": 3.0}


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


def test_backoff_doubles_with_jitter_up_to_the_maximum() -> None:
    backoff = Backoff(1.0, 8.0)
    delays = [backoff.next() for _ in range(6)]
    for delay, base in zip(delays, [1, 2, 4, 8, 8, 8], strict=True):
        assert 0.75 * base <= delay <= base
    backoff.reset()
    assert backoff.next() <= 1.0
