"""A public in-memory fake of the part of picamera2 that ``edge.sources.picamera2`` uses.

It behaves like the real library where our code depends on it:

* pixel layouts: "RGB888" is B, G, R in memory and "BGR888" is R, G, B (libcamera names the
  formats by 32-bit word order); "XBGR8888" is R, G, B, 255 and "XRGB8888" B, G, R, 255;
  "YUV420" is planar I420 returned as a (height * 3 / 2, stride) array whose rows are padded
  to ``stride`` bytes, exactly as ``CompletedRequest.make_array`` returns it;
* ``platform = "vc4"`` (Pi 4 and earlier) refuses a non-YUV "lores" stream with the real
  message, ``RuntimeError("lores stream must be YUV")``; "pisp" (Pi 5) accepts RGB;
* ``global_camera_info()`` lists the cameras, ``Picamera2(n)`` for a missing one fails.

Configure a fake by subclassing (the real ``Picamera2.platform`` is a class attribute too)::

    class Pi4Camera(FakePicamera2):
        platform = "vc4"

    source = Picamera2Source("0", camera_factory=Pi4Camera)

Override ``render`` to choose what the camera sees; the default is four vertical bars, red,
green, blue and white, left to right.
"""

from __future__ import annotations

import threading
import time
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]

DEFAULT_CAMERAS: tuple[dict[str, Any], ...] = (
    {
        "Model": "imx708",
        "Location": 2,
        "Rotation": 180,
        "Id": "/base/soc/i2c0mux/imx708@1a",
        "Num": 0,
    },
)
FORMATS = ("RGB888", "BGR888", "XBGR8888", "XRGB8888", "YUV420")
BAR_COLORS = ((255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255))


class FakeCompletedRequest:
    """One captured frame of every configured stream, like picamera2's CompletedRequest."""

    def __init__(self, arrays: dict[str, Image], metadata: dict[str, Any]) -> None:
        self._arrays, self._metadata = arrays, metadata
        self.released = False

    def make_array(self, name: str) -> Image:
        if self.released:
            raise RuntimeError("request used after release()")
        if name not in self._arrays:
            raise RuntimeError(f"Stream {name!r} is not defined")
        return self._arrays[name].copy()

    def get_metadata(self) -> dict[str, Any]:
        return dict(self._metadata)

    def release(self) -> None:
        self.released = True


