"""``edge calibrate``: a camera's threshold from frames of its scene, kept in the state
directory, used by the daemon and shown by ``edge doctor``; the bundle left untouched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edge import calibration, demo
from edge.camera import build_stages
from edge.cli import main
from edge.commands import doctor
from edge.config import load_config
from edge.inference.bundle import load_bundle
from edge.inference.threshold import rank

FRAMES = Path(demo.__file__).parent / "data" / "demo" / "frames"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "edge.toml"
    path.write_text(
        f'[[cameras]]\nname = "door"\nsource = "folder:{FRAMES}"\nfps = 0.0\n'
        f'classifier = ""\n\n[outputs.files]\ndir = "{tmp_path / "state"}"\n'
    )
    return path


def _calibrate(config: Path, *args: str) -> int:
    return main(["calibrate", "--config", str(config), *args])


def _saved(config: Path) -> dict[str, object]:
    state = load_config(config).outputs.files.directory()
    data: dict[str, object] = json.loads((state / "door" / "calibration.json").read_text())
    return data


def test_calibrate_keeps_the_threshold_for_the_camera_and_its_bundle(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sidecar = demo.autoencoder_path().with_suffix(".json").read_bytes()
    args = ("--camera", "door", "--frames", "20", "--false-alarm-rate", "0.05")
    assert _calibrate(config, *args) == 0
    saved = _saved(config)
    bundle = load_bundle(demo.autoencoder_path())
    assert saved["images"] == 20
    assert saved["rank"] == rank(20, 0.05) == 20
    assert saved["false_alarm_rate"] == 0.05
    assert saved["bundle_sha256"] == bundle.meta["tflite_sha256"]
    assert bundle.anomaly is not None
    assert saved["threshold"] != bundle.anomaly.threshold
    assert demo.autoencoder_path().with_suffix(".json").read_bytes() == sidecar  # untouched
    out = capsys.readouterr().out
    assert "20 frames" in out and "calibration.json" in out


def test_the_daemon_uses_the_calibrated_threshold(config: Path, tmp_path: Path) -> None:
    assert _calibrate(config, "--frames", "25") == 0  # the only camera needs no --camera
    threshold = _saved(config)["threshold"]
    camera = load_config(config).cameras[0]
    stages = build_stages(camera, load_config(config).outputs.files.directory())
    assert stages.detector is not None
    assert stages.detector.threshold == threshold
    assert main(["run", "--config", str(config), "--quiet", "--max-frames", "3"]) == 0
    results = next((tmp_path / "state" / "door").glob("results-*.jsonl")).read_text()
    records = [json.loads(line) for line in results.splitlines()]
    assert {record["anomaly"]["threshold"] for record in records} == {threshold}


def test_a_calibration_for_another_bundle_is_ignored_and_doctor_says_so(config: Path) -> None:
    assert _calibrate(config, "--frames", "10") == 0
    state = load_config(config).outputs.files.directory()
    path = calibration.calibration_path(state, "door")
    lines = [finding.line() for finding in doctor.check_calibrations(load_config(config))]
    assert any(line.startswith("[ok  ] door calibration: threshold") for line in lines), lines
    saved = json.loads(path.read_text())
    path.write_text(json.dumps({**saved, "bundle_sha256": "0" * 64}))
    stages = build_stages(load_config(config).cameras[0], state)
    bundle = load_bundle(demo.autoencoder_path())
    assert stages.detector is not None and bundle.anomaly is not None
    assert stages.detector.threshold == bundle.anomaly.threshold
    lines = [finding.line() for finding in doctor.check_calibrations(load_config(config))]
    assert any(line.startswith("[warn] door calibration:") and "another bundle" in line
               for line in lines), lines  # fmt: skip


def test_an_unreadable_calibration_leaves_the_bundle_threshold(config: Path) -> None:
    state = load_config(config).outputs.files.directory()
    path = calibration.calibration_path(state, "door")
    path.parent.mkdir(parents=True)
    path.write_text('{"threshold": "high"}')
    stages = build_stages(load_config(config).cameras[0], state)
    bundle = load_bundle(demo.autoencoder_path())
    assert stages.detector is not None and bundle.anomaly is not None
    assert stages.detector.threshold == bundle.anomaly.threshold


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--camera", "yard", "--frames", "5"], "no camera named 'yard'; the config's cameras"),
        (["--frames", "5", "--false-alarm-rate", "1.5"], "the false-alarm rate must be in (0, 1)"),
    ],
)  # fmt: skip
def test_usage_errors_are_one_line_with_exit_2(
    config: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _calibrate(config, *args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_frames_must_be_counted(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        _calibrate(config, "--frames", "0")
    assert exited.value.code == 2
    assert "argument --frames: must be at least 1" in capsys.readouterr().err


def test_a_camera_without_an_autoencoder_is_a_usage_error(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config.write_text(config.read_text().replace('classifier = ""', 'anomaly = ""'))
    assert _calibrate(config, "--frames", "5") == 2
    assert "has no autoencoder" in capsys.readouterr().err
