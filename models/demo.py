"""Rebuild the shipped demo in ``edge/data/demo/``: ``python -m models.demo``.

Trains a digit classifier and a digit autoencoder on the training part of scikit-learn's
handwritten digits, converts both to int8 bundles with their validation reports, and writes
demo frames: held-out digits on a card in front of a camera, and a few photos that are not
digits (for the autoencoder to flag). Seeded and deterministic; a couple of minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from edge import demo as shipped
from edge.inference.preprocess import Preprocess
from models.datasets import render_digit, split_digits, write_digits_folder

logger = logging.getLogger(__name__)

SEED = 0
HELD_OUT = 0.2
SIZE = 32
PREPROCESS = Preprocess(width=SIZE, height=SIZE, channels=1, resize="crop", normalize="zero_one")
FRAME_WIDTH, FRAME_HEIGHT = 320, 240
DIGIT_FRAMES, PHOTO_FRAMES = 25, 5
INK_LEVELS = 16
EVAL_PHOTOS = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "camera",
    "coins",
    "immunohistochemistry",
    "grass",
    "gravel",
    "brick",
    "moon",
)
FRAME_PHOTOS = ("china.jpg", "flower.jpg")
CLASSIFIER_ARGS: dict[str, Any] = {"width": 16, "depth": 2, "dense": 32}
AUTOENCODER_ARGS: dict[str, Any] = {"width": 8, "depth": 2, "bottleneck": 24}
RGB = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class DemoSettings:
    classifier_epochs: int = 30
    autoencoder_epochs: int = 40
    calib_limit: int = 500
    eval_photos: int = 60
    seed: int = SEED


# -- pictures that are not digits ------------------------------------------------------------


def _as_rgb(image: npt.NDArray[Any]) -> RGB:
    array = np.asarray(image)
    if array.dtype != np.uint8:
        array = (array * 255 if array.max() <= 1 else array).astype(np.uint8)
    rgb = np.repeat(array[:, :, None], 3, axis=2) if array.ndim == 2 else array[:, :, :3]
    return np.ascontiguousarray(rgb, dtype=np.uint8)


def eval_photos() -> list[RGB]:
    """scikit-image's sample photos: the anomalies of the autoencoder's validation."""
    from skimage import data

    return [_as_rgb(getattr(data, name)()) for name in EVAL_PHOTOS]


def frame_photos() -> list[RGB]:
    """scikit-learn's two sample photos, kept apart from the validation photos for the frames."""
    from sklearn.datasets import load_sample_image

    return [np.asarray(load_sample_image(name), dtype=np.uint8) for name in FRAME_PHOTOS]


def random_crop(photo: RGB, aspect: float, rng: np.random.Generator) -> RGB:
    """A crop of 40 to 90 percent of the photo's height at a random place, width = aspect * h."""
    h, w = photo.shape[:2]
    ch = int(min(h, w / aspect) * rng.uniform(0.4, 0.9))
    cw = int(ch * aspect)
    y0, x0 = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    return photo[y0 : y0 + ch, x0 : x0 + cw]


def write_photo_crops(folder: Path, count: int, seed: int, size: int = 64) -> None:
    """``count`` square photo crops as PNGs, cycling over the validation photos."""
    import cv2
    from PIL import Image

    rng = np.random.default_rng(seed)
    photos = eval_photos()
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        crop = random_crop(photos[index % len(photos)], 1.0, rng)
        small = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)
        Image.fromarray(small).save(folder / f"photo{index:03d}.png")


# -- frames -----------------------------------------------------------------------------------


def _paper(rng: np.random.Generator) -> npt.NDArray[np.float32]:
    """A light card, slightly tinted."""
    tint = (250.0 * (1.0 - rng.uniform(0.0, 0.08, size=3))).astype(np.float32)
    return np.broadcast_to(tint, (FRAME_HEIGHT, FRAME_WIDTH, 3))


