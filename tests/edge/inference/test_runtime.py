from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from edge.errors import InterpreterUnavailableError
from edge.inference import runtime
from edge.inference.classify import Classifier

from ...conftest import REPO

TFLITE_PYTHON = REPO / ".venv-tflite" / "bin" / "python"


@pytest.fixture(autouse=True)
def _fresh_backend_choice() -> None:
    runtime.backend.cache_clear()


def test_litert_is_the_first_choice() -> None:
    assert runtime.backend().name == "litert"


def test_forcing_an_unknown_backend_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGE_TFLITE_RUNTIME", "coral")
    with pytest.raises(InterpreterUnavailableError, match="not one of litert, tflite_runtime"):
        runtime.backend()


@pytest.mark.skipif(np.__version__.startswith("1."), reason="needs NumPy 2")
def test_tflite_runtime_with_numpy_2_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGE_TFLITE_RUNTIME", "tflite_runtime")
    with pytest.raises(InterpreterUnavailableError, match=r"numpy<2.*ai-edge-litert"):
        runtime.backend()
    assert runtime.probe_backends()["tflite_runtime"] is not None


def test_num_threads_must_be_positive(make_bundle: Callable[..., Path]) -> None:
    with pytest.raises(ValueError, match="num_threads"):
        runtime.make_interpreter(make_bundle().read_bytes(), num_threads=0)


def _classify_in(python: Path, bundle: Path, images: Path, backend: str) -> list[list[float]]:
    script = (
        "import json, sys, numpy as np\n"
        "from edge.inference import runtime\n"
        "from edge.inference.classify import Classifier\n"
        "c = Classifier.from_bundle(sys.argv[1])\n"
        "assert runtime.backend().name == sys.argv[3], runtime.backend()\n"
        "imgs = np.load(sys.argv[2])\n"
        "print(json.dumps([c.probabilities(i).tolist() for i in imgs]))\n"
    )
    env = {**os.environ, "EDGE_TFLITE_RUNTIME": backend, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [str(python), "-c", script, str(bundle), str(images), backend],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.tflite_runtime
@pytest.mark.skipif(not TFLITE_PYTHON.exists(), reason="no .venv-tflite (make tflite-env)")
def test_tflite_runtime_gives_the_same_int8_results_as_litert(
    make_bundle: Callable[..., Path], tmp_path: Path, rng: np.random.Generator
) -> None:
    probe = subprocess.run(
        [str(TFLITE_PYTHON), "-c", "import tflite_runtime"], capture_output=True, check=False
    )
    if probe.returncode != 0:
        pytest.skip("tflite-runtime is not installable for this Python")
    bundle = make_bundle("softmax")
    images = rng.integers(0, 256, (6, 20, 20, 3), dtype=np.uint8)
    np.save(tmp_path / "images.npy", images)
    theirs = np.array(
        _classify_in(TFLITE_PYTHON, bundle, tmp_path / "images.npy", "tflite_runtime")
    )
    ours = np.array([Classifier.from_bundle(bundle).probabilities(i) for i in images])
    assert theirs.shape == ours.shape == (6, 3)
    # the two runtimes' int8 kernels may round an output one step (1/256 here) apart
    np.testing.assert_allclose(theirs, ours, atol=1 / 256 + 1e-6)
    assert np.all(theirs.sum(axis=1) > 0.9)


def test_the_main_environment_runs_litert_in_a_subprocess_too(
    make_bundle: Callable[..., Path], tmp_path: Path, rng: np.random.Generator
) -> None:
    bundle = make_bundle("softmax")
    images = rng.integers(0, 256, (2, 20, 20, 3), dtype=np.uint8)
    np.save(tmp_path / "images.npy", images)
    probs = _classify_in(Path(sys.executable), bundle, tmp_path / "images.npy", "litert")
    assert len(probs) == 2


def test_tensorflow_lite_is_the_last_resort_and_agrees(
    make_bundle: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, rng: np.random.Generator
) -> None:
    pytest.importorskip("tensorflow")
    bundle = make_bundle("softmax")
    image = rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)
    ours = Classifier.from_bundle(bundle).probabilities(image)
    monkeypatch.setenv("EDGE_TFLITE_RUNTIME", "tensorflow")
    runtime.backend.cache_clear()
    assert runtime.backend().name == "tensorflow"
    np.testing.assert_allclose(Classifier.from_bundle(bundle).probabilities(image), ours, atol=1e-6)
