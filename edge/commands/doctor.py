"""``edge doctor``: is this machine ready to run the daemon? Each problem with its fix."""

from __future__ import annotations

import grp
import importlib.metadata
import logging
import os
import platform
import socket
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from edge.errors import EdgeError

if TYPE_CHECKING:
    from edge.config import Config
    from edge.inference.bundle import Bundle

logger = logging.getLogger(__name__)

Status = Literal["ok", "warn", "fail"]
SYSTEM_SITE = Path("/usr/lib/python3/dist-packages")
DEFAULT_CONFIG = Path("/etc/edge-vision/edge.toml")


@dataclass(frozen=True)
class Finding:
    status: Status
    what: str
    detail: str
    fix: str = ""

    def line(self) -> str:
        mark = {"ok": "ok  ", "warn": "warn", "fail": "FAIL"}[self.status]
        fix = f"\n        fix: {self.fix}" if self.fix and self.status != "ok" else ""
        return f"[{mark}] {self.what}: {self.detail}{fix}"


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _system_version(package: str) -> str | None:
    """The version of a package in apt's dist-packages, whether or not this venv sees it."""
    found = list(SYSTEM_SITE.glob(f"{package}-*.*-info")) if SYSTEM_SITE.is_dir() else []
    return found[0].name.split("-")[1].removesuffix(".egg") if found else None


def check_python() -> Iterator[Finding]:
    bits = platform.architecture()[0]
    detail = f"{platform.python_version()} on {platform.machine()} ({bits})"
    if platform.machine() in ("armv7l", "armv6l"):
        yield Finding(
            "warn", "platform", detail + ": LiteRT has no 32-bit Arm wheels",
            "use 64-bit Raspberry Pi OS, or: pip install tflite-runtime 'numpy<2'",
        )  # fmt: skip
    else:
        yield Finding("ok", "platform", detail)


def check_runtimes() -> Iterator[Finding]:
    from edge.inference.runtime import probe_backends

    reasons = probe_backends()
    usable = [name for name, why in reasons.items() if why is None]
    for name, why in reasons.items():
        if why is not None:
            yield Finding("ok" if usable else "fail", f"runtime {name}", f"not used ({why})")
    if usable:
        yield Finding("ok", "TFLite runtime", f"{usable[0]} (of {', '.join(usable)})")
    else:
        yield Finding("fail", "TFLite runtime", "none loads", "pip install ai-edge-litert")


def check_numpy_and_picamera2() -> Iterator[Finding]:
    import numpy as np

    ours, system = np.__version__, _system_version("numpy")
    yield Finding("ok", "numpy", f"{ours} (apt: {system or 'none'})")
    yield Finding("ok", "opencv", _version("opencv-python-headless") or _version("opencv-python")
                  or "not installed")  # fmt: skip
    if _system_version("picamera2") is None:
        return
    if ours.split(".")[0] != (system or ours).split(".")[0]:
        yield Finding(
            "fail", "picamera2", f"apt's picamera2 needs numpy {system}, this venv has {ours}",
            f"pip install 'numpy=={system}' (or the constraints file for your Pi OS)",
        )  # fmt: skip
    if not _sees_system_packages():
        yield Finding(
            "fail", "picamera2", "installed by apt but this venv does not see system packages",
            f"python3 -m venv --system-site-packages {sys.prefix} (then reinstall edge-vision)",
        )  # fmt: skip


def _sees_system_packages() -> bool:
    cfg = Path(sys.prefix) / "pyvenv.cfg"
    if sys.prefix == sys.base_prefix or not cfg.exists():
        return True
    return "include-system-site-packages = true" in cfg.read_text().lower()


def check_devices() -> Iterator[Finding]:
    cameras = sorted(Path("/dev").glob("video*")) + sorted(Path("/dev/dma_heap").glob("*"))
    if not cameras:
        yield Finding("warn", "cameras", "no /dev/video* device", "connect a camera (or use demo)")
    for device in cameras:
        if os.access(device, os.R_OK | os.W_OK):
            yield Finding("ok", "device", f"{device} readable and writable")
        else:
            yield Finding(
                "fail", "device", f"no access to {device}", "sudo usermod -aG video $USER"
            )
    yield from _check_video_group()


