"""Shared fixtures of the model tests: a digits folder written once per session."""

from __future__ import annotations

import pytest

from models.datasets import DigitsFolders


@pytest.fixture(scope="session")
def digits(tmp_path_factory: pytest.TempPathFactory) -> DigitsFolders:
    """scikit-learn's digits as 32x32 PNGs: train/<digit>/ and held_out/<digit>/ (seed 0)."""
    pytest.importorskip("sklearn")
    from models.datasets import write_digits_folder

    return write_digits_folder(tmp_path_factory.mktemp("digits"), size=32, held_out=0.2, seed=0)
