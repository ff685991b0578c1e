"""The files publisher: every record appended to a daily JSONL file, the newest in latest.json.

    <out>/<camera>/results-YYYYMMDD.jsonl   one line per record; the UTC date of its capture
    <out>/<camera>/latest.json              the newest record, replaced atomically

Each line is written with one ``os.write`` on an ``O_APPEND`` descriptor, so a crashing
process never leaves half a line; a torn tail left by a power cut is cut off (and logged) when
the file is opened again, and complete lines are never touched. Files older than
``retention_days`` (by the date in their name) are removed on rotation and at most hourly.
A full or read-only disk raises PublishError; the next ``publish`` tries again from scratch.
Records whose line could not be appended meanwhile are not in the files: they are counted
(``unwritten``), and the count of each outage is logged when writing works again.
"""

from __future__ import annotations

import errno
import logging
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from edge.errors import PublishError
from edge.publishers.base import Publisher
from edge.records.files import (
    LATEST_FILE,
    camera_dir,
    day_file_name,
    day_files,
    day_of_file,
    newest_of_camera,
)
from edge.records.record import NAME_PATTERN, RecordError, ResultRecord

logger = logging.getLogger(__name__)

SWEEP_INTERVAL = 3600.0  # seconds between retention checks within a day
STALE_TEMPORARY_S = 60.0  # a latest.json temporary this old when a run starts is a crash's, removed
FILE_MODE = 0o644
APPEND_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)


@dataclass
class _DayFile:
    """One camera's open daily file."""

    path: Path
    day: date
    fd: int

    @classmethod
    def open(cls, path: Path, day: date) -> _DayFile:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, APPEND_FLAGS, FILE_MODE)
        try:
            cut_torn_tail(fd, path)
        except OSError:
            os.close(fd)
            raise
        return cls(path, day, fd)

    def is_current(self, day: date) -> bool:
        """Still the file for ``day``, and not removed from the directory meanwhile."""
        return self.day == day and os.fstat(self.fd).st_nlink > 0

    def append(self, line: bytes, fsync: bool) -> None:
        """Append one whole line; a short write (disk full) is undone before raising."""
        size = os.fstat(self.fd).st_size
        written = os.write(self.fd, line)
        if written != len(line):
            os.ftruncate(self.fd, size)
            problem = f"short write, {written} of {len(line)} bytes (disk full?)"
            raise OSError(errno.ENOSPC, problem, str(self.path))
        if fsync:
            os.fsync(self.fd)

    def close(self) -> None:
        os.close(self.fd)


class FilesPublisher(Publisher):
    """Writes records under ``out_dir``, one directory per camera.

    ``retention_days`` = 0 keeps every file. Without ``fsync`` a crashing process loses
    nothing ``publish`` accepted, and a power cut may lose the last seconds of records (a
    torn last line is cut on reopening); ``fsync`` = True makes each record durable before
    ``publish`` returns, slower and harder on SD cards.
    """

    name = "files"

    def __init__(
        self, out_dir: str | Path, retention_days: int = 7, *, fsync: bool = False
    ) -> None:
        if isinstance(retention_days, bool) or not isinstance(retention_days, int):
            raise TypeError(f"retention_days must be an int, got {type(retention_days).__name__}")
        if retention_days < 0:
            raise ValueError(
                f"retention_days must be >= 0 (0 keeps all files), got {retention_days}"
            )
        self.out_dir = Path(out_dir)
        self.retention_days = retention_days
        self.fsync = fsync
        self._files: dict[str, _DayFile] = {}
        self._lock = threading.Lock()
        self._next_sweep = 0.0  # time.monotonic() of the next retention check
        self._closed = False
        self._announced: dict[str, Path] = {}  # camera -> the file last logged as written
        self.unwritten = 0  # records whose line could not be appended (disk full, read-only)
        self._outage: tuple[str, int] | None = None  # the failure, and lines lost since then

    def publish(self, record: ResultRecord) -> None:
        if not isinstance(record, ResultRecord):
            raise TypeError(f"publish takes a ResultRecord, got {type(record).__name__}")
        line = (record.to_json() + "\n").encode("utf-8")
        with self._lock:
            if self._closed:
                raise PublishError(f"files publisher for {self.out_dir} is closed")
            appended = False
            try:
                self._day_file(record).append(line, self.fsync)
                appended = True
                write_latest(camera_dir(self.out_dir, record.camera), line, self.fsync)
            except OSError as exc:
                self._forget(record.camera)
                raise self._failed(exc, appended) from exc
            self._resumed()
            self._sweep_if_due(record.time.date())

    def problem(self) -> str | None:
        if self._outage is None:
            return None
        return f"files: cannot write ({self._outage[0]}), {self._outage[1]} record(s) unwritten"

    def _failed(self, exc: OSError, appended: bool) -> PublishError:
        lost = 0 if appended else 1  # a line appended before latest.json failed is kept
        self.unwritten += lost
        previous = self._outage[1] if self._outage is not None else 0
        self._outage = (exc.strerror or str(exc), previous + lost)
        return PublishError(_failure(exc, self.out_dir))

    def _resumed(self) -> None:
        if self._outage is not None:
            logger.warning(
                "%s: writing results again; %d record(s) could not be written meanwhile",
                self.out_dir, self._outage[1],
            )  # fmt: skip
            self._outage = None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for camera in list(self._files):
                self._forget(camera)

    def _day_file(self, record: ResultRecord) -> _DayFile:
        day = record.time.date()
        current = self._files.get(record.camera)
        if current is not None and current.is_current(day):
            return current
        self._forget(record.camera)
        path = camera_dir(self.out_dir, record.camera) / day_file_name(day)
        self._files[record.camera] = opened = _DayFile.open(path, day)
        self._next_sweep = 0.0  # a new day: check retention now
        if self._announced.get(record.camera) != path:  # not again on each reopening
            if record.camera not in self._announced:  # first write here: a crash's leftovers
                _remove_stale_temporaries(path.parent, older_than=STALE_TEMPORARY_S)
            self._announced[record.camera] = path
            logger.info("writing %s", path)
        return opened

    def _forget(self, camera: str) -> None:
        """Close a camera's file; the next record opens (and repairs) it again."""
        day_file = self._files.pop(camera, None)
        if day_file is not None:
            try:
                day_file.close()
            except OSError as exc:
                logger.warning("%s: closing failed: %s", day_file.path, exc)

    def _sweep_if_due(self, today: date) -> None:
        now = time.monotonic()
        if self.retention_days and now >= self._next_sweep:
            self._next_sweep = now + SWEEP_INTERVAL
            try:
                remove_old_files(self.out_dir, today - timedelta(days=self.retention_days))
            except OSError as exc:
                logger.warning(
                    "%s: could not check for expired results files: %s", self.out_dir, exc
                )


