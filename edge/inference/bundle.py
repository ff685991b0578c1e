"""Model bundles: ``NAME.tflite`` with the sidecar ``NAME.json`` beside it.

The sidecar says everything the device needs and nothing it must guess::

    {
      "format": 1,
      "name": "digits",
      "kind": "classifier" | "autoencoder",
      "labels": ["0", "1", ...],                    # classifiers; [] for autoencoders
      "output_activation": "softmax" | "logits" | "sigmoid" | "none",
      "preprocess": {"width": 32, "height": 32, "channels": 1, "color_order": "rgb",
                     "resize": "crop", "normalize": "zero_one"},
      "input":  {"shape": [1, 32, 32, 1], "dtype": "int8", "scale": 0.0039, "zero_point": -128},
      "output": {"shape": [1, 10], "dtype": "int8", "scale": 0.0039, "zero_point": -128},
      "anomaly": {"threshold": 0.031, "percentile": 99.0, "metric": "mse",    # autoencoders
                  "false_alarm_rate": 0.01,            # promised on fresh normal images
                  "calibration": {"images": 359, "rank": 357, "in_training": 0,
                                  "expected_false_alarm_rate": 0.0083,
                                  "interval_90": [0.0023, 0.0174]}},
      "tflite_sha256": "...",
      "tflite_bytes": 12345,
      "quantization": "int8",
      "validation": {...},                          # the float-vs-int8 report
      "dataset": {"folders": [...], "images": {"cat": 40, ...},   # classifiers trained by
                  "trained": {...}, "held_out": {...}},           # edge train; optional
      "versions": {"edge-vision": "0.1.0", "tensorflow": "2.21.0", ...},
      "created": "2026-11-24T13:05:07Z"
    }

:func:`load_bundle` checks the hash before any interpreter sees the model;
``TFLiteModel.from_bundle`` (edge.inference.model) checks the interpreter's tensor details against
the sidecar.

The device reads ``anomaly.threshold``; the other ``anomaly`` keys say what it promises (the
rest of a format-1 sidecar may lack them: bundles converted before they were added).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from edge import jsondata
from edge.errors import BundleError
from edge.inference.preprocess import Preprocess

BUNDLE_FORMAT = 1
KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")
Kind = Literal["classifier", "autoencoder"]
KINDS: tuple[Kind, ...] = ("classifier", "autoencoder")
ACTIVATIONS = ("softmax", "logits", "sigmoid", "none")
DTYPES = ("int8", "uint8", "float32")


@dataclass(frozen=True)
class TensorSpec:
    """Shape, dtype and quantization of one model input or output."""

    shape: tuple[int, ...]
    dtype: str
    scale: float = 0.0
    zero_point: int = 0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TensorSpec:
        return cls(
            shape=tuple(int(n) for n in data["shape"]),
            dtype=str(data["dtype"]),
            scale=float(data.get("scale", 0.0)),
            zero_point=int(data.get("zero_point", 0)),
        )

    @classmethod
    def from_detail(cls, detail: dict[str, Any]) -> TensorSpec:
        """From an interpreter's ``get_input_details()[i]`` / ``get_output_details()[i]``."""
        scale, zero_point = detail.get("quantization", (0.0, 0))
        return cls(
            shape=tuple(int(n) for n in detail["shape"]),
            dtype=np.dtype(detail["dtype"]).name,
            scale=float(scale),
            zero_point=int(zero_point),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "shape": list(self.shape),
            "dtype": self.dtype,
            "scale": self.scale,
            "zero_point": self.zero_point,
        }

    @property
    def quantized(self) -> bool:
        return self.dtype in ("int8", "uint8")

    def mismatch(self, other: TensorSpec) -> str | None:
        """What differs between the sidecar's spec (self) and the model's (other), or None."""
        if self.shape != other.shape:
            return f"shape {list(other.shape)} != {list(self.shape)}"
        if self.dtype != other.dtype:
            return f"dtype {other.dtype} != {self.dtype}"
        if not math.isclose(self.scale, other.scale, rel_tol=1e-6, abs_tol=1e-12):
            return f"scale {other.scale:g} != {self.scale:g}"
        if self.zero_point != other.zero_point:
            return f"zero point {other.zero_point} != {self.zero_point}"
        return None


@dataclass(frozen=True)
class AnomalySpec:
    threshold: float
    percentile: float = 99.0
    metric: str = "mse"
    false_alarm_rate: float | None = None  # promised; None in bundles made before it was kept
    calibration_images: int | None = None


@dataclass(frozen=True)
class Bundle:
    """A verified model bundle: the model bytes and what the sidecar says about them."""

    path: Path
    name: str
    kind: Kind
    labels: tuple[str, ...]
    output_activation: str
    preprocess: Preprocess
    input: TensorSpec
    output: TensorSpec
    anomaly: AnomalySpec | None
    model_bytes: bytes = field(repr=False)
    meta: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def sidecar_path(self) -> Path:
        return sidecar_path(self.path)


def sidecar_path(tflite_path: str | Path) -> Path:
    return Path(tflite_path).with_suffix(".json")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_bundle(path: str | Path) -> Bundle:
    """Read ``NAME.tflite`` and ``NAME.json``, and check the hash and the sidecar's fields."""
    tflite = Path(path)
    if tflite.suffix == ".json":
        tflite = tflite.with_suffix(".tflite")
    side = sidecar_path(tflite)
    _refuse_keras(tflite)
    model_bytes = _read_bytes(tflite, "model")
    meta = _read_sidecar(side)
    digest = sha256_bytes(model_bytes)
    if meta.get("tflite_sha256") != digest:
        raise BundleError(
            f"{tflite}: sha256 {digest[:12]}... does not match {side.name} "
            f"({str(meta.get('tflite_sha256'))[:12]}...); "
            "convert the model again or copy both files"
        )
    try:
        return _bundle_from_meta(tflite, meta, model_bytes)
    except (KeyError, TypeError, ValueError) as exc:
        raise BundleError(
            f"{side}: invalid sidecar ({_describe(exc)}); convert the model again"
        ) from exc


