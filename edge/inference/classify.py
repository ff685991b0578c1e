"""Classification with an int8 model bundle: top-k labels with real probabilities."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from edge.errors import BundleError, ModelError
from edge.inference.bundle import Bundle, load_bundle
from edge.inference.model import TFLiteModel
from edge.records.parts import Classified, LabelScore

SIGMOID_LABELS = ("no", "yes")
FEW_LABELS = 64  # up to this many, sorting all scores is quicker than selecting the best first
UNKNOWN = "unknown"


def decide(
    model: str, top: tuple[LabelScore, ...], threshold: float, best: float | None = None
) -> Classified:
    """A classification whose label is the top one, or "unknown" when the top probability is
    below ``threshold``: ``best``, the exact probability, or else the top score as kept."""
    if not top:
        raise ValueError("a classification needs at least one label")
    best = top[0].score if best is None else best
    return Classified(model, top, top[0].label if best >= threshold else UNKNOWN)


def softmax(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    e = np.exp(x - np.max(x))
    probabilities: npt.NDArray[np.float32] = (e / e.sum()).astype(np.float32)
    return probabilities


def to_probabilities(values: npt.NDArray[np.float32], activation: str) -> npt.NDArray[np.float32]:
    """The model's output as probabilities over its labels.

    softmax outputs already are; logits get a softmax; a single sigmoid output p becomes
    [1 - p, p] for the two labels (negative, positive).
    """
    flat = values.reshape(-1).astype(np.float32, copy=False)
    if activation == "logits":
        return softmax(flat)
    if activation == "sigmoid":
        p = float(np.clip(flat[0], 0.0, 1.0))
        return np.array([1.0 - p, p], dtype=np.float32)
    clipped: npt.NDArray[np.float32] = np.clip(flat, 0.0, 1.0)
    return clipped


def select_top(
    probabilities: npt.NDArray[np.float32], labels: tuple[str, ...], k: int
) -> tuple[LabelScore, ...]:
    """The k most probable labels, best first; equal scores keep the labels' order."""
    values = probabilities.tolist()
    order = _top(values, k, probabilities)
    return tuple(LabelScore.from_probability(labels[i], values[i]) for i in order)


def classified(
    model: str,
    probabilities: npt.NDArray[np.float32],
    labels: tuple[str, ...],
    k: int,
    threshold: float,
) -> Classified:
    """The top ``k`` labels and the decision on the exact top probability (see ``decide``)."""
    values = probabilities.tolist()
    order = _top(values, k, probabilities)
    picks = tuple((labels[i], values[i]) for i in order)
    return _classification(model, picks, values[order[0]] >= threshold)


@lru_cache(maxsize=1024)
def _classification(model: str, picks: tuple[tuple[str, float], ...], sure: bool) -> Classified:
    """The classification of these (label, probability) picks, kept: an 8-bit output has 256
    probabilities a label, so frame after frame the same answers come back, and a part is
    checked once, when it is made."""
    top = tuple(_label_score(label, value) for label, value in picks)
    return Classified(model, top, top[0].label if sure else UNKNOWN)


@lru_cache(maxsize=4096)
def _label_score(label: str, probability: float) -> LabelScore:
    """``LabelScore.from_probability``, kept (for the same reason)."""
    return LabelScore.from_probability(label, probability)


def classified_bytes(
    model: str,
    output: bytes,
    table: tuple[float, ...],
    labels: tuple[str, ...],
    *,
    k: int,
    threshold: float,
) -> Classified:
    """``classified`` on an 8-bit output as it is, ``table`` giving each byte's probability:
    the same top ``k`` and decision, with no array made (a few labels; see FEW_LABELS). Once a
    frame, so written with ``map``: no Python frame per label."""
    if k < 1:
        raise ValueError(f"top_k must be at least 1, got {k}")
    values = list(map(table.__getitem__, output))
    order = sorted(range(len(values)), key=values.__getitem__, reverse=True)[:k]  # ties in order
    picks = tuple(zip(map(labels.__getitem__, order), map(values.__getitem__, order), strict=True))
    return _classification(model, picks, values[order[0]] >= threshold)


