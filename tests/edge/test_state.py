from __future__ import annotations

import os
from pathlib import Path

import pytest

from edge.state import CameraBusyError, DirectoryLock, SeqCounter


def test_sequence_numbers_increase_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "cam" / ".seq"
    first = SeqCounter(path, block=10)
    numbers = [first.next() for _ in range(25)]
    assert numbers == list(range(25))
    second = SeqCounter(path, block=10)  # a crash: the old counter never wrote again
    later = [second.next() for _ in range(3)]
    assert later[0] > numbers[-1]
    assert later == sorted(set(later))


def test_a_clean_close_continues_without_a_gap(tmp_path: Path) -> None:
    path = tmp_path / ".seq"
    counter = SeqCounter(path, block=100)
    assert [counter.next() for _ in range(3)] == [0, 1, 2]
    counter.close()
    assert SeqCounter(path, block=100).next() == 3


def test_the_file_is_written_once_per_block(tmp_path: Path) -> None:
    path = tmp_path / ".seq"
    counter = SeqCounter(path, block=100)
    counter.next()
    written = path.stat().st_mtime_ns
    for _ in range(50):
        counter.next()
    assert path.stat().st_mtime_ns == written
    assert path.read_text().strip() == "100"


def test_a_corrupt_file_starts_again(tmp_path: Path) -> None:
    path = tmp_path / ".seq"
    path.write_text("garbage")
    assert SeqCounter(path).next() == 0


def test_the_counter_never_starts_at_or_below_the_newest_record(tmp_path: Path) -> None:
    path = tmp_path / ".seq"
    assert SeqCounter(path, after=41).next() == 42  # no file
    path.write_text("garbage")
    assert SeqCounter(path, after=41).next() == 42
    path.write_text("5\n")
    counter = SeqCounter(path, after=41)
    assert counter.next() == 42 and counter.resumes_after(41)
    path.write_text("1041\n")  # a crash: the file is ahead, and wins
    assert SeqCounter(path, after=41).next() == 1041


def test_an_unwritable_state_does_not_stop_counting(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    counter = SeqCounter(blocker / "cam" / ".seq", block=2)
    assert [counter.next() for _ in range(5)] == [0, 1, 2, 3, 4]


def test_a_camera_directory_is_locked_by_one_holder_at_a_time(tmp_path: Path) -> None:
    directory = tmp_path / "out" / "front"
    first = DirectoryLock(directory)
    first.acquire()
    assert (directory / ".lock").read_text().strip() == str(os.getpid())
    with pytest.raises(CameraBusyError, match=rf"in use by another edge run \(PID {os.getpid()}\)"):
        DirectoryLock(directory).acquire()  # another open file: flock refuses it
    first.release()
    second = DirectoryLock(directory)
    second.acquire()
    second.release()
