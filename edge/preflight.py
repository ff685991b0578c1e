"""What makes ``edge run`` refuse a configuration, checked in one place.

``edge run`` (at start and on reload), ``edge config validate`` and ``edge doctor`` all call
:func:`problems`, so the three never disagree. Beyond the file's own validation (edge.config),
each key that names something outside the file is checked: every camera's source can be made
(not opened), every model is a bundle of the right kind (its sidecar read and its hash checked;
no interpreter), the results directory can be written, and MQTT's password, TLS files and
outbox are usable. Each problem is a ConfigError naming its key path (exit code 78).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from edge.config import CameraConfig, Config, command_line_error
from edge.errors import ConfigError, EdgeError, SourceError

KEY_PATH = re.compile(r"(cameras\[\d+\]|outputs)(\.\w+)+")
ARTICLE = {"classifier": "a classifier", "autoencoder": "an autoencoder"}
Check = tuple[str, Callable[[], None]]


def problems(
    config: Config, origin: str = "config", environ: Mapping[str, str] = os.environ
) -> Iterator[ConfigError]:
    """Every reason ``edge run`` would refuse ``config``, each naming its key path."""
    for key, check in _checks(config, environ):
        try:
            check()
        except EdgeError as exc:
            yield _problem(origin, key, exc)


def check(
    config: Config,
    origin: str = "config",
    overrides: dict[str, Any] | None = None,
    environ: Mapping[str, str] = os.environ,
) -> None:
    """Raise the first problem: a UsageError when it is a value ``overrides`` gave (the
    command line, see edge.config.with_overrides), else the ConfigError."""
    for problem in problems(config, origin, environ):
        raise command_line_error(problem, overrides or {})


def _checks(config: Config, environ: Mapping[str, str]) -> Iterator[Check]:
    for index, camera in enumerate(config.cameras):
        key = f"cameras[{index}]"
        yield f"{key}.source", partial(_source, camera)
        yield f"{key}.classifier", partial(_model, camera.classifier, "classifier")
        yield f"{key}.anomaly", partial(_model, camera.anomaly, "autoencoder")
    files = config.outputs.files
    if files.enabled and files.dir:
        yield "outputs.files.dir", lambda: writable_dir(files.directory())
    mqtt = config.outputs.mqtt
    if mqtt.enabled:
        yield "outputs.mqtt", lambda: _secret(config, environ)
        yield "outputs.mqtt.tls_ca", lambda: _tls(config)
        yield "outputs.mqtt.outbox", lambda: _outbox(mqtt.outbox_path(files.directory()))


def _problem(origin: str, key: str, exc: EdgeError) -> ConfigError:
    """``exc`` as a ConfigError naming ``key``, or the key its message starts with."""
    reason = str(exc)
    head, colon, rest = reason.partition(": ")
    if colon and KEY_PATH.fullmatch(head):
        key, reason = head, rest
    return ConfigError(f"{origin}: {key}: {reason}", key=key, reason=reason)


def _source(camera: CameraConfig) -> None:
    """The source can be made from its spec. A backend this machine cannot import (picamera2
    missing) is not the config's fault: `edge doctor` says so, `edge run` exits 1."""
    from edge.camera import source_options
    from edge.sources import create_source

    try:
        create_source(camera.source, camera=camera.name, **source_options(camera))
    except SourceError:
        return


def _model(spec: str, kind: str) -> None:
    from edge import demo
    from edge.camera import resolve_model
    from edge.inference.bundle import load_bundle

    shipped = demo.classifier_path if kind == "classifier" else demo.autoencoder_path
    path = resolve_model(spec, shipped)
    if path is None:
        return
    bundle = load_bundle(path)
    if bundle.kind != kind:
        raise ConfigError(f"{path}: is {ARTICLE[bundle.kind]} bundle, not {ARTICLE[kind]}")


def writable_dir(path: Path) -> None:
    """ConfigError unless ``path`` is a directory this process can write, or can create."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing == path and not path.is_dir():
        raise ConfigError(f"{path} is not a directory")
    if not existing.is_dir():
        raise ConfigError(f"cannot create {path}: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"cannot write to {path}: {existing} is not writable by this user")


def _secret(config: Config, environ: Mapping[str, str]) -> None:
    from edge.publishers.mqtt.settings import read_password

    read_password(config.outputs.mqtt, environ)


def _tls(config: Config) -> None:
    from edge.publishers.mqtt.settings import Broker

    broker = Broker(config.outputs.mqtt, config.mqtt_client_id())
    if broker.address.tls:
        from edge.publishers.mqtt.client import tls_context

        tls_context(broker)


def _outbox(path: Path) -> None:
    if path.is_dir():
        raise ConfigError(f"cannot open {path}: it is a directory; give a file path")
    try:
        writable_dir(path.parent)
    except ConfigError as exc:
        raise ConfigError(f"cannot open {path}: {exc}") from None
