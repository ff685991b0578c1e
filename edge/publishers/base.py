"""The publisher interface: where result records go (files, MQTT, memory)."""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, ClassVar, TypeVar

if TYPE_CHECKING:
    from edge.frames import Frame
    from edge.records.record import ResultRecord

_P = TypeVar("_P", bound="Publisher")


class Publisher(abc.ABC):
    """Takes result records one by one; a context manager that closes itself.

    ``publish`` raises ``PublishError`` when a record could not be published (disk full,
    broker away); the publisher stays usable and the caller decides how to report it.
    ``close`` may be called more than once.
    """

    name: ClassVar[str]

    @abc.abstractmethod
    def publish(self, record: ResultRecord) -> None:
        """Publish one record, or raise PublishError."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release files and connections; publishing after close raises PublishError."""

    def refresh(self) -> None:  # noqa: B027 - a hook: most publishers describe nothing
        """Describe the cameras again where this publisher describes them (MQTT discovery,
        after a camera's models changed); nothing for the others."""

    def show(self, frame: Frame, record: ResultRecord) -> None:  # noqa: B027 - a hook
        """The frame ``record`` was made from, for publishers that draw pictures (after
        ``publish(record)``); nothing for the others. Keep a reference, never a copy."""

    def problem(self) -> str | None:
        """What keeps this publisher from delivering right now (e.g. "broker away"), or None."""
        return None

    def __enter__(self: _P) -> _P:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
