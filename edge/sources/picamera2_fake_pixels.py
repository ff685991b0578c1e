"""What the picamera2 fake needs of libcamera and picamera2's own types: the platform enum, colour
spaces, the stream configuration rules (``Picamera2._make_initial_stream_config``,
``align_stream``, ``check_stream_config``, ``check_camera_config``) and the memory layout of each
stream format (``CompletedRequest.make_array``).

The YUV encoder here is written from the standards (BT.601 / BT.709 luma weights, limited or full
range, 4:2:0 chroma averaged over each 2 x 2 block), not from OpenCV, so a decoder in the source
that picks the wrong matrix is caught by the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]

FORMATS = ("RGB888", "BGR888", "XBGR8888", "XRGB8888", "YUV420")
# luma weights (Kr, Kb) of each YCbCr encoding
KR_KB = {"Rec601": (0.299, 0.114), "Rec709": (0.2126, 0.0722)}


class Platform(Enum):
    """picamera2/platform.py Platform: VC4 is a Pi 4 and older, PISP a Pi 5."""

    VC4 = 0
    PISP = 1


class YcbcrEncoding(Enum):
    """libcamera ColorSpace.YcbcrEncoding (python bindings: ``.name`` as below)."""

    Null = 0
    Rec601 = 1
    Rec709 = 2
    Rec2020 = 3


class Range(Enum):
    """libcamera ColorSpace.Range."""

    Full = 0
    Limited = 1


@dataclass(frozen=True)
class ColorSpace:
    """libcamera.ColorSpace as picamera2 hands it over, with the presets it uses."""

    name: str
    ycbcrEncoding: YcbcrEncoding  # noqa: N815 - libcamera's spelling
    range: Range

    @classmethod
    def Sycc(cls) -> ColorSpace:  # noqa: N802 - libcamera's spelling
        return cls("sYCC", YcbcrEncoding.Rec601, Range.Full)

    @classmethod
    def Smpte170m(cls) -> ColorSpace:  # noqa: N802
        return cls("SMPTE170M", YcbcrEncoding.Rec601, Range.Limited)

    @classmethod
    def Rec709(cls) -> ColorSpace:  # noqa: N802
        return cls("Rec709", YcbcrEncoding.Rec709, Range.Limited)


def to_memory_layout(rgb: Image, fmt: str, stride: int, colour_space: ColorSpace) -> Image:
    """``rgb`` as the array picamera2's ``make_array`` returns for a stream of ``fmt``."""
    if fmt == "RGB888":
        return np.ascontiguousarray(rgb[:, :, ::-1])
    if fmt == "BGR888":
        return rgb.copy()
    alpha = np.full((*rgb.shape[:2], 1), 255, np.uint8)
    if fmt == "XBGR8888":
        return np.concatenate([rgb, alpha], axis=2)
    if fmt == "XRGB8888":
        return np.concatenate([rgb[:, :, ::-1], alpha], axis=2)
    return yuv420(rgb, stride, colour_space)


def yuv420(rgb: Image, stride: int, colour_space: ColorSpace) -> Image:
    """Planar YUV 4:2:0 in ``colour_space``, every plane's rows padded: Y to ``stride``, U, V
    to half of it; shaped (height * 3 / 2, stride) like picamera2's ``make_array``."""
    height, width = rgb.shape[:2]
    y, cb, cr = _ycbcr(rgb.astype(np.float64) / 255.0, colour_space)
    u, v = (c.reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3)) for c in (cb, cr))
    planes = [_pad(_byte(y), stride), _pad(_byte(u), stride // 2), _pad(_byte(v), stride // 2)]
    return np.concatenate([p.reshape(-1) for p in planes]).reshape(height * 3 // 2, stride)


def _ycbcr(
    rgb: npt.NDArray[np.float64], colour_space: ColorSpace
) -> tuple[npt.NDArray[np.float64], ...]:
    kr, kb = KR_KB[colour_space.ycbcrEncoding.name]
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    luma = kr * r + (1 - kr - kb) * g + kb * b
    pb, pr = (b - luma) / (2 * (1 - kb)), (r - luma) / (2 * (1 - kr))
    if colour_space.range is Range.Limited:
        return 16 + 219 * luma, 128 + 224 * pb, 128 + 224 * pr
    return 255 * luma, 128 + 255 * pb, 128 + 255 * pr


def _byte(plane: npt.NDArray[np.float64]) -> Image:
    return np.clip(np.rint(plane), 0, 255).astype(np.uint8)


def _pad(plane: Image, stride: int) -> Image:
    padded = np.zeros((plane.shape[0], stride), np.uint8)
    padded[:, : plane.shape[1]] = plane
    return padded


def stream_config(defaults: dict[str, Any], updates: dict[str, Any] | None) -> dict[str, Any]:
    """Picamera2._make_initial_stream_config, then align_stream(optimal=False)."""
    valid = ("format", "size", "stride", "preserve_ar")
    bad = sorted(set(updates or {}) - set(valid))
    if bad:
        raise ValueError(f"Bad key {bad[0]!r}: valid stream configuration keys are {valid}")
    config = {**defaults, **(updates or {})}
    width, height = config["size"]
    config["size"] = (width - width % 2, height - height % 2)
    return config


def align_stream(stream: dict[str, Any], platform: Platform) -> None:
    """Picamera2.align_stream(optimal=True): widths down to a multiple of 32/64/128."""
    align = 32 if platform is Platform.VC4 else 64
    if stream["format"] in ("YUV420", "YVU420"):
        align *= 2
    elif stream["format"] in ("XBGR8888", "XRGB8888"):
        align //= 2
    width, height = stream["size"]
    stream["size"] = (width - width % align, height - height % 2)


def checked_stream(stream: dict[str, Any], name: str) -> dict[str, Any]:
    """Picamera2.check_stream_config, then the stride libcamera reports (rows of 64 bytes)."""
    fmt = stream["format"]
    if fmt not in FORMATS:
        raise RuntimeError(f"Bad format {fmt} in stream {name}")
    width, height = (int(v) for v in stream["size"])
    if width % 2 or height % 2:
        raise RuntimeError("width and height should be even")
    if width <= 0 or height <= 0:
        raise RuntimeError(f"Failed to configure {name} stream of {width}x{height}")
    bytes_per_pixel = {"RGB888": 3, "BGR888": 3, "XBGR8888": 4, "XRGB8888": 4, "YUV420": 1}[fmt]
    stride = -(-width * bytes_per_pixel // 64) * 64
    return {**stream, "size": (width, height), "stride": stride}


def check_lores(main: dict[str, Any], lores: dict[str, Any], platform: Platform) -> None:
    """Picamera2.check_camera_config for lores; then the Pi 4 ISP's 64-pixel minimum."""
    if lores["size"][0] > main["size"][0] or lores["size"][1] > main["size"][1]:
        raise RuntimeError("lores stream dimensions may not exceed main stream")
    if platform is Platform.VC4 and lores["format"] not in ("YUV420", "YVU420"):
        raise RuntimeError("lores stream must be YUV")
    if platform is Platform.VC4:
        width, height = lores["size"]
        lores["size"] = (max(width, 64), max(height, 64))
        lores["stride"] = max(lores["stride"], 64)
