"""Anomaly scores with an int8 autoencoder bundle: what it reconstructs badly is anomalous."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from edge.errors import ModelError
from edge.inference.bundle import Bundle, load_bundle
from edge.inference.classify import open_model
from edge.inference.model import TFLiteModel
from edge.records.parts import AnomalyResult


def reconstruction_error(model: TFLiteModel, rgb: npt.NDArray[np.uint8]) -> float:
    """Mean squared error between the model's input and its reconstruction, in input units."""
    output = model.run(rgb)
    target = model.input_float()
    if output.shape != target.shape:
        raise ModelError(
            f"autoencoder output {list(output.shape)} does not match its input {list(target.shape)}"
        )
    return float(np.mean(np.square(output - target)))


class AnomalyDetector:
    """An int8 autoencoder bundle with its threshold."""

    def __init__(self, bundle: Bundle, num_threads: int = 1) -> None:
        if bundle.kind != "autoencoder" or bundle.anomaly is None:
            raise ModelError(f"{bundle.path}: is a {bundle.kind} bundle, not an autoencoder")
        self.bundle = bundle
        self.threshold = bundle.anomaly.threshold
        self.model = open_model(bundle, num_threads)
        if self.model.output.shape != self.model.input.shape:
            raise ModelError(
                f"{bundle.path}: output {list(self.model.output.shape)} does not match input "
                f"{list(self.model.input.shape)}; an autoencoder reconstructs its input"
            )

    @classmethod
    def from_bundle(cls, path: str | Path, num_threads: int = 1) -> AnomalyDetector:
        return cls(load_bundle(path), num_threads)

    @property
    def name(self) -> str:
        return self.bundle.name

    def score(self, rgb: npt.NDArray[np.uint8]) -> AnomalyResult:
        error = reconstruction_error(self.model, rgb)
        return AnomalyResult.from_score(self.name, error, self.threshold)
