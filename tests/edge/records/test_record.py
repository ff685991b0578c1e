"""The result record: construction, JSON round trips, the shipped schema, the file readers."""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import math
import re
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.records import (
    REQUIRED_KEYS,
    AnomalyResult,
    CandidateResult,
    Classified,
    ColorShare,
    FrameSize,
    LabelScore,
    RecordError,
    ResultRecord,
    Timing,
    format_ts,
    last_records,
    parse_ts,
    read_records,
    schema,
)

from ...support.records import make_record, record_dict
from ...support.schema import VALIDATOR

TS = 1795957507.123  # 2026-11-29T13:05:07.123Z


def assert_valid(record: ResultRecord) -> None:
    data = record.as_dict()
    VALIDATOR.validate(data)
    assert json.loads(record.to_json()) == data


# --- construction and round trips -------------------------------------------------------------


def test_a_record_round_trips_through_dict_and_json() -> None:
    record = ResultRecord.from_dict(record_dict(status="ok", smoothed={"n": [1, 2.5]}))
    assert ResultRecord.from_dict(record.as_dict()) == record
    assert ResultRecord.from_json(record.to_json()) == record
    assert ResultRecord.from_json(record.to_json().encode("utf-8")) == record
    assert record.as_dict() == record_dict(status="ok", smoothed={"n": [1, 2.5]})
    assert_valid(record)


def test_create_takes_the_pipelines_objects() -> None:
    record = ResultRecord.create(
        device="pi",
        camera="front",
        seq=0,
        timestamp=TS,
        frame=FrameSize(64, 48),
        colors=[ColorShare.from_rgb((58, 95, 140), 1.0)],
        classification=Classified("digits", (LabelScore("7", 0.9), LabelScore("1", 0.1))),
        anomaly=AnomalyResult.from_score("ae", 0.05, 0.031),
        timing_ms=Timing(capture=1, colors=2, classify=3, anomaly=4, total=10),
        status="anomaly",
    )
    assert record.classification is not None and record.classification.top[0].label == "7"
    assert record.anomaly is not None and record.anomaly.is_anomaly
    assert record.colors[0].hex == "#3a5f8c"
    assert record.extra == {"status": "anomaly"}
    assert record.timing_ms.total == 10.0 and isinstance(record.timing_ms.total, float)
    assert_valid(record)


def create(**changes: Any) -> ResultRecord:
    parts: dict[str, Any] = {
        "device": "pi",
        "camera": "front",
        "seq": 0,
        "timestamp": TS,
        "frame": FrameSize(64, 48),
        "colors": [ColorShare.from_rgb((58, 95, 140), 0.6), ColorShare.from_rgb((0, 0, 0), 0.4)],
        "timing_ms": Timing(capture=1, colors=2, total=3),
    }
    return ResultRecord.create(**{**parts, **changes})


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"frame": {"width": 64, "height": 48}}, TypeError, "frame must be a FrameSize, got {"),
        ({"colors": [{"hex": "#000000"}]}, TypeError, "colors must be a ColorShare, got {"),
        ({"anomaly": 0.5}, TypeError, "anomaly must be an AnomalyResult, got 0.5"),
        ({"timing_ms": None}, TypeError, "timing_ms must be a Timing, got None"),
        ({"colors": []}, RecordError, "colors: expected at least one item"),
        ({"colors": [ColorShare.from_rgb((0, 0, 0), 0.5)]}, RecordError, "sum of 0.5000"),
        (
            {"colors": [ColorShare.from_rgb((0, 0, 0), 0.4), ColorShare.from_rgb((9, 9, 9), 0.6)]},
            RecordError,
            "colors[1].fraction: expected the largest fraction first",
        ),
        ({"camera": "../etc"}, RecordError, "camera: expected 1 to 64 letters"),
        ({"seq": -1}, RecordError, "seq: expected an integer >= 0"),
        ({"schema": 2}, RecordError, "schema: is a required key"),
    ],
)
def test_create_takes_parts_and_checks_how_they_fit(
    changes: dict[str, Any], error: type[Exception], message: str
) -> None:
    assert_valid(create())
    with pytest.raises(error, match=re.escape(message)):
        create(**changes)


