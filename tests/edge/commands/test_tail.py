"""edge tail: the terminal line of a record, following files as they grow, tail_files."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.commands.tail import format_record, tail_files
from edge.errors import UsageError
from edge.publishers.files import FilesPublisher
from edge.records import (
    AnomalyResult,
    ResultRecord,
    follow_records,
)
from edge.records.files import RecordFollower

from ...support.records import TS, make_record
from ...support.waiting import wait_for

POLL = 0.01
DAY = "results-20261129.jsonl"


def test_format_record_is_one_short_line() -> None:
    line = format_record(make_record())
    assert line == (
        "13:05:07.123 front #42  7 (0.98) 3 (0.01)  anomaly 0.012/0.031 ok  "
        "■#3a5f8c 41% ■#f0e0d0 32% ■#000000 27%  12.3 ms"
    )
    assert "\x1b" not in line


def test_format_record_shows_the_decision_first() -> None:
    top = [{"label": "1", "score": 0.47}, {"label": "8", "score": 0.30}]
    undecided = make_record(classification={"model": "digits", "top": top, "label": "unknown"})
    assert "#42  unknown  1 (0.47) 8 (0.30)  anomaly" in format_record(undecided)
    decided = make_record(classification={"model": "digits", "top": top, "label": "1"})
    assert "#42  1  1 (0.47) 8 (0.30)  anomaly" in format_record(decided)


def test_format_record_without_models_and_with_an_anomaly() -> None:
    bare = make_record(classification=None, anomaly=None)
    assert (
        format_record(bare)
        == "13:05:07.123 front #42  ■#3a5f8c 41% ■#f0e0d0 32% ■#000000 27%  12.3 ms"
    )
    odd = make_record(anomaly=AnomalyResult("ae", 0.25, 0.031, is_anomaly=True))
    assert "anomaly 0.25/0.031 ANOMALY" in format_record(odd)


def test_format_record_draws_color_swatches_for_a_tty() -> None:
    odd = make_record(anomaly=AnomalyResult("ae", 0.25, 0.031, is_anomaly=True))
    line = format_record(odd, color=True)
    assert "\x1b[38;2;58;95;140m■\x1b[0m#3a5f8c 41%" in line
    assert "\x1b[38;2;240;224;208m■\x1b[0m#f0e0d0 32%" in line
    assert "\x1b[1;31mANOMALY\x1b[0m" in line


# --- following files as they grow ---------------------------------------------------------


def line_of(record: ResultRecord) -> bytes:
    return record.to_json().encode() + b"\n"


def collect(
    records: Iterator[ResultRecord], count: int, stop: threading.Event
) -> list[ResultRecord]:
    """The first ``count`` records, or fewer if nothing comes for 5 seconds."""
    timer = threading.Timer(5.0, stop.set)
    timer.start()
    found: list[ResultRecord] = []
    try:
        for record in records:
            found.append(record)
            if len(found) == count:
                break
    finally:
        timer.cancel()
    return found


def test_follow_sees_appended_lines_including_a_partial_line_completed_later(
    tmp_path: Path,
) -> None:
    path = tmp_path / "front" / DAY
    path.parent.mkdir()
    path.write_bytes(line_of(make_record(0)))  # before following: not returned
    stop = threading.Event()
    records = follow_records(tmp_path, poll=POLL, stop=stop)
    second = line_of(make_record(2, timestamp=TS + 2))

    def writer() -> None:
        with path.open("ab", buffering=0) as file:
            file.write(line_of(make_record(1, timestamp=TS + 1)))
            file.write(second[:40])  # half a line: not a record yet
            time.sleep(10 * POLL)
            file.write(second[40:] + line_of(make_record(3, timestamp=TS + 3)))

    thread = threading.Thread(target=writer)
    thread.start()
    found = collect(records, 3, stop)
    thread.join()
    assert [record.seq for record in found] == [1, 2, 3]


def test_follow_picks_up_new_day_files_and_new_cameras(tmp_path: Path) -> None:
    stop = threading.Event()
    with FilesPublisher(tmp_path) as publisher:
        publisher.publish(make_record(0))
        records = follow_records(tmp_path, poll=POLL, stop=stop)
        publisher.publish(make_record(1, timestamp=TS + 1))
        publisher.publish(make_record(2, timestamp=TS + 86400))  # the next day's file
        publisher.publish(make_record(0, camera="back", timestamp=TS + 86401))  # a new camera
        found = collect(records, 3, stop)
    assert [(record.camera, record.seq) for record in found] == [
        ("front", 1),
        ("front", 2),
        ("back", 0),
    ]


def test_follow_one_camera_only(tmp_path: Path) -> None:
    stop = threading.Event()
    with FilesPublisher(tmp_path) as publisher:
        publisher.publish(make_record(0, camera="back"))
        publisher.publish(make_record(0, camera="front"))
        records = follow_records(tmp_path, camera="front", poll=POLL, stop=stop)
        publisher.publish(make_record(1, camera="back", timestamp=TS + 1))
        publisher.publish(make_record(1, camera="front", timestamp=TS + 2))
        found = collect(records, 1, stop)
    assert [(record.camera, record.seq) for record in found] == [("front", 1)]


def test_follow_goes_on_after_a_torn_tail_is_cut(tmp_path: Path) -> None:
    with FilesPublisher(tmp_path) as publisher:
        publisher.publish(make_record(0))
    follower = RecordFollower(tmp_path)
    with (tmp_path / "front" / DAY).open("ab") as file:
        file.write(b'{"schema":1,"devi')  # the power went out
    assert follower.poll() == []
    with FilesPublisher(tmp_path) as publisher:  # the daemon restarts and cuts the torn line
        publisher.publish(make_record(1, timestamp=TS + 1))
        publisher.publish(make_record(2, timestamp=TS + 2))
    assert [record.seq for record in follower.poll()] == [1, 2]
    assert follower.poll() == []


def test_follow_stops_when_told(tmp_path: Path) -> None:
    stop = threading.Event()
    stop.set()
    assert list(follow_records(tmp_path, poll=POLL, stop=stop)) == []
    with pytest.raises(ValueError, match="poll must be a positive number"):
        follow_records(tmp_path, poll=0)


# --- tail_files -----------------------------------------------------------------------------


def publish_all(out_dir: Path, records: list[ResultRecord]) -> None:
    with FilesPublisher(out_dir) as publisher:
        for record in records:
            publisher.publish(record)


def test_tail_files_writes_the_last_records_and_exits(tmp_path: Path) -> None:
    publish_all(tmp_path, [make_record(seq, timestamp=TS + seq) for seq in range(5)])
    publish_all(tmp_path, [make_record(0, camera="back", timestamp=TS + 3.5)])
    lines: list[str] = []
    assert tail_files(tmp_path, follow=False, lines=3, write=lines.append) == 3
    assert [line.split()[1:3] for line in lines] == [
        ["front", "#3"],
        ["back", "#0"],
        ["front", "#4"],
    ]
    assert lines[-1] == format_record(make_record(4, timestamp=TS + 4))


def test_tail_files_json_and_one_camera(tmp_path: Path) -> None:
    records = [make_record(seq, timestamp=TS + seq) for seq in range(3)]
    publish_all(tmp_path, [*records, make_record(0, camera="back", timestamp=TS + 9)])
    lines: list[str] = []
    tail_files(tmp_path, "front", follow=False, json=True, write=lines.append)
    assert lines == [record.to_json() for record in records]


def test_tail_files_follows_without_repeating_a_record(tmp_path: Path) -> None:
    publish_all(tmp_path, [make_record(seq, timestamp=TS + seq) for seq in range(3)])
    lines: list[str] = []
    stop = threading.Event()
    options = {"lines": 2, "write": lines.append, "poll": POLL, "stop": stop}
    tailer = threading.Thread(target=tail_files, args=(tmp_path,), kwargs=options)
    tailer.start()
    # the newest two are written, the follower is watching
    wait_for(lambda: len(lines) >= 2, 5, POLL)
    publish_all(tmp_path, [make_record(seq, timestamp=TS + seq) for seq in range(3, 6)])
    wait_for(lambda: len(lines) >= 5, 5, POLL)
    stop.set()
    tailer.join()
    assert [line.split()[2] for line in lines] == ["#1", "#2", "#3", "#4", "#5"]


def test_tail_files_needs_a_directory(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a directory"):
        tail_files(tmp_path / "missing", follow=False)
    (tmp_path / "file").write_text("")
    with pytest.raises(UsageError, match="not a directory"):
        tail_files(tmp_path / "file", follow=False)


def test_tail_files_names_the_cameras_when_there_is_nothing_to_show(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from edge.cli import main

    assert main(["tail", "--file", str(tmp_path), "--no-follow"]) == 1
    assert "no results yet" in capsys.readouterr().err
    publish_all(tmp_path, [make_record(0), make_record(0, camera="back")])
    assert main(["tail", "--file", str(tmp_path), "--camera", "side", "--no-follow"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no results of camera 'side'; cameras: back, front" in captured.err
    assert main(["tail", "--file", str(tmp_path), "--camera", "back", "--no-follow"]) == 0
    assert " back #0 " in capsys.readouterr().out