def _top(values: list[float], k: int, array: npt.NDArray[np.float32] | None = None) -> list[int]:
    """The indices of the k largest ``values``, largest first; equal values in index order.
    ``array``, the values as an array, narrows many labels down in linear time first."""
    if k < 1:
        raise ValueError(f"top_k must be at least 1, got {k}")
    k = min(k, len(values))
    many = len(values) > FEW_LABELS
    candidates = _best_indices(array, k) if array is not None and many else range(len(values))
    return sorted(candidates, key=values.__getitem__, reverse=True)[:k]  # stable: ties in order


def _best_indices(probabilities: npt.NDArray[np.float32], k: int) -> list[int]:
    """The indices of the k largest values in label order (ties: the first labels), found in
    linear time so that only these k are sorted."""
    cut = len(probabilities) - k
    kth = np.partition(probabilities, cut)[cut]
    above = np.flatnonzero(probabilities > kth).tolist()
    ties = np.flatnonzero(probabilities == kth)[: k - len(above)].tolist()
    return sorted(above + ties)


def open_model(bundle: Bundle, num_threads: int = 1) -> TFLiteModel:
    """The bundle's model in an interpreter; every ModelError names the bundle's file."""
    try:
        return TFLiteModel.from_bundle(bundle, num_threads)
    except BundleError:
        raise  # names the file already
    except ModelError as exc:
        raise ModelError(f"{bundle.path}: {exc}") from exc


class Classifier:
    """An int8 classifier bundle ready to classify RGB uint8 frames."""

    def __init__(self, bundle: Bundle, num_threads: int = 1) -> None:
        if bundle.kind != "classifier":
            raise ModelError(f"{bundle.path}: is an {bundle.kind} bundle, not a classifier")
        self.bundle = bundle
        self.model = open_model(bundle, num_threads)
        self.labels = self._labels()
        self._scores = np.empty(self.model.output.shape[1:], np.float32)  # reused per frame
        self._probabilities_already = _probabilities_already(self.model, bundle.output_activation)
        table = self.model.output_table
        few = len(self.labels) <= FEW_LABELS
        # each output byte's probability, for reading the top labels off the output's bytes
        self._byte_probabilities = (
            tuple(table.tolist()) if self._probabilities_already and table is not None and few
            else None
        )  # fmt: skip

    def _labels(self) -> tuple[str, ...]:
        outputs = int(np.prod(self.model.output.shape[1:]))
        if self.bundle.output_activation == "sigmoid":
            if outputs != 1:
                raise BundleError(
                    f"{self.bundle.path}: a sigmoid classifier has 1 output, not {outputs}"
                )
            return self.bundle.labels or SIGMOID_LABELS
        if len(self.bundle.labels) != outputs:
            raise BundleError(
                f"{self.bundle.path}: {len(self.bundle.labels)} labels for {outputs} outputs; "
                "give one label per output"
            )
        return self.bundle.labels

    @classmethod
    def from_bundle(cls, path: str | Path, num_threads: int = 1) -> Classifier:
        return cls(load_bundle(path), num_threads)

    @property
    def name(self) -> str:
        return self.bundle.name

    def probabilities(self, rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        """The probabilities of the labels for one frame (a new array)."""
        if self._probabilities_already:  # straight from the output's bytes, a new array
            return self.model.run(rgb).reshape(-1)
        scores = self.model.run(rgb, out=self._scores)
        return to_probabilities(scores, self.bundle.output_activation)

    def top(self, rgb: npt.NDArray[np.uint8], top_k: int, threshold: float) -> Classified:
        """``classified`` on the probabilities of one frame: the ``top_k`` labels and the
        decision; for a few labels whose bytes are probabilities, read off the output's bytes."""
        table = self._byte_probabilities
        if table is None:
            return classified(self.name, self.probabilities(rgb), self.labels, top_k, threshold)
        output = self.model.run_bytes(rgb)
        return classified_bytes(self.name, output, table, self.labels, k=top_k, threshold=threshold)

    def classify(self, rgb: npt.NDArray[np.uint8], top_k: int = 5) -> Classified:
        return Classified(self.name, select_top(self.probabilities(rgb), self.labels, top_k))


def _probabilities_already(model: TFLiteModel, activation: str) -> bool:
    """A softmax output whose every 8-bit value stands for a number in [0, 1]: what
    ``to_probabilities`` would clip is never there."""
    table = model.output_table
    return (
        activation == "softmax" and table is not None and 0.0 <= table.min() <= table.max() <= 1.0
    )