def digit_frame(values: npt.NDArray[Any], rng: np.random.Generator) -> RGB:
    """A digit printed on a card filling the middle square of the frame, as a camera sees it.

    The print has INK_LEVELS gray levels, which keeps the PNGs small.
    """
    paper = _paper(rng)
    size = int(rng.integers(216, FRAME_HEIGHT + 1))
    y0 = int(rng.integers(0, FRAME_HEIGHT - size + 1))
    x0 = (FRAME_WIDTH - FRAME_HEIGHT) // 2 + int(rng.integers(0, FRAME_HEIGHT - size + 1))
    card = np.ones((FRAME_HEIGHT, FRAME_WIDTH), dtype=np.float32)
    ink_levels = np.round(render_digit(values, size) / 255.0 * (INK_LEVELS - 1))
    card[y0 : y0 + size, x0 : x0 + size] = ink_levels / (INK_LEVELS - 1)
    ink = 0.12 + 0.88 * card
    return np.clip(np.rint(paper * ink[:, :, None]), 0, 255).astype(np.uint8)


def photo_frame(photo: RGB, rng: np.random.Generator) -> RGB:
    """A 4:3 crop of a photo at half resolution in 64 colors, doubled (small PNGs; the model
    sees 32x32 of it anyway)."""
    import cv2
    from PIL import Image

    crop = random_crop(photo, FRAME_WIDTH / FRAME_HEIGHT, rng)
    half = cv2.resize(crop, (FRAME_WIDTH // 2, FRAME_HEIGHT // 2), interpolation=cv2.INTER_AREA)
    half = np.asarray(Image.fromarray(half).quantize(64).convert("RGB"), dtype=np.uint8)
    doubled = cv2.resize(half, (FRAME_WIDTH, FRAME_HEIGHT), interpolation=cv2.INTER_NEAREST)
    return np.asarray(doubled, dtype=np.uint8)


def save_png(rgb: RGB, path: Path) -> None:
    """An RGB image as a PNG, palette-encoded (losslessly) when it has at most 256 colors."""
    from PIL import Image

    colors, inverse = np.unique(rgb.reshape(-1, 3), axis=0, return_inverse=True)
    if len(colors) > 256:
        Image.fromarray(rgb).save(path, optimize=True)
        return
    image = Image.fromarray(inverse.reshape(rgb.shape[:2]).astype(np.uint8), "P")
    image.putpalette(colors.astype(np.uint8).reshape(-1).tolist())
    image.save(path, optimize=True)


def frame_digits(seed: int, count: int) -> list[int]:
    """Indexes into load_digits of ``count`` held-out digits, every digit about equally."""
    from sklearn.datasets import load_digits

    targets = np.asarray(load_digits().target, dtype=np.int64)
    held = np.flatnonzero(split_digits(targets, HELD_OUT, seed))
    rng = np.random.default_rng(seed + 1)
    per_digit = [rng.permutation(held[targets[held] == d]) for d in range(10)]
    picks = [int(per_digit[i % 10][i // 10]) for i in range(count)]
    return [picks[i] for i in rng.permutation(count)]


def write_frames(folder: Path, seed: int = SEED) -> list[Path]:
    """Digit and photo frames named ``NNN_digitD.png`` / ``NNN_photo.png``."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    rng = np.random.default_rng(seed + 2)
    queue = frame_digits(seed, DIGIT_FRAMES)
    photos = frame_photos()
    total = DIGIT_FRAMES + PHOTO_FRAMES
    photo_slots = set(np.linspace(3, total - 2, PHOTO_FRAMES).round().astype(int).tolist())
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    paths = []
    for index in range(total):
        if index in photo_slots:
            name, frame = f"{index:03d}_photo.png", photo_frame(photos[index % len(photos)], rng)
        else:
            digit = queue.pop()
            name = f"{index:03d}_digit{digits.target[digit]}.png"
            frame = digit_frame(digits.images[digit], rng)
        save_png(frame, folder / name)
        paths.append(folder / name)
    return paths


# -- models -----------------------------------------------------------------------------------


def _train_models(work: Path, train_dir: Path, settings: DemoSettings) -> tuple[Path, Path]:
    """The digit classifier and the digit autoencoder, as .keras files in ``work``."""
    from models.train import TrainOptions, train_autoencoder, train_classifier

    seed = settings.seed
    options = TrainOptions(epochs=settings.classifier_epochs, seed=seed, verbose=2)
    classifier = train_classifier(
        train_dir, work / "digits.keras", PREPROCESS, options, **CLASSIFIER_ARGS
    )
    options = TrainOptions(epochs=settings.autoencoder_epochs, seed=seed, verbose=2)
    autoencoder = train_autoencoder(
        train_dir, work / "digits_autoencoder.keras", PREPROCESS, options, **AUTOENCODER_ARGS
    )
    return classifier.model_path, autoencoder.model_path


def build_models(work: Path, out: Path, settings: DemoSettings) -> dict[str, dict[str, Any]]:
    """Train and convert both models; the sidecars' metadata by bundle name."""
    from convert.pipeline import ConvertOptions, convert_model

    folders = write_digits_folder(work / "digits", SIZE, HELD_OUT, settings.seed)
    anomaly_eval = work / "anomaly_eval"
    shutil.copytree(folders.held_out, anomaly_eval / "normal")
    write_photo_crops(anomaly_eval / "anomaly", settings.eval_photos, settings.seed)
    classifier, autoencoder = _train_models(work, folders.train, settings)
    digits = ConvertOptions(model=classifier, kind="classifier", calib=folders.train,
                            output=out / shipped.CLASSIFIER, eval=folders.held_out,
                            calib_limit=settings.calib_limit)  # fmt: skip
    anomalies = dataclasses.replace(
        digits, model=autoencoder, kind="autoencoder", output=out / shipped.AUTOENCODER,
        eval=anomaly_eval,
    )  # fmt: skip
    return {options.output.stem: convert_model(options).meta for options in (digits, anomalies)}


def check_frames(out: Path) -> dict[str, float]:
    """The shipped bundles on the shipped frames, through the device's code."""
    from edge.images import list_images, load_rgb
    from edge.inference.anomaly import AnomalyDetector
    from edge.inference.classify import Classifier

    classifier = Classifier.from_bundle(out / shipped.CLASSIFIER)
    detector = AnomalyDetector.from_bundle(out / shipped.AUTOENCODER)
    hits, flagged_digits, flagged_photos, digits, photos = 0, 0, 0, 0, 0
    for path in list_images(out / shipped.FRAMES):
        rgb = load_rgb(path)
        flagged = detector.score(rgb).is_anomaly
        if "_digit" in path.stem:
            digits += 1
            hits += classifier.classify(rgb, top_k=1).top[0].label == path.stem[-1]
            flagged_digits += flagged
        else:
            photos += 1
            flagged_photos += flagged
    return {
        "digit_frames": digits,
        "photo_frames": photos,
        "frame_top1": hits / digits,
        "digit_false_alarm_rate": flagged_digits / digits,
        "photo_detection_rate": flagged_photos / photos,
    }


def build_demo(out: Path | None = None, settings: DemoSettings | None = None) -> dict[str, Any]:
    """Everything in ``out`` (default: the shipped ``edge/data/demo/``); the figures."""
    import keras

    out = out or shipped.demo_dir()
    settings = settings or DemoSettings()
    out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(settings.seed)
    with tempfile.TemporaryDirectory(prefix="edge-demo-") as tmp:
        metas = build_models(Path(tmp), out, settings)
    write_frames(out / shipped.FRAMES, settings.seed)
    return {
        "bundles": {name: meta["validation"] for name, meta in metas.items()},
        "frames": check_frames(out),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.demo", description=__doc__)
    parser.add_argument("--out", type=Path, help="where to write (default: edge/data/demo/)")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    summary = build_demo(args.out)
    from convert.report import summary_lines

    out = args.out or shipped.demo_dir()
    for name in ("digits", "digits_autoencoder"):
        meta = _read_json(out / f"{name}.json")
        print("\n".join(summary_lines(meta)))
    print("frames:", ", ".join(f"{k} {v:.3g}" for k, v in summary["frames"].items()))
    return 0


def _read_json(path: Path) -> dict[str, Any]:
    import json

    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


if __name__ == "__main__":
    sys.exit(main())