def _check_video_group() -> Iterator[Finding]:
    try:
        video = grp.getgrnam("video").gr_gid
    except KeyError:
        yield Finding("warn", "video group", "no 'video' group on this system")
        return
    if os.geteuid() == 0 or video in os.getgroups():
        yield Finding("ok", "video group", "this user can use cameras")
    else:
        yield Finding("warn", "video group", "this user is not in 'video'",
                      "sudo usermod -aG video $USER, then log in again")  # fmt: skip


def check_config(path: Path | None) -> Iterator[Finding]:
    """The config as ``edge run`` would take it: the same checks (edge.preflight)."""
    from edge import preflight
    from edge.config import default_config, load_config

    try:
        config = load_config(path) if path is not None else default_config()
    except EdgeError as exc:
        yield Finding("fail", "config", str(exc), f"edge config validate {path}")
        return
    found = list(preflight.problems(config, str(path or "the embedded default")))
    for problem in found:
        yield Finding("fail", "config", str(problem), f"edge config validate {path or ''}".strip())
    if not found:
        what = f"{path} is valid" if path is not None else "none given: the embedded default"
        yield Finding("ok", "config", f"{what} ({len(config.cameras)} camera(s)); its sources, "
                      "models, result directory and MQTT settings usable")  # fmt: skip
    for url in config.outputs.mqtt.urls:
        yield from _check_broker(url)
    yield from check_calibrations(config)
    yield from check_model_choices(config)


def check_model_choices(config: Config) -> Iterator[Finding]:
    """A promoted (or rolled back) classifier kept in the state directory, if any."""
    from edge import promotion

    for camera in config.cameras:
        choice = promotion.choose(camera, config.outputs.files.directory())
        if choice.action is not None:
            yield Finding("ok", f"{camera.name} models", choice.describe())


def check_calibrations(config: Config) -> Iterator[Finding]:
    """The threshold ``edge calibrate`` kept for each camera's autoencoder, if any."""
    from edge import demo
    from edge.camera import resolve_model
    from edge.inference.bundle import load_bundle

    for camera in config.cameras:
        path = resolve_model(camera.anomaly, demo.autoencoder_path)
        try:
            bundle = load_bundle(path) if path is not None else None
        except EdgeError:
            continue  # the config check above names it
        if bundle is not None:
            yield from _check_calibration(config, camera.name, bundle)


def _check_calibration(config: Config, camera: str, bundle: Bundle) -> Iterator[Finding]:
    """The threshold ``edge calibrate`` kept for the camera's autoencoder, if any."""
    from edge import calibration

    verdict = bundle.kind == "autoencoder" and calibration.check(
        config.outputs.files.directory(), camera, bundle
    )
    if verdict:
        yield Finding(verdict[0], f"{camera} calibration", verdict[1])


def _check_broker(url: str | None, timeout: float = 3.0) -> Iterator[Finding]:
    if not url:
        return
    parts = urlsplit(url)
    port = parts.port or (8883 if parts.scheme == "mqtts" else 1883)
    try:
        with socket.create_connection((parts.hostname or "localhost", port), timeout=timeout):
            pass
    except OSError as exc:
        yield Finding("warn", "broker", f"{parts.hostname}:{port} not reachable ({exc})",
                      "check the broker's address, port and firewall")  # fmt: skip
        return
    yield Finding("ok", "broker", f"{parts.hostname}:{port} reachable")


CHECKS: tuple[Callable[[], Iterator[Finding]], ...] = (
    check_python,
    check_runtimes,
    check_numpy_and_picamera2,
    check_devices,
)


def run_checks(config: Path | None) -> list[Finding]:
    findings = [finding for check in CHECKS for finding in check()]
    return findings + list(check_config(config))


def doctor(config: Path | None, write: Callable[[str], None]) -> int:
    """Print every finding; 1 when something blocks running, else 0."""
    if config is None and DEFAULT_CONFIG.exists():
        config = DEFAULT_CONFIG
    findings = run_checks(config)
    for finding in findings:
        write(finding.line())
    failures = sum(f.status == "fail" for f in findings)
    write(f"{failures} problem(s) block running" if failures else "ready to run")
    return 1 if failures else 0
