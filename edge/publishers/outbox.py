"""The MQTT outbox: results not yet acknowledged by the broker, durable in SQLite.

    outbox(id, topic, payload, qos, retain, created)   one row per message, id ascending
    meta(key, value)                                   counters that survive restarts: dropped

Every result is added before it is sent and removed when the broker acknowledges it, so
neither a broker that is away nor a daemon that stops loses one; they are sent again in id
order. The table is bounded: beyond ``max_rows`` the oldest rows are dropped and counted.
WAL mode with ``synchronous=NORMAL``: a commit is an append to the WAL, without an fsync per
record (kind to SD cards); a power cut may lose the last moments, a crash loses nothing.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from edge.errors import ConfigError, PublishError

logger = logging.getLogger(__name__)

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
        if self._depth:
            logger.info("%s: %d undelivered message(s) from before", self.path, self._depth)

    def __len__(self) -> int:
        return self._depth

    def add(self, topic: str, payload: bytes, qos: int, retain: bool = False) -> int:
        """Store a message; returns how many old ones were dropped to stay within max_rows."""
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO outbox (topic, payload, qos, retain, created) VALUES (?,?,?,?,?)",
                    (topic, payload, qos, int(retain), time.time()),
                )
                self._depth += 1
                dropped = self._trim()
                self._db.commit()
            except sqlite3.Error as exc:
                self._db.rollback()
                raise PublishError(f"{self.path}: cannot store a result ({exc})") from exc
            return dropped

    def after(self, last_id: int, limit: int) -> list[Message]:
        """Up to ``limit`` messages with an id above ``last_id``, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, topic, payload, qos, retain FROM outbox WHERE id > ? "
                "ORDER BY id LIMIT ?",
                (last_id, limit),
            ).fetchall()
        return [Message(row[0], row[1], bytes(row[2]), row[3], bool(row[4])) for row in rows]

    def remove(self, message_id: int) -> None:
        """Forget a delivered message (nothing happens if it was dropped meanwhile)."""
        with self._lock:
            try:
                deleted = self._db.execute("DELETE FROM outbox WHERE id = ?", (message_id,))
                self._depth -= deleted.rowcount
                self._db.commit()
            except sqlite3.Error as exc:  # delivered anyway: at worst it is sent again
                logger.warning("%s: cannot remove a delivered message: %s", self.path, exc)

    def oldest_id(self) -> int:
        """The id just below the oldest stored message (0 when empty)."""
        with self._lock:
            row = self._db.execute("SELECT MIN(id) FROM outbox").fetchone()
        return int(row[0]) - 1 if row and row[0] is not None else 0

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _trim(self) -> int:
        excess = self._depth - self.max_rows
        if excess <= 0:
            return 0
        self._db.execute(
            "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT ?)",
            (excess,),
        )
        self._depth -= excess
        self.dropped += excess
        self._db.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('dropped', ?)", (self.dropped,)
        )
        return excess

    def _count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

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
