"""The per-frame fast paths give what a straightforward implementation gives."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.inference.bundle import load_bundle
from edge.inference.classify import FEW_LABELS, Classifier, classified, classified_bytes, select_top
from edge.inference.model import TFLiteModel, input_path
from edge.inference.preprocess import (
    FramePreprocessor,
    Preprocess,
    dequantize,
    quantize,
    resize_steps,
)


def _frame(rng: np.random.Generator, height: int = 480, width: int = 640) -> np.ndarray:
    """A camera-like frame: smooth shapes, not pixel noise."""
    noise = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    return cv2.GaussianBlur(noise, (0, 0), 2.5)


def _reference(rgb: np.ndarray, p: Preprocess) -> np.ndarray:
    """Crop, area-average resize, color order and channels, done the plain way."""
    image = rgb
    if p.resize == "crop":
        h, w = rgb.shape[:2]
        aspect = p.width / p.height
        cw, ch = (round(h * aspect), h) if w > h * aspect else (w, round(w / aspect))
        y0, x0 = (h - ch) // 2, (w - cw) // 2
        image = rgb[y0 : y0 + ch, x0 : x0 + cw]
    interpolation = cv2.INTER_AREA if image.shape[1] >= p.width else cv2.INTER_LINEAR
    image = cv2.resize(image, (p.width, p.height), interpolation=interpolation)
    if p.channels == 1:
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[:, :, None]
    return image[:, :, ::-1] if p.color_order == "bgr" else image


PREPROCESSING = [
    pytest.param(Preprocess(96, 96), id="96-crop"),
    pytest.param(Preprocess(128, 128, color_order="bgr"), id="128-crop-bgr"),
    pytest.param(Preprocess(224, 224), id="224-crop"),
    pytest.param(Preprocess(32, 32, channels=1), id="32-gray"),
    pytest.param(Preprocess(64, 48, resize="stretch"), id="64x48-stretch"),
    pytest.param(Preprocess(100, 50, resize="crop"), id="100x50-wide-crop"),
    pytest.param(Preprocess(800, 800), id="upscale"),
]


@pytest.mark.parametrize("preprocess", PREPROCESSING)
def test_pixels_match_area_resizing_within_tolerance(
    preprocess: Preprocess, rng: np.random.Generator
) -> None:
    rgb = _frame(rng)
    ours = preprocess.pixels(rgb).astype(int)
    theirs = _reference(rgb, preprocess).astype(int)
    assert ours.shape == theirs.shape == (preprocess.height, preprocess.width, preprocess.channels)
    difference = np.abs(ours - theirs)
    assert difference.mean() < 2.0
    assert difference.max() <= 16


def test_a_frame_of_the_input_size_passes_unchanged(rng: np.random.Generator) -> None:
    rgb = _frame(rng, 48, 64)
    np.testing.assert_array_equal(Preprocess(64, 48, resize="stretch").pixels(rgb), rgb)


def test_reused_buffers_give_the_same_pixels_as_fresh_ones(rng: np.random.Generator) -> None:
    preprocess = Preprocess(96, 96, channels=1)
    frames = [_frame(rng), _frame(rng, 240, 320), _frame(rng)]
    stream = FramePreprocessor(preprocess)
    for rgb in frames + frames:
        out = stream(rgb)
        assert out is stream.out  # written in place, frame after frame
        np.testing.assert_array_equal(out, preprocess.pixels(rgb))


@pytest.mark.parametrize(
    ("source", "target", "steps"),
    [
        ((480, 480), (96, 96), [(240, 240), (120, 120), (96, 96)]),
        ((480, 480), (128, 128), [(240, 240), (128, 128)]),
        ((480, 480), (240, 240), [(240, 240)]),
        ((640, 480), (96, 96), [(320, 240), (160, 120), (96, 96)]),
        ((64, 48), (64, 48), []),
        ((32, 32), (96, 96), [(96, 96)]),
    ],
)
def test_resize_steps_halve_while_twice_the_target(
    source: tuple[int, int], target: tuple[int, int], steps: list[tuple[int, int]]
) -> None:
    assert resize_steps(source, target) == steps


def _reference_top(probabilities: np.ndarray, labels: tuple[str, ...], k: int) -> list[str]:
    order = np.argsort(-probabilities, kind="stable")[:k]
    return [labels[i] for i in order]


@pytest.mark.parametrize("size", [3, 10, FEW_LABELS + 1, 1000])
@pytest.mark.parametrize("k", [1, 5])
def test_top_k_is_the_stable_sort_of_all_scores(
    size: int, k: int, rng: np.random.Generator
) -> None:
    labels = tuple(f"l{i}" for i in range(size))
    for levels in (256, 4):  # dequantized int8 scores repeat: many ties
        probabilities = (rng.integers(0, levels, size) / levels).astype(np.float32)
        top = select_top(probabilities, labels, k)
        assert [t.label for t in top] == _reference_top(probabilities, labels, k)
        assert [t.score for t in top] == sorted((t.score for t in top), reverse=True)


@pytest.mark.parametrize("size", [2, 10, FEW_LABELS])
@pytest.mark.parametrize("threshold", [0.0, 0.3])
def test_the_top_labels_read_off_the_output_bytes_are_those_of_the_probabilities(
    size: int, threshold: float, rng: np.random.Generator
) -> None:
    table = dequantize(np.arange(256, dtype=np.uint8).view(np.int8), 1 / 256, -128)
    labels = tuple(f"l{i}" for i in range(size))
    for levels in (256, 3):  # few levels: many ties, broken in label order
        output = rng.integers(0, levels, size, dtype=np.uint8) ^ 0x80  # int8 bytes
        expected = classified("m", table[output], labels, 5, threshold)
        found = classified_bytes(
            "m", output.tobytes(), tuple(table.tolist()), labels, k=5, threshold=threshold
        )
        assert found == expected


def test_a_classifier_gives_the_same_top_labels_from_bytes_as_from_probabilities(
    make_bundle: Callable[..., Path], rng: np.random.Generator
) -> None:
    classifier = Classifier(load_bundle(make_bundle("softmax")))
    assert classifier._byte_probabilities is not None  # the byte path is taken
    answers = set()
    for rgb in rng.integers(0, 256, (8, 16, 12, 3), dtype=np.uint8):
        for threshold in (0.0, 0.5, 1.0):
            expected = classified(
                classifier.name, classifier.probabilities(rgb), classifier.labels, 3, threshold
            )
            assert classifier.top(rgb, 3, threshold) == expected
            answers.add(expected)
    assert len(answers) > 3  # the frames were told apart


def test_output_is_dequantized_like_the_reference(
    make_bundle: Callable[..., Path], rng: np.random.Generator
) -> None:
    model = TFLiteModel.from_bundle(load_bundle(make_bundle("logits")))
    buffer = np.empty(model.output.shape[1:], np.float32)
    results = []
    for rgb in rng.integers(0, 256, (4, 16, 12, 3), dtype=np.uint8):
        results.append(model.run(rgb))  # a new array each time: results can be kept
        theirs = dequantize(model.raw_output()[0], model.output.scale, model.output.zero_point)
        np.testing.assert_allclose(results[-1], theirs, rtol=1e-6, atol=1e-7)
        assert model.run(rgb, out=buffer) is buffer  # the per-frame path: written in place
        np.testing.assert_array_equal(buffer, results[-1])
    assert len({r.tobytes() for r in results}) > 1


def test_a_frame_of_the_input_size_is_used_as_it_is(rng: np.random.Generator) -> None:
    rgb = _frame(rng, 96, 128)
    stretch = FramePreprocessor(Preprocess(128, 96, resize="stretch"))
    assert stretch(rgb) is rgb  # no copy
    crop = FramePreprocessor(Preprocess(96, 96))(rgb)  # the centered 96x96: a view
    assert np.shares_memory(crop, rgb)
    np.testing.assert_array_equal(crop, rgb[:, 16:112])
    fresh = Preprocess(96, 96).pixels(rgb)  # training and calibration get their own array
    assert not np.shares_memory(fresh, rgb)
    np.testing.assert_array_equal(fresh, crop)


def _table(normalize: str, scale: float, zero_point: int, dtype: type) -> np.ndarray:
    offset, divisor = Preprocess(8, 8, normalize=normalize).affine  # type: ignore[arg-type]
    values = (np.arange(256, dtype=np.float32) - offset) / divisor
    return quantize(values, float(np.float32(scale)), zero_point, dtype)


@pytest.mark.parametrize(
    ("table", "path"),
    [
        (_table("zero_one", 1 / 255, -128, np.int8), "xor"),  # what edge convert makes
        (_table("zero_one", 1 / 255, 0, np.uint8), "copy"),
        (_table("none", 1.0, 0, np.uint8), "copy"),
        (_table("none", 1.0, -128, np.int8), "xor"),
        (_table("zero_one", 1 / 255, -127, np.int8), "lut"),
        (_table("minus_one_one", 2 / 255, 0, np.int8), "lut"),
        (_table("zero_one", 1 / 256, -128, np.int8), "lut"),
        (np.arange(256, dtype=np.float32) / 255, "take"),
    ],
)
def test_the_bit_paths_are_taken_only_where_they_are_the_table(
    table: np.ndarray, path: str
) -> None:
    assert input_path(table) == path
    pixels = np.arange(256, dtype=np.uint8)
    if path == "xor":
        np.testing.assert_array_equal(pixels ^ 0x80, table.view(np.uint8))
    elif path == "copy":
        np.testing.assert_array_equal(pixels, table.view(np.uint8))


@pytest.mark.parametrize("normalize", ["zero_one", "minus_one_one"])
def test_the_input_tensor_is_the_table_looked_up(
    normalize: str, make_bundle: Callable[..., Path], rng: np.random.Generator
) -> None:
    bundle = load_bundle(make_bundle("softmax"))
    preprocess = {**bundle.preprocess.as_dict(), "normalize": normalize}
    model = TFLiteModel.from_bundle(load_bundle(make_bundle("softmax", preprocess=preprocess)))
    assert model.input_path == ("xor" if normalize == "zero_one" else "lut")
    for rgb in (_frame(rng), _frame(rng, model.preprocess.height, model.preprocess.width)):
        model.set_input(rgb)
        pixels = model.preprocess.pixels(rgb)
        expected = np.take(model._lut, pixels)  # the table itself, value by value
        np.testing.assert_array_equal(model.interpreter.get_tensor(model._input_index)[0], expected)
