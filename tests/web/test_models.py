"""Promote and roll back a camera's classifier: from a shell, the page and MQTT's commands
reach the running daemon; the choice survives a restart until the config names another."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from edge import promotion
from edge.config import parse_config
from tests.support.mosquitto import free_port

from ..conftest import REPO
from ..support.browser import Browser, chromium
from ..support.waiting import wait_for
from .conftest import Daemon

pytestmark = pytest.mark.slow


def _edge(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "edge.cli", *args], capture_output=True,
                          text=True, check=False, cwd=REPO)  # fmt: skip


def _newest(out: Path) -> dict[str, Any]:
    latest = out / "camera" / "latest.json"
    return json.loads(latest.read_text()) if latest.exists() else {}


def _live(out: Path) -> str | None:
    classification = _newest(out).get("classification")
    return classification["model"] if isinstance(classification, dict) else None


def test_promotion_switches_the_live_model_and_survives_a_restart(
    daemon: Callable[..., Daemon], tmp_path: Path, make_bundle: Callable[..., Path]
) -> None:
    out = tmp_path / "state"
    config = f"""
[[cameras]]
name = "camera"
source = "demo"
fps = 20.0
classifier = "{make_bundle("softmax")}"
anomaly = ""
candidate = "demo"
[outputs]
console = false
[outputs.files]
dir = "{out}"
[web]
listen = "127.0.0.1:{free_port()}"
"""
    path = tmp_path / "edge.toml"
    path.write_text(config)
    first = daemon("--out", str(out), config=config, listen=None)
    assert wait_for(lambda: (_newest(out).get("candidate") or {}).get("model") == "digits", 30)
    assert _live(out) == "tiny"
    if chromium() is not None:  # the page shows the candidate, its agreement and confusion
        with Browser.launch(tmp_path / "profile") as browser:
            browser.open(first.url)
            shown = browser.wait("document.querySelector('.camera .agreement')?.textContent"
                                 ".match(/^[0-9.]+% of [0-9]+, [0-9.]+ ms$/)?.[0]")  # fmt: skip
            assert shown.startswith("0.0% of")  # tiny's labels are not digits: never agrees
            assert (
                browser.evaluate("document.querySelector('.camera .candidate').textContent")
                == "digits"
            )
            assert not browser.evaluate("document.querySelector('table.confusion').hidden")
            assert browser.errors() == []

    done = _edge("models", "promote", "--config", str(path))
    assert done.returncode == 0, done.stderr
    assert "live digits (promoted" in done.stdout and "the running daemon" in done.stdout
    assert wait_for(lambda: _live(out) == "digits" and _newest(out)["candidate"] is None, 20)
    status = json.loads(first.get("/api/status").body)["cameras"]["camera"]["models"]
    assert status["classifier"] == "digits" and status["action"] == "promote"
    assert "previous softmax" in status["choice"]  # the bundle files, as configured
    assert first.stop() == 0

    second = daemon("--out", str(out), config=config, listen=None)  # a restart
    assert wait_for(lambda: _newest(out).get("seq", 0) > 0 and _live(out) == "digits", 30)
    doctor = _edge("doctor", "--config", str(path))
    assert "[ok  ] camera models: live digits (promoted" in doctor.stdout

    done = _edge("models", "rollback", "--config", str(path))
    assert done.returncode == 0, done.stderr
    assert wait_for(lambda: _live(out) == "tiny", 20)
    assert wait_for(lambda: (_newest(out).get("candidate") or {}).get("model") == "digits", 20)
    assert second.stop() == 0

    done = _edge("models", "promote", "--config", str(path))  # no daemon: for the next start
    assert done.returncode == 0, done.stderr
    assert "no daemon answered" in done.stdout
    camera = parse_config({"cameras": [{"classifier": "other.tflite"}]}).cameras[0]
    assert promotion.choose(camera, out).live == Path("other.tflite")  # another model: void


def test_promote_without_a_candidate_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "edge.toml"
    path.write_text(f'[outputs.files]\ndir = "{tmp_path}"\n[web]\nenabled = false\n')
    done = _edge("models", "promote", "--config", str(path))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "edge models: camera has no candidate to promote: set the camera's candidate = "
        '"BUNDLE.tflite"'
    ]
    done = _edge("models", "rollback", "--config", str(path))
    assert done.returncode == 2 and "no model to roll back to" in done.stderr
