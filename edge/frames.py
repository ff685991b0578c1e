"""Frame: one camera picture as RGB uint8 pixels, with where and when it was taken."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Frame:
    """An RGB uint8 image of shape (height, width, 3) from a named camera.

    ``lores`` is an optional smaller RGB image of the same scene (picamera2's second stream)
    that the colors stage may use instead of downsampling ``rgb``. ``model_rgb`` is an optional
    RGB image of the same scene at about the classifier's input size (picamera2's second stream
    when the camera asks for one: the ISP has done the resize), which the classify stage uses
    instead of resizing ``rgb``.
    """

    rgb: npt.NDArray[np.uint8] = field(repr=False)
    camera: str
    seq: int
    timestamp: float  # capture time, seconds since the epoch (UTC)
    lores: npt.NDArray[np.uint8] | None = field(default=None, repr=False)
    model_rgb: npt.NDArray[np.uint8] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        check_rgb(self.rgb, "frame")
        if self.lores is not None:
            check_rgb(self.lores, "low-resolution frame")
        if self.model_rgb is not None:
            check_rgb(self.model_rgb, "model-size frame")

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])


def check_rgb(image: object, what: str = "image") -> None:
    """Raise TypeError or ValueError unless ``image`` is an RGB uint8 array (H, W, 3)."""
    if not isinstance(image, np.ndarray):
        raise TypeError(f"{what} must be a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise TypeError(f"{what} must be uint8, got {image.dtype}")
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError(f"{what} must have shape (height, width, 3), got {image.shape}")
