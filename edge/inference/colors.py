"""Dominant colors of a frame: K-means on its downsampled pixels.

The frame is shrunk with area averaging (``cv2.INTER_AREA``) to a few thousand pixels and
clustered by :mod:`edge.inference.kmeans`: a weighted histogram of distinct colors, several
deterministic
k-means++ seedings iterated side by side on it, the best refined on the pixels, all in float32
with one small matrix product per iteration for the distances. The same frame always gives the
same colors.

    >>> colors = dominant_colors(rgb)   # tuple of ColorShare (the record's part), largest first
    >>> colors[0].hex, colors[0].fraction
    ('#3a5f8c', 0.41)

``ColorTracker`` does the same for a stream of frames: each frame starts from the previous
frame's centers (a Lloyd iteration on the pixels instead of a cold start, up to
``WARM_ITERATIONS`` while the centers still move much: a color panning in), so a color keeps its
identity from frame to frame. What it reports holds still while the scene does: a color's value
changes once its center has been more than ``COLOR_DEADBAND`` levels away from the value shown
for two frames running (or ``COLOR_JUMP`` levels once), its fraction once it has changed by more
than ``FRACTION_DEADBAND``, so a static scene gives the same colors in the same order frame after
frame. A scene cut (a small color histogram moves too much) starts cold; every
``CHALLENGE_FRAMES`` frames, sooner when the tracked colors' squared error has grown by
``CHALLENGE_RISE`` or a color has vanished, a cold start challenges the tracked colors and
replaces them, matched color to color, when its exact squared error is ``CHALLENGE_GAIN``
lower.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from edge.frames import check_rgb
from edge.inference import kmeans
from edge.records.parts import ColorShare

logger = logging.getLogger(__name__)

DEFAULT_K = 5
DEFAULT_SIZE = (64, 48)
WARM_ITERATIONS = 3  # per frame at most: one, more while the centers move much
WARM_TOLERANCE = 0.02  # "much": their move explains this part of the squared error
COLD_ITERATIONS = 20  # on the pixels after a cold start, at most: converged, it holds still
COLD_TRIES = 3  # of the best seedings, refined on the pixels: the best found from the start
COLOR_DEADBAND = 1.5  # levels per channel, for two frames running
COLOR_JUMP = 4.0  # levels per channel: a color moving this far is shown at once
FRACTION_DEADBAND = 0.01
CHALLENGE_FRAMES = 15  # a cold start challenges the tracked colors this often
CHALLENGE_ITERATIONS = 3  # on the pixels
CHALLENGE_RUNS = 6  # seedings on the histogram
CHALLENGE_GAIN = 0.01  # it replaces them when its squared error is this much lower
CHALLENGE_RISE = 0.2  # or sooner, when their squared error has grown this much
CUT_BINS_PER_CHANNEL = 4  # the scene-cut histogram has 4 x 4 x 4 = 64 bins
DEFAULT_CUT_THRESHOLD = 0.35

Floats = npt.NDArray[np.float32]
Pixels = npt.NDArray[np.uint8]


def dominant_colors(
    rgb: npt.NDArray[np.uint8], k: int = DEFAULT_K, size: tuple[int, int] = DEFAULT_SIZE
) -> tuple[ColorShare, ...]:
    """The up to ``k`` dominant colors of an RGB uint8 image, largest first.

    The image is first shrunk to ``size`` (width, height) with area averaging, unless it has no
    more pixels than that already. Fewer distinct colors than ``k`` give that many colors (a
    black frame gives exactly one); the fractions sum to 1. Equal fractions are ordered by RGB
    value, so the result is fully deterministic.
    """
    _check_params(k, size)
    clusters = kmeans.cold(_pixels(downsample(rgb, size)), k)
    return _to_result(clusters.centers, clusters.masses)


def downsample(rgb: npt.NDArray[np.uint8], size: tuple[int, int]) -> npt.NDArray[np.uint8]:
    """``rgb`` shrunk to ``size`` (width, height) with cv2.INTER_AREA; unchanged if not larger."""
    check_rgb(rgb, "image")
    height, width = rgb.shape[:2]
    if width * height <= size[0] * size[1]:
        return rgb
    import cv2

    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return np.asarray(small, dtype=np.uint8)


def _pixels(rgb: npt.NDArray[np.uint8]) -> Pixels:
    """The (n, 3) pixels of an image, contiguous (a region of interest may be a strided view)."""
    return np.ascontiguousarray(rgb).reshape(-1, 3)


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


def _to_result(
    colors: Floats | npt.NDArray[np.float64], masses: Floats | npt.NDArray[np.float64]
) -> tuple[ColorShare, ...]:
    """Round the colors, merge equal ones, drop empty ones, and sort largest first (ties by RGB
    value)."""
    merged: dict[tuple[int, int, int], float] = {}
    rounded = np.rint(colors).astype(np.intp).tolist()  # means of 0-255 values: in range
    for rgb, mass in zip(map(tuple, rounded), masses.tolist(), strict=True):
        if mass > 0:
            merged[rgb] = merged.get(rgb, 0.0) + mass
    total = sum(merged.values())
    ranked = sorted(merged.items(), key=_largest_first)
    return tuple([ColorShare.from_rgb(rgb, min(mass / total, 1.0)) for rgb, mass in ranked])


def _largest_first(item: tuple[tuple[int, int, int], float]) -> tuple[float, tuple[int, int, int]]:
    return -item[1], item[0]


class ColorTracker:
    """Dominant colors of a stream of frames, warm-started from the previous frame.

    ``update`` returns what :func:`dominant_colors` returns. In a static scene the colors keep
    their values and order from frame to frame; a scene cut (the 64-bin color histogram moves
    by more than ``cut_threshold`` in total variation distance) starts cold. ``order_hysteresis``
    > 0 keeps the previous order of two colors whose fractions differ by less than that (0, the
    default, sorts strictly, largest first).
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
        self.cold_starts = 0  # K-means runs from scratch: the first frame and scene cuts
        self.refreshes = 0  # tracked colors replaced by a better cold start
        self.frames = 0
        self.reset()

    def reset(self) -> None:
        """Forget the previous frames: the next update starts cold."""
        self._tracked: _Tracked | None = None
        self._histogram: Floats | None = None
        self._order: list[tuple[int, int, int]] = []
        self._since_refresh = 0
        self._error = np.inf  # the tracked colors' squared error at the last challenge
        self._shown = b""  # the colors and fractions the last frame showed, and what they gave
        self._result: tuple[ColorShare, ...] = ()

    def update(self, rgb: npt.NDArray[np.uint8]) -> tuple[ColorShare, ...]:
        """The dominant colors of the next frame of the stream."""
        pixels = _pixels(downsample(rgb, self.size))
        histogram = _cut_histogram(pixels)
        tracked = self._tracked
        if tracked is None or self._is_cut(histogram):
            tracked = self._start(pixels)
        else:
            tracked = self._follow(pixels, tracked)
        self._tracked, self._histogram = tracked, histogram
        self.frames += 1
        shown = tracked.shown.tobytes() + tracked.fractions.tobytes()
        if shown != self._shown:  # else the colors shown last frame, as they were
            self._result = self._stable_order(_to_result(tracked.shown, tracked.fractions))
            self._order, self._shown = [color.rgb for color in self._result], shown
        return self._result

    def _is_cut(self, histogram: Floats) -> bool:
        if self._histogram is None:
            return True
        distance = 0.5 * float(np.abs(histogram - self._histogram).sum())
        if distance > self.cut_threshold:
            logger.debug("scene cut (histogram distance %.2f): colors start cold", distance)
            return True
        return False

    def _start(self, pixels: Pixels) -> _Tracked:
        """A cold start, shown as it is."""
        points = kmeans.pixel_points(pixels, squares=True)
        clusters = kmeans.cold(pixels, self.k, COLD_ITERATIONS, COLD_TRIES, points=points)
        self.cold_starts += not clusters.exact
        self._order, self._since_refresh, self._shown = [], 0, b""
        self._error = points.squared_errors(clusters.centers)[0]
        return _Tracked.of(clusters)

    def _follow(self, pixels: Pixels, tracked: _Tracked) -> _Tracked:
        """Warm-start from the tracked centers; a cold start challenges them every
        ``CHALLENGE_FRAMES`` frames, and sooner when their error has grown (a color came in)."""
        points = kmeans.pixel_points(pixels, squares=True)
        if len(tracked.centers) < self.k:  # the last frame had few colors: there may be more
            return tracked.matched(kmeans.cold(pixels, self.k, COLD_ITERATIONS))
        clusters = self._warm(points, tracked.centers)
        self._since_refresh += 1
        grown = clusters.start_error > (1.0 + CHALLENGE_RISE) * self._error
        if self._since_refresh >= CHALLENGE_FRAMES or grown or not clusters.masses.all():
            challenger = kmeans.cold(
                pixels, self.k, CHALLENGE_ITERATIONS, runs=CHALLENGE_RUNS, points=points
            )
            ours, theirs = points.squared_errors(clusters.centers, challenger.centers)
            self._since_refresh, self._error = 0, min(ours, theirs)
            if theirs < (1.0 - CHALLENGE_GAIN) * ours:  # converged, so that it holds still
                self.refreshes += 1
                rows = kmeans.center_rows(challenger.centers)
                return tracked.matched(kmeans.refine(points, rows, COLD_ITERATIONS))
        return tracked.steady(clusters)

    @staticmethod
    def _warm(points: kmeans.Points, centers: Floats) -> kmeans.Clusters:
        """One Lloyd iteration from ``centers``, more (up to ``WARM_ITERATIONS``) while the
        centers move enough to matter (a color coming in); the result's ``start_error`` is that
        of ``centers``."""
        clusters = kmeans.refine(points, kmeans.center_rows(centers), 1, measure=True)
        error = clusters.start_error
        for _ in range(WARM_ITERATIONS - 1):
            moved = kmeans.squared_norms(clusters.centers - centers) @ clusters.masses
            if moved <= WARM_TOLERANCE * error:
                break
            centers = clusters.centers
            clusters = kmeans.refine(points, kmeans.center_rows(centers), 1)
        return clusters._replace(start_error=error)

    def _stable_order(self, result: tuple[ColorShare, ...]) -> tuple[ColorShare, ...]:
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
        self, later: tuple[ColorShare, int | None], earlier: tuple[ColorShare, int | None]
    ) -> bool:
        close = earlier[0].fraction - later[0].fraction < self.order_hysteresis
        rank, earlier_rank = later[1], earlier[1]
        return close and rank is not None and earlier_rank is not None and rank < earlier_rank


