"""A scripted labelling session: a person at ``edge label``'s page, in a real Chromium.

``start_label(dataset)`` runs ``edge label`` on a free loopback port; ``label_all(browser,
url, truth)`` goes through every picture the page shows, as a person would with the keyboard:
the number key of a label it knows, "n" and the name for a new one, "x" to delete, "s" to
skip. ``truth(name)`` says which (a label, DELETE or SKIP) for a picture's file name.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .browser import Browser
from .waiting import wait_for

DELETE, SKIP = "<delete>", "<skip>"
URL = re.compile(r"on (http://\S+/)")
SHOWN = """(() => {
  const img = document.getElementById('picture'), item = state.items[state.index];
  return item && img.complete && img.naturalWidth > 0
    && img.src.endsWith(encodeURIComponent(item.name));
})()"""
CURRENT = "(() => { const item = state.items[state.index]; return item ? item.name : ''; })()"


@contextmanager
def start_label(dataset: Path, *args: str) -> Iterator[str]:
    """``edge label DATASET`` on a free port; its URL; stopped with SIGTERM at the end."""
    process = subprocess.Popen(
        [sys.executable, "-m", "edge.cli", "label", str(dataset), "--listen", "127.0.0.1:0",
         *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = URL.search(line)
        if found is None:
            raise AssertionError(f"edge label said {line!r}: {process.stderr.read()}")  # type: ignore[union-attr]
        yield found.group(1)
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=10)
    assert process.returncode == 0, errors


def label_all(browser: Browser, url: str, truth: Callable[[str], str]) -> list[tuple[str, str]]:
    """Label every picture the page offers; (name, what was done) in the order shown."""
    browser.open(url)
    browser.wait("document.getElementById('left')?.textContent.endsWith('left')")
    done = []
    while name := browser.evaluate(CURRENT):
        browser.wait(SHOWN)  # a person looks at the picture first
        wanted = truth(name)
        labels = browser.evaluate("state.labels")
        if wanted == SKIP:
            browser.press("s")
        elif wanted == DELETE:
            browser.press("x")
        elif wanted in labels[:9]:
            browser.press(str(labels.index(wanted) + 1))
        else:
            browser.press("n")
            browser.type(wanted)
            browser.press("Enter")
        done.append((name, wanted))
        assert wait_for(lambda: browser.evaluate(CURRENT) != name, 10), f"stuck at {name}"
    return done
