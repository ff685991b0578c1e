"""Dominant colors of a frame: weighted K-means on its downsampled pixels.

The frame is shrunk with area averaging (``cv2.INTER_AREA``) to a few thousand pixels, the
pixels are counted into a histogram of distinct colors, and K-means runs on those colors
weighted by their counts, in float32, with one small matrix product per iteration for the
distances. Seeding is deterministic (greedy k-means++: each new seed is the color that adds the
most weighted squared distance), so the same frame always gives the same colors.

    >>> colors = dominant_colors(rgb)            # tuple of DominantColor, largest first
    >>> colors[0].hex, colors[0].fraction
    ('#3a5f8c', 0.41)

``ColorTracker`` does the same for a stream of frames, warm-starting each frame from the
previous frame's centers (fewer iterations, stable cluster identities) and starting cold again
when a small color histogram says the scene has changed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from edge.frames import check_rgb

logger = logging.getLogger(__name__)

DEFAULT_K = 5
DEFAULT_SIZE = (64, 48)
HISTOGRAM_BITS = 5  # color bins of 32 levels per channel
MAX_ITERATIONS = 30
WARM_ITERATIONS = 10
CONVERGED_SHIFT = 0.25  # stop when no center moves this much (the result is rounded to ints)
CUT_BINS_PER_CHANNEL = 4  # the scene-cut histogram has 4 x 4 x 4 = 64 bins
DEFAULT_CUT_THRESHOLD = 0.35

Floats = npt.NDArray[np.float32]
Ints = npt.NDArray[np.intp]


@dataclass(frozen=True)
class DominantColor:
    """One dominant color: ``rgb`` 0-255 per channel and the ``fraction`` of the frame it covers."""

    rgb: tuple[int, int, int]
    fraction: float

    def __post_init__(self) -> None:
        _check_rgb_triple(self.rgb)
        if isinstance(self.fraction, bool) or not isinstance(
            self.fraction, (int, float, np.integer, np.floating)
        ):
            raise TypeError(f"fraction must be a float, got {type(self.fraction).__name__}")
        if not 0.0 <= self.fraction <= 1.0:
            raise ValueError(f"fraction must be between 0 and 1, got {self.fraction}")
        object.__setattr__(self, "rgb", tuple(int(c) for c in self.rgb))
        object.__setattr__(self, "fraction", float(self.fraction))

    @classmethod
    def from_hex(cls, hex_color: str, fraction: float) -> DominantColor:
        """``DominantColor.from_hex("#3a5f8c", 0.41)``."""
        if not isinstance(hex_color, str):
            raise TypeError(f"hex color must be a str, got {type(hex_color).__name__}")
        digits = hex_color.removeprefix("#")
        if len(digits) != 6 or any(c not in "0123456789abcdefABCDEF" for c in digits):
            raise ValueError(f"hex color must look like '#3a5f8c', got {hex_color!r}")
        red, green, blue = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
        return cls((red, green, blue), fraction)

    @property
    def hex(self) -> str:
        """The color as lower-case ``#rrggbb``."""
        return "#{:02x}{:02x}{:02x}".format(*self.rgb)

    def as_hex(self) -> str:
        return self.hex

    def as_dict(self) -> dict[str, object]:
        """The result-record form: ``{"hex": "#3a5f8c", "rgb": [58, 95, 140], "fraction": 0.41}``"""
        return {"hex": self.hex, "rgb": list(self.rgb), "fraction": self.fraction}


def _check_rgb_triple(rgb: object) -> None:
    if not isinstance(rgb, tuple) or len(rgb) != 3:
        raise TypeError(f"rgb must be a tuple of 3 ints, got {rgb!r}")
    for channel in rgb:
        if isinstance(channel, bool) or not isinstance(channel, (int, np.integer)):
            raise TypeError(f"rgb values must be ints, got {type(channel).__name__} in {rgb!r}")
        if not 0 <= channel <= 255:
            raise ValueError(f"rgb values must be between 0 and 255, got {rgb!r}")


