"""Every user mistake is one clear line and an exit code, never a traceback.

Each row is ``edge ARGS``, the exit code and a fragment of the one line that must be all a user
reads on stderr, starting ``edge <command>``. Rows run in this process (``edge.cli.main``);
``test_a_sample_of_rows_as_a_user_runs_them`` runs a few as real processes to prove that nothing
else reaches the terminal. Files are named ``{d}/...``: see ``world.py``.

Grayscale, 16-bit, RGBA, palette, bilevel and CMYK images are not bad input: they are valid
images, read and converted to RGB wherever images are read (``edge colors``, ``edge classify``,
``folder:`` sources, calibration sets, training folders), as the tests at the end show. Only
files that are not images at all are refused, or skipped by name inside a folder.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from edge import demo
from edge.cli import main
from edge.errors import EX_CONFIG, EX_FAILURE, EX_USAGE
from edge.inference.preprocess import Preprocess

from . import world
from .support import user_lines

REPO = Path(__file__).resolve().parents[2]
IMG = "{d}/img/frame.png"
TF = pytest.mark.tf
AS_USER = pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
F, U, C = EX_FAILURE, EX_USAGE, EX_CONFIG


def classify(bundle: str, *more: str) -> list[str]:
    return ["classify", "--model", f"{{d}}/bundle/{bundle}", IMG, *more]


def run(*args: str) -> list[str]:
    """``edge run`` that would stop after one frame of the demo if nothing went wrong."""
    return ["run", "--quiet", "--max-frames", "1", "--out", "{d}/runout", "--source", "demo",
            "--classifier", "", "--anomaly", "", *args]  # fmt: skip


def run_config(name: str) -> list[str]:
    """``edge run`` of a config of the table, which would stop after one frame were it good."""
    return ["run", "--quiet", "--max-frames", "1", "--config", f"{{d}}/config/{name}.toml"]


def validate(name: str) -> list[str]:
    return ["config", "validate", f"{{d}}/config/{name}.toml"]


def convert(model: str, *args: str) -> list[str]:
    return ["convert", f"{{d}}/keras/{model}", "--kind", "classifier", "--calib", "{d}/calib",
            "-o", "{d}/converted/out.tflite", *args]  # fmt: skip


def train(*args: str) -> list[str]:
    return ["train", "classifier", "-o", "{d}/trained/m.keras", "--epochs", "1", *args]


# fmt: off
ROWS: list[Any] = [
    # -- model bundles: files, sidecar, hash, tensor details, labels, kind ----------------------
    pytest.param(classify("none/x.tflite"), F, "no such model file", id="bundle-missing"),
    pytest.param(classify("nosidecar/digits.tflite"), F, "no such sidecar file", id="no-sidecar"),
    pytest.param(classify("notjson/digits.tflite"), F, "not valid JSON", id="sidecar-not-json"),
    pytest.param(classify("array/digits.tflite"), F, "expected a JSON object, got list",
                 id="sidecar-array"),
    pytest.param(classify("format/digits.tflite"), F, "bundle format 2 is not 1", id="format"),
    pytest.param(classify("hash/digits.tflite"), F, "does not match digits.json", id="hash"),
    pytest.param(classify("truncated/digits.tflite"), F, "rejected the model", id="truncated"),
    pytest.param(classify("random/digits.tflite"), F, "rejected the model", id="random-bytes"),
    pytest.param(classify("scale/digits.tflite"), F, "model input scale", id="tensor-scale"),
    pytest.param(classify("zeropoint/digits.tflite"), F, "model output zero point",
                 id="tensor-zero-point"),
    pytest.param(classify("shape/digits.tflite"), F, "model output shape", id="tensor-shape"),
    pytest.param(classify("labels/digits.tflite"), F, "3 labels for 10 outputs", id="labels"),
    pytest.param(classify("nokind/digits.tflite"), F, "missing key 'kind'", id="no-kind"),
    pytest.param(classify("badkind/digits.tflite"), F, "kind must be one of", id="bad-kind"),
    pytest.param(classify("badinput/digits.tflite"), F, "invalid sidecar", id="bad-input-spec"),
    pytest.param(classify("infinity/digits.tflite"), F, "Infinity is not a JSON number",
                 id="sidecar-infinity"),
    pytest.param(classify("keras/digits.keras"), F, "this is a Keras model, not a bundle: run "
                 "`edge convert", id="keras-as-bundle"),
    pytest.param(run("--classifier", "{d}/bundle/keras/digits.keras"), U,
                 "--classifier: {d}/bundle/keras/digits.keras: this is a Keras model",
                 id="run-keras-as-bundle"),
    pytest.param(classify("autoencoder/digits_autoencoder.tflite"), F, "not a classifier",
                 id="autoencoder-as-classifier"),
    pytest.param(classify("float/tiny.tflite"), F, "model input dtype float32 != int8",
                 id="float-where-int8", marks=TF),
    pytest.param(classify("floatint8/tiny.tflite"), F, "a float model where int8 is required",
                 id="float-tensors-in-int8-bundle", marks=TF),
    pytest.param(classify("vector/tiny.tflite"), F, "is not an image of",
                 id="input-not-an-image", marks=TF),
    pytest.param(classify("good/digits.tflite", "--top-k", "0"), U, "must be at least 1",
                 id="top-k-zero"),
    pytest.param(classify("good/digits.tflite", "--threads", "0"), U, "--threads: must be at",
                 id="threads-zero"),
    pytest.param(classify("good/digits.tflite", "--top-k", "x"), U, "expected a whole number",
                 id="top-k-text"),
    # -- images -----------------------------------------------------------------------------------
    pytest.param(["classify", "--model", "{d}/bundle/good/digits.tflite", "{d}/img/notimage.png"],
                 F, "notimage.png: not a readable image", id="classify-not-an-image"),
    pytest.param(["colors", "{d}/img/notimage.png"], F, "not a readable image", id="not-image"),
    pytest.param(["colors", "{d}/img/empty.png"], F, "not a readable image", id="empty-file"),
    pytest.param(["colors", "{d}/img/truncated.png"], F, "not a readable image",
                 id="truncated-png"),
    pytest.param(["colors", "{d}/img/folder.png"], F, "not a readable image", id="dir-as-image"),
    pytest.param(["colors", "{d}/img/missing.png"], F, "missing.png: no such file",
                 id="missing-image"),
    pytest.param(["colors", "--k", "0", IMG], U, "argument --k: must be at least 1", id="k-zero"),
    pytest.param(["colors"], U, "the following arguments are required: IMAGE", id="no-image"),
    # -- edge run: sources, flags, models, credentials ------------------------------------------
    pytest.param(run("--source", "webcam:0"), U, "--source: unknown source 'webcam'",
                 id="source-scheme"),
    pytest.param(run("--source", "folder:"), U, "--source: the folder source needs a target",
                 id="source-no-target"),
    pytest.param(run("--source", "demo:x"), U, "takes no argument", id="source-demo-arg"),
    pytest.param(run("--source", "v4l2:"), U, "the v4l2 source needs a target", id="v4l2-empty"),
    pytest.param(run("--source", "  "), U, "--source: source must not be empty",
                 id="source-blank"),
    pytest.param(run("--source", "{d}/img"), U, "use 'folder:{d}/img'", id="source-bare-folder"),
    pytest.param(run("--source", "/dev/video0"), U, "use 'v4l2:/dev/video0'",
                 id="source-bare-device"),
    pytest.param(run("--fps", "-1"), U, "--fps: Input should be greater than or equal to 0",
                 id="fps-negative"),
    pytest.param(run("--fps", "abc"), U, "invalid float value: 'abc'", id="fps-text"),
    pytest.param(run("--max-frames", "0"), U, "--max-frames must be at least 1", id="max-frames"),
    pytest.param(run("--mqtt", "ftp://broker"), U, "--mqtt: 'ftp://broker' is not an MQTT URL",
                 id="mqtt-scheme"),
    pytest.param(run("--mqtt", "mqtt://broker:99999"), U, "not a valid MQTT URL",
                 id="mqtt-port"),
    pytest.param(run("--mqtt", "mqtt://broker/x"), U, "has no path", id="mqtt-path"),
    pytest.param(run("--out", IMG), U, "--out: {d}/img/frame.png is not a directory",
                 id="out-is-a-file"),
    pytest.param(run("--out", "{d}/img/frame.png/results"), U,
                 "--out: cannot create {d}/img/frame.png/results: {d}/img/frame.png is not a "
                 "directory", id="out-below-a-file"),
    pytest.param(run("--bogus"), U, "unrecognized arguments: --bogus", id="unknown-flag"),
    pytest.param(run("--config", "{d}/config/missing.toml"), C, "no such config file",
                 id="config-missing"),
    pytest.param(run("--config", "{d}/config/dir.toml"), C, "cannot read the config",
                 id="config-dir"),
    pytest.param(run("--config", "{d}/config/binary.toml"), C, "cannot read the config",
                 id="config-not-utf8"),
    pytest.param(run("--classifier", "{d}/bundle/hash/digits.tflite"), U,
                 "--classifier: {d}/bundle/hash/digits.tflite: ", id="run-hash"),
    pytest.param(run("--anomaly", "{d}/bundle/good/digits.tflite"), U,
                 "--anomaly: {d}/bundle/good/digits.tflite: is a classifier bundle, not an "
                 "autoencoder", id="classifier-as-autoencoder"),
    pytest.param(run("--classifier", "{d}/bundle/none/x.tflite"), U, "no such model file",
                 id="run-model-missing"),
    pytest.param(run("--config", "{d}/config/pw_missing.toml"), C,
                 "password_file: cannot read", id="password-file-missing"),
    pytest.param(run("--config", "{d}/config/pw_dir.toml"), C, "(Is a directory)",
                 id="password-file-dir"),
    pytest.param(run("--config", "{d}/config/pw_noperm.toml"), C, "(Permission denied)",
                 id="password-file-unreadable", marks=AS_USER),
    pytest.param(run("--config", "{d}/config/pw_empty.toml"), C, "is empty",
                 id="password-file-empty"),
    pytest.param(run("--config", "{d}/config/pw_binary.toml"), C, "(UnicodeDecodeError)",
                 id="password-file-binary"),
    pytest.param(run("--config", "{d}/config/pw_env.toml"), C,
                 "EDGE_TEST_UNSET_PASSWORD is not set", id="password-env-unset"),
    pytest.param(run("--config", "{d}/config/pw_credential.toml"), C,
                 "$CREDENTIALS_DIRECTORY is not set", id="credential-outside-systemd"),
    pytest.param(run("--config", "{d}/config/pw_credential_path.toml"), C, "a name, not a path",
                 id="credential-path"),
    pytest.param(run("--config", "{d}/config/tls_ca_missing.toml"), C, "tls_ca: cannot load",
                 id="tls-ca-missing"),
    pytest.param(run("--config", "{d}/config/outbox_dir.toml"), C,
                 "outputs.mqtt.outbox: cannot open", id="outbox-unusable"),
    pytest.param(run_config("model_missing"), C,
                 "model_missing.toml: cameras[0].classifier: {d}/bundle/none/x.tflite: no such "
                 "model file", id="config-model-missing"),
    pytest.param(run_config("autoencoder_as_classifier"), C,
                 "cameras[0].classifier: {d}/bundle/autoencoder/digits_autoencoder.tflite: is "
                 "an autoencoder bundle, not a classifier", id="config-autoencoder-as-classifier"),
    pytest.param(run_config("classifier_as_autoencoder"), C,
                 "cameras[1].anomaly: ", id="config-classifier-as-autoencoder"),
    pytest.param(run_config("keras_model"), C,
                 "cameras[0].classifier: {d}/bundle/keras/digits.keras: this is a Keras model",
                 id="config-keras-model"),
    pytest.param(run_config("source_folder"), C,
                 "cameras[0].source: '{d}/img' is not a source spec; for a folder of images use",
                 id="config-bare-folder"),
    pytest.param(run_config("files_dir_file"), C,
                 "outputs.files.dir: {d}/img/frame.png is not a directory",
                 id="config-files-dir-a-file"),
    # -- edge config validate ---------------------------------------------------------------------
    pytest.param(validate("notoml"), C, "not valid TOML", id="not-toml"),
    pytest.param(validate("unknown_top"), C, "colour: unknown key", id="unknown-key"),
    pytest.param(validate("unknown_nested"), C, "cameras[0].colors.q: unknown key",
                 id="unknown-nested-key"),
    pytest.param(validate("wrong_type"), C, "cameras[0].fps: Input should be a valid number",
                 id="wrong-type"),
    pytest.param(validate("wrong_type_list"), C, "cameras: Input should be a valid list",
                 id="table-expected"),
    pytest.param(validate("bool_for_int"), C, "cameras[0].top_k: Input should be a valid integer",
                 id="bool-for-int"),
    pytest.param(validate("range_k"), C, "cameras[0].colors.k: Input should be greater than",
                 id="k-range"),
    pytest.param(validate("range_fps"), C, "less than or equal to 240", id="fps-range"),
    pytest.param(validate("range_threshold"), C, "confidence_threshold", id="threshold-range"),
    pytest.param(validate("nan"), C, "cameras[0].fps", id="nan"),
    pytest.param(validate("log_level"), C, "log_level: Input should be 'debug'", id="log-level"),
    pytest.param(validate("no_cameras"), C, "cameras: List should have at least 1 item",
                 id="no-cameras"),
    pytest.param(validate("duplicate"), C, "camera names must be unique, repeated: a",
                 id="duplicate-cameras"),
    pytest.param(validate("camera_name"), C, "cameras[0].name", id="camera-name-path"),
    pytest.param(validate("device_name"), C, "device: String should match", id="device-name"),
    pytest.param(validate("empty_source"), C, "source must not be empty", id="empty-source"),
    pytest.param(validate("roi"), C, "roi is [x, y, width, height]", id="roi"),
    pytest.param(validate("stall"), C, "stall_timeout: Input should be greater than 0",
                 id="stall-timeout"),
    pytest.param(validate("retention"), C, "retention_days", id="retention"),
    pytest.param(validate("url_scheme"), C, "'http://broker' is not an MQTT URL", id="url"),
    pytest.param(validate("url_password"), C, "the URL holds a password", id="url-password"),
    pytest.param(validate("url_path"), C, "has no path, query or fragment", id="url-path"),
    pytest.param(validate("url_port"), C, "not a valid MQTT URL", id="url-port"),
    pytest.param(validate("password_key"), C, "the password never goes in the config",
                 id="password-in-config"),
    pytest.param(validate("two_passwords"), C, "give only one of", id="two-passwords"),
    pytest.param(validate("password_no_user"), C, "needs a username", id="password-no-user"),
    pytest.param(validate("tls_half"), C, "tls_cert and tls_key go together", id="tls-half"),
    pytest.param(validate("backoff"), C, "reconnect_max must be at least", id="backoff"),
    pytest.param(validate("qos"), C, "qos: Input should be 0, 1 or 2", id="qos"),
    pytest.param(validate("protocol"), C, "protocol: Input should be '3.1.1' or '5'",
                 id="protocol"),
    pytest.param(validate("topic"), C, "topic_prefix: String should match", id="topic"),
    pytest.param(validate("missing"), C, "no such config file", id="validate-missing"),
    pytest.param(["config"], U, "the following arguments are required: COMMAND",
                 id="config-no-command"),
    pytest.param(["bench", "--source", "webcam:0"], U, "--source: unknown source 'webcam'",
                 id="bench-source"),
    pytest.param(["bench", "--source", "{d}/img"], U, "use 'folder:{d}/img'",
                 id="bench-bare-folder"),
    # -- edge tail --------------------------------------------------------------------------------
    pytest.param(["tail"], U, "give --file DIR", id="tail-nothing"),
    pytest.param(["tail", "--file", "{d}/missing"], U, "not a directory", id="tail-missing"),
    pytest.param(["tail", "--file", IMG], U, "not a directory", id="tail-file"),
    pytest.param(["tail", "--file", "{d}/emptydir", "--device", "x"], U, "use it with --mqtt",
                 id="tail-device"),
    pytest.param(["tail", "--file", "{d}/emptydir", "--mqtt", "mqtt://b"], U, "not both",
                 id="tail-both"),
    pytest.param(["tail", "--mqtt", "ftp://u:x@b"], U, "--mqtt: 'ftp://u:***@b' is not an MQTT",
                 id="tail-url"),
    pytest.param(["tail", "--mqtt", "host:port"], U, "--mqtt: 'host:port' is not an MQTT URL",
                 id="tail-url-no-scheme"),
    pytest.param(["tail", "--file", "{d}/emptydir", "--camera", "bad name"], U,
                 "argument --camera: expected 1 to 64 letters", id="tail-camera-name"),
    pytest.param(["tail", "--config", "{d}/config/missing.toml"], C, "no such config file",
                 id="tail-config"),
    # -- the workstation: Keras files, calibration sets, training folders ------------------------
    pytest.param(convert("text.keras"), F, "not a .keras file", id="keras-text", marks=TF),
    pytest.param(convert("noconfig.keras"), F, "not a Keras model that can be loaded",
                 id="keras-zip-without-model", marks=TF),
    pytest.param(convert("garbage.h5"), F, "not a Keras model that can be loaded",
                 id="h5-garbage", marks=TF),
    pytest.param(convert("lambda.keras"), F, "Lambda", id="keras-unsafe-lambda", marks=TF),
    pytest.param(convert("vector.keras"), F, "input shape [10] is not an image",
                 id="keras-not-image", marks=TF),
    pytest.param(convert("missing.keras"), F, "no such model file", id="keras-missing", marks=TF),
    pytest.param(convert("classifier.keras", "--kind", "autoencoder"), F,
                 "use --kind classifier", id="wrong-kind", marks=TF),
    pytest.param(convert("classifier.keras", "--labels", "{d}/keras/two.labels.txt"), F,
                 "2 labels, but the model needs 3", id="labels-length", marks=TF),
    pytest.param(convert("classifier.keras", "--calib", "{d}/emptydir"), F, "no images found",
                 id="calib-empty", marks=TF),
    pytest.param(convert("classifier.keras", "--calib", "{d}/junk"), F,
                 "none of the 3 image(s) could be read", id="calib-junk", marks=TF),
    pytest.param(convert("classifier.keras", "--calib", "{d}/missing"), F, "no such folder",
                 id="calib-missing", marks=TF),
    pytest.param(convert("classifier.keras", "-o", "{d}/out.bin"), U, "must end in .tflite",
                 id="convert-output", marks=TF),
    pytest.param(convert("classifier.keras", "--percentile", "0"), U, "--percentile must be in",
                 id="percentile", marks=TF),
    pytest.param(convert("classifier.keras", "--calib-limit", "0"), U, "at least 1",
                 id="calib-limit", marks=TF),
    pytest.param(convert("classifier.keras", "--kind", "detector"), U, "invalid choice",
                 id="convert-kind"),
    pytest.param(train("{d}/emptydir"), F, "no label subfolders", id="train-empty", marks=TF),
    pytest.param(train("{d}/missing"), F, "no such folder", id="train-missing", marks=TF),
    pytest.param(train("{d}/onelabel"), F, "found only label 'cat'", id="one-label", marks=TF),
    pytest.param(train("{d}/junklabels"), F, "none of the 3 image(s) could be read",
                 id="train-junk", marks=TF),
    pytest.param(train("{d}/onelabel", "-o", "{d}/m.h5"), U, "must end in .keras",
                 id="train-output", marks=TF),
    pytest.param(train("{d}/onelabel", "--epochs", "0"), U, "at least 1", id="epochs", marks=TF),
    pytest.param(train("{d}/onelabel", "--val-split", "1.5"), U, "--val-split must be in",
                 id="val-split", marks=TF),
    pytest.param(train("{d}/onelabel", "--size", "0"), U, "size must be N or WxH",
                 id="train-size"),
    pytest.param(["train", "autoencoder", "{d}/emptydir", "-o", "{d}/m.keras"], F,
                 "no images found", id="train-autoencoder-empty", marks=TF),
    # -- the command itself ------------------------------------------------------------------------
    pytest.param([], U, "the following arguments are required: COMMAND", id="no-command"),
    pytest.param(["frobnicate"], U, "invalid choice: 'frobnicate'", id="unknown-command"),
]
# fmt: on
BAD_INPUTS = len(ROWS)


@pytest.fixture(scope="module")
def d(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return world.build(tmp_path_factory.mktemp("bad-input"))


@pytest.fixture(scope="module")
def d_tf(d: Path, tiny_models: dict[str, tuple[Any, bytes]], tiny_preprocess: Preprocess) -> Path:
    world.build_tf(d, tiny_models, tiny_preprocess)
    return d


def _expand(argv: list[str], root: Path) -> list[str]:
    return [arg.replace("{d}", str(root)) for arg in argv]


def run_in_process(
    argv: list[str], capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> tuple[int, list[str]]:
    """The exit code and what a user would read on stderr: fd 2 (so also what C++ writes)
    and every log line, which the daemon prints to stderr."""
    capfd.readouterr()  # not what fixtures printed while making the files
    caplog.clear()
    with caplog.at_level(logging.INFO):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse
            code = int(exc.code or 0)
    err = capfd.readouterr().err
    logged = [f"{r.levelname} {r.name}: {r.getMessage()}" for r in caplog.records]
    return code, user_lines(err) + logged


def check_one_line(argv: list[str], lines: list[str], code: int, expected: tuple[int, str]) -> None:
    want_code, fragment = expected
    text = "\n".join(lines)
    assert "Traceback" not in text, text
    assert len(lines) == 1, f"expected one line, got:\n{text}"
    command = argv[0] if argv else ""
    assert re.match(rf"^edge( {re.escape(command)})?[ :]", lines[0]), lines[0]
    assert fragment in lines[0], lines[0]
    assert code == want_code, (code, lines[0])


@pytest.fixture
def root(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder of bad inputs (with the TensorFlow-made ones for rows marked tf), as cwd."""
    needs_tf = any(mark.name == "tf" for mark in request.node.iter_markers())
    folder: Path = request.getfixturevalue("d_tf" if needs_tf else "d")
    monkeypatch.chdir(folder)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    monkeypatch.delenv("EDGE_TEST_UNSET_PASSWORD", raising=False)
    return folder