def test_the_stages_constructors_keep_what_the_record_keeps() -> None:
    assert LabelScore.from_probability("7", 0.12345678) == LabelScore("7", 0.123457)
    anomaly = AnomalyResult.from_score("ae", 0.0300004, 0.03)
    assert (anomaly.score, anomaly.threshold, anomaly.is_anomaly) == (0.03, 0.03, True)
    with pytest.raises(RecordError, match=r"^score: expected a finite number, got nan"):
        AnomalyResult.from_score("ae", math.nan, 0.03)
    assert ColorShare.from_hex("#3A5F8C", 0.5) == ColorShare("#3a5f8c", (58, 95, 140), 0.5)


def test_each_part_round_trips_through_its_dict() -> None:
    record = ResultRecord.from_dict(record_dict())
    parts = (record.frame, record.colors[0], record.classification, record.anomaly)
    for part in (*parts, record.timing_ms):
        assert part is not None and type(part).from_dict(part.as_dict()) == part


def test_stages_that_did_not_run_are_null() -> None:
    record = ResultRecord.from_dict(
        record_dict(
            classification=None,
            anomaly=None,
            timing_ms={"capture": 1, "colors": 2, "classify": None, "anomaly": None, "total": 3},
        )
    )
    data = record.as_dict()
    assert data["classification"] is None and data["anomaly"] is None
    assert data["timing_ms"]["classify"] is None and data["timing_ms"]["anomaly"] is None
    assert_valid(record)


def test_the_wait_for_a_frame_is_optional_and_apart_from_capture() -> None:
    timing = {"capture": 1.2, "colors": 2, "classify": None, "anomaly": None, "total": 4}
    old = make_record(timing_ms=timing)
    assert "wait" not in old.as_dict()["timing_ms"] and old.timing_ms.wait is None
    VALIDATOR.validate(old.as_dict())  # records written before it existed stay valid
    new = make_record(timing_ms={**timing, "wait": 97.6543})
    assert new.timing_ms.wait == 97.654
    assert ResultRecord.from_json(new.to_json()) == new
    VALIDATOR.validate(new.as_dict())


CANDIDATE = {"model": "door2", "top": [{"label": "cat", "score": 0.9}], "label": "cat",
             "agrees": False}  # fmt: skip


def test_every_record_says_what_its_candidate_thought_or_null() -> None:
    without = make_record()
    assert without.candidate is None and without.as_dict()["candidate"] is None
    with_candidate = make_record(candidate=CANDIDATE)
    assert with_candidate.candidate == CandidateResult.from_dict(CANDIDATE)
    assert with_candidate.as_dict()["candidate"] == CANDIDATE
    assert ResultRecord.from_json(with_candidate.to_json()) == with_candidate
    VALIDATOR.validate(with_candidate.as_dict())
    old = record_dict()
    del old["candidate"]  # records made before it existed
    assert ResultRecord.from_dict(old).candidate is None
    VALIDATOR.validate(old)
    with pytest.raises(RecordError, match="candidate: is a record's own key"):
        dataclasses.replace(without, extra={"candidate": 1})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"agrees": "yes"}, "candidate.agrees: expected true or false"),
        ({"label": ""}, "candidate.label: expected a non-empty string"),
        ({"top": []}, "candidate.top: expected at least one item"),
        ({"why": 1}, "candidate: unexpected key(s) why"),
    ],
)
def test_a_bad_candidate_is_named_by_the_record_and_the_schema(
    change: dict[str, Any], message: str
) -> None:
    data = record_dict(candidate={**CANDIDATE, **change})
    with pytest.raises(RecordError, match=re.escape(message)):
        ResultRecord.from_dict(data)
    with pytest.raises(jsonschema.ValidationError):
        VALIDATOR.validate(data)


def test_a_record_is_immutable() -> None:
    record = ResultRecord.from_dict(record_dict(smoothed={"n": [1]}))
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.seq = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        record.extra["status"] = "x"  # type: ignore[index]
    assert isinstance(record.colors, tuple) and isinstance(record.colors[0].rgb, tuple)
    assert isinstance(record.extra["smoothed"]["n"], tuple)
    assert hash(record) == hash(ResultRecord.from_json(record.to_json()))


