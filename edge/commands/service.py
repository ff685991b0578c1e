"""``edge service install``: the unit, the example config and this venv, put in place.

It installs the unit with ``ExecStart`` pointing at the ``edge`` of the environment it runs from,
copies the example config to /etc/edge-vision/edge.toml unless one is there already, and enables
and starts the service when systemd runs the machine.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from edge.errors import EdgeError, UsageError

logger = logging.getLogger(__name__)

UNIT_NAME = "edge-vision.service"
SHIPPED_EXEC = "/opt/edge-vision/venv/bin/edge"


def systemd_files() -> Path:
    """The folder with the shipped unit and example config: in a checkout, or installed."""
    candidates = (
        Path(__file__).resolve().parents[2] / "systemd",
        Path(sys.prefix) / "share" / "edge-vision" / "systemd",
    )
    for folder in candidates:
        if (folder / UNIT_NAME).exists():
            return folder
    raise EdgeError("the systemd unit is missing from this installation; reinstall edge-vision")


# Where the unit's sandbox hides files, and the setting that hides them: an ExecStart there
# could not start. (prefix, setting as shipped, setting with --allow-home)
HIDDEN = (
    ("/home/", "ProtectHome=yes", "ProtectHome=read-only"),
    ("/root/", "ProtectHome=yes", "ProtectHome=read-only"),
    ("/run/user/", "ProtectHome=yes", "ProtectHome=read-only"),
    ("/tmp/", "PrivateTmp=yes", "PrivateTmp=no"),
    ("/var/tmp/", "PrivateTmp=yes", "PrivateTmp=no"),
)


def unit_text(edge_executable: Path, relax: Sequence[tuple[str, str]] = ()) -> str:
    """The shipped unit with ExecStart at ``edge_executable`` and the ``relax`` settings
    (shipped, written) replaced."""
    text = (systemd_files() / UNIT_NAME).read_text(encoding="utf-8")
    for shipped, written in relax:
        note = "# relaxed by `edge service install --allow-home`: the venv is in there"
        text = text.replace(f"\n{shipped}\n", f"\n{note}\n{written}\n")
    return text.replace(SHIPPED_EXEC, str(edge_executable))


def hidden_by_the_sandbox(executable: Path) -> list[tuple[str, str, str]]:
    """The HIDDEN rows that would hide ``executable`` (or the file it links to) from the
    service."""
    paths = {str(executable.absolute()), str(executable.resolve())}
    return [row for row in HIDDEN if any(path.startswith(row[0]) for path in paths)]


def _sandbox_changes(executable: Path, allow_home: bool) -> list[tuple[str, str]]:
    hidden = hidden_by_the_sandbox(executable)
    if hidden and not allow_home:
        settings = " and ".join(sorted({row[1] for row in hidden}))
        raise UsageError(
            f"{executable} is under {hidden[0][0].rstrip('/')}, which the unit hides from the "
            f"service ({settings}): it could not start. Install edge-vision in a venv under "
            "/opt (python3 -m venv --system-site-packages /opt/edge-vision/venv, then "
            "/opt/edge-vision/venv/bin/pip install edge-vision) and run its `edge service "
            "install`; or give --allow-home to relax the unit for this venv"
        )
    return sorted({(row[1], row[2]) for row in hidden})


def install(
    root: Path = Path("/"),
    edge_executable: Path | None = None,
    start: bool = True,
    write: Callable[[str], None] = print,
    allow_home: bool = False,
) -> int:
    """Install the unit and config under ``root``; start the service when possible."""
    executable = edge_executable or Path(sys.executable).parent / "edge"
    if not executable.exists():
        raise EdgeError(f"{executable} does not exist; run this from the venv that has edge")
    relax = _sandbox_changes(executable, allow_home)
    for shipped, written in relax:
        write(f"the unit gets {written} instead of {shipped}: the venv is in there")
    unit = root / "etc/systemd/system" / UNIT_NAME
    config = root / "etc/edge-vision/edge.toml"
    _write(unit, unit_text(executable, relax), write)
    if config.exists():
        write(f"kept {config} (already there)")
    else:
        _write(config, (systemd_files() / "edge.toml").read_text(encoding="utf-8"), write)
    if start and root == Path("/"):
        return _enable(write)
    write(f"next: systemctl daemon-reload && systemctl enable --now {UNIT_NAME}")
    return 0


def _write(path: Path, text: str, write: Callable[[str], None]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except PermissionError as exc:
        raise EdgeError(f"cannot write {path}: run with sudo") from exc
    write(f"wrote {path}")


def _enable(write: Callable[[str], None]) -> int:
    if shutil.which("systemctl") is None or not Path("/run/systemd/system").is_dir():
        write(f"systemd is not running here; on the Pi: systemctl enable --now {UNIT_NAME}")
        return 0
    for command in (["daemon-reload"], ["enable", "--now", UNIT_NAME]):
        done = subprocess.run(["systemctl", *command], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise EdgeError(f"systemctl {' '.join(command)} failed: {done.stderr.strip()}")
    write(f"started {UNIT_NAME}; follow it with: journalctl -u edge-vision -f")
    return 0