def _failure(exc: OSError, out_dir: Path) -> str:
    where = exc.filename or out_dir
    return (
        f"cannot write results to {where}: {exc.strerror or exc}; free disk space or make "
        f"{out_dir} writable (writing resumes with the next record once it works)"
    )


def cut_torn_tail(fd: int, path: Path) -> int:
    """Cut a last line that has no newline (a write torn by a power cut); bytes removed."""
    size = os.fstat(fd).st_size
    keep = _complete_length(path, size)
    if keep < size:
        os.ftruncate(fd, keep)
        logger.warning(
            "%s: removed a torn last line (%d bytes without a newline, from an interrupted "
            "write); the %d bytes of complete lines are kept",
            path, size - keep, keep,
        )  # fmt: skip
    return size - keep


def _complete_length(path: Path, size: int, chunk: int = 1 << 16) -> int:
    """The length of a file up to and including its last newline."""
    with path.open("rb") as file:
        end = size
        while end > 0:
            start = max(0, end - chunk)
            file.seek(start)
            newline = file.read(end - start).rfind(b"\n")
            if newline >= 0:
                return start + newline + 1
            end = start
    return 0


def write_latest(
    directory: Path, data: bytes, fsync: bool = False, name: str = LATEST_FILE
) -> None:
    """Replace ``latest.json`` (or ``name``) atomically: a temporary file beside it, then
    os.replace."""
    fd, temporary_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    temporary = Path(temporary_name)
    try:
        try:
            os.fchmod(fd, FILE_MODE)
            written = os.write(fd, data)
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        if written != len(data):
            raise OSError(errno.ENOSPC, "short write (disk full?)", temporary_name)
        temporary.replace(directory / name)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise


def remove_old_files(out_dir: str | Path, before: date) -> list[Path]:
    """Remove every camera's daily files dated before ``before``; the paths removed."""
    root = Path(out_dir)
    removed: list[Path] = []
    cameras = root.iterdir() if root.is_dir() else iter(())
    for directory in (path for path in cameras if NAME_PATTERN.fullmatch(path.name)):
        for path in day_files(directory):
            day = day_of_file(path)
            if day is not None and day < before and _remove(path):
                removed.append(path)
        _remove_stale_temporaries(directory)
    return removed


def _remove_stale_temporaries(directory: Path, older_than: float = SWEEP_INTERVAL) -> None:
    """Temporary latest.json files left by a crash between writing and renaming."""
    try:
        leftovers = [
            path
            for path in directory.glob(f".{LATEST_FILE}.*.tmp")
            if time.time() - path.stat().st_mtime > older_than
        ]
    except OSError:  # a directory that is not there yet, or one removed meanwhile
        return
    for path in leftovers:
        _remove(path, "left by an interrupted write")


def _remove(path: Path, why: str = "older than the retention period") -> bool:
    try:
        path.unlink()
    except OSError as exc:
        logger.warning("%s: could not remove an expired results file: %s", path, exc)
        return False
    logger.info("%s: removed (%s)", path, why)
    return True


def last_seq(out_dir: str | Path, camera: str) -> int | None:
    """The highest ``seq`` of a camera's newest records (latest.json and the newest daily
    file), or None when it has none yet: the daemon continues from it after a restart."""
    directory = camera_dir(out_dir, camera)
    records = [_read_latest(directory / LATEST_FILE), *newest_of_camera(directory, 1)]
    return max((record.seq for record in records if record is not None), default=None)


def _read_latest(path: Path) -> ResultRecord | None:
    try:
        return ResultRecord.from_json(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, RecordError) as err:
        logger.warning("%s: ignored, not a readable result record: %s", path, err)
        return None