def dominant_colors(
    rgb: npt.NDArray[np.uint8], k: int = DEFAULT_K, size: tuple[int, int] = DEFAULT_SIZE
) -> tuple[DominantColor, ...]:
    """The up to ``k`` dominant colors of an RGB uint8 image, largest first.

    The image is first shrunk to ``size`` (width, height) with area averaging, unless it has no
    more pixels than that already. Fewer distinct colors than ``k`` give that many colors (a
    black frame gives exactly one); the fractions sum to 1. Equal fractions are ordered by RGB
    value, so the result is fully deterministic.
    """
    _check_params(k, size)
    points = _Points(*color_histogram(downsample(rgb, size)))
    centers = _cold_kmeans(points, k)
    return _to_result(centers, points.cluster_mass(centers))


def downsample(rgb: npt.NDArray[np.uint8], size: tuple[int, int]) -> npt.NDArray[np.uint8]:
    """``rgb`` shrunk to ``size`` (width, height) with cv2.INTER_AREA; unchanged if not larger."""
    check_rgb(rgb, "image")
    height, width = rgb.shape[:2]
    if width * height <= size[0] * size[1]:
        return rgb
    import cv2

    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return np.asarray(small, dtype=np.uint8)


def color_histogram(rgb: npt.NDArray[np.uint8]) -> tuple[Floats, Floats]:
    """The pixels binned by color: (n, 3) float32 mean color of each used bin, and its count.

    Bins are 5 bits per channel; a bin's color is the exact mean of its pixels, so an image
    with a few flat colors gets those colors back exactly.
    """
    pixels = rgb.reshape(-1, 3)
    shift = 8 - HISTOGRAM_BITS
    bins = (pixels >> shift).astype(np.intp)
    key = (bins[:, 0] << (2 * HISTOGRAM_BITS)) | (bins[:, 1] << HISTOGRAM_BITS) | bins[:, 2]
    size = 1 << (3 * HISTOGRAM_BITS)
    counts = np.bincount(key, minlength=size)
    used = np.flatnonzero(counts)
    sums = [np.bincount(key, weights=pixels[:, c], minlength=size)[used] for c in range(3)]
    means = np.stack(sums, axis=1) / counts[used, None]
    return means.astype(np.float32), counts[used].astype(np.float32)


def _check_params(k: object, size: object) -> None:
    if isinstance(k, bool) or not isinstance(k, int):
        raise TypeError(f"k must be an int, got {type(k).__name__}")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if (
        not isinstance(size, tuple)
        or len(size) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)
    ):
        raise ValueError(f"size must be (width, height) with positive ints, got {size!r}")


class _Points:
    """Weighted colors with what every K-means iteration needs precomputed."""

    def __init__(self, colors: Floats, weights: Floats) -> None:
        self.colors, self.weights = colors, weights
        self.weighted = colors * weights[:, None]
        self.norms = (colors * colors).sum(axis=1)

    def __len__(self) -> int:
        return len(self.colors)

    def sq_dist(self, centers: Floats) -> Floats:
        """Squared distances (n, k) as |p|^2 - 2 p.c + |c|^2, clipped at 0 against rounding."""
        dist = self.norms[:, None] - 2.0 * (self.colors @ centers.T)
        dist += (centers * centers).sum(axis=1)
        clipped: Floats = np.maximum(dist, np.float32(0.0))
        return clipped

    def labels(self, centers: Floats) -> Ints:
        labels: Ints = np.argmin(self.sq_dist(centers), axis=1)
        return labels

    def inertia(self, centers: Floats) -> float:
        return float(self.weights @ self.sq_dist(centers).min(axis=1))

    def cluster_mass(self, centers: Floats) -> Floats:
        mass = np.bincount(self.labels(centers), weights=self.weights, minlength=len(centers))
        return mass.astype(np.float32)

    def means(self, labels: Ints, centers: Floats) -> Floats:
        """The weighted mean of each cluster; an empty cluster keeps its center."""
        k = len(centers)
        mass = np.bincount(labels, weights=self.weights, minlength=k)
        sums = [np.bincount(labels, weights=self.weighted[:, c], minlength=k) for c in range(3)]
        updated = centers.copy()
        filled = mass > 0
        updated[filled] = np.stack(sums, axis=1)[filled] / mass[filled, None]
        return updated


