"""The arm64 userland the tests in this folder run the device code in, and how to run it."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts" / "arm64"
ROOTFS = REPO / ".cache" / "arm64-bookworm"
SETUP_TIMEOUT_S = 30 * 60
RUN_TIMEOUT_S = 10 * 60


def pytest_configure(config: pytest.Config) -> None:
    # The marker belongs in pyproject.toml; registering it here too keeps --strict-markers happy
    # with a pyproject.toml that does not list it yet.
    if not any(line.startswith("arm64:") for line in config.getini("markers")):
        config.addinivalue_line("markers", "arm64: runs arm64 (Raspberry Pi) code or checks")


def why_no_emulation() -> str | None:
    """Why this machine cannot run the arm64 userland, or None when it can."""
    if sys.platform != "linux" or platform.machine() != "x86_64":
        return f"needs Linux on x86_64 for qemu-user, this is {sys.platform} {platform.machine()}"
    if os.geteuid() != 0:
        return "needs root: debootstrap, chroot and a private mount namespace"
    return None


def tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


@pytest.fixture(scope="session")
def arm64_rootfs() -> Path:
    """The cached arm64 bookworm userland, built (or brought up to date) by setup-rootfs."""
    reason = why_no_emulation()
    if reason:
        pytest.skip(reason)
    done = subprocess.run(
        [str(SCRIPTS / "setup-rootfs"), str(ROOTFS)],
        capture_output=True,
        text=True,
        check=False,
        timeout=SETUP_TIMEOUT_S,
    )
    if done.returncode != 0:
        pytest.fail(f"scripts/arm64/setup-rootfs failed:\n{tail(done.stdout + done.stderr)}")
    return ROOTFS


def run_arm64(
    rootfs: Path,
    program: str,
    args: Sequence[str],
    env: dict[str, str] | None = None,
    cpu: str = "cortex-a72",
) -> subprocess.CompletedProcess[str]:
    """Run PROGRAM of the arm64 userland under qemu emulating ``cpu`` (default: a Pi 4's core);
    the repository is at /src in there."""
    options = [f"--env={name}={value}" for name, value in (env or {}).items()]
    return subprocess.run(
        [
            str(SCRIPTS / "run"),
            f"--rootfs={rootfs}",
            f"--cpu={cpu}",
            *options,
            "--",
            program,
            *args,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=RUN_TIMEOUT_S,
    )
