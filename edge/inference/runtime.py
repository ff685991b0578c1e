"""The one place that imports a TFLite interpreter.

Backends are tried in order: LiteRT (``ai_edge_litert``), then ``tflite_runtime``, then
``tensorflow.lite``. ``EDGE_TFLITE_RUNTIME=litert|tflite_runtime|tensorflow`` forces one.
"""

from __future__ import annotations

import importlib
import logging
import os
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from edge.errors import InterpreterUnavailableError, ModelError
from edge.quiet import native_stderr

logger = logging.getLogger(__name__)

BACKENDS: dict[str, str] = {
    "litert": "ai_edge_litert.interpreter",
    "tflite_runtime": "tflite_runtime.interpreter",
    "tensorflow": "tensorflow.lite",
}


@dataclass(frozen=True)
class Backend:
    name: str
    module: str
    interpreter_class: Any


def _numpy_major() -> int:
    return int(np.__version__.split(".")[0])


def _import_backend(name: str) -> Backend:
    """Import one backend or raise ImportError saying why it cannot be used."""
    module_name = BACKENDS[name]
    if name == "tflite_runtime" and _numpy_major() >= 2:
        raise ImportError(
            f"tflite-runtime 2.14 fails with NumPy {np.__version__}; "
            "install 'numpy<2' or use LiteRT: pip install ai-edge-litert"
        )
    if name == "tensorflow":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep its start-up chatter quiet
    package, _, attribute = module_name.partition(".")
    with native_stderr():  # TensorFlow's absl and oneDNN notices as it loads
        module = importlib.import_module(module_name if name != "tensorflow" else package)
    if name == "tensorflow":  # tensorflow.lite is an attribute, not an importable module
        module = getattr(module, attribute)
    return Backend(name=name, module=module_name, interpreter_class=module.Interpreter)


def probe_backends() -> dict[str, str | None]:
    """For each backend: None when it imports, else why it does not (for ``edge doctor``)."""
    found: dict[str, str | None] = {}
    for name in BACKENDS:
        try:
            _import_backend(name)
        except Exception as exc:
            found[name] = f"{type(exc).__name__}: {exc}"
        else:
            found[name] = None
    return found


@cache
def backend() -> Backend:
    """The first backend that imports (or the one named by EDGE_TFLITE_RUNTIME)."""
    forced = os.environ.get("EDGE_TFLITE_RUNTIME", "").strip()
    if forced and forced not in BACKENDS:
        raise InterpreterUnavailableError(
            f"EDGE_TFLITE_RUNTIME={forced!r} is not one of {', '.join(BACKENDS)}"
        )
    reasons: list[str] = []
    for name in [forced] if forced else list(BACKENDS):
        try:
            chosen = _import_backend(name)
        except ImportError as exc:
            reasons.append(f"{name}: {exc}")
            continue
        logger.debug("TFLite runtime: %s (%s)", chosen.name, chosen.module)
        return chosen
    raise InterpreterUnavailableError(
        "no TFLite runtime could be loaded (" + "; ".join(reasons) + "); "
        "install one: pip install ai-edge-litert"
    )


def make_interpreter(model_content: bytes, num_threads: int = 1) -> Any:
    """A ready interpreter (tensors allocated) for the model bytes."""
    if num_threads < 1:
        raise ValueError(f"num_threads must be at least 1, got {num_threads}")
    chosen = backend()
    try:
        with native_stderr():  # "INFO: Created TensorFlow Lite XNNPACK delegate for CPU."
            interpreter = chosen.interpreter_class(
                model_content=model_content, num_threads=num_threads
            )
            interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise ModelError(
            f"the TFLite interpreter ({chosen.name}) rejected the model: {exc}"
        ) from exc
    return interpreter