def _refuse_keras(path: Path) -> None:
    """A Keras model (.keras, .h5, a SavedModel folder) where a bundle goes: say what to do."""
    saved_model = path.is_dir() and (path / "saved_model.pb").is_file()
    if saved_model or path.suffix.lower() in KERAS_SUFFIXES or _starts_like_keras(path):
        raise BundleError(
            f"{path}: this is a Keras model, not a bundle: run `edge convert {path} --kind "
            "classifier|autoencoder --calib IMAGES -o NAME.tflite` first"
        )


def _starts_like_keras(path: Path) -> bool:
    """A .keras archive (zip) or an HDF5 file under another name."""
    try:
        with path.open("rb") as file:
            head = file.read(8)
    except OSError:
        return False  # reported when the model is read
    return head.startswith((b"PK\x03\x04", b"\x89HDF\r\n\x1a\n"))


def _read_bytes(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise BundleError(f"{path}: no such {what} file") from exc
    except OSError as exc:
        raise BundleError(f"{path}: cannot read {what} ({exc.strerror})") from exc


def _read_sidecar(side: Path) -> dict[str, Any]:
    raw = _read_bytes(side, "sidecar")
    try:
        meta = jsondata.loads(raw)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError too
        raise BundleError(f"{side}: not valid JSON ({exc})") from exc
    if not isinstance(meta, dict):
        raise BundleError(f"{side}: expected a JSON object, got {type(meta).__name__}")
    if meta.get("format") != BUNDLE_FORMAT:
        raise BundleError(
            f"{side}: bundle format {meta.get('format')!r} is not {BUNDLE_FORMAT}; "
            "convert the model with this version of edge-vision"
        )
    return meta


def _describe(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing key {exc.args[0]!r}"
    return str(exc)


def _bundle_from_meta(tflite: Path, meta: dict[str, Any], model_bytes: bytes) -> Bundle:
    kind = meta["kind"]
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    activation = meta["output_activation"]
    if activation not in ACTIVATIONS:
        raise ValueError(f"output_activation must be one of {', '.join(ACTIVATIONS)}")
    input_spec = TensorSpec.from_dict(meta["input"])
    output_spec = TensorSpec.from_dict(meta["output"])
    for spec in (input_spec, output_spec):
        if spec.dtype not in DTYPES:
            raise ValueError(f"tensor dtype must be one of {', '.join(DTYPES)}, got {spec.dtype}")
    _check_full_integer(meta.get("quantization"), input_spec, output_spec)
    labels = _labels(meta.get("labels", []))
    anomaly = _anomaly_spec(meta["anomaly"]) if meta.get("anomaly") else None
    if kind == "autoencoder" and anomaly is None:
        raise ValueError("an autoencoder bundle needs an 'anomaly' threshold")
    name = meta.get("name", tflite.stem)
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    return Bundle(
        path=tflite,
        name=name,
        kind=kind,
        labels=labels,
        output_activation=activation,
        preprocess=Preprocess.from_dict(meta["preprocess"]),
        input=input_spec,
        output=output_spec,
        anomaly=anomaly,
        model_bytes=model_bytes,
        meta=meta,
    )


def _check_full_integer(quantization: object, input_spec: TensorSpec, output: TensorSpec) -> None:
    """A bundle that says it is int8 (or uint8) has int8 (uint8) tensors, not a float model."""
    if quantization not in ("int8", "uint8"):
        return  # float16 and dynamic-range bundles, made for comparison, have float tensors
    for what, spec in (("input", input_spec), ("output", output)):
        if spec.dtype != quantization:
            raise ValueError(
                f"quantization is {quantization} but the {what} tensor is {spec.dtype}: "
                f"a float model where {quantization} is required"
            )


def _labels(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError("labels must be a list of non-empty strings")
    return tuple(value)


def _anomaly_spec(value: object) -> AnomalySpec:
    """The autoencoder's threshold: a finite number >= 0, its percentile and metric."""
    if not isinstance(value, dict):
        raise TypeError(f"anomaly must be an object with a threshold, got {value!r}")
    threshold = value.get("threshold")
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, (int, float))
        or not math.isfinite(threshold)
        or threshold < 0
    ):
        raise ValueError(f"anomaly threshold must be a finite number >= 0, got {threshold!r}")
    rate = value.get("false_alarm_rate")
    calibration = value.get("calibration") or {}
    if not isinstance(calibration, dict):
        raise TypeError(f"anomaly.calibration must be an object, got {calibration!r}")
    images = calibration.get("images")
    return AnomalySpec(
        float(threshold),
        float(value.get("percentile", 99.0)),
        str(value.get("metric", "mse")),
        None if rate is None else float(rate),
        None if images is None else int(images),
    )


def write_bundle(tflite_path: str | Path, model_bytes: bytes, meta: dict[str, Any]) -> Path:
    """Write the model and its sidecar (hash filled in); returns the sidecar's path."""
    tflite = Path(tflite_path)
    tflite.parent.mkdir(parents=True, exist_ok=True)
    tflite.write_bytes(model_bytes)
    full = {"format": BUNDLE_FORMAT, **meta}
    full["tflite_sha256"] = sha256_bytes(model_bytes)
    full["tflite_bytes"] = len(model_bytes)
    side = sidecar_path(tflite)
    side.write_text(json.dumps(full, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return side