@dataclass(frozen=True)
class _Tracked:
    """The tracked clusters: centers (m, 3), and the color (m, 3) and fraction (m,) shown for
    each, which hold still inside the deadbands."""

    centers: Floats
    shown: npt.NDArray[np.float64]
    fractions: npt.NDArray[np.float64]
    leaving: npt.NDArray[np.bool_] | None = None  # held outside the deadband last frame

    @classmethod
    def of(cls, clusters: kmeans.Clusters) -> _Tracked:
        masses = clusters.masses.astype(np.float64)
        return cls(clusters.centers, np.rint(clusters.centers), masses / masses.sum())

    def steady(self, clusters: kmeans.Clusters) -> _Tracked:
        """The same clusters, moved: what is shown changes only outside the deadbands."""
        masses = clusters.masses.astype(np.float64)
        fractions = masses / masses.sum()
        gap = np.abs(clusters.centers - self.shown).max(axis=1)
        outside = gap > COLOR_DEADBAND  # for two frames running, or far: noise rarely is
        held = self.leaving if self.leaving is not None else np.zeros(len(gap), np.bool_)
        moved = (gap > COLOR_JUMP) | (outside & held)
        shown = np.where(moved[:, None], np.rint(clusters.centers), self.shown)
        changed = (np.abs(fractions - self.fractions) > FRACTION_DEADBAND) | (masses == 0)
        # a center that did not move out of its deadband goes back to the color shown: in a
        # static scene the centers would otherwise wander with the noise, frame after frame
        centers = np.where(moved[:, None], clusters.centers, shown).astype(np.float32)
        fractions = np.where(changed, fractions, self.fractions)
        return _Tracked(centers, shown, fractions, outside & ~moved)

    def matched(self, clusters: kmeans.Clusters) -> _Tracked:
        """New clusters put in the places of the tracked ones they are nearest (closest pairs
        first), then shown as :meth:`steady` would; unmatched ones go last, shown as they are."""
        order = _match(clusters.centers, self.centers)
        reordered = kmeans.Clusters(clusters.centers[order], clusters.masses[order])
        fresh = _Tracked.of(reordered)
        common = min(len(order), len(self.centers))
        # chosen over the tracked ones: a color outside its deadband is shown at once
        outside = np.ones(common, np.bool_)
        kept = _Tracked(
            self.centers[:common], self.shown[:common], self.fractions[:common], outside
        )
        head = kept.steady(kmeans.Clusters(reordered.centers[:common], reordered.masses[:common]))
        return _Tracked(
            reordered.centers,
            np.concatenate([head.shown, fresh.shown[common:]]),
            np.concatenate([head.fractions, fresh.fractions[common:]]),
        )


