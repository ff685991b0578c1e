"""``edge train``: the argument contract, lazy imports and a real run."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from models import cli
from models.datasets import DigitsFolders


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_importing_the_clis_does_not_import_tensorflow() -> None:
    code = "import sys, models.cli, convert.cli; print('tensorflow' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_defaults() -> None:
    args = _parse("classifier", "data", "-o", "m.keras")
    assert (args.kind, args.data_dir, args.output) == ("classifier", Path("data"), Path("m.keras"))
    assert (args.size, args.grayscale, args.epochs, args.seed, args.val_split) == (
        (32, 32),
        False,
        20,
        0,
        0.2,
    )
    assert (args.normalize, args.resize, args.color_order) == ("zero_one", "crop", "rgb")


@pytest.mark.parametrize(("text", "size"), [("32", (32, 32)), ("48x32", (48, 32))])
def test_sizes(text: str, size: tuple[int, int]) -> None:
    assert _parse("autoencoder", "d", "-o", "a.keras", "--size", text).size == size


@pytest.mark.parametrize("text", ["0", "axb", "1x2x3", "-4"])
def test_bad_sizes_are_usage_errors(text: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _parse("classifier", "d", "-o", "m.keras", "--size", text)
    assert exit_info.value.code == 2


@pytest.mark.tf
def test_edge_train_runs(
    digits: DigitsFolders, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from edge.cli import main

    out = tmp_path / "digits.keras"
    code = main(
        [
            "train",
            "autoencoder",
            str(digits.held_out / "4"),
            "-o",
            str(out),
            "--grayscale",
            "--epochs",
            "1",
            "--filters",
            "4",
            "--bottleneck",
            "8",
            "--val-split",
            "0.1",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "trained an autoencoder on" in printed
    assert f"next: edge convert {out} --kind autoencoder" in printed
    assert out.is_file()


@pytest.mark.tf
def test_edge_train_errors_exit_with_their_code(tmp_path: Path) -> None:
    from edge.cli import main

    (tmp_path / "empty").mkdir()
    assert (
        main(["train", "classifier", str(tmp_path / "empty"), "-o", str(tmp_path / "m.keras")]) == 1
    )
    assert (
        main(
            [
                "train",
                "autoencoder",
                str(tmp_path / "empty"),
                "-o",
                str(tmp_path / "m.keras"),
                "--normalize",
                "none",
            ]
        )
        == 2
    )
