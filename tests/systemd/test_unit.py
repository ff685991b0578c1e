"""The shipped unit file, checked by systemd's own tools."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import REPO

UNIT = REPO / "systemd" / "edge-vision.service"
MAX_EXPOSURE = 2.0

pytestmark = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed"
)


@pytest.fixture
def unit(tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at this environment's `edge` (verify wants it to exist)."""
    edge = Path(sys.executable).parent / "edge"
    text = UNIT.read_text().replace("/opt/edge-vision/venv/bin/edge", str(edge))
    path = tmp_path / "edge-vision.service"
    path.write_text(text)
    return path


def _directives(path: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_systemd_analyze_verify_accepts_the_unit(unit: Path) -> None:
    done = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "edge-vision.service" not in done.stderr, done.stderr


def test_exposure_is_at_most_two(unit: Path) -> None:
    done = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", "--no-pager", str(unit)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout)
    assert match, done.stdout[-2000:] + done.stderr
    assert float(match.group(1)) <= MAX_EXPOSURE


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("Type", "notify"),
        ("Restart", "on-failure"),
        ("RestartPreventExitStatus", "2 78"),
        ("ExecReload", "/bin/kill -HUP $MAINPID"),
        ("SupplementaryGroups", "video"),
        ("StateDirectory", "edge-vision"),
        ("ConfigurationDirectory", "edge-vision"),
        ("LoadCredential", "mqtt-password:/etc/edge-vision/mqtt-password"),
        ("DynamicUser", "yes"),
        ("NoNewPrivileges", "yes"),
    ],
)
def test_the_unit_says(key: str, value: str) -> None:
    assert value in _directives(UNIT).get(key, []), f"{key}={value} missing from {UNIT.name}"


def test_the_watchdog_is_on() -> None:
    (watchdog,) = _directives(UNIT)["WatchdogSec"]
    assert watchdog.endswith("s")
    assert int(watchdog.removesuffix("s")) >= 10
