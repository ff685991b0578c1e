#!/usr/bin/env python3
"""Write the tiny test bundles to tests/data/bundles (needs TensorFlow: the convert extra).

For each of the tiny models of tests/support/tiny.py (classifiers with a softmax, logits and
sigmoid output, and an autoencoder; fixed seeds, so fixed weights):

- ``NAME.tflite`` + ``NAME.json``: the fully int8 bundle, as ``edge convert`` would write it;
- ``NAME-float.tflite``: the float conversion of the same model, the float reference that the
  device tests compare the int8 model with where TensorFlow is not installed.

The output is byte for byte the same on every run with the same TensorFlow: ``--check``
converts again into a temporary folder and exits 1 if any file differs from the shipped one.

    .venv/bin/python tests/data/make_bundles.py [--check]
"""

from __future__ import annotations

import argparse
import filecmp
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np

from edge.inference.bundle import write_bundle
from tests.support.tiny import (
    BUNDLES,
    KINDS,
    PREPROCESS,
    FloatModel,
    bundle_meta,
    convert_keras,
    kind_meta,
    tiny_model,
)

FLOAT_TOLERANCE = 1e-4  # the float TFLite model against Keras, on random images


def write_all(folder: Path) -> list[Path]:
    """Convert every tiny model into ``folder``; the files written."""
    written = []
    for which in KINDS:
        model = tiny_model(which)
        int8 = convert_keras(model, PREPROCESS)
        floats = convert_keras(model, PREPROCESS, quantize=False)
        check_float(model, FloatModel(floats), which)
        tflite = folder / f"{which}.tflite"
        meta = bundle_meta(int8, PREPROCESS, **kind_meta(which))
        written += [tflite, write_bundle(tflite, int8, meta)]
        (folder / f"{which}-float.tflite").write_bytes(floats)
        written.append(folder / f"{which}-float.tflite")
    return written


def check_float(model: object, reference: FloatModel, which: str) -> None:
    rng = np.random.default_rng(7)
    images = rng.integers(0, 256, (8, PREPROCESS.height, PREPROCESS.width, 3), dtype=np.uint8)
    batch = np.stack([PREPROCESS.to_float(image) for image in images])
    keras_out = model.predict(batch, verbose=0)  # type: ignore[attr-defined]
    gap = float(np.max(np.abs(reference.predict(batch) - keras_out)))
    if gap > FLOAT_TOLERANCE:
        raise SystemExit(f"{which}: the float TFLite model is {gap} away from Keras")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="convert again and compare")
    args = parser.parse_args()
    if not args.check:
        for path in write_all(BUNDLES):
            print(f"{path.relative_to(BUNDLES.parents[2])}: {path.stat().st_size} bytes")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = write_all(Path(tmp))
        differ = [p.name for p in fresh if not filecmp.cmp(p, BUNDLES / p.name, shallow=False)]
    for name in differ:
        print(f"{name} differs from the shipped file", file=sys.stderr)
    print(f"{len(fresh) - len(differ)} of {len(fresh)} files identical")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
