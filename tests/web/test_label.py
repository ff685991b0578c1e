"""``edge label``: the labelling page in a real headless Chromium, with a scripted session."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.dataset import Dataset
from edge.errors import UsageError

from ..support.browser import Browser, chromium
from ..support.labelling import DELETE, SKIP, label_all, start_label

CONFIDENCES = {"a": 0.9, "b": 0.2, "c": 0.5, "d": 0.35, "e": 0.6, "f": 0.1}


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """Six captures of camera "door"; the picture's color says what it shows."""
    folder = tmp_path / "dataset" / "door" / "unlabelled"
    folder.mkdir(parents=True)
    for key, confidence in CONFIDENCES.items():
        color = (0, 0, 255) if key in "abc" else (0, 255, 0)
        cv2.imwrite(str(folder / f"2026-{key}.jpg"), np.full((20, 20, 3), color, np.uint8))
        record = {"classification": {"model": "m", "top": [{"label": "cat", "score": confidence}]}}
        about = {"record": record, "why": ["low_confidence"], "label": "unknown",
                 "confidence": confidence}  # fmt: skip
        (folder / f"2026-{key}.json").write_text(json.dumps(about))
    return tmp_path / "dataset"


def _truth(name: str) -> str:
    return {"2026-e.jpg": DELETE, "2026-a.jpg": SKIP}.get(
        name, "red" if name[5] in "abc" else "green"
    )


@pytest.mark.slow
@pytest.mark.skipif(chromium() is None, reason="chromium is not installed (make test does)")
def test_a_scripted_session_labels_the_most_uncertain_first(dataset: Path, tmp_path: Path) -> None:
    with start_label(dataset) as url, Browser.launch(tmp_path / "profile") as browser:
        done = label_all(browser, url, _truth)
        assert browser.evaluate("document.getElementById('empty').hidden") is False
        assert browser.errors() == []
    order = [name[5] for name, _ in done]
    assert order == ["f", "b", "d", "c", "e", "a"]  # lowest confidence first
    door = dataset / "door"
    assert sorted(p.name for p in (door / "red").glob("*.jpg")) == ["2026-b.jpg", "2026-c.jpg"]
    assert sorted(p.name for p in (door / "green").glob("*.jpg")) == ["2026-d.jpg", "2026-f.jpg"]
    assert (door / "red" / "2026-b.json").exists()  # the record goes with the picture
    assert sorted(p.name for p in (door / "unlabelled").iterdir()) == ["2026-a.jpg", "2026-a.json"]


def test_the_api_refuses_bad_labels_and_names(dataset: Path) -> None:
    with start_label(dataset) as url:
        with urllib.request.urlopen(url + "api/label") as response:
            overview = json.loads(response.read())
        assert overview["cameras"] == {"door": {"labels": {}, "unlabelled": 6}}
        for name, body in (("2026-a.jpg", {"label": "unlabelled"}),
                           ("2026-a.jpg", {"label": "../x"}),
                           ("..%2F..%2Fetc.jpg", {"label": "cat"}),
                           ("2026-a.jpg", {"nothing": 1})):  # fmt: skip
            request = urllib.request.Request(
                f"{url}api/label/door/{name}", data=json.dumps(body).encode(), method="POST"
            )
            with pytest.raises(urllib.error.HTTPError) as raised:
                urllib.request.urlopen(request)
            assert raised.value.code == 400
            raised.value.close()
    assert len(list((dataset / "door" / "unlabelled").glob("*.jpg"))) == 6


def test_a_camera_folder_is_a_dataset_of_one_camera(dataset: Path) -> None:
    one = Dataset(dataset / "door")
    assert list(one.cameras()) == ["door"]
    one.label("door", "2026-b.jpg", "red")
    assert one.labels("door") == {"red": 1}
    with pytest.raises(UsageError, match="no unlabelled picture"):
        one.delete("door", "2026-b.jpg")


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (["nowhere"], "nowhere: no such folder", 2),
        (["."], "--listen 0.0.0.0:0 is reachable from other machines", 2),
    ],
)
def test_label_errors_are_one_line(
    tmp_path: Path, args: list[str], message: str, code: int
) -> None:
    extra = ["--listen", "0.0.0.0:0"] if args == ["."] else []
    done = subprocess.run([sys.executable, "-m", "edge.cli", "label", *args, *extra],
                          cwd=tmp_path, capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == code
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
