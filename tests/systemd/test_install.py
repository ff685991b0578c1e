from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from edge.commands.service import install
from edge.config import load_config
from edge.errors import EdgeError


def test_install_puts_the_unit_and_the_config_in_place(tmp_path: Path) -> None:
    lines: list[str] = []
    edge = Path(sys.executable).parent / "edge"
    assert install(root=tmp_path, edge_executable=edge, write=lines.append) == 0
    unit = tmp_path / "etc/systemd/system/edge-vision.service"
    config = tmp_path / "etc/edge-vision/edge.toml"
    assert f"ExecStart={edge} run --config /etc/edge-vision/edge.toml" in unit.read_text()
    assert load_config(config).cameras[0].source == "auto"
    assert lines[-1].startswith("next: systemctl daemon-reload")
    if shutil.which("systemd-analyze"):
        done = subprocess.run(
            ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr


def test_an_existing_config_is_kept(tmp_path: Path) -> None:
    config = tmp_path / "etc/edge-vision/edge.toml"
    config.parent.mkdir(parents=True)
    config.write_text('device = "mine"\n')
    lines: list[str] = []
    install(root=tmp_path, write=lines.append)
    assert config.read_text() == 'device = "mine"\n'
    assert any(line.startswith("kept ") for line in lines)


def test_a_missing_executable_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EdgeError, match="run this from the venv that has edge"):
        install(root=tmp_path, edge_executable=tmp_path / "nope" / "edge")
