"""The files publisher, on real files in tmp_path."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import jsonschema
import pytest

from edge.errors import PublishError
from edge.publishers.files import FilesPublisher, last_seq, remove_old_files
from edge.records import (
    Classified,
    ColorShare,
    FrameSize,
    LabelScore,
    RecordError,
    ResultRecord,
    Timing,
    schema,
)
from edge.records.files import camera_dir

VALIDATOR = jsonschema.Draft202012Validator(schema())
NOON = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc).timestamp()


def make_record(seq: int, timestamp: float = NOON, camera: str = "front") -> ResultRecord:
    return ResultRecord.create(
        device="pi",
        camera=camera,
        seq=seq,
        timestamp=timestamp,
        frame=FrameSize(640, 480),
        colors=[ColorShare.from_rgb((58, 95, 140), 1.0)],
        classification=Classified("digits", (LabelScore("7", 0.98),)),
        anomaly=None,
        timing_ms=Timing(capture=1.0, colors=2.0, classify=3.0, anomaly=None, total=6.0),
    )


def lines_of(path: Path) -> list[bytes]:
    data = path.read_bytes()
    assert data.endswith(b"\n"), f"{path} ends with a torn line"
    return data.splitlines()


def test_each_record_is_one_schema_valid_line_and_latest_is_the_last(tmp_path: Path) -> None:
    records = [make_record(seq, NOON + seq * 0.2) for seq in range(25)]
    with FilesPublisher(tmp_path) as publisher:
        for record in records:
            publisher.publish(record)
    lines = lines_of(tmp_path / "front" / "results-20261124.jsonl")
    assert [ResultRecord.from_json(line) for line in lines] == records
    for line in lines:
        VALIDATOR.validate(json.loads(line))
    latest = (tmp_path / "front" / "latest.json").read_bytes()
    assert ResultRecord.from_json(latest) == records[-1]
    assert latest == lines[-1] + b"\n"
    assert sorted(path.name for path in (tmp_path / "front").iterdir()) == [
        "latest.json",
        "results-20261124.jsonl",
    ]


def test_a_record_is_readable_as_soon_as_publish_returns(tmp_path: Path) -> None:
    publisher = FilesPublisher(tmp_path)
    publisher.publish(make_record(0))
    assert len(lines_of(tmp_path / "front" / "results-20261124.jsonl")) == 1
    publisher.close()
    publisher.close()  # closing twice is fine
    with pytest.raises(PublishError, match="closed"):
        publisher.publish(make_record(1))


def test_a_crash_s_leftover_temporaries_go_when_a_run_starts_writing(tmp_path: Path) -> None:
    camera = tmp_path / "front"
    camera.mkdir()
    old, fresh = camera / ".latest.json.abc123.tmp", camera / ".latest.json.def456.tmp"
    old.write_text('{"half": ')
    fresh.write_text('{"half": ')
    two_minutes_ago = time.time() - 120
    os.utime(old, (two_minutes_ago, two_minutes_ago))
    with FilesPublisher(tmp_path, retention_days=0) as publisher:  # keeps every results file
        publisher.publish(make_record(0))
    assert not old.exists()
    assert fresh.exists()  # it may belong to a write in flight


def test_files_rotate_at_midnight_utc(tmp_path: Path) -> None:
    midnight = datetime(2026, 11, 25, tzinfo=timezone.utc).timestamp()
    times = [midnight - 0.1, midnight - 0.001, midnight, midnight + 0.1]
    with FilesPublisher(tmp_path) as publisher:
        for seq, timestamp in enumerate(times):
            publisher.publish(make_record(seq, timestamp))
    before = lines_of(tmp_path / "front" / "results-20261124.jsonl")
    after = lines_of(tmp_path / "front" / "results-20261125.jsonl")
    assert [ResultRecord.from_json(line).seq for line in before] == [0, 1]
    assert [ResultRecord.from_json(line).seq for line in after] == [2, 3]
    assert ResultRecord.from_json((tmp_path / "front" / "latest.json").read_bytes()).seq == 3


def test_cameras_have_their_own_directories(tmp_path: Path) -> None:
    with FilesPublisher(tmp_path) as publisher:
        publisher.publish(make_record(0, camera="front"))
        publisher.publish(make_record(0, camera="back-yard.2"))
        publisher.publish(make_record(1, camera="front"))
    assert len(lines_of(tmp_path / "front" / "results-20261124.jsonl")) == 2
    assert len(lines_of(tmp_path / "back-yard.2" / "results-20261124.jsonl")) == 1


def make_day_files(directory: Path, *days: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for day in days:
        (directory / f"results-{day}.jsonl").write_bytes(make_record(0).to_json().encode() + b"\n")


def test_files_older_than_the_retention_are_removed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    make_day_files(tmp_path / "front", "20261101", "20261116", "20261117", "20261123")
    make_day_files(tmp_path / "old-camera", "20261001")
    keep = [
        tmp_path / "front" / "notes.txt",
        tmp_path / "front" / "results-2026.jsonl",
        tmp_path / "readme",
    ]
    for path in keep:
        path.write_text("not a daily file")
    with (
        caplog.at_level(logging.INFO, logger="edge"),
        FilesPublisher(tmp_path, retention_days=7) as publisher,
    ):
        publisher.publish(make_record(0))  # 2026-11-24: keeps 17th to 24th
    names = sorted(path.name for path in (tmp_path / "front").glob("results-*"))
    assert names == [
        "results-2026.jsonl",
        "results-20261117.jsonl",
        "results-20261123.jsonl",
        "results-20261124.jsonl",
    ]
    assert not list((tmp_path / "old-camera").iterdir())
    assert all(path.exists() for path in keep)
    assert "results-20261101.jsonl: removed" in caplog.text


def test_retention_is_checked_on_rotation_not_on_every_record(tmp_path: Path) -> None:
    with FilesPublisher(tmp_path, retention_days=1) as publisher:
        publisher.publish(make_record(0))
        make_day_files(tmp_path / "front", "20261101")
        publisher.publish(make_record(1, NOON + 1))
        assert (tmp_path / "front" / "results-20261101.jsonl").exists()  # within the hour
        publisher.publish(make_record(2, NOON + 86400))
        assert not (tmp_path / "front" / "results-20261101.jsonl").exists()  # a new day


def test_retention_zero_keeps_everything(tmp_path: Path) -> None:
    make_day_files(tmp_path / "front", "20200101")
    with FilesPublisher(tmp_path, retention_days=0) as publisher:
        publisher.publish(make_record(0))
    assert (tmp_path / "front" / "results-20200101.jsonl").exists()
    assert remove_old_files(tmp_path / "missing", datetime(2026, 1, 1).date()) == []


@pytest.mark.parametrize("torn", [b'{"schema":1,"device":"p', b"\x00" * 300, b"x"])
def test_a_torn_tail_is_cut_on_reopen_and_complete_lines_are_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, torn: bytes
) -> None:
    path = tmp_path / "front" / "results-20261124.jsonl"
    with FilesPublisher(tmp_path) as publisher:
        for seq in range(3):
            publisher.publish(make_record(seq))
    with path.open("ab") as file:
        file.write(torn)  # the power went out in the middle of a write
    with caplog.at_level(logging.WARNING, logger="edge"), FilesPublisher(tmp_path) as publisher:
        publisher.publish(make_record(3))
    assert [ResultRecord.from_json(line).seq for line in lines_of(path)] == [0, 1, 2, 3]
    assert f"removed a torn last line ({len(torn)} bytes" in caplog.text


def test_a_file_that_is_all_torn_is_emptied(tmp_path: Path) -> None:
    path = tmp_path / "front" / "results-20261124.jsonl"
    path.parent.mkdir()
    path.write_bytes(b'{"schema":1,')
    with FilesPublisher(tmp_path) as publisher:
        publisher.publish(make_record(0))
    assert [ResultRecord.from_json(line).seq for line in lines_of(path)] == [0]


def test_two_writers_never_interleave_lines(tmp_path: Path) -> None:
    def write(first: int) -> None:
        with FilesPublisher(tmp_path) as publisher:
            for seq in range(first, first + 300):
                publisher.publish(make_record(seq))

    threads = [threading.Thread(target=write, args=(first,)) for first in (0, 1000)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seqs = sorted(
        ResultRecord.from_json(line).seq
        for line in lines_of(tmp_path / "front" / "results-20261124.jsonl")
    )
    assert seqs == [*range(300), *range(1000, 1300)]


def test_an_unwritable_directory_raises_publish_error_and_recovers(tmp_path: Path) -> None:
    blocker = tmp_path / "front"
    blocker.write_text("a file where the camera's directory should be")
    publisher = FilesPublisher(tmp_path)
    with pytest.raises(
        PublishError, match=r"cannot write results to .*front.*free disk space or make"
    ):
        publisher.publish(make_record(0))
    with pytest.raises(PublishError):
        publisher.publish(make_record(1))
    blocker.unlink()
    publisher.publish(make_record(2))
    publisher.close()
    assert [
        ResultRecord.from_json(line).seq for line in lines_of(blocker / "results-20261124.jsonl")
    ] == [2]


@pytest.mark.skipif(
    os.geteuid() == 0, reason="root writes to read-only directories; see the blocked-directory test"
)
def test_a_read_only_directory_raises_publish_error_and_recovers(tmp_path: Path) -> None:
    (tmp_path / "front").mkdir()
    (tmp_path / "front").chmod(0o555)
    publisher = FilesPublisher(tmp_path)
    try:
        with pytest.raises(PublishError, match="Permission denied"):
            publisher.publish(make_record(0))
    finally:
        (tmp_path / "front").chmod(0o755)
    publisher.publish(make_record(1))
    publisher.close()
    assert len(lines_of(tmp_path / "front" / "results-20261124.jsonl")) == 1


DISK_FULL = textwrap.dedent(
    """
    import json, resource, signal, sys
    from pathlib import Path
    from edge.errors import PublishError
    from edge.publishers.files import FilesPublisher
    from edge.records import ResultRecord

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
    template = json.loads(sys.argv[2])
    published, errors = [], []
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    publisher = FilesPublisher(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_FSIZE, (4000, hard))  # the disk is nearly full
    for seq in range(40):
        if seq == 30:
            resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))  # space is back
        try:
            publisher.publish(ResultRecord.from_dict({**template, "seq": seq}))
            published.append(seq)
        except PublishError as exc:
            errors.append(str(exc))
    publisher.close()
    print(json.dumps({"published": published, "errors": errors}))
    """
)


@pytest.mark.skipif(sys.platform != "linux", reason="uses RLIMIT_FSIZE and SIGXFSZ as on Linux")
def test_a_full_disk_raises_publish_error_leaves_no_torn_line_and_recovers(tmp_path: Path) -> None:
    template = make_record(0).as_dict()
    done = subprocess.run(
        [sys.executable, "-c", DISK_FULL, str(tmp_path), json.dumps(template)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result = json.loads(done.stdout)
    assert result["errors"] and all(
        "cannot write results to" in error for error in result["errors"]
    )
    assert result["published"][-10:] == list(range(30, 40))
    lines = lines_of(tmp_path / "front" / "results-20261124.jsonl")
    assert [ResultRecord.from_json(line).seq for line in lines] == result["published"]
    assert ResultRecord.from_json((tmp_path / "front" / "latest.json").read_bytes()).seq == 39
    assert not list((tmp_path / "front").glob(".*.tmp"))


@pytest.mark.parametrize(
    "camera", ["../etc", "a/b", "..", ".hidden", "", "a b", "caméra", "x" * 65, "/abs"]
)
def test_camera_names_cannot_escape_the_output_directory(tmp_path: Path, camera: str) -> None:
    with pytest.raises(RecordError, match="camera: expected 1 to 64 letters"):
        camera_dir(tmp_path, camera)
    with pytest.raises(ValueError, match="camera: expected 1 to 64 letters"):
        last_seq(tmp_path, camera)
    with pytest.raises(ValueError, match="camera: expected 1 to 64 letters"):
        ResultRecord.from_dict({**make_record(0).as_dict(), "camera": camera})
    assert list(tmp_path.iterdir()) == []


def test_publish_takes_only_records(tmp_path: Path) -> None:
    with (
        FilesPublisher(tmp_path) as publisher,
        pytest.raises(TypeError, match="ResultRecord, got dict"),
    ):
        publisher.publish(make_record(0).as_dict())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="retention_days must be >= 0"):
        FilesPublisher(tmp_path, retention_days=-1)


def test_last_seq_survives_restarts(tmp_path: Path) -> None:
    assert last_seq(tmp_path, "front") is None
    assert last_seq(tmp_path / "missing", "front") is None
    with FilesPublisher(tmp_path) as publisher:
        for seq in range(5):
            publisher.publish(make_record(seq))
    assert last_seq(tmp_path, "front") == 4
    (tmp_path / "front" / "latest.json").unlink()
    assert last_seq(tmp_path, "front") == 4  # from the newest daily file


def test_last_seq_skips_torn_and_broken_files(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with FilesPublisher(tmp_path) as publisher:
        for seq in range(3):
            publisher.publish(make_record(seq))
    directory = tmp_path / "front"
    (directory / "latest.json").write_text("{broken")
    with (directory / "results-20261124.jsonl").open("ab") as file:
        file.write(b'{"schema":1,"seq":99')
    (directory / "results-20261125.jsonl").write_bytes(b"")  # rotated, nothing written yet
    with caplog.at_level(logging.WARNING, logger="edge"):
        assert last_seq(tmp_path, "front") == 2
    assert "latest.json: ignored" in caplog.text


def test_last_seq_takes_the_highest_of_latest_and_the_daily_file(tmp_path: Path) -> None:
    with FilesPublisher(tmp_path) as publisher:
        publisher.publish(make_record(7))
    (tmp_path / "front" / "latest.json").write_text(make_record(9).to_json())
    assert last_seq(tmp_path, "front") == 9


def test_a_daily_file_removed_while_open_is_created_again(tmp_path: Path) -> None:
    path = tmp_path / "front" / "results-20261124.jsonl"
    with FilesPublisher(tmp_path) as publisher:
        publisher.publish(make_record(0))
        path.unlink()
        publisher.publish(make_record(1))
    assert [ResultRecord.from_json(line).seq for line in lines_of(path)] == [1]
