"""The live page in a real headless Chromium, loaded from a running daemon."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from ..support.browser import Browser, chromium
from ..support.waiting import wait_for
from .conftest import Daemon

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(chromium() is None, reason="chromium is not installed (make test does)"),
]

# Set to a path to keep the screenshot (the README's docs/page.png is made this way).
SCREENSHOT_ENV = "EDGE_PAGE_SCREENSHOT"

PICTURE = """(() => {
  const img = document.querySelector('.camera img.live');
  if (!img || !img.naturalWidth) return null;
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
  const context = canvas.getContext('2d');
  context.drawImage(img, 0, 0);
  return canvas.toDataURL('image/png');
})()"""

INKED = """((selector) => {
  const canvas = document.querySelector(selector);
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let inked = 0, red = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] > 0) inked++;
    if (data[i] > 200 && data[i + 1] < 130 && data[i + 3] > 0) red++;
  }
  return {inked, red, size: canvas.width * canvas.height};
})"""


def test_the_page_shows_the_live_picture_palette_and_charts(
    daemon: Callable[..., Daemon], tmp_path: Path
) -> None:
    running = daemon()
    with Browser.launch(tmp_path / "profile", height=780) as browser:
        browser.open(running.url)
        browser.wait("document.querySelector('.camera .fps')?.textContent.match(/^[0-9.]+$/)")
        first = browser.wait(PICTURE)
        browser.wait(f"({PICTURE}) !== {first!r}")  # the picture updates

        # the history needs a few seconds of points; then palette and charts have drawn it
        browser.wait(f"{INKED}('.camera canvas.palette').inked > 200", timeout=30)
        palette = browser.evaluate(f"{INKED}('.camera canvas.palette')")
        confidence = browser.evaluate(f"{INKED}('.camera canvas.confidence')")
        scores = browser.evaluate(f"{INKED}('.camera canvas.scores')")
        assert palette["inked"] > 200, palette
        assert confidence["inked"] > 100, confidence
        assert scores["red"] > 50, scores  # the threshold line

        facts = browser.evaluate("""(() => {
          const camera = document.querySelector('.camera');
          const text = (s) => camera.querySelector(s).textContent;
          return {name: text('.name'), state: text('.state'), label: text('.label'),
                  classifier: text('.classifier'), autoencoder: text('.autoencoder'),
                  stages: camera.querySelectorAll('.latency tbody tr').length,
                  device: document.getElementById('device').textContent,
                  link: document.getElementById('link').textContent};
        })()""")
        assert facts["name"] == "camera" and facts["state"] == "running", facts
        assert facts["label"] not in ("", "–") and facts["stages"] == 5, facts
        assert facts["classifier"] == "digits" and facts["autoencoder"], facts
        assert facts["device"] and facts["link"] == "live", facts

        if os.environ.get(SCREENSHOT_ENV):  # a minute of history for the README's picture
            time.sleep(60)
        png = browser.screenshot()
        assert browser.errors() == []
    _not_blank(png)
    if target := os.environ.get(SCREENSHOT_ENV):
        shutil.copyfile(_save(png, tmp_path / "page.png"), target)


def test_the_page_asks_for_the_token_once_and_keeps_it_in_a_cookie(
    daemon: Callable[..., Daemon], tmp_path: Path
) -> None:
    token = "page-token-7Hq2xL9"
    (tmp_path / "token").write_text(token + "\n")
    running = daemon(config=f'[web]\ntoken_file = "{tmp_path / "token"}"\n'
                     '[[cameras]]\nsource = "demo"\nfps = 10.0\n')  # fmt: skip
    with Browser.launch(tmp_path / "profile") as browser:
        browser.open(running.url)
        browser.wait("document.body && document.body.innerText.includes('access token')")
        browser.evaluate(f"document.querySelector('input[name=token]').value = {token!r}")
        browser.evaluate("document.querySelector('form').submit()")
        browser.wait("document.querySelector('.camera .fps')?.textContent.match(/^[0-9.]+$/)")
        assert browser.evaluate("location.search") == ""  # the token left the address bar
        html = browser.evaluate("document.documentElement.outerHTML")
        assert token not in html
        browser.wait(PICTURE)  # the stream sends the cookie too
    assert token not in running.log_text()


def _save(png: bytes, path: Path) -> Path:
    path.write_bytes(png)
    return path


def _not_blank(png: bytes) -> None:
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.shape[0] > 400 and image.shape[1] > 800
    assert float(image.std()) > 20.0
    colors = len(np.unique(image.reshape(-1, 3)[::7], axis=0))
    assert colors > 200, colors  # the picture and the charts, not a flat page


def test_the_capture_button_saves_the_next_frame_for_training(
    daemon: Callable[..., Daemon], tmp_path: Path
) -> None:
    config = """
[[cameras]]
name = "camera"
source = "demo"
fps = 10.0
[cameras.capture]
when = ["command"]
"""
    running = daemon(config=config)
    folder = running.out / "dataset" / "camera" / "unlabelled"
    with Browser.launch(tmp_path / "profile") as browser:
        browser.open(running.url)
        browser.wait("document.querySelector('.camera .fps')?.textContent.match(/^[0-9.]+$/)")
        assert not folder.exists()
        browser.evaluate("document.querySelector('.actions button[data-command=capture]').click()")
        browser.wait("document.querySelector('.actions .said').textContent === 'capture: asked'")
        assert wait_for(lambda: len(list(folder.glob("*.json"))) == 1, 20)
        assert browser.errors() == []
    about = json.loads(next(folder.glob("*.json")).read_text())
    assert about["why"] == ["command"]
    assert (folder / next(folder.glob("*.json")).name.replace(".json", ".jpg")).exists()
