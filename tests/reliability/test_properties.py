"""Property-based tests (hypothesis): the colors stage, the records the real pipeline makes,
and fuzzing of the three loaders that read what users hand us: result records, configs and
model bundles. Each loader may refuse its input only with its own error, never another."""

from __future__ import annotations

import contextlib
import copy
import json
import os
import string
import sys
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from edge import demo
from edge.brokers import parse_mqtt_url
from edge.config import (
    DEFAULT_TOML,
    Config,
    default_config,
    load_config,
    parse_config,
    with_overrides,
)
from edge.errors import ConfigError, ModelError, UsageError
from edge.frames import Frame
from edge.inference.anomaly import AnomalyDetector
from edge.inference.bundle import load_bundle, sha256_bytes
from edge.inference.classify import Classifier
from edge.inference.colors import COLOR_JUMP, ColorTracker, dominant_colors, downsample
from edge.pipeline import Pipeline, Stages
from edge.records import RecordError, ResultRecord

from ..support.schema import VALIDATOR

# EDGE_FUZZ_SCALE multiplies the examples (EDGE_FUZZ_SCALE=20 for a long soak). The examples
# are derived from each test's name (derandomize, no example database), so every run and every
# CI machine tries the same inputs and a failure reproduces; the soak run, scaled up, explores.
SCALE = float(os.environ.get("EDGE_FUZZ_SCALE", "1"))
REPRODUCIBLE = SCALE <= 1


def _settings(examples: int) -> settings:
    return settings(
        max_examples=int(examples * SCALE),
        deadline=None,
        derandomize=REPRODUCIBLE,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


FAST = _settings(60)
SLOW = _settings(25)
SIZE = (16, 12)  # the colors stage's downsampled size in these tests

# -- the colors stage -----------------------------------------------------------------------------

palettes = st.lists(
    st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)),
    min_size=1,
    max_size=6,
)


@st.composite
def images(draw: st.DrawFn, max_side: int = 24) -> np.ndarray:
    """Small RGB uint8 images: noise, or a few flat colors (what cameras and tests show)."""
    height, width = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    if draw(st.booleans()):
        return draw(hnp.arrays(np.uint8, (height, width, 3)))
    palette = np.array(draw(palettes), np.uint8)
    index = draw(hnp.arrays(np.intp, (height, width), elements=st.integers(0, len(palette) - 1)))
    image: np.ndarray = palette[index]
    return image


def check_colors(colors: tuple[Any, ...], rgb: np.ndarray, k: int, slack: int = 0) -> None:
    """At most k colors, and no more than the (downsampled) image has; fractions that sum to 1,
    largest first; each color inside the image's range (give or take ``slack`` levels), once."""
    distinct = len(np.unique(downsample(rgb, SIZE).reshape(-1, 3), axis=0))
    assert 1 <= len(colors) <= min(k, distinct)
    fractions = [color.fraction for color in colors]
    assert sum(fractions) == pytest.approx(1.0, abs=1e-6)
    assert all(0.0 < f <= 1.0 for f in fractions)
    assert fractions == sorted(fractions, reverse=True)
    pixels = rgb.reshape(-1, 3).astype(int)
    low, high = pixels.min(axis=0) - slack, pixels.max(axis=0) + slack
    for color in colors:  # a weighted mean of pixels lies within their range
        assert all(lo <= c <= hi for c, lo, hi in zip(color.rgb, low, high, strict=True))
        assert color.hex == "#{:02x}{:02x}{:02x}".format(*color.rgb)
    assert len({color.rgb for color in colors}) == len(colors)


@FAST
@given(images(), st.integers(1, 8))
def test_dominant_colors_of_any_small_image(rgb: np.ndarray, k: int) -> None:
    colors = dominant_colors(rgb, k=k, size=SIZE)
    check_colors(colors, rgb, k)
    assert dominant_colors(rgb.copy(), k=k, size=SIZE) == colors  # deterministic


@FAST
@given(st.lists(images(), min_size=1, max_size=5), st.integers(1, 6))
def test_the_tracker_keeps_the_same_promises_over_a_stream(
    frames: list[np.ndarray], k: int
) -> None:
    tracker, again = ColorTracker(k=k, size=SIZE), ColorTracker(k=k, size=SIZE)
    for rgb in frames:
        colors = tracker.update(rgb)
        # a tracked color holds still inside its deadband: for a frame, up to COLOR_JUMP levels
        check_colors(colors, rgb, k, slack=int(COLOR_JUMP))
        assert again.update(rgb.copy()) == colors  # the same stream gives the same colors


