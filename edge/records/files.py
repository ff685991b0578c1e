"""The results directory on disk: its layout, and reading it back.

    <out>/<camera>/results-YYYYMMDD.jsonl   one record per line, UTC date of the capture time
    <out>/<camera>/latest.json              the newest record

``FilesPublisher`` (edge.publishers.files) writes it; the readers here (re-exported by
edge.records.record) read it: everything, the newest few, or new records as they are appended.
Lines that are not records are logged and skipped, never fatal.
"""

from __future__ import annotations

import heapq
import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from edge.records.record import NAME_PATTERN, RecordError, ResultRecord, check_name

logger = logging.getLogger(__name__)

LATEST_FILE = "latest.json"
DAY_FILE_PREFIX, DAY_FILE_SUFFIX = "results-", ".jsonl"


def camera_dir(out_dir: str | Path, camera: str) -> Path:
    """A camera's directory under ``out_dir``; the name is checked, so no path escapes it.

    Raises RecordError (a ValueError) for a name that is not 1 to 64 letters, digits, _ . -.
    """
    return Path(out_dir) / check_name(camera, "camera")


def day_file_name(day: date) -> str:
    return f"{DAY_FILE_PREFIX}{day:%Y%m%d}{DAY_FILE_SUFFIX}"


def day_of_file(path: Path) -> date | None:
    """The UTC date in a ``results-YYYYMMDD.jsonl`` name; None for any other name."""
    name = path.name
    digits = name[len(DAY_FILE_PREFIX) : -len(DAY_FILE_SUFFIX)]
    if not (name.startswith(DAY_FILE_PREFIX) and name.endswith(DAY_FILE_SUFFIX)):
        return None
    if len(digits) != 8 or not digits.isascii() or not digits.isdigit():
        return None
    try:
        return datetime.strptime(digits, "%Y%m%d").date()
    except ValueError:
        return None


def day_files(directory: Path) -> list[Path]:
    """A camera directory's daily files, oldest first (none if it does not exist)."""
    return sorted(path for path in directory.glob("results-*.jsonl") if day_of_file(path))


def camera_dirs(root: Path, camera: str | None = None) -> list[Path]:
    """The camera directories of an output directory, or ``[root]`` if it is a camera's own."""
    if camera is not None:
        return [camera_dir(root, camera)]
    if day_files(root):
        return [root]
    dirs = (path for path in root.iterdir() if path.is_dir() and NAME_PATTERN.fullmatch(path.name))
    return sorted(dirs)


def camera_names(root: Path) -> list[str]:
    """The cameras with results under an output directory (its own name for a camera's)."""
    return sorted(directory.name for directory in camera_dirs(root) if day_files(directory))


def existing(path: str | Path, *, directory: bool = False) -> Path:
    """``path`` as a Path; FileNotFoundError or NotADirectoryError that say what to give."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or directory; give a results directory")
    if directory and not path.is_dir():
        raise NotADirectoryError(f"{path}: not a directory; give a results directory")
    return path


def parse_line(line: bytes, where: str) -> ResultRecord | None:
    """The record on one JSONL line; None (and a warning) for a line that is not one."""
    try:
        return ResultRecord.from_json(line)
    except RecordError as err:
        logger.warning("%s: skipped a line that is not a result record: %s", where, err)
        return None


# --- everything ---------------------------------------------------------------------------


def _read_file(path: Path) -> Iterator[ResultRecord]:
    with path.open("rb") as lines:
        for number, line in enumerate(lines, 1):
            record = parse_line(line, f"{path}:{number}") if line.strip() else None
            if record is not None:
                yield record


def _read_camera(directory: Path) -> Iterator[ResultRecord]:
    for path in day_files(directory):
        yield from _read_file(path)


def read_records(path: str | Path) -> Iterator[ResultRecord]:
    """Every record of a JSONL file or a results directory, in capture order, cameras merged."""
    path = existing(path)
    if path.is_file():
        return _read_file(path)
    streams = [_read_camera(directory) for directory in camera_dirs(path)]
    return heapq.merge(*streams, key=lambda record: record.timestamp)


# --- the newest ---------------------------------------------------------------------------


def reverse_lines(path: Path, chunk: int = 1 << 16) -> Iterator[bytes]:
    """The non-blank lines of a file, last first, read backwards in chunks."""
    with path.open("rb") as file:
        end = file.seek(0, os.SEEK_END)
        rest = b""
        while end > 0:
            start = max(0, end - chunk)
            file.seek(start)
            lines = (file.read(end - start) + rest).split(b"\n")
            rest, end = lines.pop(0), start
            yield from (line for line in reversed(lines) if line.strip())
        if rest.strip():
            yield rest


def newest_of_camera(directory: Path, count: int) -> list[ResultRecord]:
    """A camera's newest ``count`` records from its daily files, oldest first."""
    found: list[ResultRecord] = []
    for path in reversed(day_files(directory)):
        for line in reverse_lines(path):
            if len(found) >= count:
                return found[::-1]
            record = parse_line(line, str(path))
            if record is not None:
                found.append(record)
    return found[::-1]


