"""The MQTT outbox on a real SQLite file."""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

import pytest

from edge.errors import ConfigError
from edge.publishers.mqtt.outbox import Outbox


def test_messages_come_back_in_order_and_leave_when_removed(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite")
    for n in range(5):
        assert outbox.add(f"t/{n}", f"p{n}".encode(), qos=1, retain=n == 4) == 0
    messages = outbox.after(0, 3)
    assert [(m.topic, m.payload, m.qos, m.retain) for m in messages] == [
        ("t/0", b"p0", 1, False),
        ("t/1", b"p1", 1, False),
        ("t/2", b"p2", 1, False),
    ]
    assert [m.topic for m in outbox.after(messages[-1].id, 10)] == ["t/3", "t/4"]
    assert outbox.after(0, 10)[-1].retain
    outbox.remove(messages[0].id)
    outbox.remove(messages[0].id)  # twice: nothing happens
    assert len(outbox) == 4
    assert outbox.oldest_id() == messages[1].id - 1
    outbox.close()


def test_the_outbox_survives_a_restart_and_ids_keep_growing(tmp_path: Path) -> None:
    path = tmp_path / "state" / "outbox.sqlite"
    first = Outbox(path)
    for n in range(3):
        first.add("t", bytes([n]), 1)
    last = first.after(0, 10)[-1].id
    for message in first.after(0, 10):
        first.remove(message.id)
    first.add("t", b"kept", 1)
    first.close()
    second = Outbox(path)
    assert len(second) == 1
    kept = second.after(0, 10)
    assert [m.payload for m in kept] == [b"kept"] and kept[0].id > last
    second.add("t", b"new", 1)
    assert [m.payload for m in second.after(0, 10)] == [b"kept", b"new"]


def test_a_full_outbox_drops_the_oldest_and_counts_them_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    outbox = Outbox(path, max_rows=10)
    dropped = [outbox.add("t", str(n).encode(), 1) for n in range(25)]
    assert sum(dropped) == 15 and dropped[:10] == [0] * 10
    assert len(outbox) == 10 and outbox.dropped == 15
    assert [m.payload for m in outbox.after(0, 100)] == [str(n).encode() for n in range(15, 25)]
    outbox.close()
    again = Outbox(path, max_rows=10)
    assert again.dropped == 15 and len(again) == 10


def test_it_is_safe_from_several_threads(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite")

    def add(prefix: str) -> None:
        for n in range(100):
            outbox.add(prefix, str(n).encode(), 1)

    threads = [threading.Thread(target=add, args=(name,)) for name in "abcd"]
    for thread in threads:
        thread.start()
    for message in outbox.after(0, 50):
        outbox.remove(message.id)
    for thread in threads:
        thread.join()
    remaining = outbox.after(0, 1000)
    assert len(outbox) == len(remaining)
    for prefix in "abcd":
        payloads = [int(m.payload) for m in remaining if m.topic == prefix]
        assert payloads == sorted(payloads)  # each writer's order is kept


def test_it_uses_wal_mode(tmp_path: Path) -> None:
    Outbox(tmp_path / "outbox.sqlite").close()
    with sqlite3.connect(tmp_path / "outbox.sqlite") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_corrupt_outbox_is_moved_aside(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "outbox.sqlite"
    path.write_bytes(b"this is not a database, it is a torn file" * 100)
    with caplog.at_level(logging.ERROR):
        outbox = Outbox(path)
    assert len(outbox) == 0
    assert list(tmp_path.glob("outbox.sqlite.corrupt-*"))
    assert "not a usable outbox" in caplog.text


def test_an_unusable_place_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match=r"outputs\.mqtt\.outbox: cannot open"):
        Outbox(tmp_path / "file" / "outbox.sqlite")


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_max_rows_must_be_a_positive_integer(tmp_path: Path, bad: object) -> None:
    with pytest.raises(ValueError, match="max_rows"):
        Outbox(tmp_path / "o.sqlite", max_rows=bad)  # type: ignore[arg-type]
