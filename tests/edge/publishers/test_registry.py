"""The publisher registry and the in-memory publisher."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.errors import ConfigError, PublishError
from edge.publishers import PUBLISHERS, Publisher, create_publisher
from edge.publishers.files import FilesPublisher
from edge.publishers.memory import MemoryPublisher
from edge.records import ColorShare, FrameSize, ResultRecord, Timing

RECORD = ResultRecord.create(
    device="pi",
    camera="front",
    seq=0,
    timestamp=0.0,
    frame=FrameSize(4, 4),
    colors=[ColorShare.from_rgb((0, 0, 0), 1.0)],
    timing_ms=Timing(capture=0, colors=0, classify=None, anomaly=None, total=0),
)


def test_an_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(
        ConfigError, match="unknown publisher 'ftp'; valid publishers: files, memory, mqtt"
    ):
        create_publisher("ftp")


def test_create_publisher_passes_options(tmp_path: Path) -> None:
    with create_publisher("files", out_dir=tmp_path, retention_days=3) as publisher:
        assert isinstance(publisher, FilesPublisher) and publisher.retention_days == 3
        publisher.publish(RECORD)
    assert (tmp_path / "front" / "latest.json").exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"out_dir": "x", "retention": 3},
            "publisher 'files': got an unexpected keyword argument 'retention'; "
            "its options: out_dir, retention_days, fsync",
        ),
        ({}, "publisher 'files': missing a required argument: 'out_dir'"),
        ({"out_dir": "x", "retention_days": -1}, "publisher 'files': retention_days must be >= 0"),
    ],
)
def test_bad_options_are_config_errors(options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        create_publisher("files", **options)
    assert message in str(caught.value)


def test_a_missing_package_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(PUBLISHERS, "broken", "edge_vision_no_such_package:Broken")
    with pytest.raises(ConfigError, match="needs the Python package 'edge_vision_no_such_package'"):
        create_publisher("broken")


def test_a_missing_module_of_our_own_is_a_bug_not_a_config_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(PUBLISHERS, "broken", "edge.publishers.no_such_module:Broken")
    with pytest.raises(ModuleNotFoundError):
        create_publisher("broken")


def test_every_registered_publisher_is_a_publisher() -> None:
    for target in PUBLISHERS.values():
        module_name, _, class_name = target.partition(":")
        module = __import__(module_name, fromlist=[class_name])
        assert issubclass(getattr(module, class_name), Publisher)


def test_the_memory_publisher_keeps_records_and_fails_on_request() -> None:
    with create_publisher("memory") as publisher:
        assert isinstance(publisher, MemoryPublisher)
        publisher.publish(RECORD)
        publisher.fail_next(PublishError("broker away"), times=2)
        for _ in range(2):
            with pytest.raises(PublishError, match="broker away"):
                publisher.publish(RECORD)
        publisher.publish(RECORD)
        assert publisher.records == [RECORD, RECORD]
    assert publisher.closed
    with pytest.raises(PublishError, match="after close"):
        publisher.publish(RECORD)
