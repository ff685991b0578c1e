from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.cli import main

from ..conftest import REPO
from ..support.schema import validate
from ..support.waiting import wait_for


@pytest.fixture
def frames(tmp_path: Path) -> Path:
    folder = tmp_path / "frames"
    folder.mkdir()
    rng = np.random.default_rng(7)
    for i in range(12):
        image = np.zeros((60, 80, 3), np.uint8)
        image[:, :40] = (200, 30, 30)
        image[:, 40:] = rng.integers(0, 256, 3, dtype=np.uint8)
        cv2.imwrite(str(folder / f"{i:03d}.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return folder


def _records(out: Path, camera: str = "camera") -> list[dict[str, object]]:
    lines: list[dict[str, object]] = []
    for path in sorted((out / camera).glob("results-*.jsonl")):
        lines += [json.loads(line) for line in path.read_text().splitlines()]
    return lines


def _run(*args: str) -> int:
    return main(["run", "--quiet", "--fps", "0", *args])


def test_max_frames_writes_exactly_n_valid_records(
    frames: Path, tmp_path: Path, make_bundle: Callable[..., Path]
) -> None:
    out = tmp_path / "out"
    code = _run(
        "--source", f"folder:{frames}", "--out", str(out), "--max-frames", "7",
        "--classifier", str(make_bundle("softmax")), "--anomaly", str(make_bundle("autoencoder")),
    )  # fmt: skip
    assert code == 0
    records = _records(out)
    assert len(records) == 7
    for record in records:
        validate(record)
    assert [r["seq"] for r in records] == list(range(7))
    first = records[0]
    assert first["frame"] == {"width": 80, "height": 60}
    assert first["classification"]["model"] == "tiny"  # type: ignore[index]
    assert len(first["classification"]["top"]) == 3  # type: ignore[index]
    assert set(first["anomaly"]) >= {"score", "threshold", "is_anomaly"}  # type: ignore[call-overload]
    latest = json.loads((out / "camera" / "latest.json").read_text())
    assert latest == records[-1]


def test_colors_are_found_and_the_folder_ends_the_run(frames: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert (
        _run("--source", f"folder:{frames}", "--out", str(out), "--classifier", "", "--anomaly", "")
        == 0
    )
    records = _records(out)
    assert len(records) == 12
    for record in records:
        colors = record["colors"]
        assert isinstance(colors, list)
        assert colors[0]["fraction"] == pytest.approx(0.5, abs=0.05) or len(colors) == 2
        assert "#c81e1e" in {c["hex"] for c in colors}
        assert record["classification"] is None


def _no_models(frames: Path, out: Path) -> tuple[str, ...]:
    """The folder source, the output directory, no classifier and no autoencoder."""
    return ("--source", f"folder:{frames}", "--out", str(out), "--classifier", "", "--anomaly", "")


def test_seq_continues_after_a_restart(frames: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    common = _no_models(frames, out)
    assert _run(*common, "--max-frames", "3") == 0
    assert _run(*common, "--max-frames", "3") == 0
    seqs = [r["seq"] for r in _records(out)]
    assert seqs == list(range(6))  # a clean stop saves the exact next number


@pytest.mark.parametrize("damage", ["missing", "corrupt", "behind"])
def test_seq_continues_after_the_newest_record_when_the_seq_file_is_lost(
    frames: Path, tmp_path: Path, damage: str
) -> None:
    out = tmp_path / "out"
    common = _no_models(frames, out)
    assert _run(*common, "--max-frames", "3") == 0
    seq_file = out / "camera" / ".seq"
    if damage == "missing":
        seq_file.unlink()
    else:
        seq_file.write_text("garbage\n" if damage == "corrupt" else "1\n")
    assert _run(*common, "--max-frames", "3") == 0
    assert [r["seq"] for r in _records(out)] == list(range(6))


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--source", "webcam:0"], 2, "--source: unknown source 'webcam'"),
        (["--fps", "-1"], 2, "--fps: Input should be greater than or equal to 0"),
        (["--max-frames", "0"], 2, "--max-frames must be at least 1"),
        (["--classifier", "/nonexistent/model.tflite"], 2, "--classifier: /nonexistent/model"),
        (["--config", "/nonexistent/edge.toml"], 78, "no such config file"),
    ],
)
def test_run_errors_are_one_line_with_the_exit_code(
    args: list[str], code: int, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--out", str(tmp_path), "--anomaly", "", *args]) == code
    err = capsys.readouterr().err.strip().splitlines()
    assert any(message in line and line.startswith("edge run: ") for line in err), err
    assert "Traceback" not in "\n".join(err)


def test_sigterm_finishes_the_frame_in_flight(frames: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "edge.cli", "run", "--quiet", "--source", f"folder:{frames}",
         "--fps", "4", "--out", str(out), "--classifier", "", "--anomaly", ""],
        env=env, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    wait_for(lambda: _records_exist(out), 30, 0.1)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 0, stderr
    records = _records(out)
    assert 1 <= len(records) < 12
    lines = (out / "camera").glob("results-*.jsonl")
    assert all(p.read_bytes().endswith(b"\n") for p in lines)
    assert json.loads((out / "camera" / "latest.json").read_text()) == records[-1]


def test_capture_is_the_work_and_the_wait_for_a_paced_video_is_apart(tmp_path: Path) -> None:
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (64, 48))
    for value in range(8):
        writer.write(np.full((48, 64, 3), value * 30, np.uint8))
    writer.release()
    out = tmp_path / "out"
    args = ("--source", f"file:{video}", "--out", str(out), "--classifier", "", "--anomaly", "")
    assert _run(*args) == 0
    records = _records(out)
    assert len(records) == 8
    for record in records:
        validate(record)
    timings = [record["timing_ms"] for record in records[1:]]  # the first comes at once
    waits = sorted(timing["wait"] for timing in timings)  # type: ignore[index]
    captures = sorted(timing["capture"] for timing in timings)  # type: ignore[index]
    assert waits[len(waits) // 2] >= 50.0  # paced at 10 fps: most of the 100 ms is waiting
    assert captures[len(captures) // 2] < waits[len(waits) // 2]


@pytest.mark.slow
def test_a_second_daemon_on_the_same_camera_directory_exits_naming_the_first(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    command = [sys.executable, "-m", "edge.cli", "run", "--quiet", "--source", "demo"]
    command += ["--fps", "20", "--out", str(out), "--classifier", "", "--anomaly", ""]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    first = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: len(_records(out)) >= 3, 20)
        second = subprocess.run(
            command, check=False, env=env, capture_output=True, text=True, timeout=60
        )
        count = len(_records(out))
        wait_for(lambda: len(_records(out)) >= count + 3, 20)
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=30)
    assert second.returncode == 1, second.stderr
    assert f"in use by another edge run (PID {first.pid})" in second.stderr
    assert len(second.stderr.strip().splitlines()) == 1, second.stderr
    seqs = [record["seq"] for record in _records(out)]
    assert seqs == list(range(len(seqs)))  # one writer: no interleaving


def _records_exist(out: Path) -> bool:
    return any((out / "camera").glob("results-*.jsonl")) if (out / "camera").exists() else False