class FakePicamera2:
    """A camera that renders synthetic frames at ``fps`` in the configured formats."""

    platform: ClassVar[str] = "pisp"
    cameras: ClassVar[tuple[dict[str, Any], ...]] = DEFAULT_CAMERAS
    fps: ClassVar[float] = 100.0
    fail_after: ClassVar[int | None] = None  # capture_request raises after this many frames

    def __init__(self, camera_num: int = 0) -> None:
        if not 0 <= camera_num < len(self.cameras):
            raise IndexError("list index out of range")
        self.camera_num = camera_num
        self.camera_config: dict[str, Any] | None = None
        self.started = False
        self.closed = False
        self.frame_index = 0
        self._lock = threading.Lock()
        self._next_frame = 0.0

    @classmethod
    def global_camera_info(cls) -> list[dict[str, Any]]:
        return [dict(info) for info in cls.cameras]

    def create_video_configuration(
        self,
        main: dict[str, Any] | None = None,
        lores: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        config: dict[str, Any] = {"use_case": "video", "buffer_count": 6, "controls": {}}
        config.update(kwargs)
        config["main"] = {"format": "XBGR8888", "size": (1280, 720), **(main or {})}
        config["lores"] = (
            None if lores is None else {"format": "YUV420", "size": (320, 240), **lores}
        )
        return config

    def align_configuration(self, config: dict[str, Any]) -> None:
        for name in ("main", "lores"):
            if config.get(name):
                width, height = config[name]["size"]
                config[name]["size"] = (width + width % 2, height + height % 2)

    def configure(self, camera_config: dict[str, Any]) -> None:
        self._check_open()
        if self.started:
            raise RuntimeError("Camera must be stopped before configuring")
        config = dict(camera_config)
        config["main"] = _stream(config["main"], "main")
        if config.get("lores") is not None:
            config["lores"] = _stream(config["lores"], "lores")
            _check_lores(config["main"], config["lores"], self.platform)
        self.camera_config = config

    def start(self) -> None:
        self._check_open()
        if self.camera_config is None:
            raise RuntimeError("Camera has not been configured")
        self.started = True
        self._next_frame = time.monotonic()

    def capture_request(self) -> FakeCompletedRequest:
        with self._lock:
            self._check_running()
            if self.fail_after is not None and self.frame_index >= self.fail_after:
                raise RuntimeError("Camera frontend has timed out!")
            self._wait_for_frame()
            return self._request()

    def capture_array(self, name: str = "main") -> Image:
        request = self.capture_request()
        try:
            return request.make_array(name)
        finally:
            request.release()

    def stop(self) -> None:
        self.started = False

    def close(self) -> None:
        self.started = False
        self.closed = True

    def render(self, index: int, width: int, height: int) -> Image:
        """What the camera sees in frame ``index``, as RGB; override to choose."""
        rgb = np.zeros((height, width, 3), np.uint8)
        for bar, color in enumerate(BAR_COLORS):
            rgb[:, bar * width // 4 : (bar + 1) * width // 4] = color
        return rgb

    def _wait_for_frame(self) -> None:
        delay = self._next_frame - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self._next_frame = max(self._next_frame + 1.0 / self.fps, time.monotonic())

    def _request(self) -> FakeCompletedRequest:
        config = self.camera_config or {}
        arrays = {}
        for name in ("main", "lores"):
            stream = config.get(name)
            if stream is not None:
                width, height = stream["size"]
                rgb = self.render(self.frame_index, width, height)
                arrays[name] = to_memory_layout(rgb, stream["format"], stream["stride"])
        metadata = {"SensorTimestamp": time.monotonic_ns(), "FrameDuration": round(1e6 / self.fps)}
        self.frame_index += 1
        return FakeCompletedRequest(arrays, metadata)

    def _check_open(self) -> None:
        if self.closed:
            raise RuntimeError("Camera is closed")

    def _check_running(self) -> None:
        self._check_open()
        if not self.started or self.camera_config is None:
            raise RuntimeError("Camera is not running")


def _stream(stream: dict[str, Any], name: str) -> dict[str, Any]:
    fmt = stream["format"]
    if fmt not in FORMATS:
        raise RuntimeError(f"Format {fmt} not supported by the fake for stream {name}")
    width, height = (int(v) for v in stream["size"])
    if fmt == "YUV420" and (width % 2 or height % 2):
        raise RuntimeError(f"{name} stream YUV420 size must be even, got {width}x{height}")
    bytes_per_pixel = {"RGB888": 3, "BGR888": 3, "XBGR8888": 4, "XRGB8888": 4, "YUV420": 1}[fmt]
    stride = -(-width * bytes_per_pixel // 64) * 64  # rows padded to 64 bytes, like the ISP
    return {**stream, "size": (width, height), "stride": stride}


def _check_lores(main: dict[str, Any], lores: dict[str, Any], platform: str) -> None:
    if lores["size"][0] > main["size"][0] or lores["size"][1] > main["size"][1]:
        raise RuntimeError("lores stream dimensions may not exceed main stream")
    if platform == "vc4" and lores["format"] != "YUV420":
        raise RuntimeError("lores stream must be YUV")


def to_memory_layout(rgb: Image, fmt: str, stride: int) -> Image:
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
    return _i420(rgb, stride)


def _i420(rgb: Image, stride: int) -> Image:
    """Planar YUV 4:2:0 with every plane's rows padded: Y rows to ``stride``, U, V to half."""
    import cv2

    height, width = rgb.shape[:2]
    planar = np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420), dtype=np.uint8).reshape(-1)
    y = planar[: width * height].reshape(height, width)
    u = planar[width * height : width * height * 5 // 4].reshape(height // 2, width // 2)
    v = planar[width * height * 5 // 4 :].reshape(height // 2, width // 2)
    planes = [_pad(y, stride), _pad(u, stride // 2), _pad(v, stride // 2)]
    return np.concatenate([p.reshape(-1) for p in planes]).reshape(height * 3 // 2, stride)


def _pad(plane: Image, stride: int) -> Image:
    padded = np.zeros((plane.shape[0], stride), np.uint8)
    padded[:, : plane.shape[1]] = plane
    return padded
