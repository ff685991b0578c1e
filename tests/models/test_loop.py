"""From a camera to its own model, end to end, with the real commands and a real browser.

A daemon on a folder of digit frames runs a weak classifier and captures the frames it is unsure
of; a scripted labelling session labels them on ``edge label``'s page in headless Chromium;
``edge train`` and ``edge convert`` make a new bundle from the labelled captures; a daemon runs
it as its candidate and reports how often it agrees; ``edge models promote`` makes it live,
which holds after a restart; on held-out digits the new model beats the old one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from edge.cli import main
from edge.images import list_images, load_rgb
from tests.support.mosquitto import free_port

from ..conftest import REPO
from ..support.browser import Browser, chromium
from ..support.labelling import label_all, start_label
from ..support.waiting import wait_for

pytestmark = [
    pytest.mark.slow,
    pytest.mark.tf,
    pytest.mark.skipif(chromium() is None, reason="chromium is not installed (make test does)"),
]

SEED_PER_DIGIT = 6  # the weak model's whole training set
SCENE_FRAMES = 400  # what the camera sees while capturing
TRAIN = ["--size", "16", "--grayscale", "--seed", "0", "--filters", "8", "--dense", "32"]


def _flat(images: list[Path], folder: Path, rng: np.random.Generator) -> dict[str, str]:
    """The images as frames of one folder in a shuffled order; file name -> digit."""
    folder.mkdir(parents=True)
    truth = {}
    for index, path in enumerate(rng.permutation(np.array(images, dtype=object))):
        name = f"{index:04d}.png"
        shutil.copy(path, folder / name)
        truth[name] = Path(path).parent.name
    return truth


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """seed/<digit>/ (a few each), scene/ (frames the camera sees), held_out/ (never seen)."""
    pytest.importorskip("sklearn")
    from models.datasets import write_digits_folder

    root = tmp_path_factory.mktemp("loop")
    digits = write_digits_folder(root / "digits", size=32, held_out=0.25, seed=0)
    rng = np.random.default_rng(0)
    train = list_images(digits.train)
    seed = [
        path
        for digit in range(10)
        for path in sorted((digits.train / str(digit)).glob("*.png"))[:SEED_PER_DIGIT]
    ]
    for path in seed:
        (root / "seed" / path.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, root / "seed" / path.parent.name / path.name)
    rest = [p for p in train if p not in set(seed)]
    scene = [rest[i] for i in rng.permutation(len(rest))[:SCENE_FRAMES]]
    truth = _flat(scene, root / "scene", rng)
    held_out = _flat(list_images(digits.held_out), root / "held_out", rng)
    return {"root": root, "scene_truth": truth, "held_out_truth": held_out}


def _gray(path: Path) -> npt.NDArray[np.float32]:
    return load_rgb(path)[:, :, 0].astype(np.float32)


def _labeller(scene: Path, truth: dict[str, str], captures: Path) -> Any:
    """Says what a captured picture shows: the digit of the scene frame nearest to it."""
    names = sorted(truth)
    frames = np.stack([_gray(scene / name) for name in names])

    def label(name: str) -> str:
        picture = _gray(captures / name)
        nearest = int(np.argmin(((frames - picture) ** 2).mean(axis=(1, 2))))
        return truth[names[nearest]]

    return label


def _accuracy(bundle: Path, folder: Path, truth: dict[str, str]) -> float:
    from edge.inference.classify import Classifier

    classifier = Classifier.from_bundle(bundle)
    right = 0
    for name, digit in truth.items():
        probabilities = classifier.probabilities(load_rgb(folder / name))
        right += classifier.labels[int(np.argmax(probabilities))] == digit
    return right / len(truth)


def _config(root: Path, name: str, body: str) -> Path:
    path = root / f"{name}.toml"
    path.write_text(body + f'\n[outputs]\nconsole = false\n[outputs.files]\ndir = "{root}/out"\n')
    return path


def _latest(root: Path) -> dict[str, Any]:
    latest = root / "out" / "door" / "latest.json"
    try:
        found: dict[str, Any] = json.loads(latest.read_text())
    except (OSError, ValueError):
        return {}
    return found


def _weak_model(root: Path) -> Path:
    assert main(["train", "classifier", str(root / "seed"), "-o", str(root / "weak.keras"),
                 "--epochs", "40", "--no-augment", *TRAIN]) == 0  # fmt: skip
    assert main(["convert", str(root / "weak.keras"), "--kind", "classifier", "--calib",
                 str(root / "seed"), "-o", str(root / "weak.tflite")]) == 0  # fmt: skip
    return root / "weak.tflite"


def _capture(root: Path, weak: Path) -> Path:
    """Step 1: the weak model on the scene; the frames it is unsure of are captured."""
    config = _config(
        root,
        "capture",
        f"""
