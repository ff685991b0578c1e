"""Result records for tests: one builder, with defaults that every part of the record uses.

``make_record()`` is a ``ResultRecord`` with three colors, a classification, an anomaly verdict
and timings; keyword arguments replace a field or a part (a part object or its dict form).
``label``, ``rgb`` and ``anomaly=True`` are the short forms of the parts that publish-on-change
looks at. ``record_dict()`` is the same record as the JSON object of the schema, written out
by hand (not made by ``ResultRecord``).
"""

from __future__ import annotations

from typing import Any

from edge.records import ResultRecord, format_ts

TS = 1795957507.123  # 2026-11-29T13:05:07.123Z
TS_TEXT = "2026-11-29T13:05:07.123Z"
_UNSET: Any = object()


def parts() -> dict[str, Any]:
    """The frame, colors, classification, anomaly, timings and (no) candidate of the default
    record."""
    return {
        "frame": {"width": 640, "height": 480},
        "colors": [
            {"hex": "#3a5f8c", "rgb": [58, 95, 140], "fraction": 0.41},
            {"hex": "#f0e0d0", "rgb": [240, 224, 208], "fraction": 0.32},
            {"hex": "#000000", "rgb": [0, 0, 0], "fraction": 0.27},
        ],
        "classification": {
            "model": "digits",
            "top": [
                {"label": "7", "score": 0.98},
                {"label": "3", "score": 0.01},
                {"label": "1", "score": 0.005},
            ],
        },
        "anomaly": {"model": "ae", "score": 0.012, "threshold": 0.031, "is_anomaly": False},
        "timing_ms": {
            "capture": 1.0,
            "colors": 2.0,
            "classify": 5.0,
            "anomaly": 4.3,
            "total": 12.3,
        },
        "candidate": None,
    }


def make_record(
    seq: int = 42,
    *,
    device: str = "pi",
    camera: str = "front",
    timestamp: float = TS,
    label: str | None = _UNSET,
    rgb: tuple[int, int, int] | None = None,
    anomaly: Any = _UNSET,
    **changes: Any,
) -> ResultRecord:
    """The default record with ``changes`` (``classification=None`` and so on).

    ``label``: a classification whose top label it is (None: no classification); ``rgb``: one
    dominant color; ``anomaly``: True or False for a verdict, a part, a dict or None as it is."""
    fields = parts()
    if label is not _UNSET:
        fields["classification"] = None if label is None else _classified(label)
    if rgb is not None:
        fields["colors"] = [
            {"hex": "#{:02x}{:02x}{:02x}".format(*rgb), "rgb": list(rgb), "fraction": 1.0}
        ]
    if isinstance(anomaly, bool):
        fields["anomaly"] = _verdict(anomaly)
    elif anomaly is not _UNSET:
        fields["anomaly"] = anomaly
    fields.update(changes)
    head = {"schema": 1, "device": device, "camera": camera, "seq": seq, "ts": format_ts(timestamp)}
    return ResultRecord.from_dict({**head, **{key: _plain(value) for key, value in fields.items()}})


def _plain(value: Any) -> Any:
    """Parts (anything with ``as_dict()``) and lists of them as their JSON form."""
    if hasattr(value, "as_dict"):
        return value.as_dict()
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def record_dict(**changes: Any) -> dict[str, Any]:
    """The default record as the schema's JSON object, with ``changes``."""
    data = {"schema": 1, "device": "pi", "camera": "front", "seq": 42, "ts": TS_TEXT, **parts()}
    data.update(changes)
    return data


def _classified(label: str) -> dict[str, Any]:
    return {
        "model": "digits",
        "top": [{"label": label, "score": 0.9}, {"label": "1", "score": 0.1}],
        "label": label,
    }


def _verdict(is_anomaly: bool) -> dict[str, Any]:
    score = 0.5 if is_anomaly else 0.01
    return {"model": "ae", "score": score, "threshold": 0.03, "is_anomaly": is_anomaly}
