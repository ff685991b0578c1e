"""Frame sources: cameras, streams, files and folders, chosen by a spec string.

    >>> from edge.sources import create_source
    >>> with create_source("v4l2:/dev/video0", camera="door") as source:
    ...     frame = source.read(timeout=1.0)      # edge.frames.Frame or None

Specs (see ``SOURCES``; the part after the first colon is the target):

    picamera2, picamera2:N        Raspberry Pi camera N (picamera2, from apt)
    v4l2:/dev/video0, v4l2:0      USB / V4L2 camera (OpenCV)
    rtsp://..., rtsps://...,      network stream (OpenCV + FFMPEG); the whole URL is the target
    http://..., https://...
    file:PATH                     video file (OpenCV), at its own rate or as fast as possible
    folder:DIR, folder:GLOB       still images, sorted, replayed
    demo                          the bundled demo frames, looped at 5 fps
    auto                          picamera2, else the first working V4L2 camera, else demo

What a source returns: ``FrameSource.read(timeout)`` returns an ``edge.frames.Frame`` (RGB
uint8 pixels of shape (height, width, 3); the camera name given to ``create_source``; the
capture time from ``time.time()``; for picamera2 also ``lores``, a small RGB image of the same
capture for the colors stage), or ``None`` when no new frame arrived within ``timeout``.
``Frame.seq`` is the source's own count of frames handed out, from 0; the persisted,
restart-proof record sequence number is the pipeline's to assign
(``dataclasses.replace(frame, seq=...)``). Live sources (cameras, streams) always hand on the
newest frame and count the ones they skipped in ``source.dropped``. A finite source (file or
folder without ``loop``) raises ``EndOfStream`` after its last frame; a failing one raises
``SourceError``. Wrap a source in ``ReconnectingSource`` so that failures, live sources that end
and stalls are retried with backoff instead of raised.

Backends are imported only when a spec names them, so ``import edge.sources`` stays cheap and a
backend whose optional package is missing fails with what to install.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from pathlib import Path
from typing import Any

from edge.errors import ConfigError
from edge.sources.base import EndOfStream, FrameSource
from edge.sources.reconnect import ReconnectingSource

logger = logging.getLogger(__name__)

SOURCES: dict[str, str] = {
    "auto": "edge.sources.auto:AutoSource",
    "demo": "edge.sources.demo:DemoSource",
    "file": "edge.sources.file:FileSource",
    "folder": "edge.sources.folder:FolderSource",
    "http": "edge.sources.stream:StreamSource",
    "https": "edge.sources.stream:StreamSource",
    "picamera2": "edge.sources.picamera2:Picamera2Source",
    "rtsp": "edge.sources.stream:StreamSource",
    "rtsps": "edge.sources.stream:StreamSource",
    "v4l2": "edge.sources.v4l2:V4L2Source",
}

URL_SCHEMES = frozenset({"http", "https", "rtsp", "rtsps"})

__all__ = [
    "SOURCES",
    "EndOfStream",
    "FrameSource",
    "ReconnectingSource",
    "create_source",
    "parse_spec",
    "source_class",
]


def create_source(spec: str, camera: str = "camera", **options: Any) -> FrameSource:
    """A new, not yet opened source for ``spec``; ``options`` are the backend's settings.

    Raises ConfigError for an unknown scheme, option or bad value, SourceError when the
    backend's optional package is missing.
    """
    scheme, target = parse_spec(spec)
    cls = source_class(scheme, spec)
    _check_options(scheme, cls, options)
    source: FrameSource = cls(target, camera=camera, **options)
    return source


def parse_spec(spec: str) -> tuple[str, str]:
    """``"v4l2:/dev/video0"`` -> ``("v4l2", "/dev/video0")``; URLs keep the whole URL as target."""
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(f"source must be a non-empty string like 'v4l2:0', got {spec!r}")
    spec = spec.strip()
    scheme, _, rest = spec.partition(":")
    scheme = scheme.lower()
    if scheme in URL_SCHEMES:
        return scheme, spec
    return scheme, rest


def source_class(scheme: str, spec: str = "") -> type[FrameSource]:
    """The class registered for ``scheme``, imported now; ConfigError listing valid schemes
    (or, for a ``spec`` that is a folder, a file or a video device, the spec to write)."""
    if scheme not in SOURCES:
        hint = _meant(spec.strip())
        if hint:
            raise ConfigError(f"{spec.strip()!r} is not a source spec; {hint}")
        valid = ", ".join(sorted(SOURCES))
        raise ConfigError(f"unknown source {scheme!r}; valid sources are: {valid}")
    module_name, _, class_name = SOURCES[scheme].partition(":")
    module = importlib.import_module(module_name)
    cls: type[FrameSource] = getattr(module, class_name)
    return cls


def _meant(spec: str) -> str:
    """What a bare path was probably meant as: ``shots/`` -> ``folder:shots/``."""
    if not spec:
        return ""
    path = Path(spec).expanduser()
    if spec.startswith("/dev/video") or path.is_char_device():
        return f"for a V4L2 camera use 'v4l2:{spec}'"
    if path.is_dir():
        return f"for a folder of images use 'folder:{spec}'"
    if path.is_file():
        return f"for a video file use 'file:{spec}' (a folder of images: 'folder:DIR')"
    return ""


def _check_options(scheme: str, cls: type[FrameSource], options: dict[str, Any]) -> None:
    parameters = inspect.signature(cls).parameters
    accepted = {
        name
        for name, p in parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY and name != "camera"
    }
    unknown = sorted(set(options) - accepted)
    if unknown:
        valid = ", ".join(sorted(accepted)) or "none"
        raise ConfigError(f"source {scheme!r} has no option {unknown[0]!r}; its options: {valid}")