[[cameras]]
name = "door"
source = "folder:{root / "scene"}"
fps = 60.0
classifier = "{weak}"
anomaly = ""
confidence_threshold = 0.6
[cameras.capture]
when = ["low_confidence"]
min_gap = 0.0
""",
    )
    assert main(["run", "--quiet", "--config", str(config), "--no-web"]) == 0
    return root / "out" / "dataset"


def _retrain(root: Path, camera: Path) -> Path:
    """Step 3: edge train on the labelled captures (and the seed images), edge convert."""
    new = root / "door2.keras"
    assert main(["train", "classifier", str(camera), "-o", str(new), "--epochs", "40",
                 "--also", str(root / "seed"), *TRAIN]) == 0  # fmt: skip
    assert main(["convert", str(new), "--kind", "classifier", "--calib", str(camera),
                 "-o", str(root / "door2.tflite")]) == 0  # fmt: skip
    return root / "door2.tflite"


def _shadow_and_promote(root: Path, weak: Path, new: Path) -> dict[str, Any]:
    """Steps 4 and 5: the new bundle in shadow, then promoted while the daemon runs."""
    config = _config(
        root,
        "shadow",
        f"""
[[cameras]]
name = "door"
source = "folder:{root / "held_out"}"
fps = 25.0
classifier = "{weak}"
anomaly = ""
candidate = "{new}"
[web]
listen = "127.0.0.1:{free_port()}"
""",
    )
    log = (root / "shadow.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "edge.cli", "run", "--quiet", "--config",
                                str(config)], stderr=log, cwd=REPO)  # fmt: skip
    try:
        assert wait_for(lambda: _compared(config) >= 100, 60), (root / "shadow.log").read_text()
        stats = _status(config)["stats"]["candidate"]
        promote = subprocess.run([sys.executable, "-m", "edge.cli", "models", "promote",
                                  "--config", str(config)], capture_output=True, text=True,
                                 check=False, cwd=REPO)  # fmt: skip
        assert promote.returncode == 0, promote.stderr
        assert wait_for(lambda: _latest(root)["classification"]["model"] == "door2", 20)
        assert _latest(root)["candidate"] is None
    finally:
        process.terminate()
        process.wait(60)
        log.close()
    assert process.returncode == 0
    return {"stats": stats, "config": config}


def _status(config: Path) -> dict[str, Any]:
    """The camera in the daemon's /api/status; {} while the page is not up yet."""
    import urllib.request

    from edge.config import load_config

    host, port = load_config(config).web.address
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/api/status") as response:
            status: dict[str, Any] = json.loads(response.read())["cameras"]["door"]
    except OSError:
        return {}
    return status


def _compared(config: Path) -> int:
    """The frames the candidate has been compared on, as the page says."""
    shadow = _status(config).get("stats", {}).get("candidate") or {}
    return int(shadow.get("compared", 0))


def test_capture_label_retrain_shadow_promote(world: dict[str, Any], tmp_path: Path) -> None:
    root: Path = world["root"]
    weak = _weak_model(root)
    dataset = _capture(root, weak)
    captures = dataset / "door" / "unlabelled"
    captured = len(list(captures.glob("*.jpg")))
    assert SCENE_FRAMES // 4 <= captured < SCENE_FRAMES  # unsure of many frames, not all

    labeller = _labeller(root / "scene", world["scene_truth"], captures)
    with start_label(dataset) as url, Browser.launch(tmp_path / "profile") as browser:
        done = label_all(browser, url, labeller)
        assert browser.errors() == []
    assert len(done) == captured
    assert not list(captures.glob("*.jpg"))
    labelled = {d.name: len(list(d.glob("*.jpg"))) for d in (dataset / "door").iterdir()
                if d.name != "unlabelled"}  # fmt: skip
    assert sorted(labelled) == [str(d) for d in range(10)]

    new = _retrain(root, dataset / "door")
    about = json.loads(new.with_suffix(".json").read_text())["dataset"]
    assert about["images"] == {d: labelled[d] + SEED_PER_DIGIT for d in labelled}

    shadow = _shadow_and_promote(root, weak, new)
    assert shadow["stats"]["model"] == "door2" and shadow["stats"]["compared"] >= 100
    assert 0.0 <= shadow["stats"]["agreement"] <= 1.0

    # a restart: the promoted model stays live
    (root / "out" / "door" / "latest.json").unlink()
    assert main(["run", "--quiet", "--config", str(shadow["config"]), "--no-web",
                 "--max-frames", "5"]) == 0  # fmt: skip
    assert _latest(root)["classification"]["model"] == "door2"

    truth = world["held_out_truth"]
    old_accuracy = _accuracy(weak, root / "held_out", truth)
    new_accuracy = _accuracy(new, root / "held_out", truth)
    stats = shadow["stats"]
    print(f"\n{captured} captures of {SCENE_FRAMES} frames; agreement in shadow "
          f"{stats['agreement']:.3f} on {stats['compared']} frames; held-out accuracy on "
          f"{len(truth)} digits: old {old_accuracy:.3f}, promoted {new_accuracy:.3f}")  # fmt: skip
    assert new_accuracy >= 0.85
    assert new_accuracy >= old_accuracy + 0.15