def _match(new: Floats, old: Floats) -> list[int]:
    """An order of ``new`` that puts each center where its nearest ``old`` one was (greedy,
    closest pairs first); unmatched new centers go last."""
    gaps = ((new[:, None, :] - old[None, :, :]) ** 2).sum(axis=2)
    slots: dict[int, int] = {}
    taken: set[int] = set()
    for flat in np.argsort(gaps, axis=None, kind="stable").tolist():
        i, j = divmod(flat, len(old))
        if i not in slots and j not in taken:
            slots[i] = j
            taken.add(j)
    return sorted(range(len(new)), key=lambda i: (slots.get(i, len(old)), i))


_CUT_SHIFT = 8 - int(np.log2(CUT_BINS_PER_CHANNEL))
_CUT_KEY = np.array([CUT_BINS_PER_CHANNEL**2, CUT_BINS_PER_CHANNEL, 1], np.float32)


def _cut_histogram(pixels: Pixels) -> Floats:
    """A normalized 64-bin color histogram (2 bits per channel) for scene-cut detection."""
    index = ((pixels >> _CUT_SHIFT).astype(np.float32) @ _CUT_KEY).astype(np.intp)
    counts = np.bincount(index, minlength=CUT_BINS_PER_CHANNEL**3).astype(np.float32)
    histogram: Floats = counts / np.float32(len(pixels))
    return histogram
