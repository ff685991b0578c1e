"""``edge bench`` on the real interpreter and the shipped demo bundles, a few frames."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edge.cli import main
from edge.commands.bench import STAGES
from edge.errors import EX_FAILURE, EX_USAGE


def _bench(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["bench", "--frames", "5", "--json", *args]) == 0
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    return report


def _check_percentiles(values: dict[str, float]) -> None:
    assert 0 < values["p50"] <= values["p95"] <= values["p99"]


def test_json_report_has_every_figure(capsys: pytest.CaptureFixture[str]) -> None:
    report = _bench(capsys)
    assert report["model"] == "digits"
    assert report["anomaly"] is None
    assert report["candidate"] is None
    assert report["frames"] == 5
    assert report["threads"] == 1
    assert set(report["stages_ms"]) == set(STAGES)
    assert report["stages_ms"]["anomaly"] is None
    for stage in ("capture", "colors", "classify", "total"):
        _check_percentiles(report["stages_ms"][stage])
    _check_percentiles(report["invoke_ms"])
    assert report["classify_ratio"] > 0
    assert report["fps"] > 0
    assert report["fps_per_core"] > 0
    assert report["rss_mb"]["current"] > 10
    assert report["rss_mb"]["peak"] >= report["rss_mb"]["current"]
    assert report["device"]["runtime"] in ("litert", "tflite_runtime", "tensorflow")


def test_anomaly_stage_and_threads(capsys: pytest.CaptureFixture[str]) -> None:
    report = _bench(capsys, "--anomaly", "demo", "--threads", "2")
    assert report["anomaly"] == "digits_autoencoder"
    assert report["threads"] == 2
    _check_percentiles(report["stages_ms"]["anomaly"])
    total, parts = report["stages_ms"]["total"]["p50"], report["stages_ms"]["classify"]["p50"]
    assert total > parts


def test_a_candidate_in_shadow_reports_agreement_confusion_and_latency(
    capsys: pytest.CaptureFixture[str], make_bundle: Callable[..., Path]
) -> None:
    report = _bench(capsys, "--candidate", "demo")  # the same bundle: it always agrees
    shadow = report["candidate"]
    assert shadow["model"] == "digits" and shadow["compared"] == 5
    assert shadow["agreement"] == 1.0
    assert sum(n for row in shadow["confusion"].values() for n in row.values()) == 5
    assert all(live in row for live, row in shadow["confusion"].items())
    _check_percentiles(report["stages_ms"]["candidate"])
    other = _bench(capsys, "--candidate", str(make_bundle("softmax")))  # other labels
    assert other["candidate"]["agreement"] == 0.0
    assert main(["bench", "--frames", "2", "--candidate", "demo"]) == 0
    assert "candidate digits: agrees on 100.0% of 2 frames" in capsys.readouterr().out


def test_human_output_is_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--frames", "3", "--source", "demo", "--model", "demo"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("edge bench: digits on demo, 3 frames, 1 thread(s)")
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:8]}
    assert set(rows) == set(STAGES)
    assert rows["anomaly"] == ["-", "-", "-"]
    assert any(line.strip().startswith("classify / bare invoke:") for line in lines)
    assert any("per CPU core" in line for line in lines)
    assert any(line.strip().startswith("memory:") for line in lines)


def test_a_folder_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import cv2

    frame = np.full((48, 64, 3), 200, np.uint8)
    cv2.imwrite(str(tmp_path / "a.png"), frame)
    report = _bench(capsys, "--source", f"folder:{tmp_path}")  # 1 image, looped
    assert report["frames"] == 5
    assert report["source"] == f"folder:{tmp_path}"


def _one_line_error(capsys: pytest.CaptureFixture[str], code: int, *args: str) -> str:
    assert main(["bench", "--frames", "2", *args]) == code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "Traceback" not in err[0]
    return err[0]


def test_a_missing_model_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = _one_line_error(capsys, EX_FAILURE, "--model", str(tmp_path / "nope.tflite"))
    assert line.startswith("edge bench: ") and "nope.tflite" in line


def test_an_autoencoder_is_not_a_classifier(
    capsys: pytest.CaptureFixture[str], make_bundle: Callable[..., Path]
) -> None:
    line = _one_line_error(capsys, EX_FAILURE, "--model", str(make_bundle("autoencoder")))
    assert "not a classifier" in line


def test_an_unknown_source_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    line = _one_line_error(capsys, 2, "--source", "webcam:0")  # a flag's value, not a config
    assert "--source: unknown source 'webcam'" in line


@pytest.mark.parametrize("args", [["--frames", "0"], ["--threads", "x"], ["--frames", "-3"]])
def test_bad_numbers_are_usage_errors(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["bench", *args])
    assert exited.value.code == EX_USAGE
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("edge bench: argument --")


def test_a_camera_source_is_asked_for_the_classifiers_picture() -> None:
    from edge.commands.bench import unpaced_source
    from edge.sources.auto import AutoSource

    auto = unpaced_source("auto", (96, 96))  # a Pi camera, when auto finds one
    assert isinstance(auto, AutoSource) and auto.model_size == (96, 96)
    assert unpaced_source("demo", (96, 96)).spec == "demo"  # not a camera: nothing to ask