def last_records(
    out_dir: str | Path, camera: str | None = None, count: int = 10
) -> list[ResultRecord]:
    """The newest ``count`` records under a results directory, oldest first."""
    root = existing(out_dir, directory=True)
    found: list[ResultRecord] = []
    for directory in camera_dirs(root, camera):
        found.extend(newest_of_camera(directory, count))
    found.sort(key=lambda record: record.timestamp)
    return found[-count:] if count > 0 else []


# --- new ones -----------------------------------------------------------------------------


def follow_records(
    out_dir: str | Path,
    camera: str | None = None,
    poll: float = 0.5,
    stop: threading.Event | None = None,
) -> Iterator[ResultRecord]:
    """Records appended to a results directory from now on, until ``stop`` is set.

    The files' current ends are taken at this call (not at the first ``next()``); new day files
    and new cameras are picked up; a partial last line waits for its newline.
    """
    return RecordFollower(out_dir, camera).records(poll, stop)


@dataclass
class _Cursor:
    path: Path
    offset: int  # where the first line not yet returned starts


class RecordFollower:
    """New records of a results directory as they are appended: ``tail -F`` for records.

    Starts at the current end of the files; ``poll()`` returns what was written since. A
    partial last line waits for its newline (it is read again until it has one); new day files
    and new cameras are picked up.
    """

    def __init__(self, out_dir: str | Path, camera: str | None = None) -> None:
        self.root = existing(out_dir, directory=True)
        self.camera = camera
        self._cursors: dict[Path, _Cursor] = {}
        for directory in camera_dirs(self.root, camera):
            files = day_files(directory)
            if files:
                self._cursors[directory] = _Cursor(files[-1], files[-1].stat().st_size)

    def poll(self) -> list[ResultRecord]:
        """The records written since the last poll, in capture order."""
        found: list[ResultRecord] = []
        for directory in camera_dirs(self.root, self.camera):
            found.extend(self._poll_camera(directory))
        found.sort(key=lambda record: record.timestamp)
        return found

    def records(
        self, poll: float = 0.5, stop: threading.Event | None = None
    ) -> Iterator[ResultRecord]:
        """Records as they come, looking every ``poll`` seconds, until ``stop`` is set."""
        if poll <= 0:
            raise ValueError(f"poll must be a positive number of seconds, got {poll}")
        return self._records(poll, stop)

    def _records(self, poll: float, stop: threading.Event | None) -> Iterator[ResultRecord]:
        while stop is None or not stop.is_set():
            yield from self.poll()
            if stop is None:
                time.sleep(poll)
            else:
                stop.wait(poll)

    def _poll_camera(self, directory: Path) -> list[ResultRecord]:
        files = day_files(directory)
        if not files:
            return []
        cursor = self._cursors.setdefault(directory, _Cursor(files[0], 0))
        found = _read_new(cursor)
        for path in (path for path in files if path.name > cursor.path.name):
            cursor.path, cursor.offset = path, 0
            found.extend(_read_new(cursor))
        return found


def _read_new(cursor: _Cursor) -> list[ResultRecord]:
    try:
        with cursor.path.open("rb") as file:
            cursor.offset = min(cursor.offset, os.fstat(file.fileno()).st_size)  # cut shorter
            file.seek(cursor.offset)
            data = file.read()
    except FileNotFoundError:  # removed by retention
        return []
    complete = data[: data.rfind(b"\n") + 1]
    cursor.offset += len(complete)
    lines = (line for line in complete.split(b"\n") if line.strip())
    records = (parse_line(line, str(cursor.path)) for line in lines)
    return [record for record in records if record is not None]
