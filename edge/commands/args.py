"""argparse value types shared by the subcommands."""

from __future__ import annotations

import argparse

from edge.errors import UsageError


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def name(text: str) -> str:
    """An argparse type: a device or camera name (safe in file paths and MQTT topics)."""
    from edge.records.checks import RecordError, check_name

    try:
        return check_name(text)
    except RecordError as exc:
        raise argparse.ArgumentTypeError(exc.problem) from None


def check_mqtt_url(text: str, flag: str = "--mqtt") -> str:
    """``mqtt://[USER@]HOST[:PORT]`` or ``mqtts://...`` given as ``flag`` (several, comma
    separated, for the nodes of a cluster); a UsageError (exit 2) naming the flag otherwise,
    which never repeats a password."""
    from edge.brokers import parse_mqtt_url, split_urls

    try:
        for url in split_urls(text) or [text]:
            parse_mqtt_url(url)
    except ValueError as exc:
        raise UsageError(f"{flag}: {exc}") from None
    return text
