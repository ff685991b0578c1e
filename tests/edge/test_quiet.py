"""The terminal holds the project's own lines only, unless -v asks for the libraries' too."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from edge import demo

OWN_LINE = re.compile(
    r"(\d\d:\d\d:\d\d (DEBUG|INFO|WARNING|ERROR) (edge|convert|models)[\w.]*: |edge )"
)


def edge(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "edge.cli", *args]
    return subprocess.run(
        command, check=False, cwd=cwd, capture_output=True, text=True, timeout=120
    )


def foreign_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line and not OWN_LINE.match(line)]


def test_classify_colors_and_run_print_only_their_own_lines(tmp_path: Path) -> None:
    frame = str(demo.frames_dir() / "000_digit6.png")
    model = str(demo.classifier_path())
    runs = [
        edge("classify", "--model", model, frame, cwd=tmp_path),
        edge("colors", frame, cwd=tmp_path),
        edge("run", "--source", "demo", "--max-frames", "3", "--quiet", cwd=tmp_path),
    ]
    assert [run.returncode for run in runs] == [0, 0, 0]
    assert [foreign_lines(run.stderr) for run in runs] == [[], [], []]
    assert "edge.daemon: running 1 camera(s)" in runs[2].stderr


def test_verbose_shows_the_libraries_lines_after_the_subcommand_too(tmp_path: Path) -> None:
    frame = str(demo.frames_dir() / "000_digit6.png")
    run = edge("classify", "-v", "--model", str(demo.classifier_path()), frame, cwd=tmp_path)
    assert run.returncode == 0
    assert "DEBUG edge.inference.runtime: TFLite runtime:" in run.stderr
    if "litert" in run.stderr:  # LiteRT announces its CPU delegate from C++
        assert "XNNPACK delegate" in run.stderr


@pytest.mark.tf
@pytest.mark.slow
def test_train_and_convert_print_only_their_own_lines(tmp_path: Path) -> None:
    from models.datasets import write_digits_folder

    folders = write_digits_folder(tmp_path / "digits", size=8)
    model = tmp_path / "m.keras"
    train = edge(
        "train", "classifier", str(folders.train), "-o", str(model), "--size", "8",
        "--epochs", "1", cwd=tmp_path,
    )  # fmt: skip
    assert train.returncode == 0, train.stderr
    convert = edge(
        "convert", str(model), "--kind", "classifier", "--calib", str(folders.train),
        "-o", str(tmp_path / "m.tflite"), cwd=tmp_path,
    )  # fmt: skip
    assert convert.returncode == 0, convert.stderr
    assert foreign_lines(train.stderr) == []
    assert foreign_lines(convert.stderr) == []
    assert "━" not in train.stdout  # no progress bar when the output is not a terminal
    assert re.search(r"^\d+/\d+ - \d+s - .*accuracy", train.stdout, re.MULTILINE)


def test_doctor_prints_only_its_own_lines_while_it_probes_every_runtime(tmp_path: Path) -> None:
    run = edge("doctor", cwd=tmp_path)
    assert "TFLite runtime:" in run.stdout
    assert foreign_lines(run.stderr) == []
