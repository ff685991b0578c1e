"""Reading still images as RGB uint8, whatever their mode or bit depth."""

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


def load_rgb(path: str | Path) -> npt.NDArray[np.uint8]:
    """Read an image file as an RGB uint8 array of shape (height, width, 3).

    Grayscale, palette, RGBA (composited on black) and 16-bit images are converted.
    """
    from PIL import Image as PILImage
    from PIL import UnidentifiedImageError

    try:
        with PILImage.open(path) as img:
            img.load()
            return _to_rgb_array(img)
    except FileNotFoundError as exc:
        raise ImageError(f"{path}: no such file") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise ImageError(f"{path}: not a readable image ({exc})") from exc


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
    """Image files below ``folder`` (recursively), sorted by path."""
    root = Path(folder)
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def iter_readable(paths: list[Path]) -> Iterator[tuple[Path, npt.NDArray[np.uint8]]]:
    """Yield (path, rgb) for each path; unreadable images are logged by name and skipped."""
    for path in paths:
        try:
            yield path, load_rgb(path)
        except ImageError as exc:
            logger.warning("skipped %s", exc)
