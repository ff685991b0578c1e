"""argparse value types shared by the subcommands."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from edge.errors import UsageError

if TYPE_CHECKING:
    from edge.config import CameraConfig, Config


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


def pick_camera(config: Config, wanted: str | None) -> CameraConfig:
    """The camera ``--camera`` names (or the only one); a UsageError listing them otherwise."""
    names = [camera.name for camera in config.cameras]
    if wanted is None and len(names) == 1:
        return config.cameras[0]
    for camera in config.cameras:
        if camera.name == wanted:
            return camera
    what = "give --camera NAME" if wanted is None else f"no camera named {wanted!r}"
    raise UsageError(f"{what}; the config's cameras: {', '.join(names)}")