def test_to_json_is_one_compact_utf8_line() -> None:
    top = [{"label": "Käse\nwheel", "score": 1.0}]
    record = ResultRecord.from_dict(record_dict(classification={"model": "m", "top": top}))
    text = record.to_json()
    assert "\n" not in text and ": " not in text and ", " not in text
    assert "Käse" in text


# --- time -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        (0.0, "1970-01-01T00:00:00.000Z"),
        (TS, "2026-11-29T13:05:07.123Z"),
        (1795957507.5, "2026-11-29T13:05:07.500Z"),
        (1795957507.0004, "2026-11-29T13:05:07.000Z"),
        (1795957507.9996, "2026-11-29T13:05:08.000Z"),  # rounding carries into the seconds
        (253402300799.999, "9999-12-31T23:59:59.999Z"),
    ],
)
def test_ts_is_utc_with_milliseconds(timestamp: float, expected: str) -> None:
    assert format_ts(timestamp) == expected
    assert parse_ts(expected) == round(timestamp * 1000) / 1000
    assert ResultRecord.from_dict(record_dict(ts=expected)).ts == expected


def test_ts_does_not_depend_on_the_local_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        record = ResultRecord.from_dict(record_dict())
        assert record.ts == "2026-11-29T13:05:07.123Z"
        assert record.time == datetime(2026, 11, 29, 13, 5, 7, 123000, tzinfo=timezone.utc)
    finally:
        monkeypatch.undo()
        time.tzset()


def test_timestamp_is_kept_to_the_millisecond_so_json_round_trips() -> None:
    record = ResultRecord.from_dict(record_dict())
    moved = dataclasses.replace(record, timestamp=TS + 0.0004567)
    assert moved.timestamp == TS
    aware = dataclasses.replace(
        record,
        timestamp=datetime(2026, 11, 29, 13, 5, 7, 123456, tzinfo=timezone.utc),  # type: ignore[arg-type]
    )
    assert aware.timestamp == TS


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-24T13:05:07Z",
        "2026-11-24T13:05:07.12Z",
        "2026-11-24 13:05:07.123Z",
        "2026-11-24T13:05:07.123+00:00",
        "2026-11-24T13:05:07.123",
        "2026-02-30T00:00:00.000Z",
        "2026-11-24T24:00:00.000Z",
        "٢٠٢٦-11-24T13:05:07.123Z",
        1795957507.123,
    ],
)
def test_bad_ts_is_rejected(text: object) -> None:
    with pytest.raises(RecordError, match=r"^ts: expected"):
        ResultRecord.from_dict(record_dict(ts=text))


# --- bad records ------------------------------------------------------------------------------


