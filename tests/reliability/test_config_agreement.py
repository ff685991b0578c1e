"""``edge config validate`` and ``edge run`` agree on every config file of the bad-input table
(world.py): a file validate accepts runs; a file it refuses, ``edge run`` refuses with the same
line and exit code 78 (both call edge.preflight)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from edge.errors import EX_CONFIG

from . import world
from .test_bad_input import run_in_process

NAMES = [*sorted(world.CONFIGS), "binary", "dir", "missing"]


@pytest.fixture(scope="module")
def d(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return world.build(tmp_path_factory.mktemp("agreement"))


@pytest.mark.parametrize("name", NAMES)
def test_validate_and_run_agree(
    name: str,
    d: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    if name == "pw_noperm" and os.geteuid() == 0:
        pytest.skip("root reads any file: the config is valid and would look for a camera")
    monkeypatch.chdir(d)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    monkeypatch.delenv("EDGE_TEST_UNSET_PASSWORD", raising=False)
    path = str(d / "config" / f"{name}.toml")
    valid, said = run_in_process(["config", "validate", path], capfd, caplog)
    ran, refused = run_in_process(["run", "--quiet", "--max-frames", "1", "--config", path],
                                  capfd, caplog)  # fmt: skip
    if valid == 0:
        assert ran == 0, refused
        return
    assert (valid, ran) == (EX_CONFIG, EX_CONFIG), (said, refused)
    assert said[0].removeprefix("edge config: ") == refused[-1].removeprefix("edge run: ")


def test_the_table_holds_a_config_that_runs() -> None:
    assert "good" in NAMES
