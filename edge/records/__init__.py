"""Result records: the record itself, its checks and schema, and the readers.

    record.py   ResultRecord (one per processed frame), format_ts / parse_ts, schema()
    parts.py    its parts (FrameSize, ColorShare, LabelScore, Classified, AnomalyResult,
                Timing): frozen, checked where they are made; the stages make them
    checks.py   the checks of the values; RecordError names the key path
    files.py    the files' layout and readers: read_records, last_records, follow_records
    mqtt.py     records from a broker: subscribe_records (paho loaded only then)

The record modules are leaves: stages, readers and publishers import them, never the reverse.
Scripts import the public names from here::

    from edge.records import read_records
    for record in read_records("edge-results/front"):
        print(record.seq, record.classification)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from edge.records.checks import NAME_PATTERN, RecordError, check_name
from edge.records.files import follow_records, last_records, read_records
from edge.records.parts import (
    REQUIRED_KEYS,
    AnomalyResult,
    CandidateResult,
    Classified,
    ColorShare,
    FrameSize,
    LabelScore,
    Timing,
)
from edge.records.record import ResultRecord, format_ts, parse_ts, schema

if TYPE_CHECKING:
    from edge.records.mqtt import subscribe_records

__all__ = [
    "NAME_PATTERN", "REQUIRED_KEYS", "AnomalyResult", "CandidateResult", "Classified",
    "ColorShare", "FrameSize", "LabelScore", "RecordError", "ResultRecord", "Timing",
    "check_name", "follow_records",
    "format_ts", "last_records", "parse_ts", "read_records", "schema", "subscribe_records",
]  # fmt: skip


def __getattr__(name: str) -> Any:
    """``subscribe_records`` is imported on first use: it loads paho."""
    if name == "subscribe_records":
        from edge.records.mqtt import subscribe_records

        return subscribe_records
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