def changed(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    """Set (or, for value DELETE, remove) the key at a dotted path like colors.0.fraction."""

    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = data
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        key_or_index: Any = int(last) if isinstance(target, list) else last
        if value is DELETE:
            del target[key_or_index]
        else:
            target[key_or_index] = value

    return change


DELETE = object()
UNSORTED = [
    {"hex": "#000000", "rgb": [0, 0, 0], "fraction": 0.4},
    {"hex": "#ffffff", "rgb": [255, 255, 255], "fraction": 0.6},
]

# change, expected message fragment, whether the JSON Schema alone rejects it too
BAD_RECORDS = [
    (changed("schema", DELETE), "schema: missing (a required key)", True),
    (changed("anomaly", DELETE), "anomaly: missing (a required key)", True),
    (changed("schema", 2), "schema: expected 1, got 2", True),
    (changed("schema", True), "schema: expected 1, got True (bool)", True),
    (changed("device", ""), "device: expected 1 to 64 letters", True),
    (changed("camera", "../etc"), "camera: expected 1 to 64 letters", True),
    (changed("camera", "a" * 65), "camera: expected 1 to 64 letters", True),
    (changed("camera", 7), "camera: expected a string, got 7", True),
    (changed("seq", -1), "seq: expected an integer >= 0, got -1", True),
    (changed("seq", 1.5), "seq: expected an integer, got 1.5", True),
    (changed("seq", True), "seq: expected an integer, got True (bool)", True),
    (changed("seq", "3"), "seq: expected an integer, got '3' (str)", True),
    (changed("frame", [640, 480]), "frame: expected an object, got [640, 480] (list)", True),
    (changed("frame.width", 0), "frame.width: expected an integer >= 1, got 0", True),
    (changed("frame.height", DELETE), "frame.height: missing (a required key)", True),
    (changed("frame.depth", 3), "frame: unexpected key(s) depth; expected width, height", True),
    (changed("colors", []), "colors: expected at least one item, got an empty list", True),
    (changed("colors", {}), "colors: expected a list, got {} (dict)", True),
    (
        changed("colors.0.fraction", 1.5),
        "colors[0].fraction: expected a number in [0, 1], got 1.5",
        True,
    ),
    (
        changed("colors.1.fraction", "0.3"),
        "colors[1].fraction: expected a number, got '0.3' (str)",
        True,
    ),
    (
        changed("colors.2.rgb", [0, 0]),
        "colors[2].rgb: expected 3 integers (red, green, blue), got 2",
        True,
    ),
    (
        changed("colors.2.rgb.1", 256),
        "colors[2].rgb[1]: expected an integer in [0, 255], got 256",
        True,
    ),
    (changed("colors.0.hex", "#3A5F8C"), "colors[0].hex: expected '#3a5f8c', the rgb value", True),
    (changed("colors.0.hex", "#000000"), "colors[0].hex: expected '#3a5f8c', the rgb value", False),
    (changed("colors.0.name", "blue"), "colors[0]: unexpected key(s) name", True),
    (changed("colors", UNSORTED), "colors[1].fraction: expected the largest fraction first", False),
    (
        changed("colors.0.fraction", 0.1),
        "colors[1].fraction: expected the largest fraction first",
        False,
    ),
    (
        changed("colors.2.fraction", 0.01),
        "colors: expected fractions that sum to 1, got a sum of 0.7400",
        False,
    ),
    (changed("classification", "7"), "classification: expected an object, got '7' (str)", True),
    (
        changed("classification.model", ""),
        "classification.model: expected a non-empty string",
        True,
    ),
    (changed("classification.top", []), "classification.top: expected at least one item", True),
    (
        changed("classification.top.0.score", 1.01),
        "classification.top[0].score: expected a number in [0, 1]",
        True,
    ),
    (
        changed("classification.top.1.score", 0.99),
        "classification.top[1].score: expected the largest score first",
        False,
    ),
    (
        changed("classification.top.0.label", None),
        "classification.top[0].label: expected a string, got None",
        True,
    ),
    (
        changed("anomaly.is_anomaly", "no"),
        "anomaly.is_anomaly: expected true or false, got 'no' (str)",
        True,
    ),
    (changed("anomaly.is_anomaly", 0), "anomaly.is_anomaly: expected true or false, got 0", True),
    (changed("anomaly.score", -0.5), "anomaly.score: expected a number >= 0, got -0.5", True),
    (changed("anomaly.threshold", None), "anomaly.threshold: expected a number, got None", True),
    (changed("timing_ms.total", None), "timing_ms.total: expected a number, got None", True),
    (changed("timing_ms.capture", -1), "timing_ms.capture: expected a number >= 0, got -1.0", True),
    (changed("timing_ms.classify", DELETE), "timing_ms.classify: missing (a required key)", True),
    (changed("timing_ms.decode", 1.0), "timing_ms: unexpected key(s) decode", True),
    (changed("timing_ms.wait", -2), "timing_ms.wait: expected a number >= 0, got -2.0", True),
]


@pytest.mark.parametrize(("change", "message", "schema_rejects"), BAD_RECORDS)
def test_bad_records_say_where_and_what(
    change: Callable[[dict[str, Any]], None], message: str, schema_rejects: bool
) -> None:
    data = record_dict()
    change(data)
    with pytest.raises(RecordError) as caught:
        ResultRecord.from_dict(data)
    assert message in str(caught.value)
    assert str(caught.value).startswith(caught.value.path)
    assert VALIDATOR.is_valid(data) is not schema_rejects


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not valid JSON"),
        ('{"schema": 1,', "not valid JSON"),
        ("[1, 2]", "expected an object, got [1, 2] (list)"),
        (json.dumps(record_dict()).replace("12.3", "NaN"), "NaN is not a JSON number"),
        (json.dumps(record_dict()).replace("12.3", "Infinity"), "Infinity is not a JSON number"),
        (b'{"schema": 1, "device": "\xff"}', "not UTF-8 text"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
)
def test_bad_json_is_a_record_error(text: str | bytes, message: str) -> None:
    with pytest.raises(RecordError, match=re.escape(message)):
        ResultRecord.from_json(text)
    assert issubclass(RecordError, ValueError)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"status": object()}, "status: expected a JSON value, got <object"),
        ({"smoothed": {"n": [1.0, math.nan]}}, "smoothed.n[1]: expected a finite number, got nan"),
        ({"smoothed": {1: "x"}}, "smoothed: expected string keys, got 1"),
    ],
)
def test_extra_keys_must_be_json(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(RecordError, match=re.escape(message)):
        ResultRecord.from_dict(record_dict(**extra))


def test_extra_keys_cannot_replace_required_ones() -> None:
    record = ResultRecord.from_dict(record_dict())
    with pytest.raises(RecordError, match=r"^seq: is a required key"):
        dataclasses.replace(record, extra={"seq": 3})


def test_a_nan_from_python_is_rejected_before_it_reaches_json() -> None:
    with pytest.raises(RecordError, match=r"^fraction: expected a finite number, got nan"):
        ColorShare("#000000", (0, 0, 0), math.nan)


def test_the_schema_is_a_fresh_draft_2020_12_copy() -> None:
    loaded = schema()
    jsonschema.Draft202012Validator.check_schema(loaded)
    assert loaded["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert loaded["required"] == list(REQUIRED_KEYS)
    loaded["required"].clear()
    assert schema()["required"] == list(REQUIRED_KEYS)


# --- any valid record round-trips and validates --------------------------------------------

names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", fullmatch=True)
millis = st.floats(min_value=0, max_value=1e7, allow_nan=False, allow_infinity=False)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(), children, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def colors(draw: st.DrawFn) -> list[dict[str, Any]]:
    weights = draw(st.lists(st.integers(1, 1000), min_size=1, max_size=8))
    fractions = sorted((weight / sum(weights) for weight in weights), reverse=True)
    rgbs = draw(
        st.lists(
            st.tuples(*[st.integers(0, 255)] * 3), min_size=len(weights), max_size=len(weights)
        )
    )
    return [
        {"hex": "#{:02x}{:02x}{:02x}".format(*rgb), "rgb": list(rgb), "fraction": fraction}
        for rgb, fraction in zip(rgbs, fractions, strict=True)
    ]


@st.composite
def classifications(draw: st.DrawFn) -> dict[str, Any]:
    scores = sorted(draw(st.lists(st.floats(0, 1), min_size=1, max_size=5)), reverse=True)
    labels = draw(st.lists(st.text(), min_size=len(scores), max_size=len(scores)))
    top = [{"label": label, "score": score} for label, score in zip(labels, scores, strict=True)]
    return {"model": draw(st.text(min_size=1)), "top": top}


anomalies = st.fixed_dictionaries(
    {
        "model": st.text(min_size=1),
        "score": millis,
        "threshold": millis,
        "is_anomaly": st.booleans(),
    }
)
timings = st.fixed_dictionaries(
    {
        "capture": millis,
        "colors": millis,
        "classify": st.none() | millis,
        "anomaly": st.none() | millis,
        "total": millis,
    },
    optional={"wait": millis},
)
records = st.builds(
    dict,
    schema=st.just(1),
    device=names,
    camera=names,
    seq=st.integers(0, 2**63),
    ts=st.integers(0, 253402300799999).map(lambda ms: format_ts(ms / 1000)),
    frame=st.fixed_dictionaries(
        {"width": st.integers(1, 10_000), "height": st.integers(1, 10_000)}
    ),
    colors=colors(),
    classification=st.none() | classifications(),
    anomaly=st.none() | anomalies,
    timing_ms=timings,
).flatmap(
    lambda data: st.dictionaries(
        st.text().filter(lambda key: key not in REQUIRED_KEYS), json_values, max_size=3
    ).map(lambda extra: {**data, **extra})  # type: ignore[dict-item]
)


@given(records)
def test_any_valid_record_round_trips_and_validates(data: dict[str, Any]) -> None:
    record = ResultRecord.from_dict(copy.deepcopy(data))
    assert ResultRecord.from_json(record.to_json()) == record
    assert ResultRecord.from_dict(record.as_dict()) == record
    VALIDATOR.validate(record.as_dict())
    assert record.ts == data["ts"] and record.seq == data["seq"]


# --- readers ----------------------------------------------------------------------------------


def write_lines(path: Path, records: list[ResultRecord], tail: bytes = b"") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as file:
        file.write(b"".join(record.to_json().encode() + b"\n" for record in records) + tail)


def at(camera: str, seq: int, offset: float) -> ResultRecord:
    return dataclasses.replace(
        ResultRecord.from_dict(record_dict()), camera=camera, seq=seq, timestamp=TS + offset
    )


def test_read_records_merges_cameras_in_capture_order(tmp_path: Path) -> None:
    write_lines(
        tmp_path / "front" / "results-20261129.jsonl", [at("front", 0, 0), at("front", 1, 2)]
    )
    write_lines(tmp_path / "front" / "results-20261130.jsonl", [at("front", 2, 86400)])
    write_lines(tmp_path / "back" / "results-20261129.jsonl", [at("back", 0, 1), at("back", 1, 3)])
    (tmp_path / "front" / "latest.json").write_text(at("front", 2, 86400).to_json())
    found = [(record.camera, record.seq) for record in read_records(tmp_path)]
    assert found == [("front", 0), ("back", 0), ("front", 1), ("back", 1), ("front", 2)]
    assert [record.seq for record in read_records(tmp_path / "front")] == [0, 1, 2]
    single = read_records(tmp_path / "back" / "results-20261129.jsonl")
    assert [record.seq for record in single] == [0, 1]


def test_readers_skip_and_log_lines_that_are_not_records(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "front" / "results-20261129.jsonl"
    write_lines(path, [at("front", 0, 0)], b'{"not": "a record"}\nnot json\n\n')
    write_lines(path, [at("front", 1, 1)], b'{"schema":1,"dev')
    with caplog.at_level(logging.WARNING, logger="edge"):
        assert [record.seq for record in read_records(tmp_path)] == [0, 1]
    assert "results-20261129.jsonl:2: skipped a line that is not a result record" in caplog.text
    assert "results-20261129.jsonl:3:" in caplog.text and ":4:" not in caplog.text


def test_last_records_are_the_newest_across_files_and_cameras(tmp_path: Path) -> None:
    write_lines(
        tmp_path / "front" / "results-20261129.jsonl", [at("front", i, i) for i in range(5)]
    )
    write_lines(tmp_path / "front" / "results-20261130.jsonl", [at("front", 5, 86400)])
    write_lines(tmp_path / "back" / "results-20261130.jsonl", [at("back", 0, 86399)])
    assert [(r.camera, r.seq) for r in last_records(tmp_path, count=3)] == [
        ("front", 4),
        ("back", 0),
        ("front", 5),
    ]
    assert [r.seq for r in last_records(tmp_path, "front", count=2)] == [4, 5]
    assert last_records(tmp_path, "side") == []
    with pytest.raises(RecordError, match="camera: expected"):
        last_records(tmp_path, "../front")


def test_readers_say_when_the_path_is_missing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file or directory"):
        read_records(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="no such file or directory"):
        last_records(tmp_path / "missing")


def test_text_that_cannot_be_utf8_is_rejected() -> None:
    with pytest.raises(RecordError, match=r"^classification\.model: expected UTF-8 text"):
        ResultRecord.from_json(json.dumps(record_dict()).replace('"digits"', '"\\ud800"'))
