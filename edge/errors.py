"""The exceptions edge-vision raises, in one place.

    EdgeError                  base: every error a user can cause or fix; exit code 1
    ├── UsageError             wrong command-line use; exit code 2
    ├── ConfigError            invalid configuration; exit code 78 (EX_CONFIG)
    ├── ModelError             a model that cannot be used as asked
    │   ├── BundleError        a bundle whose files, hash or tensor details do not match
    │   └── InterpreterUnavailableError  no working TFLite interpreter
    ├── ImageError             an image that cannot be read or used
    ├── SourceError            a camera or frame source failed
    │   └── FrameError         a source delivered a frame that is not an RGB uint8 image
    ├── PublishError           a result could not be published
    ├── RecordError            data that is not a valid result record; names the key path
    │                          (edge.records.checks; also a ValueError, for readers' code)
    ├── NonFiniteNumberError   JSON read as data with NaN or Infinity (edge.jsondata; also
    │                          a ValueError)
    └── CommandError           a command sent to the daemon (over MQTT) that cannot be
                               carried out; logged and ignored, the daemon goes on

Third-party errors (OpenCV, the interpreter, paho, picamera2) are translated at the boundary
with ``raise ... from exc`` so the command line can print one line and exit with the code above.
"""

from __future__ import annotations

EX_OK = 0
EX_FAILURE = 1
EX_USAGE = 2
EX_CONFIG = 78


class EdgeError(Exception):
    """Base class of edge-vision's errors; ``str(err)`` is a one-line message for users."""

    exit_code = EX_FAILURE


class UsageError(EdgeError):
    """The command line was used wrongly."""

    exit_code = EX_USAGE


class ConfigError(EdgeError):
    """The configuration is invalid; the message names the key path. ``key`` and ``reason``
    are that path and the message without it, when the raiser knows them."""

    exit_code = EX_CONFIG

    def __init__(self, message: str, *, key: str = "", reason: str = "") -> None:
        super().__init__(message)
        self.key = key
        self.reason = reason or message


class ModelError(EdgeError):
    """A model cannot be used the way it was asked to be used."""


class BundleError(ModelError):
    """A model bundle is missing a file, or its hash or tensor details do not match."""


class InterpreterUnavailableError(ModelError):
    """No TFLite interpreter could be loaded."""


class ImageError(EdgeError):
    """An image could not be read or has an unusable format."""


class SourceError(EdgeError):
    """A frame source could not be opened or stopped delivering frames."""


class FrameError(SourceError):
    """A source delivered an unusable frame (empty, wrong dtype or shape): drop it, go on."""


class PublishError(EdgeError):
    """A result could not be published."""


class CommandError(EdgeError):
    """A command sent to the running daemon cannot be carried out as sent; the message says
    what was wrong. The daemon logs it and carries on."""
