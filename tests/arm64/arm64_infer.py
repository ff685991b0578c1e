"""Run the device's inference path on image files and print the results as one JSON object.

Run by tests/arm64/test_qemu_inference.py inside the arm64 userland (scripts/arm64/run), with
this checkout's ``edge`` package on PYTHONPATH; it only needs what a Pi has installed:

    python arm64_infer.py --classifier digits.tflite [--autoencoder ae.tflite] FRAME...
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from collections.abc import Sequence
from importlib import metadata
from typing import Any

import numpy as np

from edge.images import load_rgb
from edge.inference import runtime
from edge.inference.anomaly import AnomalyDetector
from edge.inference.classify import Classifier

DISTRIBUTIONS = {"litert": "ai-edge-litert", "tflite_runtime": "tflite-runtime"}
RESULT_KEYS = ("probabilities", "classifier_raw", "anomaly_scores", "autoencoder_raw")


def infer(classifier: str, autoencoder: str | None, frames: Sequence[str]) -> dict[str, Any]:
    """Per frame: class probabilities and anomaly scores, and each model's raw int8 output."""
    model = Classifier.from_bundle(classifier)
    detector = AnomalyDetector.from_bundle(autoencoder) if autoencoder else None
    results: dict[str, list[Any]] = {key: [] for key in RESULT_KEYS}
    for path in frames:
        rgb = load_rgb(path)
        results["probabilities"].append(model.probabilities(rgb).tolist())
        results["classifier_raw"].append(model.model.raw_output().tolist())
        if detector is not None:
            results["anomaly_scores"].append(detector.score(rgb).score)
            results["autoencoder_raw"].append(detector.model.raw_output().tolist())
    backend = runtime.backend().name
    return {
        "machine": platform.machine(),
        "backend": backend,
        "runtime_version": metadata.version(DISTRIBUTIONS.get(backend, backend)),
        "numpy": np.__version__,
        **results,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--classifier", required=True)
    parser.add_argument("--autoencoder")
    parser.add_argument("frames", nargs="+")
    args = parser.parse_args(argv)
    json.dump(infer(args.classifier, args.autoencoder, args.frames), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
