"""The one preprocessing path: training, calibration, validation and the device all use it.

A model bundle records a :class:`Preprocess` so the device reproduces exactly what the model
saw in training: crop, resize, color order, channels and normalisation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

ColorOrder = Literal["rgb", "bgr"]
ResizeMode = Literal["stretch", "crop"]
Normalize = Literal["zero_one", "minus_one_one", "none"]

COLOR_ORDERS: tuple[ColorOrder, ...] = ("rgb", "bgr")
RESIZE_MODES: tuple[ResizeMode, ...] = ("stretch", "crop")
NORMALIZATIONS: tuple[Normalize, ...] = ("zero_one", "minus_one_one", "none")

# (offset, divisor): value = (pixel - offset) / divisor
_NORMALIZE_AFFINE: dict[str, tuple[float, float]] = {
    "zero_one": (0.0, 255.0),
    "minus_one_one": (127.5, 127.5),
    "none": (0.0, 1.0),
}


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, got {value!r}")


@dataclass(frozen=True)
class Preprocess:
    """How an RGB uint8 frame becomes a model input of shape (height, width, channels)."""

    width: int
    height: int
    channels: int = 3
    color_order: ColorOrder = "rgb"
    resize: ResizeMode = "crop"
    normalize: Normalize = "zero_one"

    def __post_init__(self) -> None:
        if self.width < 1 or self.height < 1:
            raise ValueError(f"input size must be positive, got {self.width}x{self.height}")
        if self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {self.channels}")
        _check_choice("color_order", self.color_order, COLOR_ORDERS)
        _check_choice("resize", self.resize, RESIZE_MODES)
        _check_choice("normalize", self.normalize, NORMALIZATIONS)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preprocess:
        return cls(**data)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def affine(self) -> tuple[float, float]:
        """(offset, divisor) with ``value = (pixel - offset) / divisor``."""
        return _NORMALIZE_AFFINE[self.normalize]

    def pixels(self, rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        """Crop, resize, reorder and convert channels: uint8 (height, width, channels), a new
        array."""
        pixels = FramePreprocessor(self)(rgb)
        return pixels.copy() if np.shares_memory(pixels, rgb) else pixels

    def to_float(self, rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        """The model's float input for one frame, without the batch axis."""
        offset, divisor = self.affine
        x = self.pixels(rgb).astype(np.float32)
        if offset:
            x -= offset
        if divisor != 1.0:
            x /= divisor
        return x


class FramePreprocessor:
    """:meth:`Preprocess.pixels` for a stream of frames, through buffers allocated once.

    A frame is center-cropped as a view, then shrunk by exact halvings (each a 2x2 mean, what
    area averaging gives for a factor of 2, at the speed of a bilinear resize) while it is at
    least twice the input size, then resized bilinearly to the input size: the quality of area
    averaging without its cost on large or fractional factors. ``__call__`` returns the same
    array every time, overwritten by the next frame, or, when the frame (or its center crop)
    already is the input image, that frame itself: nothing is copied. ``Preprocess.pixels`` is
    this with fresh buffers, so training, calibration and the device share one path.
    """

    def __init__(self, preprocess: Preprocess) -> None:
        self.preprocess = preprocess
        size = (preprocess.height, preprocess.width)
        self.out: npt.NDArray[np.uint8] = np.empty((*size, preprocess.channels), np.uint8)
        self._direct = preprocess.channels == 3 and preprocess.color_order == "rgb"
        direct = self._direct
        self._rgb: npt.NDArray[np.uint8] = self.out if direct else np.empty((*size, 3), np.uint8)
        self._source_size: tuple[int, int] | None = None
        self._crop_shape: tuple[int, ...] = ()
        self._crop_slices = (slice(None), slice(None))
        self._steps: list[npt.NDArray[np.uint8]] = []
        self._view_shape: tuple[int, ...] = ()  # frames whose input is a view of them

    def __call__(self, rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        if rgb.shape == self._view_shape:  # as the frame before: a view of it is the input
            return rgb[self._crop_slices]
        p = self.preprocess
        image = rgb[self._crop(rgb.shape)] if p.resize == "crop" else rgb
        steps = self._buffers(image)
        if steps or not self._direct:
            import cv2  # here only: a frame of the input's size needs nothing of it

            for step in steps:
                cv2.resize(image, step.shape[1::-1], dst=step, interpolation=cv2.INTER_LINEAR)
                image = step
            if p.channels == 1:
                cv2.cvtColor(image, cv2.COLOR_RGB2GRAY, dst=self.out)
                return self.out
            if p.color_order == "bgr":
                cv2.cvtColor(image, cv2.COLOR_RGB2BGR, dst=self.out)
                return self.out
        if image is not self.out:  # frames of this shape need no more than the crop's view
            self._view_shape = rgb.shape if p.resize == "crop" else ()
        return image  # self.out, or the frame itself when it already has the input's size

    def _crop(self, shape: tuple[int, ...]) -> tuple[slice, slice]:
        """The rows and columns of the center crop of a frame of this shape (kept)."""
        if shape != self._crop_shape:
            aspect = self.preprocess.width / self.preprocess.height
            self._crop_shape, self._crop_slices = shape, center_crop_slices(shape, aspect)
        return self._crop_slices

    def _buffers(self, image: npt.NDArray[np.uint8]) -> list[npt.NDArray[np.uint8]]:
        """The images a frame of this size passes through, the last one the input size."""
        size = (image.shape[1], image.shape[0])
        if size != self._source_size:
            sizes = resize_steps(size, (self.preprocess.width, self.preprocess.height))
            self._steps = [np.empty((h, w, 3), np.uint8) for w, h in sizes[:-1]]
            if sizes:
                self._steps.append(self._rgb)
            self._source_size = size
        return self._steps


def resize_steps(source: tuple[int, int], target: tuple[int, int]) -> list[tuple[int, int]]:
    """The (width, height) sizes from ``source`` to ``target``: halvings while both sides are
    at least twice the target, then the target itself; empty when the sizes are equal."""
    w, h = source
    steps: list[tuple[int, int]] = []
    while w >= 2 * target[0] and h >= 2 * target[1]:
        w, h = w // 2, h // 2
        steps.append((w, h))
    if (w, h) != target:
        steps.append(target)
    return steps


def center_crop_slices(shape: tuple[int, ...], aspect: float) -> tuple[slice, slice]:
    """The rows and columns of the largest centered region of an image of ``shape`` with
    width / height == aspect."""
    h, w = shape[:2]
    if w > h * aspect:
        cw = max(1, round(h * aspect))
        x0 = (w - cw) // 2
        return slice(None), slice(x0, x0 + cw)
    ch = max(1, round(w / aspect))
    y0 = (h - ch) // 2
    return slice(y0, y0 + ch), slice(None)


def quantize(
    x: npt.NDArray[np.floating[Any]],
    scale: float,
    zero_point: int,
    dtype: npt.DTypeLike,
) -> npt.NDArray[Any]:
    """Float to integer tensor values: round(x / scale) + zero_point, clipped to the type."""
    info = np.iinfo(dtype)
    q = np.rint(x / scale) + zero_point
    clipped: npt.NDArray[Any] = np.clip(q, info.min, info.max).astype(dtype)
    return clipped


def dequantize(q: npt.NDArray[Any], scale: float, zero_point: int) -> npt.NDArray[np.float32]:
    """Integer tensor values to floats: scale * (q - zero_point), in a wide integer type."""
    return (scale * (q.astype(np.int32) - zero_point)).astype(np.float32)
