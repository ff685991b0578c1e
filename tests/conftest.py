"""Shared fixtures: the tiny bundles shipped in tests/data/bundles (no TensorFlow needed), the
same models as Keras models converted with real TensorFlow, and image helpers."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from edge.inference.bundle import write_bundle
from edge.inference.preprocess import Preprocess

from .support.tiny import BUNDLES, CLASSIFIERS, KINDS, PREPROCESS, FloatModel, convert_keras

REPO = Path(__file__).resolve().parent.parent

BundleFactory = Callable[..., Path]


@pytest.fixture(scope="session")
def tiny_preprocess() -> Preprocess:
    return PREPROCESS


@pytest.fixture(scope="session")
def tiny_models() -> dict[str, tuple[Any, bytes]]:
    """Keras models and their int8 TFLite bytes, converted once per session (TensorFlow)."""
    pytest.importorskip("tensorflow")
    from .support.tiny import tiny_model

    models = {which: tiny_model(which) for which in KINDS}
    return {name: (m, convert_keras(m, PREPROCESS)) for name, m in models.items()}


@pytest.fixture(scope="session")
def float_models() -> dict[str, FloatModel]:
    """The float reference of each shipped tiny classifier and of the autoencoder."""
    return {which: FloatModel.shipped(which) for which in (*CLASSIFIERS, "autoencoder")}


@pytest.fixture
def make_bundle(tmp_path: Path) -> BundleFactory:
    """Copy one of the shipped tiny bundles into tmp_path; keyword arguments override sidecar
    fields."""

    def factory(which: str = "softmax", **overrides: Any) -> Path:
        model_bytes = (BUNDLES / f"{which}.tflite").read_bytes()
        meta = json.loads((BUNDLES / f"{which}.json").read_text(encoding="utf-8"))
        for key in ("format", "tflite_sha256", "tflite_bytes"):
            meta.pop(key)
        path = tmp_path / f"{which}.tflite"
        write_bundle(path, model_bytes, {**meta, **overrides})
        return path

    return factory


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