# -- the records the real pipeline makes -----------------------------------------------------------


@cache
def demo_stages() -> Stages:
    camera = default_config().cameras[0]
    return Stages(
        camera,
        ColorTracker(k=camera.colors.k, size=camera.colors.size),
        Classifier.from_bundle(demo.classifier_path()),
        AnomalyDetector.from_bundle(demo.autoencoder_path()),
    )


@SLOW
@given(images(max_side=80), st.floats(0, 4102444800, allow_nan=False), st.integers(0, 2**40))
def test_every_record_the_pipeline_makes_is_valid(rgb: np.ndarray, when: float, seq: int) -> None:
    pipeline = Pipeline("pi-shed", demo_stages(), iter(range(seq, seq + 1)).__next__)
    record = pipeline.process(Frame(rgb, "door", 0, when), capture_ms=0.5)
    data = record.as_dict()
    VALIDATOR.validate(data)
    assert ResultRecord.from_json(record.to_json()) == record
    assert data["frame"] == {"width": rgb.shape[1], "height": rgb.shape[0]}
    assert data["seq"] == seq
    assert data["classification"]["top"][0]["score"] >= data["classification"]["top"][-1]["score"]


# -- fuzzing the result record reader --------------------------------------------------------------

json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_leaves,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
EXAMPLE: dict[str, Any] = {
    "schema": 1, "device": "pi-shed", "camera": "door", "seq": 42,
    "ts": "2026-11-24T13:05:07.123Z", "frame": {"width": 640, "height": 480},
    "colors": [{"hex": "#3a5f8c", "rgb": [58, 95, 140], "fraction": 0.6},
               {"hex": "#ffffff", "rgb": [255, 255, 255], "fraction": 0.4}],
    "classification": {"model": "digits", "top": [{"label": "7", "score": 0.9}], "label": "7"},
    "anomaly": {"model": "ae", "score": 0.01, "threshold": 0.03, "is_anomaly": False},
    "timing_ms": {"capture": 1.0, "colors": 2.0, "classify": 3.0, "anomaly": 4.0, "total": 10.0},
}  # fmt: skip


