from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from edge.commands.service import hidden_by_the_sandbox, install
from edge.config import load_config
from edge.errors import EdgeError, UsageError

THIS_EDGE = Path(sys.executable).parent / "edge"
# A checkout under /tmp or /home (as CI's may be) needs the unit relaxed to run its own venv.
RELAX = bool(hidden_by_the_sandbox(THIS_EDGE))


def test_install_puts_the_unit_and_the_config_in_place(tmp_path: Path) -> None:
    lines: list[str] = []
    edge = THIS_EDGE
    assert install(root=tmp_path, edge_executable=edge, write=lines.append, allow_home=RELAX) == 0
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
    install(root=tmp_path, write=lines.append, allow_home=RELAX)
    assert config.read_text() == 'device = "mine"\n'
    assert any(line.startswith("kept ") for line in lines)


def test_a_missing_executable_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EdgeError, match="run this from the venv that has edge"):
        install(root=tmp_path, edge_executable=tmp_path / "nope" / "edge")


@pytest.mark.parametrize(
    ("venv", "hidden_by", "relaxed"),
    [("/home/pi/venv", "ProtectHome=yes", "ProtectHome=read-only"),
     ("/tmp/venv", "PrivateTmp=yes", "PrivateTmp=no")],
)  # fmt: skip
def test_a_venv_the_sandbox_hides_is_refused_with_the_fix(
    venv: str, hidden_by: str, relaxed: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unit has ProtectHome=yes and PrivateTmp=yes: an ExecStart under /home or /tmp could
    not start. Refused, unless --allow-home relaxes the unit knowingly."""
    edge = Path(venv) / "bin" / "edge"
    monkeypatch.setattr(Path, "exists", lambda self: True if self == edge else _exists(self))
    root = tmp_path / "root"
    top = "/" + venv.split("/")[1]
    fix = rf"under {top}, .*\({hidden_by}\).*under /opt.*--allow-home"
    with pytest.raises(UsageError, match=fix):
        install(root=root, edge_executable=edge, write=lambda _: None)
    assert not (root / "etc/systemd/system/edge-vision.service").exists()
    lines: list[str] = []
    assert install(root=root, edge_executable=edge, write=lines.append, allow_home=True) == 0
    unit = (root / "etc/systemd/system/edge-vision.service").read_text()
    assert f"\n{relaxed}\n" in unit and f"\n{hidden_by}\n" not in unit
    assert f"ExecStart={edge} run" in unit
    assert any(relaxed in line for line in lines)


_exists = Path.exists
