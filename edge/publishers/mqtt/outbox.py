"""The MQTT outbox: results not yet acknowledged by the broker, durable in SQLite.

    outbox(id, topic, payload, qos, retain, created)   one row per message, id ascending
    meta(key, value)                                   counters that survive restarts: dropped

Every result is added before it is sent and removed when the broker acknowledges it, so
neither a broker that is away nor a daemon that stops loses one; they are sent again in id
order. The table is bounded: beyond ``max_rows`` the oldest rows are dropped and counted.
WAL mode with ``synchronous=NORMAL``: a commit is an append to the WAL, without an fsync per
record (kind to SD cards); a power cut may lose the last moments, a crash loses nothing.

A disk that refuses writes (full, or remounted read-only) costs no result while the process
runs: new messages are held in memory (ids going on from the stored ones, at most ``max_rows``)
and delivered from there, deletes of delivered rows are remembered, and both are written at the
first write that works again. The problem is logged once per ``DISK_LOG_S``; what is still held
in memory when the outbox closes is lost, and logged with its count.
"""

from __future__ import annotations

import itertools
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from edge.errors import ConfigError
from edge.throttle import ThrottledLog

logger = logging.getLogger(__name__)

DISK_LOG_S = 60.0  # a disk that refuses writes is reported at most this often

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    qos INTEGER NOT NULL,
    retain INTEGER NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


@dataclass(frozen=True)
class Message:
    """One stored message; ``id`` orders them."""

    id: int
    topic: str
    payload: bytes
    qos: int
    retain: bool


