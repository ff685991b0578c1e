"""Weighted K-means on RGB colors, several runs side by side (the engine of ``colors``).

For a few thousand pixels the cost is Python's per-call overhead, not arithmetic, so the data
are laid out for few NumPy calls: everything is float32, and one small matrix product per
iteration gives the distances and one more the cluster sums.

- points are the columns ``[-2x; 1]`` (4, n), with their moments ``[w*x, w]`` (n, 4);
- centers are the rows ``[c, |c|^2 + 1]`` (m, 4), so ``rows @ columns`` is every squared
  distance less ``|x|^2 - 1``, which does not change which center is nearest; and dividing the
  cluster sums ``[sum w*x, sum w]`` by their last column gives ``[c, 1]``, one step from the
  next rows;
- runs are stacked center-major (row ``i * runs + r`` is center i of run r), so several
  seedings cost little more than one.

A cold start bins the pixels into a weighted histogram of distinct colors (each bin at the exact
mean of its pixels; finer bins for an image with a narrow range of colors, coarser for a very
colorful one), seeds ``RUNS`` runs deterministically (k-means++ with fixed draws, the first
run greedy), iterates them all on the histogram, and refines the best on the pixels themselves.
A warm start is the refinement alone, from given centers.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float32]
Pixels = npt.NDArray[np.uint8]  # (n, 3) RGB
Keys = npt.NDArray[np.intp]

RUNS = 12  # seedings iterated side by side on the histogram
HISTOGRAM_ITERATIONS = 3
PIXEL_ITERATIONS = 1
TRY_ITERATIONS = 3  # on the pixels, for each of several tries of a cold start
MIN_BINS, MAX_BINS = 64, 640  # histogram bins: 4 bits per channel, 3 to 5 to stay in this range
RACE_SEED = 20240611
RACE_ROWS = RUNS
RACE_FILE = Path(__file__).resolve().parent.parent / "data" / "kmeans_race.npy"


class Clusters(NamedTuple):
    """Centers (m, 3) and the number of pixels nearest each; ``exact`` when the centers are
    all the distinct colors there are (no more than k); after :func:`refine`, the exact
    squared error of the centers it started from (the first iteration's distances give it)."""

    centers: Floats
    masses: Floats
    exact: bool = False
    start_error: float = float("nan")  # refine: the exact squared error of its start centers


class Points(NamedTuple):
    """Weighted colors: ``means`` ``[x; 1]`` and ``columns`` ``[-2x; 1]`` (4, n), ``moments``
    ``[w*x, w]`` (n, 4), a key per color that picks its fixed random draws in :func:`seed`, and
    for pixels (weight 1), the exact sum of their squared norms."""

    means: Floats
    columns: Floats
    moments: Floats
    keys: Keys
    squares: float = float("nan")

    def inertia(self, clusters: Clusters) -> float:
        """The sum of squared distances of the points to their clusters' centers, given the
        clusters are the means of their points (as :func:`lloyd` leaves them)."""
        squares = squared_norms(self.means[:3].T).astype(np.float64) @ self.moments[:, 3]
        explained = squared_norms(clusters.centers).astype(np.float64) @ clusters.masses
        return max(float(squares) - float(explained), 0.0)

    def squared_errors(self, *centers: Floats) -> list[float]:
        """The exact sum of the points' weighted squared distances to their nearest center, for
        each set of ``centers`` (m, 3), whatever they are (:meth:`inertia` holds only for the
        means of clusters, which the tie fix-up of :func:`refine` does not leave)."""
        rows = center_rows(np.concatenate(centers))
        distances = rows @ self.columns  # |c|^2 + 1 - 2 x.c
        errors, start = [], 0
        for block in centers:
            nearest = distances[start : start + len(block)].min(axis=0)
            errors.append(self.squared_error_of(nearest))
            start += len(block)
        return errors

    def squared_error_of(self, nearest: Floats) -> float:
        """The weighted squared error from each point's least ``rows @ columns`` value (a
        squared distance less ``|x|^2 - 1``), summed in float64."""
        if self.squares == self.squares:  # pixels: weights 1, the squares summed already
            total = self.squares + float(nearest.sum(dtype=np.float64)) - len(nearest)
        else:
            squares = squared_norms(self.means[:3].T).astype(np.float64) + nearest - 1.0
            total = float(squares @ self.moments[:, 3])
        return max(total, 0.0)


def pixel_points(pixels: Pixels, squares: bool = False) -> Points:
    """(n, 3) pixels as points of weight 1; with ``squares``, their squared norms summed (what
    exact squared errors start from)."""
    both = np.empty((2, 4, len(pixels)), np.float32)
    means, columns = both[0], both[1]
    means.T[:, :3] = pixels  # read in order: faster than writing pixels.T
    np.multiply(means[:3], _MINUS_TWO, out=columns[:3])  # faster than by a column of scales
    both[:, 3] = 1.0
    flat = pixels.reshape(-1).astype(np.float64) if squares else None
    total = float(flat @ flat) if flat is not None else float("nan")
    return Points(means, columns, means.T, _NO_KEYS, total)


def histogram(pixels: Pixels, points: Points) -> Points:
    """The pixels binned by color, each bin at the exact mean of its pixels and weighted by
    their count. Bins are 4 bits per channel; 5 when that leaves fewer than ``MIN_BINS`` (an
    image with a narrow range of colors), 3 when it leaves more than ``MAX_BINS``."""
    bits = 4
    key, counts, used = _bin(pixels, bits)
    if len(used) < MIN_BINS or len(used) > MAX_BINS:
        bits = 5 if len(used) < MIN_BINS else 3
        key, counts, used = _bin(pixels, bits)
    if bits > 4:  # number the used bins 0, 1, ...: short bincounts below
        # in the counts' array: a second one of 32768 bins made malloc hand its pages back and
        # fault them in again, call after call
        keys, used_counts = used & _RACE_MASK, counts[used]
        counts[used] = _ARANGE[: len(used)]
        key, counts, used = counts[key], used_counts, _ARANGE[: len(used)]
    else:
        keys, counts = used, counts[used]
    sums = np.empty((4, len(used)), np.float32)
    for channel in range(3):
        sums[channel] = np.bincount(key, points.means[channel])[used]
    sums[3] = counts
    means = sums / sums[3]
    return Points(means, means * _COLUMN_SCALE, sums.T, keys)


def _bin(pixels: Pixels, bits: int) -> tuple[Keys, npt.NDArray[np.intp], Keys]:
    """The bin of each pixel, the count of each bin, and the bins used."""
    key = np.dot((pixels >> (8 - bits)).astype(np.float32), _key_weights(bits)).astype(np.intp)
    counts = np.bincount(key)
    return key, counts, counts.astype(np.bool_).nonzero()[0]


@cache
def _key_weights(bits: int) -> Floats:
    return np.array([1 << (2 * bits), 1 << bits, 1], np.float32)


def seed(points: Points, k: int, runs: int) -> Floats:
    """Deterministic k-means++ seeds for ``runs`` runs, as center rows (k * runs, 4) for
    :func:`lloyd`, center-major.

    Each seed is the color with the largest weight times squared distance to the nearest seed
    so far (the first: the largest weight), divided by a fixed exponential clock of that color:
    a race of exponential clocks is a k-means++ draw, and fixing the clocks (per run and color
    key) makes it the same draw every time. Run 0's clocks are all 1: it is greedy.
    """
    means, weights = points.means, points.moments[:, 3]
    extended = np.empty((5, len(weights)), np.float32)  # [x; 1; |x|^2]
    extended[:4] = means
    squared_norms(means[:3].T, out=extended[4])
    table = extended[_TABLE_ROWS].T * _TABLE  # [-2x, |x|^2, 1]: table @ extended is d^2
    odds = _race(runs).take(points.keys, axis=1) * weights if runs > 1 else weights[None]
    picks = np.empty((k, runs), np.intp)
    odds.argmax(axis=1, out=picks[0])
    nearest = np.dot(table[picks[0]], extended)
    scores = np.empty_like(nearest)
    for step in range(1, k):
        np.multiply(nearest, odds, out=scores).argmax(axis=1, out=picks[step])
        if step < k - 1:
            np.minimum(nearest, np.dot(table[picks[step]], extended), out=nearest)
    rows: Floats = table[picks.reshape(-1)] * _ROW_SCALE  # [x, |x|^2 + 1, ...]
    return rows[:, :4]


@cache
def _race(runs: int) -> Floats:
    """1 / Exp(1) clocks (runs, keys); 1 for run 0. Up to ``RACE_ROWS`` runs they are read
    from ``RACE_FILE``, :func:`draw_race`'s rows kept, so that the daemon never imports
    numpy.random (about 2 MB of its memory); the first rows are the same for fewer runs."""
    if runs <= RACE_ROWS:
        kept: Floats = np.load(RACE_FILE)
        return kept[:runs]
    return draw_race(runs)


def draw_race(runs: int) -> Floats:
    """The clocks drawn (``RACE_FILE`` holds ``draw_race(RACE_ROWS)``; a test checks it)."""
    clocks = np.random.default_rng(RACE_SEED).exponential(size=(runs, _RACE_MASK + 1))
    clocks[0] = 1.0
    inverse: Floats = (1.0 / np.maximum(clocks, 1e-6)).astype(np.float32)
    return inverse


def lloyd(
    points: Points, rows: Floats, runs: int, iterations: int, measure: bool = False
) -> Clusters:
    """Lloyd iterations (at least one) for ``runs`` runs side by side from center ``rows``
    (:func:`center_rows`), until no point changes cluster. The centers (k * runs, 3) come back
    as the means of their points.

    An empty cluster keeps its center. A point exactly as near to two centers of a run counts
    for both (ties are rare in float32; :func:`refine` settles them). ``measure`` (one run):
    the result's ``start_error`` is the exact squared error of the centers it started from.
    """
    columns, moments, count = points.columns, points.moments, len(rows)
    shape = (count // runs, runs, columns.shape[1])
    distances, nearest = np.empty(shape, np.float32), np.empty(shape[1:], np.float32)
    flat_distances = distances.reshape(count, -1)
    previous, start_error = b"", float("nan")
    for iteration in range(iterations):
        np.dot(rows, columns, out=flat_distances)  # np.dot: less overhead than np.matmul
        np.minimum.reduce(distances, axis=0, out=nearest)
        if measure and iteration == 0:
            start_error = points.squared_error_of(nearest[0])
        np.equal(distances, nearest, out=distances)  # 1 where a point is owned, else 0
        sums = np.dot(flat_distances, moments)
        state = sums.tobytes()
        if state == previous:
            break
        previous = state
        if np.count_nonzero(sums[:, 3]) == count:
            rows = sums / sums[:, 3:]
        else:  # an empty cluster keeps its center
            filled = sums[:, 3] > 0
            rows[:, 3] = 1.0
            rows[filled] = sums[filled] / sums[filled, 3:]
        if iteration < iterations - 1:  # else only the centers are returned
            squared_norms(rows, out=rows[:, 3])  # |c|^2 + 1: rows[:, 3] was 1
    return Clusters(rows[:, :3], sums[:, 3], start_error=start_error)


def center_rows(centers: Floats) -> Floats:
    """Centers (m, 3) as the rows ``[c, |c|^2 + 1]`` (m, 4) that :func:`lloyd` starts from."""
    rows = np.empty((len(centers), 4), np.float32)
    rows[:, :3] = centers
    rows[:, 3] = 1.0
    squared_norms(rows, out=rows[:, 3])
    return rows


def best_runs(clusters: Clusters, runs: int, count: int = 1) -> list[Floats]:
    """The centers (k, 3) of the ``count`` runs that explain most (the least squared error),
    best first."""
    energy = np.add.reduce((squared_norms(clusters.centers) * clusters.masses).reshape(-1, runs))
    centers = clusters.centers.reshape(-1, runs, 3)
    if count == 1:  # the first of the best, as the stable sort below gives it
        return [centers[:, int(energy.argmax())]]
    return [centers[:, run] for run in np.argsort(-energy, kind="stable")[:count].tolist()]


def cold(
    pixels: Pixels,
    k: int,
    iterations: int = PIXEL_ITERATIONS,
    tries: int = 1,
    *,
    runs: int = RUNS,
    points: Points | None = None,
) -> Clusters:
    """K-means from scratch on (n, 3) pixels: the best of ``runs`` seeded runs on the
    histogram, refined by up to ``iterations`` Lloyd iterations on the pixels (with ``tries`` >
    1, that many of the best runs, refined ``TRY_ITERATIONS`` times each, the one of least exact
    squared error going on); with no more than ``k`` distinct colors, those colors. ``points``:
    the pixels' points, when made already."""
    exact = pixel_points(pixels) if points is None else points
    binned = histogram(pixels, exact)
    if len(binned.keys) <= k:
        return _distinct(pixels, k)
    results = lloyd(binned, seed(binned, k, runs), runs, HISTOGRAM_ITERATIONS)
    best = best_runs(results, runs, tries)
    if tries == 1:
        return refine(exact, center_rows(best[0]), iterations)
    # the tries race for a few iterations; the winner goes on
    tried = [refine(exact, center_rows(centers), TRY_ITERATIONS) for centers in best]
    errors = exact.squared_errors(*(clusters.centers for clusters in tried))
    winner = tried[int(np.argmin(errors))]
    more = iterations - TRY_ITERATIONS
    return refine(exact, center_rows(winner.centers), more) if more > 0 else winner


def refine(points: Points, rows: Floats, iterations: int, measure: bool = False) -> Clusters:
    """Lloyd iterations on pixel ``points`` (:func:`pixel_points`) from center ``rows``;
    ``measure``: with the exact squared error of ``rows`` as ``start_error``."""
    result = lloyd(points, rows, 1, iterations, measure)
    if sum(result.masses.tolist()) == points.columns.shape[1]:  # whole counts: exact
        return result
    # a pixel exactly half-way between two centers counted for both: give it to the first
    rows = np.hstack([result.centers, squared_norms(result.centers)[:, None]])
    labels = (rows @ points.columns).argmin(axis=0)
    masses = np.bincount(labels, minlength=len(rows)).astype(np.float32)
    return Clusters(result.centers, masses, start_error=result.start_error)


def _distinct(pixels: Pixels, k: int) -> Clusters:
    """K-means on the exact distinct colors, for images with very few of them."""
    colors, counts = np.unique(pixels, axis=0, return_counts=True)
    if len(colors) <= k:
        return Clusters(colors.astype(np.float32), counts.astype(np.float32), exact=True)
    means = np.vstack([colors.T, np.ones(len(colors))]).astype(np.float32)
    moments = np.multiply(means.T, counts[:, None], dtype=np.float32)
    points = Points(means, means * _COLUMN_SCALE, moments, _NO_KEYS)
    return lloyd(points, seed(points, k, 1), 1, 50)


def squared_norms(rows: Floats, out: Floats | None = None) -> Floats:
    """|x|^2 of each row of ``rows`` (m, 3 or 4)."""
    if _VECDOT is not None:  # NumPy 2: a ufunc, several times cheaper to call than einsum
        return _VECDOT(rows, rows, out=out)  # type: ignore[no-any-return]
    norms: Floats = np.einsum("ij,ij->i", rows, rows, out=out)
    return norms


_VECDOT = getattr(np, "vecdot", None)
_COLUMN_SCALE = np.array([[-2.0], [-2.0], [-2.0], [1.0]], np.float32)
_MINUS_TWO = np.float32(-2.0)
_FAR = np.float32(1e20)  # larger than any squared distance: the first pick goes by weight alone
_TABLE_ROWS = np.array([0, 1, 2, 4, 3], np.intp)
_TABLE = np.array([-2.0, -2.0, -2.0, 1.0, 1.0], np.float32)
_ROW_SCALE = np.array([-0.5, -0.5, -0.5, 1.0, 1.0], np.float32)  # table rows to center rows
_RACE_MASK = (1 << 12) - 1  # keys beyond 4096 share clocks
_NO_KEYS = np.zeros(0, np.intp)
_ARANGE = np.arange(1 << 15)
