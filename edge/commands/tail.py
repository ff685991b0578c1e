"""``edge tail``: result records as short lines for a terminal, from the files or a broker.

    13:05:07.123 front #42  cat  cat (0.91) dog (0.05)  anomaly 0.012/0.031 ok  ■#3a5f8c 41%  3.1 ms

The decision comes first (the top label, or ``unknown`` below the camera's confidence
threshold), then the top labels with their scores. The time is the capture time in UTC, as in
the records; with ``color`` the squares are drawn
in their colors with 24-bit ANSI escapes (for a terminal that is a TTY).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from edge.errors import EdgeError, UsageError
from edge.records.files import RecordFollower, camera_names, last_records
from edge.records.record import ResultRecord

if TYPE_CHECKING:
    import threading

    from edge.config import MqttOutput
    from edge.records.record import AnomalyResult, ColorShare

TOP_SHOWN = 2
SWATCH = "■"
RESET = "\x1b[0m"
RED = "\x1b[1;31m"


def format_record(record: ResultRecord, *, color: bool = False) -> str:
    """One short line: time, camera, seq, the decision and the top labels, anomaly, colors,
    total milliseconds."""
    parts = [f"{record.ts[11:23]} {record.camera} #{record.seq}"]
    if record.classification is not None:
        if record.classification.label is not None:  # older records carry no decision
            parts.append(record.classification.label)
        top = record.classification.top[:TOP_SHOWN]
        parts.append(" ".join(f"{item.label} ({item.score:.2f})" for item in top))
    if record.anomaly is not None:
        parts.append(_anomaly(record.anomaly, color))
    parts.append(" ".join(_color(share, color) for share in record.colors))
    parts.append(f"{record.timing_ms.total:.1f} ms")
    return "  ".join(parts)


def _anomaly(anomaly: AnomalyResult, color: bool) -> str:
    verdict = "ANOMALY" if anomaly.is_anomaly else "ok"
    if color and anomaly.is_anomaly:
        verdict = f"{RED}{verdict}{RESET}"
    return f"anomaly {anomaly.score:.3g}/{anomaly.threshold:.3g} {verdict}"


def _color(share: ColorShare, color: bool) -> str:
    red, green, blue = share.rgb
    swatch = f"\x1b[38;2;{red};{green};{blue}m{SWATCH}{RESET}" if color else SWATCH
    return f"{swatch}{share.hex} {share.fraction * 100:.0f}%"


def _write_line(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def tail_files(
    out_dir: str | Path,
    camera: str | None = None,
    *,
    follow: bool = True,
    json: bool = False,
    lines: int = 10,
    color: bool = False,
    write: Callable[[str], object] = _write_line,
    poll: float = 0.5,
    stop: threading.Event | None = None,
) -> int:
    """Write the newest ``lines`` records of a results directory, then (``follow``) new ones
    as they are written, until ``stop`` is set or the caller interrupts; returns how many.

    Each record is one ``write(line)``: ``format_record`` or, with ``json``, its JSON.
    """
    if not Path(out_dir).is_dir():
        raise UsageError(f"{out_dir}: not a directory; give the daemon's results directory")
    _check_cameras(Path(out_dir), camera)
    follower = RecordFollower(out_dir, camera) if follow else None  # first, so none is missed
    shown = last_records(out_dir, camera, lines) if lines > 0 else []
    for record in shown:
        write(_line(record, json, color))
    if follower is None:
        return len(shown)
    seen, count = {_identity(record) for record in shown}, len(shown)
    for record in follower.records(poll, stop):
        if _identity(record) not in seen:
            write(_line(record, json, color))
            count += 1
    return count


def _check_cameras(out_dir: Path, camera: str | None) -> None:
    """EdgeError when the directory has no results (of ``camera``), naming the cameras."""
    cameras = camera_names(out_dir)
    if not cameras or (camera is not None and camera not in cameras):
        raise _nothing(out_dir, camera, cameras)


def _line(record: ResultRecord, json: bool, color: bool) -> str:
    return record.to_json() if json else format_record(record, color=color)


def _identity(record: ResultRecord) -> tuple[str, int, float]:
    return record.camera, record.seq, record.timestamp


def tail_mqtt(
    url: str | None,
    *,
    settings: MqttOutput | None = None,
    device: str = "+",
    camera: str = "+",
    json: bool = False,
    latest: bool = True,
    follow: bool = True,
    color: bool = False,
    write: Callable[[str], object] = _write_line,
    stop: threading.Event | None = None,
) -> int:
    """Write the records a broker carries, one ``write(line)`` each, until ``stop`` is set or
    the caller interrupts; returns how many. ``latest`` starts with each camera's retained
    newest record; without ``follow`` only those are written, and none is an EdgeError that
    names the cameras there are. ``settings`` (an ``[outputs.mqtt]`` section) gives the URL,
    prefix, credentials and TLS when wanted."""
    from edge.records.mqtt import subscribe_records

    if not follow:
        show = lambda r: write(_line(r, json, color))  # noqa: E731
        return _latest_mqtt(
            url, settings=settings, device=device, camera=camera, show=show, stop=stop
        )
    records = subscribe_records(
        url, device=device, camera=camera, latest=latest, settings=settings, stop=stop
    )
    count = 0
    for record in records:
        write(_line(record, json, color))
        count += 1
    return count


def _latest_mqtt(
    url: str | None,
    *,
    settings: MqttOutput | None,
    device: str,
    camera: str,
    show: Callable[[ResultRecord], object],
    stop: threading.Event | None,
) -> int:
    """Each camera's retained newest record, then return; EdgeError when there is none,
    naming the cameras the broker has results of."""
    from edge.records.mqtt import subscribe_records

    def latest(camera: str) -> list[ResultRecord]:  # an exact topic where one is known:
        return list(  # RabbitMQ serves retained messages to exact subscriptions only
            subscribe_records(
                url, device=device, camera=camera, settings=settings, stop=stop, follow=False
            )
        )

    wanted = latest(camera)
    for record in wanted:
        show(record)
    if not wanted:
        from edge.brokers import redact_url

        found = latest("+") if camera != "+" else []  # what there is, to name it

        urls = url or (",".join(settings.urls) if settings is not None else "")
        where = redact_url(urls) or "the broker"
        raise _nothing(where, camera if camera != "+" else None, [r.camera for r in found])
    return len(wanted)


def _nothing(where: object, camera: str | None, cameras: Iterable[str]) -> EdgeError:
    """The error for a tail with nothing to show: what there is instead."""
    names = ", ".join(sorted(set(cameras)))
    if camera is not None and names:
        return EdgeError(f"{where}: no results of camera {camera!r}; cameras: {names}")
    what = f"of camera {camera!r} " if camera is not None else ""
    return EdgeError(f"{where}: no results {what}yet; is the daemon running and writing there?")