class Outbox:
    """A bounded, durable FIFO of MQTT messages; safe to use from several threads."""

    def __init__(self, path: str | Path, max_rows: int = 100_000) -> None:
        if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1:
            raise ValueError(f"max_rows must be a positive integer, got {max_rows!r}")
        self.path = Path(path)
        self.max_rows = max_rows
        self._lock = threading.Lock()
        self._db = _connect(self.path)
        self._depth = self._count()
        self.dropped = self._meta("dropped")
        self._last_id = self._max_id()
        self._held: dict[int, tuple[Message, float]] = {}  # not yet on disk: id -> (row, created)
        self._undeleted: set[int] = set()  # delivered, but the disk refused the delete
        self.disk_problem: str | None = None  # why the last write failed; None once one works
        self._disk_log = ThrottledLog(logger, DISK_LOG_S)  # keys: "refused", "stored"
        if self._depth:
            logger.info("%s: %d undelivered message(s) from before", self.path, self._depth)

    def __len__(self) -> int:
        return self._depth

    @property
    def held(self) -> int:
        """Messages kept in memory because the disk refuses writes."""
        return len(self._held)

    def add(self, topic: str, payload: bytes, qos: int, retain: bool = False) -> int:
        """Store a message; returns how many old ones were dropped to stay within max_rows."""
        with self._lock:
            self._last_id += 1
            message = Message(self._last_id, topic, payload, qos, bool(retain))
            self._held[message.id] = (message, time.time())
            self._depth += 1
            return self._write()

    def after(self, last_id: int, limit: int) -> list[Message]:
        """Up to ``limit`` messages with an id above ``last_id``, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, topic, payload, qos, retain FROM outbox WHERE id > ? "
                "ORDER BY id LIMIT ?",
                (last_id, limit + len(self._undeleted)),
            ).fetchall()
            found = [
                Message(row[0], row[1], bytes(row[2]), row[3], bool(row[4]))
                for row in rows
                if row[0] not in self._undeleted
            ][:limit]
            held = (message for message, _ in self._held.values() if message.id > last_id)
            found.extend(itertools.islice(held, limit - len(found)))
        return found

    def remove(self, message_id: int) -> None:
        """Forget a delivered message (nothing happens if it was dropped meanwhile)."""
        with self._lock:
            if self._held.pop(message_id, None) is not None:
                self._depth -= 1
                return
            try:
                deleted = self._db.execute("DELETE FROM outbox WHERE id = ?", (message_id,))
                self._db.commit()
                self._depth -= deleted.rowcount
            except sqlite3.Error as exc:  # deleted with the next write that works
                self._db.rollback()
                if message_id not in self._undeleted:
                    self._undeleted.add(message_id)
                    self._depth -= 1
                self._refused(exc)

    def oldest_id(self) -> int:
        """The id just below the oldest stored or held message (0 when empty)."""
        with self._lock:
            row = self._db.execute("SELECT MIN(id) FROM outbox").fetchone()
            held = next(iter(self._held), None)
        oldest = row[0] if row and row[0] is not None else held
        return int(oldest) - 1 if oldest is not None else 0

    def close(self) -> None:
        with self._lock:
            if self._held or self._undeleted:
                self._write()
            if self._held:
                logger.error(
                    "%s: %d undelivered message(s) lost: the disk refused to store them (%s)",
                    self.path, len(self._held), self.disk_problem,
                )  # fmt: skip
            self._db.close()

    def _write(self) -> int:
        """Write the held messages and pending deletes in one transaction; the number of old
        messages dropped to stay within max_rows. A refusal keeps them for the next try."""
        excess = max(0, self._depth - self.max_rows)
        try:
            self._db.executemany(
                "DELETE FROM outbox WHERE id = ?", [(row,) for row in self._undeleted]
            )
            self._db.executemany(
                "INSERT INTO outbox (id, topic, payload, qos, retain, created) "
                "VALUES (?,?,?,?,?,?)",
                [(m.id, m.topic, m.payload, m.qos, int(m.retain), created)
                 for m, created in self._held.values()],
            )  # fmt: skip
            if excess:
                self._trim(excess)
            self._db.commit()
        except sqlite3.Error as exc:
            self._db.rollback()
            self._refused(exc)
            return self._trim_held(excess)
        self._stored()
        self._depth -= excess
        self.dropped += excess
        return excess

    def _trim(self, excess: int) -> None:
        self._db.execute(
            "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT ?)",
            (excess,),
        )
        self._db.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('dropped', ?)",
            (self.dropped + excess,),
        )

    def _trim_held(self, excess: int) -> int:
        """Drop the oldest held messages beyond max_rows (the stored ones cannot be deleted)."""
        dropped = 0
        while len(self._held) > self.max_rows or (excess > dropped and self._held):
            del self._held[next(iter(self._held))]
            dropped += 1
        self._depth -= dropped
        self.dropped += dropped
        return dropped

    def _stored(self) -> None:
        held, problem = len(self._held), self.disk_problem
        self._held.clear()
        self._undeleted.clear()
        self.disk_problem = None
        if problem is not None:
            self._disk_log.warning(
                "stored", "%s: writable again; %d held message(s) stored", self.path, held
            )

    def _refused(self, exc: sqlite3.Error) -> None:
        self.disk_problem = str(exc)
        self._disk_log.warning(
            "refused",
            "%s: cannot write (%s); free disk space or make the directory writable. "
            "Results are held in memory meanwhile (%d now)",
            self.path, exc, len(self._held),
        )  # fmt: skip

    def _count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    def _max_id(self) -> int:
        row = self._db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").fetchone()
        return int(row[0]) if row else 0

    def _meta(self, key: str) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0


def _connect(path: Path) -> sqlite3.Connection:
    """The database, created if needed; a corrupt one is moved aside and started afresh."""
    try:
        return _open(path)
    except sqlite3.OperationalError as exc:  # cannot open, locked, read-only
        raise _unusable(path, exc) from exc
    except sqlite3.DatabaseError as exc:  # not a database: a torn or foreign file
        aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
        logger.error("%s: not a usable outbox (%s); moved to %s, starting empty", path, exc, aside)
        path.replace(aside)
        for suffix in ("-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
    try:
        return _open(path)
    except (OSError, sqlite3.Error) as exc:
        raise _unusable(path, exc) from exc


def _open(path: Path) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _unusable(path, exc) from exc
    db = sqlite3.connect(path, check_same_thread=False, timeout=5.0)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(SCHEMA)
    except sqlite3.Error:
        db.close()
        raise
    return db


def _unusable(path: Path, exc: Exception) -> ConfigError:
    return ConfigError(
        f"outputs.mqtt.outbox: cannot open {path} ({exc}); make its directory writable "
        "or set another path"
    )
