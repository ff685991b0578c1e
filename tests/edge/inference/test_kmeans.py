"""K-means' fixed random draws: kept in a file, the same as drawn."""

from __future__ import annotations

import numpy as np
import pytest

from edge.inference import kmeans


def test_the_kept_clocks_are_the_drawn_ones() -> None:
    kept = np.load(kmeans.RACE_FILE)
    assert kept.dtype == np.float32 and kept.shape == (kmeans.RACE_ROWS, 4096)
    assert np.array_equal(kept, kmeans.draw_race(kmeans.RACE_ROWS))


@pytest.mark.parametrize("runs", [2, 6, kmeans.RACE_ROWS, kmeans.RACE_ROWS + 3])
def test_every_number_of_runs_races_with_its_drawn_clocks(runs: int) -> None:
    clocks = kmeans._race(runs)
    assert clocks.shape == (runs, 4096)
    assert np.array_equal(clocks, kmeans.draw_race(runs))
    assert np.all(clocks[0] == 1.0)