def paths(data: object, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path of a JSON-like value, containers included."""
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += paths(value, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, original: dict[str, Any]) -> dict[str, Any]:
    """``original`` with one to three places replaced, removed or given an extra key."""
    data = copy.deepcopy(original)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths(data)[1:]))
        parent: Any = data
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "remove", "add"]))
        if action == "remove" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "add" and isinstance(parent[path[-1]], dict):
            parent[path[-1]][draw(st.text(max_size=8))] = draw(json_values)
        else:
            parent[path[-1]] = draw(json_values)
        if not isinstance(data, dict):
            break
    return data


@FAST
@given(mutated(EXAMPLE))
def test_a_record_reader_refuses_only_with_record_error(data: dict[str, Any]) -> None:
    try:
        record = ResultRecord.from_dict(data)
    except RecordError:
        return
    VALIDATOR.validate(record.as_dict())  # what it accepts, the shipped schema accepts
    assert ResultRecord.from_json(record.to_json()) == record


@FAST
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_bytes_are_a_record_or_a_record_error(raw: bytes) -> None:
    with contextlib.suppress(RecordError):
        ResultRecord.from_json(raw)


# -- fuzzing the config loader ---------------------------------------------------------------------

DEFAULT = tomllib.loads(DEFAULT_TOML)


def outcome_of(load: Any, *args: Any) -> Config | None:
    try:
        config = load(*args)
    except ConfigError as exc:
        assert str(exc) and "\n" not in str(exc)
        return None
    assert isinstance(config, Config)
    return config


@FAST
@given(st.text(max_size=200))
def test_any_text_is_a_config_or_a_config_error(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "edge.toml"
        path.write_text(text, encoding="utf-8")
        outcome_of(load_config, path)


@FAST
@given(st.binary(max_size=200))
def test_any_bytes_are_a_config_or_a_config_error(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "edge.toml"
        path.write_bytes(raw)
        outcome_of(load_config, path)


@FAST
@given(mutated(DEFAULT))
def test_any_change_to_the_default_config_is_valid_or_a_config_error(data: dict[str, Any]) -> None:
    config = outcome_of(parse_config, data)
    if config is not None:  # what loads survives a round trip through the command line
        assert with_overrides(config) == config


@FAST
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "source": st.text(max_size=20),
            "classifier": st.text(max_size=20),
            "fps": st.floats(),
            "mqtt": st.text(max_size=30),
            "out": st.text(max_size=20),
        },
    )
)
def test_any_command_line_override_is_valid_or_a_usage_error(overrides: dict[str, Any]) -> None:
    try:
        with_overrides(default_config(), **overrides)
    except UsageError as exc:  # a flag's value: exit 2, the line names the flag
        assert "\n" not in str(exc)
        flags = ("--source: ", "--classifier: ", "--fps: ", "--mqtt: ", "--out: ")
        assert str(exc).startswith(flags)


secrets = st.text(string.ascii_letters + string.digits + "/?#[]!$&'()*+,;=%~-._@:", min_size=1)


@FAST
@given(
    st.sampled_from(["mqtt", "mqtts", "ftp", "MQTT", ""]),
    st.text(string.ascii_letters + string.digits + "._-", max_size=10),
    secrets,
    st.text(max_size=20),
)
def test_a_password_in_a_url_is_never_repeated(
    scheme: str, user: str, secret: str, rest: str
) -> None:
    password = f"Zq9{secret}"  # a marker no other part of the message contains
    url = f"{scheme}://{user}:{password}@{rest}"
    try:
        parse_mqtt_url(url)
    except ValueError as exc:
        assert password not in str(exc)
        return
    pytest.fail(f"{url!r} was accepted")


# -- fuzzing the bundle loader ---------------------------------------------------------------------

DEMO_META = json.loads(demo.classifier_path().with_suffix(".json").read_text())
DEMO_MODEL = demo.classifier_path().read_bytes()
FRAME = np.random.default_rng(0).integers(0, 256, (48, 64, 3), np.uint8)


def write_bundle_files(folder: Path, model: bytes, meta: object) -> Path:
    path = folder / "fuzz.tflite"
    path.write_bytes(model)
    path.with_suffix(".json").write_text(json.dumps(meta))
    return path


def use_bundle(path: Path) -> None:
    """Load a bundle as the daemon does and run one frame through it into a record; only
    ModelError (BundleError included) may stop it."""
    bundle = load_bundle(path)
    if bundle.kind == "classifier":
        stages = Stages(default_config().cameras[0], ColorTracker(), Classifier(bundle), None)
    else:
        stages = Stages(default_config().cameras[0], ColorTracker(), None, AnomalyDetector(bundle))
    record = Pipeline("pi", stages, lambda: 0).process(Frame(FRAME, "door", 0, 1.7e9), 0.0)
    VALIDATOR.validate(record.as_dict())


@SLOW
@given(
    st.sampled_from([demo.classifier_path(), demo.autoencoder_path()]).flatmap(
        lambda path: mutated(json.loads(path.with_suffix(".json").read_text())).map(
            lambda meta: (path, meta)
        )
    )
)
def test_a_changed_sidecar_is_refused_with_a_model_error_or_works(
    case: tuple[Path, dict[str, Any]],
) -> None:
    original, meta = case
    model = original.read_bytes()
    assume(meta.get("tflite_sha256") == sha256_bytes(model))  # else the hash check ends it
    with tempfile.TemporaryDirectory() as folder:
        path = write_bundle_files(Path(folder), model, meta)
        try:
            use_bundle(path)
        except ModelError as exc:
            assert "\n" not in str(exc)


@FAST
@given(st.binary(max_size=2000), json_values)
def test_any_files_are_refused_before_the_interpreter_sees_them(model: bytes, meta: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = write_bundle_files(Path(folder), model, meta)
        with pytest.raises(ModelError):
            load_bundle(path)


@SLOW
@given(
    st.binary(max_size=2000) | st.integers(0, len(DEMO_MODEL) - 1).map(lambda cut: DEMO_MODEL[:cut])
)
def test_a_broken_model_with_a_matching_hash_is_a_model_error(model: bytes) -> None:
    meta = {**DEMO_META, "tflite_sha256": sha256_bytes(model), "tflite_bytes": len(model)}
    with tempfile.TemporaryDirectory() as folder:
        path = write_bundle_files(Path(folder), model, meta)
        with pytest.raises(ModelError):
            use_bundle(path)
