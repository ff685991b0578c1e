"""Planar YUV 4:2:0 (picamera2's "YUV420" ``make_array``) to RGB, in the stream's colour space.

picamera2 returns a YUV420 stream as a (height * 3 / 2, stride) array: the Y plane's rows, then
the U and V planes with rows of ``stride / 2`` bytes, all padded beyond the picture's width. The
colour space decides the matrix: for a lores stream picamera2 uses the main stream's, SMPTE 170M
(BT.601, limited range) when main is smaller than 1280 x 720 and Rec709 (BT.709, limited range)
from there up (``Picamera2.create_video_configuration``). Decoding BT.709 with the BT.601 matrix
(OpenCV's I420 conversion) turns pure red into (233, 0, 2) and pure green into a darker one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]

# luma weights (Kr, Kb) by libcamera's ColorSpace.YcbcrEncoding name
LUMA_WEIGHTS = {"Rec601": (0.299, 0.114), "Rec709": (0.2126, 0.0722), "Rec2020": (0.2627, 0.0593)}


def decode_yuv420(array: Image, width: int, height: int, colour_space: Any = None) -> Image:
    """The RGB picture of a padded planar YUV420 ``array`` in ``colour_space`` (a
    libcamera.ColorSpace; None: SMPTE 170M, picamera2's choice below 1280 x 720)."""
    stride = array.shape[1]
    flat = np.ascontiguousarray(array).reshape(-1)
    chroma_rows, chroma_stride = height // 2, stride // 2
    start_u = height * stride
    start_v = start_u + chroma_rows * chroma_stride
    y = flat[:start_u].reshape(height, stride)[:, :width]
    planes = [
        flat[start : start + chroma_rows * chroma_stride].reshape(chroma_rows, chroma_stride)
        for start in (start_u, start_v)
    ]
    u, v = (p[:, : width // 2].repeat(2, axis=0).repeat(2, axis=1) for p in planes)
    return ycbcr_to_rgb(np.stack([y, u, v], axis=-1), *_matrix(colour_space))


def ycbcr_to_rgb(ycbcr: Image, kr: float, kb: float, limited: bool) -> Image:
    """R, G, B from Y, Cb, Cr (the last axis) with luma weights ``kr``, ``kb``, limited or
    full range."""
    planes = ycbcr.astype(np.float64)
    luma, cb, cr = planes[..., 0], planes[..., 1], planes[..., 2]
    if limited:
        luma, cb, cr = (luma - 16) / 219, (cb - 128) / 224, (cr - 128) / 224
    else:
        luma, cb, cr = luma / 255, (cb - 128) / 255, (cr - 128) / 255
    kg = 1 - kr - kb
    r = luma + 2 * (1 - kr) * cr
    b = luma + 2 * (1 - kb) * cb
    g = (luma - kr * r - kb * b) / kg
    rgb = np.stack([r, g, b], axis=-1) * 255
    return np.asarray(np.clip(np.rint(rgb), 0, 255), dtype=np.uint8)


def _matrix(colour_space: Any) -> tuple[float, float, bool]:
    """(Kr, Kb, limited range) of a libcamera.ColorSpace, by its enums' names."""
    if colour_space is None:
        return (*LUMA_WEIGHTS["Rec601"], True)
    encoding = getattr(getattr(colour_space, "ycbcrEncoding", None), "name", "Rec601")
    value_range = getattr(getattr(colour_space, "range", None), "name", "Limited")
    kr, kb = LUMA_WEIGHTS.get(str(encoding), LUMA_WEIGHTS["Rec601"])
    return kr, kb, value_range != "Full"
