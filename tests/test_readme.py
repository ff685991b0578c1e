"""The README's install commands name files that exist."""

from __future__ import annotations

import re

from .conftest import REPO


def test_every_constraints_file_the_readme_names_exists() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    named = re.findall(r"pip install -c (\S+)", text) + re.findall(r"scripts/constraints/\S+", text)
    assert len(named) >= 3
    for name in named:
        assert (REPO / name).is_file(), f"the README names {name}, which is not in the repository"
