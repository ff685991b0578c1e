"""Reading still images as RGB uint8, whatever their mode, bit depth or orientation.

Every image file the project reads (``edge classify``, ``edge colors``, folder sources,
training and calibration sets) goes through :func:`load_rgb`: the EXIF orientation is applied,
as a photo viewer would, and an image over :data:`MAX_PIXELS` is refused before it is decoded
(it would take gigabytes; PIL's own decompression-bomb warning and error are replaced by this).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from edge.errors import ImageError

if TYPE_CHECKING:
    from PIL.Image import Image

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"})
MAX_PIXELS = 120_000_000  # a 120-megapixel image decodes to 360 MB of RGB


def load_rgb(path: str | Path) -> npt.NDArray[np.uint8]:
    """Read an image file as an RGB uint8 array of shape (height, width, 3).

    Grayscale, palette, RGBA (composited on black) and 16-bit images are converted; the EXIF
    orientation is applied; an image over ``MAX_PIXELS`` is an ImageError.
    """
    from PIL import Image as PILImage
    from PIL import ImageOps, UnidentifiedImageError

    PILImage.MAX_IMAGE_PIXELS = None  # the size is checked here, before decoding
    try:
        with PILImage.open(path) as img:
            _check_size(path, img.size)
            img.load()
            return _to_rgb_array(ImageOps.exif_transpose(img))
    except FileNotFoundError as exc:
        raise ImageError(f"{path}: no such file") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise ImageError(f"{path}: not a readable image ({exc})") from exc


def _check_size(path: str | Path, size: tuple[int, int]) -> None:
    width, height = size
    if width * height > MAX_PIXELS:
        raise ImageError(
            f"{path}: {width}x{height} is {width * height / 1e6:.0f} megapixels, over the limit "
            f"of {MAX_PIXELS / 1e6:.0f}; downscale it first"
        )


def _to_rgb_array(img: Image) -> npt.NDArray[np.uint8]:
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        wide = np.asarray(img, dtype=np.uint32)
        gray = (wide >> 8).astype(np.uint8) if wide.max() > 255 else wide.astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = np.asarray(img.convert("RGBA"), dtype=np.float32)
        alpha = rgba[:, :, 3:4] / 255.0
        return np.rint(rgba[:, :, :3] * alpha).astype(np.uint8)
    return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()


def list_images(folder: str | Path) -> list[Path]:
    """Image files below ``folder`` (recursively), sorted by path; hidden files and folders
    (``.thumbs/``, ``._IMG_1.jpg``) are left out."""
    root = Path(folder)
    return sorted(
        p
        for p in root.rglob("*")
        if p.suffix.lower() in IMAGE_SUFFIXES and not is_hidden(p, root) and p.is_file()
    )


def is_hidden(path: Path, root: Path) -> bool:
    """Whether ``path`` or a folder between it and ``root`` is hidden (its name starts with .)."""
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def iter_readable(paths: list[Path]) -> Iterator[tuple[Path, npt.NDArray[np.uint8]]]:
    """Yield (path, rgb) for each path; unreadable images are logged by name and skipped."""
    for path in paths:
        try:
            yield path, load_rgb(path)
        except ImageError as exc:
            logger.warning("skipped %s", exc)
