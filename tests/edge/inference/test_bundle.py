from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from edge.errors import BundleError, ModelError
from edge.inference import runtime
from edge.inference.bundle import TensorSpec, load_bundle
from edge.inference.classify import Classifier


def _edit_sidecar(path: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    side = path.with_suffix(".json")
    meta = json.loads(side.read_text())
    edit(meta)
    side.write_text(json.dumps(meta))


def test_load_bundle_reads_what_the_sidecar_says(make_bundle: Callable[..., Path]) -> None:
    path = make_bundle("softmax")
    bundle = load_bundle(path)
    assert bundle.kind == "classifier"
    assert bundle.labels == ("red", "green", "blue")
    assert bundle.input.shape == (1, 8, 8, 3)
    assert bundle.input.dtype == "int8"
    assert bundle.output.quantized
    assert load_bundle(path.with_suffix(".json")).name == bundle.name


def test_a_changed_model_fails_the_hash_check(make_bundle: Callable[..., Path]) -> None:
    path = make_bundle("softmax")
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(BundleError, match="sha256"):
        load_bundle(path)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m["input"].update(scale=0.5), "model input scale"),
        (lambda m: m["input"].update(zero_point=3), "model input zero point"),
        (lambda m: m["output"].update(shape=[1, 4]), "model output shape"),
        (lambda m: m["input"].update(dtype="uint8"), "model input dtype"),
    ],
)
def test_tensor_details_that_do_not_match_are_refused(
    make_bundle: Callable[..., Path], edit: Callable[[dict[str, Any]], None], message: str
) -> None:
    path = make_bundle("softmax")
    _edit_sidecar(path, edit)
    with pytest.raises(BundleError, match=message):
        Classifier.from_bundle(path)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m.pop("kind"), "missing key 'kind'"),
        (lambda m: m.update(kind="detector"), "kind must be one of"),
        (lambda m: m.update(format=7), "bundle format 7"),
        (lambda m: m.update(output_activation="relu"), "output_activation"),
        (lambda m: m["preprocess"].update(normalize="weird"), "normalize must be one of"),
        (lambda m: m["input"].update(dtype="float64"), "tensor dtype"),
    ],
)
def test_invalid_sidecars_are_refused(
    make_bundle: Callable[..., Path], edit: Callable[[dict[str, Any]], None], message: str
) -> None:
    path = make_bundle("softmax")
    _edit_sidecar(path, edit)
    with pytest.raises(BundleError, match=message):
        load_bundle(path)


def test_missing_and_broken_files(tmp_path: Path, make_bundle: Callable[..., Path]) -> None:
    with pytest.raises(BundleError, match="no such model file"):
        load_bundle(tmp_path / "nothing.tflite")
    path = make_bundle("softmax")
    path.with_suffix(".json").write_text("{not json")
    with pytest.raises(BundleError, match="not valid JSON"):
        load_bundle(path)
    path.with_suffix(".json").unlink()
    with pytest.raises(BundleError, match="no such sidecar file"):
        load_bundle(path)


def test_labels_must_match_the_outputs(make_bundle: Callable[..., Path]) -> None:
    path = make_bundle("softmax", labels=["a", "b"])
    with pytest.raises(BundleError, match="2 labels for 3 outputs"):
        Classifier.from_bundle(path)


def test_a_truncated_model_is_refused_by_the_interpreter(make_bundle: Callable[..., Path]) -> None:
    if runtime.backend().name == "tflite_runtime":
        pytest.skip("tflite-runtime 2.14 crashes (SIGSEGV) on a truncated model, it raises nothing")
    path = make_bundle("softmax")
    data = path.read_bytes()[:200]
    path.write_bytes(data)
    _edit_sidecar(
        path, lambda m: m.update(tflite_sha256=__import__("hashlib").sha256(data).hexdigest())
    )
    with pytest.raises(ModelError):
        Classifier.from_bundle(path)


@pytest.mark.parametrize(
    ("a", "b", "problem"),
    [
        (TensorSpec((1, 2), "int8", 0.1, 0), TensorSpec((1, 2), "int8", 0.1, 0), None),
        (TensorSpec((1, 2), "int8", 0.1, 0), TensorSpec((1, 3), "int8", 0.1, 0), "shape"),
        (TensorSpec((1, 2), "int8", 0.1, 0), TensorSpec((1, 2), "int8", 0.2, 0), "scale"),
    ],
)
def test_tensor_spec_mismatch(a: TensorSpec, b: TensorSpec, problem: str | None) -> None:
    found = a.mismatch(b)
    assert (found is None) if problem is None else (problem in str(found))