@pytest.fixture
def edge(
    root: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> Callable[[list[str]], tuple[list[str], int, list[str]]]:
    """Run ``edge ARGV`` ({d} expanded) in this process: (argv, exit code, stderr lines)."""

    def edge(argv: list[str]) -> tuple[list[str], int, list[str]]:
        expanded = _expand(argv, root)
        return (expanded, *run_in_process(expanded, capfd, caplog))

    return edge


@pytest.mark.parametrize(("argv", "code", "fragment"), ROWS)
def test_a_bad_input_is_one_line_and_an_exit_code(
    argv: list[str], code: int, fragment: str, edge: Callable[..., Any], root: Path
) -> None:
    expanded, got, lines = edge(argv)
    check_one_line(expanded, lines, got, (code, fragment.replace("{d}", str(root))))


def test_the_table_has_at_least_forty_rows() -> None:
    assert BAD_INPUTS >= 40


SAMPLE = ["hash", "truncated", "labels", "fps-text", "password-file-missing", "not-toml",
          "k-zero", "tail-missing"]  # fmt: skip


def test_a_sample_of_rows_as_a_user_runs_them(d: Path) -> None:
    """As real processes: only the one line reaches stderr (beside third-party noise that no
    setting turns off), nothing on stdout."""
    rows = {row.id: row.values for row in ROWS if row.id in SAMPLE}
    assert len(rows) == len(SAMPLE)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("CREDENTIALS_DIRECTORY", None)
    for name, (argv, code, fragment) in rows.items():
        expanded = _expand(argv, d)
        proc = subprocess.run(
            [sys.executable, "-m", "edge.cli", *expanded],
            capture_output=True, text=True, env=env, cwd=d, timeout=60, check=False,
        )  # fmt: skip
        assert proc.stdout == "", (name, proc.stdout)
        expected = (code, fragment.replace("{d}", str(d)))
        check_one_line(expanded, user_lines(proc.stderr), proc.returncode, expected)


# -- unusual but valid images are converted, never refused --------------------------------------


def test_grayscale_16_bit_rgba_palette_and_cmyk_images_are_read(
    d: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    odd = sorted(str(p) for p in (d / "odd").iterdir())
    assert main(["colors", *odd, "--json"]) == 0
    assert main(["classify", "--model", str(demo.classifier_path()), *odd]) == 0
    out = capfd.readouterr().out.splitlines()
    assert len(out) == 2 * len(odd)


def test_a_folder_of_every_image_mode_and_a_broken_file_runs(
    d: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "out"
    code = main(["run", "--quiet", "--source", f"folder:{d / 'mixed'}", "--fps", "0",
                 "--out", str(out)])  # fmt: skip
    assert code == 0
    from .support import check_results

    assert len(check_results(out).records) == len(list((d / "odd").iterdir()))
    assert "broken.png: not a readable image" in caplog.text  # skipped, by name


@pytest.mark.tf
def test_a_calibration_set_of_every_image_mode_converts(
    d_tf: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "mixed.tflite"
    code = main(["convert", str(d_tf / "keras" / "classifier.keras"), "--kind", "classifier",
                 "--calib", str(d_tf / "mixed"), "-o", str(out)])  # fmt: skip
    assert code == 0
    assert out.exists() and out.with_suffix(".json").exists()
    assert "skipped 1 unreadable image(s) of 8" in caplog.text


@pytest.mark.tf
def test_a_training_folder_of_every_image_mode_trains(
    d_tf: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "mixed.keras"
    code = main(["train", "classifier", str(d_tf / "mixedlabels"), "-o", str(out),
                 "--epochs", "1", "--size", "16", "--filters", "4", "--depth", "1",
                 "--dense", "0", "--val-split", "0.25"])  # fmt: skip
    assert code == 0
    assert out.exists()
    assert "broken.png" in caplog.text  # the one file that is not an image: skipped, by name
