"""Publishers: where result records go. One module per backend, chosen by name.

    PUBLISHERS     name -> "module:Class", imported only when that publisher is created
    Publisher      the interface (edge.publishers.base): publish(record), close(), a context
                   manager; PublishError when a record could not be published

A new backend is a module here with a ``Publisher`` subclass and one line in ``PUBLISHERS``.
The MQTT backend (paho imported inside its modules) publishes Home Assistant discovery too
(edge.publishers.mqtt.homeassistant); its outbox, topics, stats and commands live beside it.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from edge.errors import ConfigError
from edge.publishers.base import Publisher

PUBLISHERS: dict[str, str] = {
    "files": "edge.publishers.files:FilesPublisher",
    "memory": "edge.publishers.memory:MemoryPublisher",
    "mqtt": "edge.publishers.mqtt.publisher:MqttPublisher",
    "pictures": "edge.web.publisher:PicturesPublisher",
}

__all__ = ["PUBLISHERS", "Publisher", "create_publisher", "publisher_class"]


def publisher_class(name: str) -> type[Publisher]:
    """The class registered as ``name``, imported now; ConfigError for an unknown name."""
    target = PUBLISHERS.get(name)
    if target is None:
        valid = ", ".join(sorted(PUBLISHERS))
        raise ConfigError(f"unknown publisher {name!r}; valid publishers: {valid}")
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if not exc.name or exc.name.split(".")[0] == "edge":
            raise  # our own module is missing: a bug, not a configuration problem
        raise ConfigError(
            f"publisher {name!r} needs the Python package {exc.name!r}, which is not "
            "installed; reinstall edge-vision with pip to get its dependencies"
        ) from exc
    cls = getattr(module, class_name)
    if not (isinstance(cls, type) and issubclass(cls, Publisher)):
        raise TypeError(f"{target} is registered as a publisher but is not a Publisher")
    return cls


def create_publisher(name: str, **options: Any) -> Publisher:
    """A new publisher ``name`` with its options; ConfigError for a bad name or option."""
    cls = publisher_class(name)
    try:
        inspect.signature(cls).bind(**options)
    except TypeError as exc:
        accepted = ", ".join(inspect.signature(cls).parameters) or "none"
        raise ConfigError(f"publisher {name!r}: {exc}; its options: {accepted}") from exc
    try:
        return cls(**options)
    except ValueError as exc:
        raise ConfigError(f"publisher {name!r}: {exc}") from exc
