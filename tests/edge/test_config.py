from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from edge.config import (
    Config,
    default_config,
    load_config,
    parse_config,
    with_overrides,
)
from edge.errors import ConfigError, UsageError


def test_the_commented_default_is_the_default() -> None:
    assert default_config().model_dump(exclude={"device"}) == Config().model_dump(
        exclude={"device"}
    )


def test_an_empty_file_is_the_default(tmp_path: Path) -> None:
    path = tmp_path / "edge.toml"
    path.write_text("")
    assert load_config(path).cameras[0].source == "auto"


def test_several_cameras(tmp_path: Path) -> None:
    path = tmp_path / "edge.toml"
    path.write_text(
        'device = "shed"\n'
        '[[cameras]]\nname = "front"\nsource = "v4l2:0"\nfps = 2\n'
        '[[cameras]]\nname = "back"\nsource = "picamera2"\nclassifier = ""\n'
        "[cameras.colors]\nk = 3\n"
    )
    config = load_config(path)
    assert [c.name for c in config.cameras] == ["front", "back"]
    assert config.cameras[1].colors.k == 3
    assert config.cameras[0].colors.k == 5
    assert config.device == "shed"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"cameras": [{"fps": -1}]}, "cameras[0].fps: Input should be greater than or equal to 0"),
        ({"cameras": [{"bogus": 1}]}, "cameras[0].bogus: unknown key"),
        ({"outputs": {"files": {"retention": 3}}}, "outputs.files.retention: unknown key"),
        ({"cameras": [{"fps": "fast"}]}, "cameras[0].fps: Input should be a valid number"),
        ({"cameras": [{"name": "a/b"}]}, "cameras[0].name: String should match pattern"),
        ({"cameras": [{"name": "a"}, {"name": "a"}]}, "camera names must be unique, repeated: a"),
        ({"cameras": []}, "cameras: List should have at least 1 item"),
        ({"cameras": [{"roi": [0.5, 0.5, 0.8, 0.1]}]}, "cameras[0].roi: roi is [x, y, width"),
        ({"cameras": [{"source": " "}]}, "cameras[0].source: source must not be empty"),
        ({"cameras": [{"colors": {"k": 0}}]}, "cameras[0].colors.k: Input should be greater"),
        ({"log_level": "loud"}, "log_level: Input should be 'debug'"),
        ({"cameras": {"name": "x"}}, "cameras: Input should be a valid list"),
    ],
)
def test_bad_configs_name_the_key_path(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, "edge.toml")
    assert message in str(caught.value)
    assert caught.value.exit_code == 78
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[cameras]\n", "not valid TOML"),
        ("fps = 3\n", "fps: unknown key"),
        ("\xff\xfe", "cannot read the config"),
    ],
)
def test_bad_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "edge.toml"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_a_missing_file_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="edge config default"):
        load_config(tmp_path / "nope.toml")


def test_overrides_apply_to_every_camera(tmp_path: Path) -> None:
    config = parse_config({"cameras": [{"name": "a"}, {"name": "b"}]})
    changed = with_overrides(config, source="demo", fps=0.0, classifier=None, out=tmp_path)
    assert [c.source for c in changed.cameras] == ["demo", "demo"]
    assert [c.fps for c in changed.cameras] == [0.0, 0.0]
    assert changed.outputs.files.directory() == tmp_path
    with pytest.raises(UsageError, match=r"^--fps: Input should be greater"):  # exit 2, not 78
        with_overrides(config, fps=-2.0)


def test_output_directory_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    assert Config().outputs.files.directory() == Path("edge-results")
    monkeypatch.setenv("STATE_DIRECTORY", "/var/lib/edge-vision:/var/lib/other")
    assert Config().outputs.files.directory() == Path("/var/lib/edge-vision")


def test_the_printed_default_runs_as_no_config_at_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`edge config default` > FILE; `edge run --config FILE` is `edge run`: live lines too."""
    from edge.cli import main

    assert main(["config", "default"]) == 0
    printed = tmp_path / "edge.toml"
    printed.write_text(capsys.readouterr().out)
    assert load_config(printed) == default_config()
    flags = ["--source", "demo", "--classifier", "", "--anomaly", "", "--max-frames", "2"]
    outputs = []
    for extra in ([], ["--config", str(printed)]):
        assert main(["run", *flags, "--out", str(tmp_path / str(len(extra))), *extra]) == 0
        outputs.append(capsys.readouterr().out.splitlines())
    assert [len(lines) for lines in outputs] == [2, 2], outputs
