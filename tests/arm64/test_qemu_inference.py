"""The device's inference path on an arm64 Debian bookworm userland, under qemu-user.

The shipped demo frames go through ``edge.inference.classify.Classifier`` and the autoencoder
of ``edge.inference.anomaly`` with the aarch64 wheels a Pi installs
(scripts/constraints/bookworm.txt), with LiteRT and with tflite-runtime 2.14, on the CPU core
of a Pi 3, 4 and 5, and must agree with LiteRT on this x86 machine: int8 kernels on Arm may
round differently by one step, no more.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edge.inference import runtime

from .arm64_infer import infer
from .conftest import REPO, run_arm64, tail

pytestmark = pytest.mark.arm64

DEMO = REPO / "edge" / "data" / "demo"
CLASSIFIER = DEMO / "digits.tflite"
AUTOENCODER = DEMO / "digits_autoencoder.tflite"
BACKENDS = ("litert", "tflite_runtime")
# The Pis that run 64-bit Raspberry Pi OS, by the core qemu emulates for them.
CPUS = {"pi3": "cortex-a53", "pi4": "cortex-a72", "pi5": "cortex-a76"}
TFLITE_PYTHON = REPO / ".venv-tflite" / "bin" / "python"
# Anomaly scores are mean squared errors over a whole reconstruction; measured arm64-vs-x86
# differences are below 1 %.
SCORE_RTOL = 0.02


def in_rootfs(path: Path) -> str:
    """Where a file of this checkout is inside the arm64 userland (the repo is at /src)."""
    return "/src/" + path.relative_to(REPO).as_posix()


@pytest.fixture(scope="module")
def frames() -> list[Path]:
    found = sorted((DEMO / "frames").glob("*.png"))
    missing = [p.name for p in (CLASSIFIER, AUTOENCODER) if not p.with_suffix(".json").exists()]
    if missing or not found:
        pytest.skip(
            f"the shipped demo is incomplete in {DEMO} (models, sidecars or frames/*.png "
            "missing): `make demo` builds it"
        )
    return found


@pytest.fixture(scope="module")
def x86(frames: list[Path]) -> dict[str, Any]:
    """The reference: this machine's LiteRT, in this process."""
    runtime.backend.cache_clear()
    results: dict[str, Any] = infer(str(CLASSIFIER), str(AUTOENCODER), [str(p) for p in frames])
    assert results["backend"] == "litert"
    return results


@pytest.fixture(scope="module")
def x86_tflite_runtime(frames: list[Path]) -> dict[str, Any] | None:
    """The reference for tflite-runtime: this machine's, from .venv-tflite (None without it)."""
    if not TFLITE_PYTHON.exists():
        return None
    args = ["--classifier", str(CLASSIFIER), "--autoencoder", str(AUTOENCODER), *map(str, frames)]
    done = subprocess.run(
        [str(TFLITE_PYTHON), str(REPO / "tests" / "arm64" / "arm64_infer.py"), *args],
        env={**os.environ, "EDGE_TFLITE_RUNTIME": "tflite_runtime", "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        return None
    results: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return results


@pytest.fixture
def reference(
    arm64: dict[str, Any], x86: dict[str, Any], x86_tflite_runtime: dict[str, Any] | None
) -> dict[str, Any]:
    """x86 results from the runtime the arm64 run used: LiteRT and tflite-runtime 2.14 round
    an ambiguous frame's outputs several steps apart on any CPU, so only the same runtime on
    both sides tells Arm's kernels from x86's."""
    if arm64["asked_for"] != "tflite_runtime":
        return x86
    if x86_tflite_runtime is None:
        pytest.skip("no tflite-runtime on this machine to compare with (make tflite-env)")
    return x86_tflite_runtime


@pytest.fixture(
    scope="module",
    params=[(pi, backend) for pi in CPUS for backend in BACKENDS],
    ids=[f"{pi}-{backend}" for pi in CPUS for backend in BACKENDS],
)
def arm64(request: pytest.FixtureRequest, arm64_rootfs: Path, frames: list[Path]) -> dict[str, Any]:
    """The same on the arm64 userland, emulating that Pi's CPU, with that backend."""
    pi, backend = request.param
    args = ["--classifier", in_rootfs(CLASSIFIER), "--autoencoder", in_rootfs(AUTOENCODER)]
    done = run_arm64(
        arm64_rootfs,
        "python",
        ["/src/tests/arm64/arm64_infer.py", *args, *map(in_rootfs, frames)],
        env={"EDGE_TFLITE_RUNTIME": backend},
        cpu=CPUS[pi],
    )
    assert done.returncode == 0, f"arm64 {backend} on a {pi} failed:\n{tail(done.stderr)}"
    results: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    results["asked_for"] = backend
    return results


def test_it_really_is_arm64_with_the_backend_asked_for(arm64: dict[str, Any]) -> None:
    assert arm64["machine"] == "aarch64"
    assert arm64["backend"] == arm64["asked_for"]
    assert arm64["numpy"].startswith("1."), "bookworm.txt keeps NumPy 1 (picamera2 from apt)"


def test_int8_classifier_outputs_match_x86_within_one_step(
    arm64: dict[str, Any], reference: dict[str, Any]
) -> None:
    theirs, ours = np.array(arm64["classifier_raw"]), np.array(reference["classifier_raw"])
    assert theirs.shape == ours.shape
    assert np.abs(theirs - ours).max() <= 1


def test_class_probabilities_and_top_labels_match_x86(
    arm64: dict[str, Any], reference: dict[str, Any]
) -> None:
    step = json.loads(CLASSIFIER.with_suffix(".json").read_text())["output"]["scale"]
    theirs, ours = np.array(arm64["probabilities"]), np.array(reference["probabilities"])
    np.testing.assert_allclose(theirs, ours, rtol=0, atol=step * 1.001)
    # The decision is the same wherever x86's top label leads by more than the rounding.
    top2 = np.sort(ours, axis=1)[:, -2:]
    clear = top2[:, 1] - top2[:, 0] > 2 * step
    assert clear.sum() >= len(ours) // 2, "the demo frames should mostly be clear-cut"
    np.testing.assert_array_equal(theirs.argmax(axis=1)[clear], ours.argmax(axis=1)[clear])


def test_anomaly_scores_match_x86(arm64: dict[str, Any], reference: dict[str, Any]) -> None:
    theirs, ours = np.array(arm64["anomaly_scores"]), np.array(reference["anomaly_scores"])
    assert theirs.shape == ours.shape == (len(reference["probabilities"]),)
    np.testing.assert_allclose(theirs, ours, rtol=SCORE_RTOL)
