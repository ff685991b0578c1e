"""What importing edge loads, checked in fresh interpreters: ``import edge`` must stay cheap on
a Pi, and the device path never loads the workstation's libraries."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
INTERPRETERS = ("ai_edge_litert", "tflite_runtime", "tensorflow")
WORKSTATION = ("tensorflow", "keras", "scipy", "sklearn")
HEAVY = ("cv2", *INTERPRETERS, "scipy", "sklearn", "keras", "paho")

LOADED = """
import json, sys
{code}
print(json.dumps(sorted({{name.split(".")[0] for name in sys.modules}})))
"""


def _loaded(code: str, tmp_path: Path) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", LOADED.format(code=code)],
        cwd=tmp_path,  # not the checkout: what is installed, as on a device
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "code",
    [
        "import edge",
        "import edge.cli",
        "import edge.cli; edge.cli.build_parser()",  # what `edge --help` does
        "import edge.pipeline, edge.commands.bench, edge.records",
    ],
)
def test_importing_edge_loads_nothing_heavy(code: str, tmp_path: Path) -> None:
    loaded = _loaded(code, tmp_path)
    assert not loaded & set(HEAVY), f"{code!r} loaded {sorted(loaded & set(HEAVY))}"


def test_the_daemon_never_loads_the_workstation_libraries(tmp_path: Path) -> None:
    code = (
        "from edge.cli import main\n"
        f"assert main(['run', '--source', 'demo', '--max-frames', '3', '--quiet', "
        f"'--out', {str(tmp_path / 'out')!r}]) == 0"
    )
    loaded = _loaded(code, tmp_path)
    assert "cv2" in loaded  # it did run: frames were read and classified
    assert loaded & set(INTERPRETERS)
    assert not loaded & set(WORKSTATION), f"the daemon loaded {sorted(loaded & set(WORKSTATION))}"
    assert len(list((tmp_path / "out").glob("*/results-*.jsonl"))) == 1
