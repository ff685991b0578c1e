from __future__ import annotations

from pathlib import Path

import pytest

from edge.commands import doctor
from tests.support.mosquitto import free_port


def _lines(config: Path | None) -> tuple[int, list[str]]:
    lines: list[str] = []
    return doctor.doctor(config, lines.append), lines


def test_this_machine_is_ready_with_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doctor, "DEFAULT_CONFIG", Path("/nonexistent/edge.toml"))
    code, lines = _lines(None)
    assert code == 0, lines
    assert lines[-1] == "ready to run"
    assert any(line.startswith("[ok  ] TFLite runtime: litert") for line in lines)
    assert any("tflite_runtime" in line and "numpy<2" in line for line in lines)


def test_an_invalid_config_blocks_running(tmp_path: Path) -> None:
    config = tmp_path / "edge.toml"
    config.write_text("[[cameras]]\nfps = -3\n")
    code, lines = _lines(config)
    assert code == 1
    assert any(line.startswith("[FAIL] config:") and "cameras[0].fps" in line for line in lines)
    assert f"fix: edge config validate {config}" in "\n".join(lines)
    assert lines[-1] == "1 problem(s) block running"


def test_apt_picamera2_with_another_numpy_major_is_a_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "numpy-1.24.2.dist-info").mkdir()
    (tmp_path / "picamera2-0.3.25.dist-info").mkdir()
    monkeypatch.setattr(doctor, "SYSTEM_SITE", tmp_path)
    findings = list(doctor.check_numpy_and_picamera2())
    failing = [f for f in findings if f.status == "fail"]
    import numpy as np

    if np.__version__.startswith("1."):
        assert not any("needs numpy" in f.detail for f in failing)
    else:
        assert any("needs numpy 1.24.2" in f.detail for f in failing)
        assert any("numpy==1.24.2" in f.fix for f in failing)


def test_an_unreachable_broker_is_reported() -> None:
    port = free_port()  # nothing listens there
    (finding,) = doctor._check_broker(f"mqtt://127.0.0.1:{port}", timeout=1.0)
    assert finding.status == "warn"
    assert "not reachable" in finding.detail


def test_what_edge_run_refuses_blocks_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checks of `edge run` (edge.preflight): a missing model, an autoencoder given as the
    classifier, an unset password variable; each named by its key path."""
    from edge import demo

    monkeypatch.delenv("EDGE_TEST_UNSET", raising=False)
    config = tmp_path / "edge.toml"
    config.write_text(
        f"[[cameras]]\nsource = 'demo'\nclassifier = '{tmp_path / 'none.tflite'}'\n"
        f"[[cameras]]\nname = 'b'\nsource = 'demo'\nclassifier = '{demo.autoencoder_path()}'\n"
        "[outputs.mqtt]\nurl = 'mqtt://127.0.0.1:1'\nusername = 'u'\n"
        "password_env = 'EDGE_TEST_UNSET'\n"
    )
    code, lines = _lines(config)
    failed = [line for line in lines if line.startswith("[FAIL] config:")]
    assert code == 1
    assert "cameras[0].classifier: " in failed[0] and "no such model file" in failed[0]
    assert "cameras[1].classifier: " in failed[1] and "not a classifier" in failed[1]
    assert "outputs.mqtt.password_env: the environment variable EDGE_TEST_UNSET" in failed[2]
    assert lines[-1] == "3 problem(s) block running"