def _cold_kmeans(points: _Points, k: int) -> Floats:
    """K-means from two deterministic seedings (k-means++ and variance splitting); the better."""
    if len(points) <= k:
        return points.colors.copy()
    runs = [
        _lloyd(points, seeds, MAX_ITERATIONS)
        for seeds in (_seed_greedy(points, k), _seed_split(points, k))
    ]
    return min(runs, key=lambda run: run[1])[0]


def _lloyd(points: _Points, centers: Floats, iterations: int) -> tuple[Floats, float]:
    """Weighted Lloyd iterations until no center moves by a quarter level; (centers, inertia)."""
    for _ in range(iterations):
        updated = points.means(points.labels(centers), centers)
        moved = float(np.abs(updated - centers).max())
        centers = updated
        if moved < CONVERGED_SHIFT:
            break
    return centers, points.inertia(centers)


def _seed_greedy(points: _Points, k: int) -> Floats:
    """Greedy deterministic k-means++: the heaviest color, then the colors adding most w*d^2."""
    return _top_up(points, points.colors[[int(np.argmax(points.weights))]], k)


def _top_up(points: _Points, centers: Floats, k: int) -> Floats:
    """Add greedy k-means++ seeds to ``centers`` until there are ``k`` (or no more colors)."""
    nearest = points.sq_dist(centers).min(axis=1)
    extra = []
    for _ in range(k - len(centers)):
        index = int(np.argmax(points.weights * nearest))
        if nearest[index] <= 0.0:
            break
        extra.append(index)
        nearest = np.minimum(nearest, points.sq_dist(points.colors[[index]])[:, 0])
    return np.concatenate([centers, points.colors[extra]]) if extra else centers


def _seed_split(points: _Points, k: int) -> Floats:
    """Variance splitting: cut the group with the largest weighted SSE along its main axis."""
    groups = [np.arange(len(points))]
    errors = [_group_sse(points, groups[0])]
    while len(groups) < k and max(errors) > 0.0:
        worst = int(np.argmax(errors))
        halves = _split(points, groups[worst])
        if min(len(half) for half in halves) == 0:  # numerically flat: leave it whole
            errors[worst] = 0.0
            continue
        groups[worst : worst + 1] = halves
        errors[worst : worst + 1] = [_group_sse(points, half) for half in halves]
    return np.stack([_group_mean(points, group) for group in groups]).astype(np.float32)


def _split(points: _Points, group: Ints) -> tuple[Ints, Ints]:
    centered = points.colors[group] - _group_mean(points, group)
    scatter = (centered * points.weights[group, None]).T @ centered
    axis = np.linalg.eigh(scatter)[1][:, -1]
    side = centered @ axis > 0.0
    return group[~side], group[side]


def _group_mean(points: _Points, group: Ints) -> Floats:
    mean: Floats = points.weighted[group].sum(axis=0) / points.weights[group].sum()
    return mean


def _group_sse(points: _Points, group: Ints) -> float:
    if len(group) < 2:
        return 0.0
    centered = points.colors[group] - _group_mean(points, group)
    return float(points.weights[group] @ (centered * centered).sum(axis=1))


def _to_result(centers: Floats, mass: Floats) -> tuple[DominantColor, ...]:
    """Round the centers, merge equal ones, drop empty ones, and sort largest first."""
    total = float(mass.sum())
    merged: dict[tuple[int, int, int], float] = {}
    for center, weight in zip(np.clip(np.rint(centers), 0, 255).astype(int), mass, strict=True):
        if weight > 0:
            key = (int(center[0]), int(center[1]), int(center[2]))
            merged[key] = merged.get(key, 0.0) + float(weight)
    ranked = sorted(merged.items(), key=lambda item: (-item[1], item[0]))
    return tuple(DominantColor(rgb, min(weight / total, 1.0)) for rgb, weight in ranked)


