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
print(json.dumps(sorted(sys.modules)))
"""


def _loaded(code: str, tmp_path: Path) -> set[str]:
    """The packages (top-level names) ``code`` loads in a fresh interpreter."""
    return {name.split(".")[0] for name in _modules(code, tmp_path)}


def _modules(code: str, tmp_path: Path) -> set[str]:
    """Every module ``code`` loads in a fresh interpreter."""
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
        "import edge.cli; edge.cli.build_parser().format_help()",  # what `edge --help` does
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


def test_the_command_line_of_edge_run_loads_no_other_command(tmp_path: Path) -> None:
    code = "import edge.cli; edge.cli.build_parser().parse_args(['run', '--source', 'demo'])"
    loaded = _modules(code, tmp_path)
    commands = {name for name in loaded if name.startswith("edge.commands.")}
    assert commands <= {"edge.commands.args", "edge.commands.parser"}, sorted(commands)
    assert "importlib.metadata" not in loaded  # no entry points looked up
    assert not {"convert", "models"} & {name.split(".")[0] for name in loaded}


def test_the_daemon_on_the_demo_loads_neither_pillow_nor_numpy_random(tmp_path: Path) -> None:
    """Pillow reads the user's images; the bundled frames are read by OpenCV. K-means' fixed
    draws are kept in a file (edge.inference.kmeans). Before a scrape, no Prometheus client."""
    code = (
        "from edge.cli import main\n"
        f"assert main(['run', '--source', 'demo', '--max-frames', '3', '--quiet', "
        f"'--out', {str(tmp_path / 'out')!r}, '--web', '127.0.0.1:0']) == 0"
    )
    loaded = _modules(code, tmp_path)
    assert "edge.inference.colors" in loaded and "edge.web.server" in loaded  # it did run
    assert not {"PIL", "numpy.random", "prometheus_client"} & loaded
    commands = {name for name in loaded if name.startswith("edge.commands.")}
    assert commands <= {"edge.commands.args", "edge.commands.parser"}, sorted(commands)