class ColorTracker:
    """Dominant colors of a stream of frames, warm-started from the previous frame.

    In a static scene the clusters keep their identity from frame to frame, so colors do not
    jump around; a scene cut (the 64-bin color histogram moves by more than ``cut_threshold`` in
    total variation distance) starts cold. ``order_hysteresis`` > 0 keeps the previous order of
    two colors whose fractions differ by less than that (0, the default, sorts strictly).
    """

    def __init__(
        self,
        k: int = DEFAULT_K,
        size: tuple[int, int] = DEFAULT_SIZE,
        *,
        cut_threshold: float = DEFAULT_CUT_THRESHOLD,
        order_hysteresis: float = 0.0,
    ) -> None:
        _check_params(k, size)
        if not 0.0 < cut_threshold <= 1.0:
            raise ValueError(f"cut_threshold must be in (0, 1], got {cut_threshold}")
        if not 0.0 <= order_hysteresis < 1.0:
            raise ValueError(f"order_hysteresis must be in [0, 1), got {order_hysteresis}")
        self.k, self.size = k, size
        self.cut_threshold, self.order_hysteresis = cut_threshold, order_hysteresis
        self.cold_starts = 0
        self.frames = 0
        self._centers: Floats | None = None
        self._histogram: Floats | None = None
        self._order: list[tuple[int, int, int]] = []

    def reset(self) -> None:
        """Forget the previous frame: the next update starts cold."""
        self._centers, self._histogram, self._order = None, None, []

    def update(self, rgb: npt.NDArray[np.uint8]) -> tuple[DominantColor, ...]:
        """The dominant colors of the next frame of the stream."""
        small = downsample(rgb, self.size)
        points = _Points(*color_histogram(small))
        histogram = _cut_histogram(small)
        centers = self._cluster(points, histogram)
        mass = points.cluster_mass(centers)
        self._centers = centers[mass > 0]
        self._histogram = histogram
        self.frames += 1
        result = self._stable_order(_to_result(centers, mass))
        self._order = [color.rgb for color in result]
        return result

    def _cluster(self, points: _Points, histogram: Floats) -> Floats:
        if len(points) <= self.k:  # every color is a cluster of its own
            return points.colors.copy()
        if self._centers is None or self._histogram is None:
            return self._cold(points)
        distance = 0.5 * float(np.abs(histogram - self._histogram).sum())
        if distance > self.cut_threshold:
            logger.debug("scene cut (histogram distance %.2f): colors start cold", distance)
            return self._cold(points)
        centers = self._centers
        if len(centers) < self.k:
            centers = _top_up(points, centers, self.k)
        return _lloyd(points, centers, WARM_ITERATIONS)[0]

    def _cold(self, points: _Points) -> Floats:
        self.cold_starts += 1
        self._order = []
        return _cold_kmeans(points, self.k)

    def _stable_order(self, result: tuple[DominantColor, ...]) -> tuple[DominantColor, ...]:
        """Largest first, but two colors within ``order_hysteresis`` keep their previous order."""
        if self.order_hysteresis <= 0.0 or not self._order:
            return result
        ranks = [self._previous_rank(color.rgb) for color in result]
        ordered = list(zip(result, ranks, strict=True))
        for i in range(1, len(ordered)):  # one insertion sort with a tolerance
            j = i
            while j > 0 and self._swaps(ordered[j], ordered[j - 1]):
                ordered[j - 1], ordered[j] = ordered[j], ordered[j - 1]
                j -= 1
        return tuple(color for color, _ in ordered)

    def _previous_rank(self, rgb: tuple[int, int, int]) -> int | None:
        """The rank last frame of the color nearest ``rgb`` (within 12 per channel), if any."""
        gaps = [max(abs(a - b) for a, b in zip(rgb, old, strict=True)) for old in self._order]
        best = int(np.argmin(gaps))
        return best if gaps[best] <= 12 else None

    def _swaps(
        self, later: tuple[DominantColor, int | None], earlier: tuple[DominantColor, int | None]
    ) -> bool:
        close = earlier[0].fraction - later[0].fraction < self.order_hysteresis
        rank, earlier_rank = later[1], earlier[1]
        return close and rank is not None and earlier_rank is not None and rank < earlier_rank


def _cut_histogram(rgb: npt.NDArray[np.uint8]) -> Floats:
    """A normalized 64-bin color histogram (2 bits per channel) for scene-cut detection."""
    shift = 8 - int(np.log2(CUT_BINS_PER_CHANNEL))
    quantized = (rgb.reshape(-1, 3) >> shift).astype(np.intp)
    bins = CUT_BINS_PER_CHANNEL
    index = (quantized[:, 0] * bins + quantized[:, 1]) * bins + quantized[:, 2]
    counts: Floats = np.bincount(index, minlength=bins**3).astype(np.float32)
    return counts / np.float32(counts.sum())
